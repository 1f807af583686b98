"""Shared by the serve-level benchmarks: a config directory, the sandbox, `borgersag serve`
instances as real processes, and a caseworker signed in through the sandbox's login.

Nothing here is a benchmark itself; ``throughput.py``, ``scale.py`` and ``soak.py`` (and
the reverse-proxy test) build on it. Every process is started on free loopback ports and
stopped when the :class:`contextlib.ExitStack` it was registered on closes.
"""

from __future__ import annotations

import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import time
import tomllib
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import requests

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
REDIS_URL = "redis://127.0.0.1:6379/11"  # a db of its own: other runs use other numbers
POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/test"
COOKIE = "borgersag_session"


def free_port() -> int:
    """A loopback port nobody listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _shipped(name: str) -> dict[str, Any]:
    from borgersag.config.loader import default_config_dir

    return tomllib.loads((default_config_dir() / name).read_text(encoding="utf-8"))


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    raise TypeError(type(value))


def _toml(data: dict[str, Any], prefix: str = "") -> str:
    scalars = [f"{k} = {_toml_value(v)}" for k, v in data.items() if not isinstance(v, dict)]
    out = []
    if scalars and prefix:
        out.append(f"[{prefix}]")
    out += scalars
    for key, value in data.items():
        if isinstance(value, dict):
            out.append(_toml(value, f"{prefix}.{key}" if prefix else key))
    return "\n".join(out) + "\n"


def _repoint(value: Any, ports: dict[int, int]) -> Any:
    """The shipped config with every sandbox port (87xx) moved to a free one."""
    if isinstance(value, dict):
        return {k: _repoint(v, ports) for k, v in value.items()}
    if isinstance(value, str):
        return re.sub(
            r"127\.0\.0\.1:(\d+)", lambda m: f"127.0.0.1:{ports.get(int(m[1]), m[1])}", value
        )
    if isinstance(value, int) and not isinstance(value, bool) and value in ports:
        return ports[value]
    return value


def write_config(folder: Path, **tables: dict[str, Any]) -> Path:
    """The shipped demo config on free ports, with ``tables`` merged over its tables.

    One ``secret_key`` for every instance started from it (they must share it), and a
    lookup budget large enough that a benchmark measures the portal, not its limiter.
    """
    portal = _shipped("portal.toml")
    sources = _shipped("sources.toml")
    old = [s["port"] for s in portal["sandbox"]["services"].values()]
    ports = {port: free_port() for port in old}
    portal, sources = _repoint(portal, ports), _repoint(sources, ports)
    portal["portal"]["secret_key"] = secrets.token_hex(32)
    portal.setdefault("limits", {}).update(lookups_per_minute=100_000, login_per_minute=10_000)
    for table, values in tables.items():
        portal.setdefault(table, {}).update(values)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "portal.toml").write_text(_toml(portal), encoding="utf-8")
    (folder / "sources.toml").write_text(_toml(sources), encoding="utf-8")
    return folder


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)


def start(stack: ExitStack, argv: list[str], log: Path) -> subprocess.Popen:
    """Start ``argv`` with its output in ``log``; stopped (TERM, then KILL) with ``stack``."""
    out = open(log, "wb")  # noqa: SIM115 - closed with the stack
    stack.callback(out.close)
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    process = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, env=env)
    stack.callback(_stop, process)
    return process


def wait_until_up(url: str, process: subprocess.Popen, log: Path, timeout: float = 60) -> None:
    """Poll ``url`` until it answers; fail with the process's log if it died."""
    ends = time.monotonic() + timeout
    while time.monotonic() < ends:
        if process.poll() is not None:
            raise RuntimeError(f"{url} exited ({process.returncode}):\n{log.read_text()[-3000:]}")
        try:
            requests.get(url, timeout=2)
            return
        except requests.ConnectionError:
            time.sleep(0.2)
    raise RuntimeError(f"{url} did not answer in {timeout} s:\n{log.read_text()[-3000:]}")


def start_sandbox(stack: ExitStack, config: Path) -> None:
    """The sandbox municipality's services in their own process, ready when this returns."""
    log = config / "sandbox.log"
    process = start(stack, [str(BIN / "borgersag"), "sandbox", "--config", str(config)], log)
    portal = tomllib.loads((config / "portal.toml").read_text())
    port = portal["sandbox"]["services"]["medarbejderlogin"]["port"]
    wait_until_up(f"http://127.0.0.1:{port}/.well-known/openid-configuration", process, log)


def start_portal(
    stack: ExitStack, config: Path, *, workers: int = 1, threads: int = 16, port: int = 0
) -> tuple[str, subprocess.Popen]:
    """``borgersag serve`` on a free port; returns its base URL (ending in ``/``) and process."""
    port = port or free_port()
    log = config / f"serve-{port}.log"
    argv = [str(BIN / "borgersag"), "serve", "--config", str(config), "--bind",
            f"127.0.0.1:{port}", "--workers", str(workers), "--threads", str(threads)]  # fmt: skip
    process = start(stack, argv, log)
    url = f"http://127.0.0.1:{port}/"
    wait_until_up(url + "tilgaengelighed", process, log)
    return url, process


