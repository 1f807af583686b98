"""Shared fixtures. Sections are owned by topic; add fixtures inside the right section."""

from __future__ import annotations

import atexit
import shutil
import tempfile

import pytest

# Apps built by tests keep their default SQLite files (sessions, audit log) in the system
# temp folder; point that at a folder of this test run, apart from a running demo's.
tempfile.tempdir = tempfile.mkdtemp(prefix="borgersag-tests-")
atexit.register(shutil.rmtree, tempfile.tempdir, ignore_errors=True)

# --- databases ---------------------------------------------------------------------------

POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/test"
REDIS_URL = "redis://127.0.0.1:6379/0"


def require_postgres() -> None:
    """Skip unless PostgreSQL answers; fail instead when ``BORGERSAG_REQUIRE_SERVICES=1``."""
    import os

    import psycopg

    try:
        psycopg.connect(POSTGRES_URL, connect_timeout=2).close()
    except psycopg.Error as exc:
        message = f"PostgreSQL at {POSTGRES_URL} is unreachable ({type(exc).__name__})"
        if os.environ.get("BORGERSAG_REQUIRE_SERVICES") == "1":
            pytest.fail(f"{message}; BORGERSAG_REQUIRE_SERVICES=1 requires it", pytrace=False)
        pytest.skip(f"{message}; set BORGERSAG_REQUIRE_SERVICES=1 to fail instead")


def require_redis(url: str) -> None:
    """Skip unless Redis answers at ``url``; fail instead when services are required."""
    import os

    import redis

    client = redis.Redis.from_url(url, socket_connect_timeout=1.0, socket_timeout=1.0)
    try:
        client.ping()
    except redis.exceptions.RedisError as exc:
        message = f"Redis at {url} is unreachable ({exc})"
        if os.environ.get("BORGERSAG_REQUIRE_SERVICES") == "1":
            pytest.fail(f"{message}; BORGERSAG_REQUIRE_SERVICES=1 requires it", pytrace=False)
        pytest.skip(f"{message}; set BORGERSAG_REQUIRE_SERVICES=1 to fail instead")
    finally:
        client.close()


