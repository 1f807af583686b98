"""A source paused by its circuit breaker: caseworkers and the operations page see it
as "Sat på pause", never as "no cases"; with Redis every worker agrees."""

from __future__ import annotations

import re

import pytest

from borgersag.config.loader import Config
from borgersag.web import create_app

from support.actions import caseworker_user, csrf_token, sign_in
from support.services import REDIS_URL


def app_for(sandbox, sessions: dict, **portal):
    config = Config.from_mapping(
        {
            "sandbox": {},
            "portal": {"cache_ttl_seconds": 0, "breaker_failures": 2, **portal},
            "auth": sandbox.auth_config(),
            "sessions": sessions,
            "sources": sandbox.source_config(),
        }
    )
    app = create_app(config)
    app.config["TESTING"] = True
    return app


def close(app):
    app.extensions["borgersag.health"].close()
    app.extensions["borgersag"].close()


def row(text: str, name: str) -> str:
    found = re.search(rf'<tr id="kilde-{name}">(.*?)</tr>', text, re.S)
    assert found, name
    return found[1]


def look_up(client, cpr: str) -> str:
    response = client.post(
        "/", data={"kind": "cpr", "value": cpr, "csrf_token": csrf_token(client)}
    )
    return client.get(response.location).get_data(as_text=True)


def test_a_source_that_keeps_failing_is_paused_and_said_so(fault_sandbox):
    app = app_for(fault_sandbox, {"backend": "memory"})
    try:
        client = app.test_client()
        sign_in(client, caseworker_user(1))
        typical = fault_sandbox.municipality.demo.typical
        fault_sandbox.faults("esdh").update(fail="500")
        first = look_up(client, typical)  # asked, retried: two failures
        assert "Sat på pause" not in first
        paused = look_up(client, typical)
        assert "Sat på pause" in paused
        assert "Midlertidigt sat på pause efter gentagne fejl" in paused
        drift = client.get("/drift").get_data(as_text=True)
        assert "Sat på pause" in row(drift, "sbsys")
        assert "Sat på pause" not in row(drift, "byggesag")

        api = client.post("/api/v1/overviews", json={"kind": "cpr", "value": typical})
        sbsys = next(s for s in api.json["overview"]["sources"] if s["source"] == "sbsys")
        assert sbsys["status"] == "circuit_open" and sbsys["answered"] is False
        assert sbsys["label"] == "Sat på pause"
    finally:
        close(app)


@pytest.mark.slow
def test_with_redis_every_worker_sees_the_pause(fault_sandbox, redis_sessions):
    apps = [app_for(fault_sandbox, redis_sessions, breaker_open_seconds=5.0) for _ in range(2)]
    try:
        one, other = (app.test_client() for app in apps)
        for client in (one, other):
            sign_in(client, caseworker_user(1))
        fault_sandbox.faults("esdh").update(fail="500")
        look_up(one, fault_sandbox.municipality.demo.typical)  # fails twice on the first app
        drift = other.get("/drift").get_data(as_text=True)
        assert "Sat på pause" in row(drift, "sbsys")
    finally:
        for app in apps:
            app.extensions["borgersag"].engine.breakers.store.reset("sbsys:open", "sbsys:failures")
            close(app)


@pytest.fixture
def redis_sessions():
    from support.services import require_redis

    require_redis(REDIS_URL)
    return {"backend": "redis", "redis_url": REDIS_URL}