def demo_people(config: Path) -> Any:
    """The sandbox municipality's demo people (``.typical``, ``.caseworker``, …)."""
    from borgersag.sandbox.generator import generate

    seed = tomllib.loads((config / "portal.toml").read_text())["sandbox"]["seed"]
    return generate(seed)


def sign_in_caseworker(
    base: str, municipality: Any, person: str = "caseworker"
) -> requests.Session:
    """A ``requests`` session signed in through the sandbox's staff login, as a browser is."""
    from borgersag.sandbox.idp_people import demo_staff

    chosen = next(p for p in demo_staff(municipality) if p.key == person)
    session = requests.Session()
    session.trust_env = False
    started = session.get(base + "log-ind/medarbejder", allow_redirects=False, timeout=10)
    assert started.status_code == 303, started.status_code
    answer = session.post(
        started.headers["Location"], data={"sub": chosen.sub}, allow_redirects=False, timeout=10
    )
    assert answer.status_code == 302, answer.status_code
    callback = answer.headers["Location"]
    done = session.get(
        base + callback[callback.index("log-ind/svar") :], allow_redirects=False, timeout=10
    )
    assert done.status_code in (302, 303), done.status_code
    return session


def csrf_token(session: requests.Session, base: str) -> str:
    """The form token of the session, read from a page as a browser does."""
    page = session.get(base + "tilgaengelighed", timeout=10).text
    return re.search(r'name="csrf_token" value="([^"]+)"', page)[1]


def look_up(session: requests.Session, base: str, cpr: str, token: str | None = None) -> str:
    """Look ``cpr`` up through the form; returns the overview's path (``/oversigt/…``)."""
    made = session.post(
        base,
        data={"kind": "cpr", "value": cpr, "csrf_token": token or csrf_token(session, base)},
        allow_redirects=False,
        timeout=30,
    )
    assert made.status_code == 303, (made.status_code, made.text[:500])
    return made.headers["Location"].replace(base.rstrip("/"), "")


def overview_token(path: str) -> str:
    """The opaque token in an overview path."""
    return re.search(r"/oversigt/([^/?]+)", path)[1]


def cookie_header(session: requests.Session) -> str:
    """The session cookie as a ``Cookie:`` header value (for a load generator)."""
    return f"{COOKIE}={session.cookies.get(COOKIE)}"


def worker_pids(master: int) -> list[int]:
    """The gunicorn worker processes under ``master`` (read from /proc)."""
    children = Path(f"/proc/{master}/task/{master}/children")
    return [int(p) for p in children.read_text().split()] if children.exists() else []


def rss_bytes(pid: int) -> int:
    """Resident memory of ``pid`` (Linux /proc)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return 0


DATA_SERVICES = ("esdh", "ejerfortegnelse", "byggesag", "zgw", "momentum", "os2mo")


def source_requests(config: Path) -> int:
    """How many requests the sandbox's data services were asked so far, all together."""
    portal = tomllib.loads((config / "portal.toml").read_text())
    services = portal["sandbox"]["services"]
    total = 0
    for name in DATA_SERVICES:
        url = f"http://127.0.0.1:{services[name]['port']}/_sandbox/requests"
        total += requests.get(url, timeout=5).json()["requests"]
    return total


def shared_state(schema: str, redis_url: str = REDIS_URL) -> dict[str, dict[str, Any]]:
    """The config tables of several instances sharing state: sessions, overviews, the
    sources' answers (the shared result cache) and limits in Redis (``redis_url``, a db
    of its own, emptied first), the audit chain in PostgreSQL under ``schema`` (dropped
    and made anew, so the chain starts empty)."""
    import psycopg
    import redis

    client = redis.Redis.from_url(redis_url)
    client.flushdb()
    client.close()
    with psycopg.connect(POSTGRES_URL, autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        conn.execute(f'CREATE SCHEMA "{schema}"')
    return {
        "sessions": {"backend": "redis", "redis_url": redis_url},
        "limits": {"storage_url": redis_url},
        "cache": {"backend": "redis", "redis_url": redis_url},
        "audit": {"url": f"{POSTGRES_URL}?options=-csearch_path%3D{schema}"},
    }


def drop_schema(schema: str) -> None:
    """Remove what :func:`shared_state` made in PostgreSQL."""
    import psycopg

    with psycopg.connect(POSTGRES_URL, autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


def audit(config: Path, action: str) -> subprocess.CompletedProcess:
    """``borgersag audit ACTION --config DIR`` (``init``, ``verify``), its output captured."""
    argv = [str(BIN / "borgersag"), "audit", action, "--config", str(config)]
    return subprocess.run(argv, capture_output=True, text=True, timeout=120, check=False)