@pytest.fixture
def pg_url():
    """A URL into a fresh PostgreSQL schema of this test's own; dropped afterwards."""
    import uuid

    import psycopg

    require_postgres()
    schema = f"audit_test_{uuid.uuid4().hex[:16]}"
    with psycopg.connect(POSTGRES_URL, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    yield f"{POSTGRES_URL}?options=-csearch_path%3D{schema}"
    with psycopg.connect(POSTGRES_URL, autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


@pytest.fixture(params=["sqlite", "postgresql"])
def audit_url(request, tmp_path):
    """An empty audit database, once on SQLite (a file) and once on PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'audit.sqlite3'}"
    return request.getfixturevalue("pg_url")


# --- sandbox municipality fixtures -------------------------------------------------------


@pytest.fixture(scope="session")
def sandbox():
    """The sandbox municipality's three services on free loopback ports, for the session.

    Tests that turn fault knobs use ``fault_sandbox``, which makes them healthy again.
    """
    from borgersag.sandbox.runner import start_sandbox

    with start_sandbox() as running:
        yield running


@pytest.fixture
def fault_sandbox(sandbox):
    """The session sandbox; every fault knob is reset when the test ends."""
    yield sandbox
    sandbox.reset_faults()


@pytest.fixture(scope="module")
def zgw_service(sandbox):
    """The session sandbox's ZGW service (Open Zaak), for one module.

    Has ``root``, ``zaken`` and ``catalogi`` (base URLs ending in ``/``), ``faults`` and
    ``municipality`` (seed 2026). Tests that turn a fault knob reset it themselves.
    """
    from types import SimpleNamespace

    root = sandbox.url("zgw")
    return SimpleNamespace(
        root=root,
        zaken=root + "zaken/api/v1/",
        catalogi=root + "catalogi/api/v1/",
        faults=sandbox.faults("zgw"),
        municipality=sandbox.municipality,
    )


@pytest.fixture
def make_connector():
    """Build a connector the way the registry does: validate, make auth, make a session.

    ``make_connector(cls, settings, name="test")``.
    """
    from borgersag.sdk.http import SourceSession

    def build(cls, settings, name="test"):
        validated = cls.validate_settings(settings)
        auth = cls.make_auth(validated, name)
        return cls(name, validated, SourceSession(validated["base_url"], source=name, auth=auth))

    return build


@pytest.fixture
def sandbox_connector(sandbox):
    """``sandbox_connector("sbsys")``: a built-in connector pointed at the sandbox,
    built by the registry from config exactly as the portal builds it."""
    from borgersag.config.loader import Config
    from borgersag.lookup.registry import build_source

    def build(name):
        config = Config.from_mapping(
            {"sandbox": {}, "sources": {name: sandbox.source_config()[name]}}
        )
        return build_source(config.source(name))

    return build


@pytest.fixture
def live_portal(sandbox):
    """The real portal against the session sandbox, with both sandbox logins."""
    from borgersag.config.loader import Config
    from borgersag.lookup.portal import Portal

    config = Config.from_mapping(
        {
            "sandbox": {},
            "portal": {"deadline_seconds": 3.0, "source_timeout_seconds": 2.0},
            "auth": sandbox.auth_config(),
            "sessions": {"backend": "memory"},
            "sources": sandbox.source_config(),
        }
    )
    portal = Portal.from_config(config)
    yield portal
    portal.close()


@pytest.fixture
def live_app(live_portal):
    """The web app around ``live_portal``."""
    from borgersag.web import create_app

    app = create_app(live_portal.config, portal=live_portal)
    app.config["TESTING"] = True
    return app


# --- app and client fixtures -------------------------------------------------------------


@pytest.fixture
def fake_portal():
    """A portal stand-in answering with hand-built overviews (tests/fake_portal.py)."""
    from fake_portal import FakePortal

    return FakePortal()


@pytest.fixture
def app(fake_portal):
    """The web app around ``fake_portal``."""
    from borgersag.web import create_app

    app = create_app(fake_portal.config, portal=fake_portal)
    app.config["TESTING"] = True
    return app


@pytest.fixture
def client(app):
    """A test client that is not signed in."""
    return app.test_client()


TEST_CASEWORKERS = (
    ("cw-1", "Mette Kjær", "MK4821", "Jobcenter, Ydelser", ("sagsbehandler",)),
    ("cw-2", "Jonas Bach Holm", "JH1177", "Byggeri og Miljø", ("sagsbehandler", "administrator")),
)


def caseworker_user(index: int = 0):
    """One of the test caseworkers as a :class:`borgersag.people.identity.User`."""
    from borgersag.people.identity import Audience, User, default_roles

    user_id, name, number, unit, roles = TEST_CASEWORKERS[index]
    catalogue = default_roles()
    return User(
        kind=Audience.CASEWORKER,
        id=user_id,
        name=name,
        medarbejdernummer=number,
        unit=unit,
        roles=roles,
        permissions=frozenset().union(*(catalogue[r].permissions for r in roles)),
    )


def citizen_user(cpr: str, name: str = "Karen Nielsen", **extra):
    """A citizen signed in with MitID."""
    from borgersag.domain.keys import KeyKind, parse_key
    from borgersag.people.identity import Audience, User

    return User(
        kind=Audience.CITIZEN,
        id=f"citizen-{name.split()[0].lower()}",
        name=name,
        cpr=parse_key(KeyKind.CPR, cpr),
        assurance="substantial",
        **extra,
    )


def sign_in(client, user) -> None:
    """Put ``user`` in ``client``'s session the way a finished login does (tests only)."""
    with client.session_transaction() as session:
        session.clear()
        session["user"] = user.to_session()
        session["_login"] = user.kind.value


def sandbox_login(client, sandbox, audience: str, person: str):
    """Log ``client`` in for real through a sandbox identity provider.

    ``audience`` is "borger" or "medarbejder"; ``person`` a key of
    :func:`borgersag.sandbox.idp_people.demo_citizens` / ``demo_staff`` (e.g. "typical",
    "caseworker"). Returns the portal's response to the callback.
    """
    import requests

    from borgersag.sandbox.idp_people import demo_citizens, demo_staff

    people = demo_citizens if audience == "borger" else demo_staff
    chosen = next(p for p in people(sandbox.municipality) if p.key == person)
    started = client.get(f"/log-ind/{audience}")
    assert started.status_code == 303, started.status_code
    answer = requests.post(
        started.location, data={"sub": chosen.sub}, allow_redirects=False, timeout=10
    )
    assert answer.status_code == 302, answer.status_code
    callback = answer.headers["Location"]
    assert "/log-ind/svar?" in callback
    return client.get(callback[callback.index("/log-ind/svar") :])


def csrf_token(client) -> str:
    """The form token of ``client``'s session, read from a page as a browser would."""
    import re

    page = client.get("/tilgaengelighed").get_data(as_text=True)
    found = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert found, "a signed-in page carries the logout form with its token"
    return found[1]


def login_as_caseworker(client, caseworker_index: int = 0):
    """Sign ``client`` in as one of the test caseworkers; returns the User."""
    user = caseworker_user(caseworker_index)
    sign_in(client, user)
    return user


@pytest.fixture
def caseworker_client(client):
    """A test client signed in as the first test caseworker."""
    login_as_caseworker(client)
    return client
