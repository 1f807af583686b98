"""Shared fixtures. Sections are owned by topic; add fixtures inside the right section."""

from __future__ import annotations

import pytest

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


@pytest.fixture
def make_connector():
    """Build a connector the way the registry does: validate, make auth, make a session.

    ``make_connector(cls, settings, name="test")``.
    """
    from borgersag.http import SourceSession

    def build(cls, settings, name="test"):
        validated = cls.validate_settings(settings)
        auth = cls.make_auth(validated, name)
        return cls(name, validated, SourceSession(validated["base_url"], source=name, auth=auth))

    return build


@pytest.fixture
def sandbox_connector(sandbox):
    """``sandbox_connector("sbsys")``: a built-in connector pointed at the sandbox,
    built by the registry from config exactly as the portal builds it."""
    from borgersag.config import Config
    from borgersag.registry import build_source

    def build(name):
        config = Config.from_mapping(
            {"sandbox": {}, "sources": {name: sandbox.source_config()[name]}}
        )
        return build_source(config.source(name))

    return build


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


def csrf_token(client) -> str:
    """The form token of ``client``'s session (created by a GET of the sign-in page)."""
    client.get("/log-ind")
    with client.session_transaction() as session:
        return session["_csrf"]


def login_as_caseworker(client, caseworker_index: int = 0):
    """Sign ``client`` in as one of the sandbox demo caseworkers; returns the User."""
    from borgersag.web.auth import demo_caseworkers

    user = demo_caseworkers()[caseworker_index]
    response = client.post(
        "/log-ind", data={"caseworker": user.id, "csrf_token": csrf_token(client)}
    )
    assert response.status_code == 303, response.status_code
    return user


@pytest.fixture
def caseworker_client(client):
    """A test client signed in as the first demo caseworker."""
    login_as_caseworker(client)
    return client
