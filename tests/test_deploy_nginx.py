"""The multi-machine setup of docs/architecture.md, run: nginx with docs/deploy/nginx.conf
in front of two ``borgersag serve`` instances sharing Redis and PostgreSQL.

Skipped when nginx is not installed, unless ``BORGERSAG_REQUIRE_NGINX=1`` (then it fails);
Redis and PostgreSQL follow ``BORGERSAG_REQUIRE_SERVICES`` as everywhere else.
"""

from __future__ import annotations

import datetime as dt
import importlib.util
import ipaddress
import os
import re
import shutil
import time
from contextlib import ExitStack
from pathlib import Path

import pytest
import requests
from requests.adapters import HTTPAdapter

from support.services import require_redis

pytestmark = pytest.mark.slow  # nginx, two servers, Redis and PostgreSQL

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "docs" / "deploy" / "nginx.conf"
REDIS_URL = "redis://127.0.0.1:6379/12"  # a db of its own
LOGIN_PER_MINUTE = 2


def _nginx() -> str:
    found = shutil.which("nginx") or next(
        (p for p in ("/usr/sbin/nginx", "/usr/local/sbin/nginx") if os.access(p, os.X_OK)), None
    )
    if found is None:
        if os.environ.get("BORGERSAG_REQUIRE_NGINX") == "1":
            pytest.fail("nginx is not installed; BORGERSAG_REQUIRE_NGINX=1 requires it")
        pytest.skip(
            "nginx is not installed (apt-get install -y nginx);"
            " BORGERSAG_REQUIRE_NGINX=1 fails instead"
        )
    return found


