"""Shared fixtures. Sections are owned by topic; add fixtures inside the right section."""

from __future__ import annotations

import pytest

from borgersag.runtime.statedir import STATE_DIR_ENV

from support.actions import login_as_caseworker
from support.services import POSTGRES_URL, require_postgres


@pytest.fixture(autouse=True, scope="session")
def state_dir(tmp_path_factory):
    """Apps built by tests keep their default SQLite files (sessions, audit log) in a
    state folder of this test run (``BORGERSAG_STATE_DIR``), apart from a running demo's."""
    folder = tmp_path_factory.mktemp("state") / "borgersag"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(STATE_DIR_ENV, str(folder))
        yield folder


# --- databases ---------------------------------------------------------------------------


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


@pytest.fixture
def pg_audit_roles():
    """The least-privilege roles of docs/audit.md ("PostgreSQL roles"), made by running its
    SQL with names of this test's own, over a schema initialised by the owner role;
    dropped afterwards (tests/support/pg_roles.py)."""
    from support.pg_roles import documented_roles

    require_postgres()
    with documented_roles() as roles:
        yield roles


@pytest.fixture
def pg_app_url(pg_audit_roles):
    """A URL into a fresh, initialised audit schema as the portal's own role: what the
    app must be given outside the sandbox (a superuser or owner is refused)."""
    return pg_audit_roles.app_url


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.slow)])
def audit_url(request, tmp_path):
    """An empty audit database, once on SQLite (a file) and once on PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'audit.sqlite3'}"
    return request.getfixturevalue("pg_url")


# Tests that need a real service are slow: `scripts/test -m "not slow"` leaves them out.
SLOW_FIXTURES = frozenset({"pg_url", "pg_audit_roles", "redis_prefix"})


def pytest_collection_modifyitems(items):
    """Mark every test that uses a real PostgreSQL or Redis fixture as slow."""
    for item in items:
        if SLOW_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.slow)


# --- sandbox municipality fixtures -------------------------------------------------------


@pytest.fixture(scope="session")
def sandbox():
    """The sandbox municipality's three services on free loopback ports, for the session.

    Tests that turn fault knobs use ``fault_sandbox``, which makes them healthy again.
    """
    from borgersag.sandbox.runner import start_sandbox
    from borgersag.sandbox.section import NO_LATENCY

    # No latency: a test that wants the realistic default latency starts its own sandbox.
    with start_sandbox(NO_LATENCY) as running:
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
    """A portal stand-in answering with hand-built overviews (tests/support/fake_portal.py)."""
    from support.fake_portal import FakePortal

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


@pytest.fixture
def caseworker_client(client):
    """A test client signed in as the first test caseworker."""
    login_as_caseworker(client)
    return client