def _cluster():
    """bench/cluster.py: the same process starting the serve benchmarks use."""
    spec = importlib.util.spec_from_file_location("bench_cluster", ROOT / "bench" / "cluster.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _certificate(folder: Path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 (the client trusts exactly this one)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


def _render(folder: Path, ports: dict[str, int], cert: Path, key: Path) -> Path:
    """The documented example with only its addresses, certificate and log paths replaced
    (each must be found exactly once, so the example and this test cannot drift apart)."""
    text = EXAMPLE.read_text(encoding="utf-8")
    for old, new in (
        ("server 10.0.0.11:8000;", f"server 127.0.0.1:{ports['first']};"),
        ("server 10.0.0.12:8000;", f"server 127.0.0.1:{ports['second']};"),
        ("listen 80;", f"listen 127.0.0.1:{ports['http']};"),
        ("listen 443 ssl;", f"listen 127.0.0.1:{ports['https']} ssl;"),
        ("/etc/ssl/certs/sager.kommune.dk.pem", str(cert)),
        ("/etc/ssl/private/sager.kommune.dk.key", str(key)),
        ("/var/log/nginx/borgersag.access.log", str(folder / "access.log")),
    ):
        assert text.count(old) == 1, f"docs/deploy/nginx.conf no longer has {old!r}"
        text = text.replace(old, new)
    site = folder / "borgersag.conf"
    site.write_text(text, encoding="utf-8")
    temp = "\n".join(
        f"    {kind}_temp_path {folder / kind};"
        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    # As the distribution's nginx.conf does, around the site file; as root, the workers
    # stay root so they can use this test's private folder.
    user = "user root;\n" if os.geteuid() == 0 else ""
    main = folder / "nginx.conf"
    main.write_text(
        f"{user}worker_processes 1;\npid {folder / 'nginx.pid'};\n"
        f"error_log {folder / 'error.log'};\ndaemon off;\n"
        "events { worker_connections 256; }\n"
        f"http {{\n{temp}\n    access_log off;\n    include {site};\n}}\n",
        encoding="utf-8",
    )
    return main


class _From(HTTPAdapter):
    """Connect from a given loopback address: another client, as nginx sees it."""

    def __init__(self, address: str):
        self.address = address
        super().__init__()

    def init_poolmanager(self, *args, **kwargs):
        kwargs["source_address"] = (self.address, 0)
        super().init_poolmanager(*args, **kwargs)


def _client(address: str, cert: Path) -> requests.Session:
    session = requests.Session()
    session.trust_env = False
    session.verify = str(cert)
    session.mount("https://", _From(address))
    return session


@pytest.fixture
def proxied(tmp_path, pg_app_url):
    """nginx on https://127.0.0.1:<port>/ in front of two instances; yields
    (proxy URL, instance URLs, certificate, cluster helpers, the demo municipality)."""
    nginx = _nginx()
    require_redis(REDIS_URL)
    import redis

    redis.Redis.from_url(REDIS_URL).flushdb()
    cluster = _cluster()
    cert, key = _certificate(tmp_path)
    with ExitStack() as stack:
        ports, proxy = _start_nginx(stack, nginx, cluster, tmp_path, cert, key)
        folder = cluster.write_config(
            tmp_path / "config",
            portal={"trusted_proxies": 1},
            auth={"public_url": proxy.rstrip("/")},
            sessions={"backend": "redis", "redis_url": REDIS_URL},
            cache={"backend": "redis", "redis_url": REDIS_URL},
            limits={"storage_url": REDIS_URL, "login_per_minute": LOGIN_PER_MINUTE},
            # as the database's retention policy (set by the owner): init as the
            # portal's own role then has nothing to change
            audit={"url": pg_app_url, "retention_days": 30},
        )
        assert cluster.audit(folder, "init").returncode == 0
        cluster.start_sandbox(stack, folder)
        instances = [
            cluster.start_portal(stack, folder, threads=4, port=ports[name])[0]
            for name in ("first", "second")
        ]
        _wait_for_proxy(proxy, cert)
        yield proxy, instances, cert, cluster, cluster.demo_people(folder), folder


def _start_nginx(stack, nginx, cluster, folder: Path, cert: Path, key: Path):
    """nginx on free ports (first, before anything else takes ports); another try when a
    port was taken meanwhile. Returns the ports and the proxy's URL."""
    for _ in range(3):
        ports = {name: cluster.free_port() for name in ("first", "second", "http", "https")}
        conf = _render(folder, ports, cert, key)
        argv = [nginx, "-e", str(folder / "error.log"), "-p", str(folder), "-c", str(conf)]
        process = cluster.start(stack, argv, folder / "nginx.out")
        time.sleep(0.5)
        if process.poll() is None:
            return ports, f"https://127.0.0.1:{ports['https']}/"
    pytest.fail(f"nginx did not start: {(folder / 'nginx.out').read_text()}")


def _wait_for_proxy(url: str, cert: Path) -> None:
    ends = time.monotonic() + 30
    while time.monotonic() < ends:
        try:
            if requests.get(url + "tilgaengelighed", verify=str(cert), timeout=2).ok:
                return
        except requests.ConnectionError:
            pass
        time.sleep(0.2)
    pytest.fail("nothing answered through nginx in 30 s")


def _sign_in(proxy: str, cert: Path, municipality) -> requests.Session:
    """A caseworker's login through the proxy, the identity provider reached directly."""
    from borgersag.sandbox.idp_people import demo_staff

    browser = _client("127.0.0.4", cert)
    started = browser.get(proxy + "log-ind/medarbejder", allow_redirects=False, timeout=10)
    assert started.status_code == 303
    # the return address comes from public_url, never from the Host header
    assert (
        "redirect_uri=" + requests.utils.quote(proxy + "log-ind/svar", safe="")
        in started.headers["Location"]
    )
    chosen = next(p for p in demo_staff(municipality) if p.key == "caseworker")
    answer = browser.post(
        started.headers["Location"], data={"sub": chosen.sub}, allow_redirects=False, timeout=10
    )
    assert answer.status_code == 302
    callback = answer.headers["Location"]
    assert callback.startswith(proxy + "log-ind/svar?")
    done = browser.get(callback, allow_redirects=False, timeout=10)
    assert done.status_code in (302, 303)
    cookie = next(c for c in browser.cookies if c.name == "borgersag_session")
    assert cookie.secure  # X-Forwarded-Proto: https came through the trusted proxy
    return browser


def test_a_login_and_a_lookup_through_the_proxy_open_on_either_instance(proxied):
    proxy, instances, cert, cluster, municipality, folder = proxied
    browser = _sign_in(proxy, cert, municipality)
    path = cluster.look_up(browser, proxy, municipality.demo.typical)
    assert path.startswith("/oversigt/")
    # a search typed without JavaScript arrives in the query: the access log leaves it out
    browser.get(proxy + path.lstrip("/") + "?q=0103854321", timeout=30)
    logged = (folder.parent / "access.log").read_text(encoding="utf-8")  # beside config/
    assert f"GET {path} " in logged and '"GET /log-ind/svar HTTP' in logged
    assert "?" not in logged and "0103854321" not in logged
    for _ in range(4):  # nginx takes turns: both instances answer through it
        page = browser.get(proxy + path.lstrip("/"), timeout=30)
        assert page.status_code == 200 and "Sagsoverblik for CPR-nummer" in page.text
    # and each instance directly, so whichever made it, the other one opens it too
    cookie = {"Cookie": f"borgersag_session={browser.cookies.get('borgersag_session')}"}
    for base in instances:
        page = requests.get(base + path.lstrip("/"), headers=cookie, timeout=30)
        assert page.status_code == 200, base
        assert "Sagsoverblik for CPR-nummer" in page.text and "udløbet" not in page.text


def test_a_lookup_repeated_on_each_instance_is_answered_from_the_shared_cache(proxied):
    proxy, instances, cert, cluster, municipality, folder = proxied
    browser = _sign_in(proxy, cert, municipality)
    cpr = municipality.demo.heavy
    before = cluster.source_requests(folder)
    cluster.look_up(browser, proxy, cpr)
    asked = cluster.source_requests(folder) - before
    assert asked > 0
    direct = requests.Session()  # the Secure cookie, sent by hand over plain HTTP
    direct.headers["Cookie"] = f"borgersag_session={browser.cookies.get('borgersag_session')}"
    for base in instances:  # the same person again on each instance, directly
        again = cluster.look_up(direct, base, cpr)
        assert again.startswith("/oversigt/")
    assert cluster.source_requests(folder) - before == asked  # no source was asked again


def test_the_client_address_comes_from_x_forwarded_for_through_one_trusted_proxy(proxied):
    proxy, _, cert, _, _, _ = proxied

    def login_starts(address: str, times: int, **headers) -> list[int]:
        client = _client(address, cert)
        return [
            client.get(
                proxy + "log-ind/borger", headers=headers, allow_redirects=False, timeout=10
            ).status_code
            for _ in range(times)
        ]

    assert login_starts("127.0.0.2", LOGIN_PER_MINUTE + 1) == [303] * LOGIN_PER_MINUTE + [429]
    # another client has its own budget: the portal did not count nginx's own address
    assert login_starts("127.0.0.3", 1) == [303]
    # and a client cannot buy a new budget by writing X-Forwarded-For itself
    assert login_starts("127.0.0.2", 1, **{"X-Forwarded-For": "198.51.100.7"}) == [429]


def test_the_example_is_what_the_architecture_document_points_to():
    text = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    assert "deploy/nginx.conf" in text
    assert re.search(
        r"proxy_set_header X-Forwarded-For \$proxy_add_x_forwarded_for;", EXAMPLE.read_text()
    )
