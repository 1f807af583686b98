"""Prometheus metrics: off by default, only for allowed scrapers, and the numbers an
operator reads — per-source answers, latency, cache, breakers — across workers too."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from borgersag.config.loader import Config
from borgersag.lookup.portal import Portal
from borgersag.web import create_app

from support.actions import caseworker_user, csrf_token, sign_in
from support.fake_portal import FakePortal, make_config

TESTS = Path(__file__).resolve().parent.parent


def fake_app(**metrics):
    config = make_config(tables={"metrics": metrics} if metrics else None)
    app = create_app(config, portal=FakePortal(config=config))
    app.config["TESTING"] = True
    return app


def value(text: str, name: str, **labels: str) -> float:
    """The value of one sample in a scrape (0 when it is not there)."""
    wanted = ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
    for line in text.splitlines():
        match = re.fullmatch(r"(\w+)(?:\{(.*)\})? (\S+)", line)
        if match and match[1] == name:
            found = ",".join(sorted((match[2] or "").split(","))) if match[2] else ""
            if found == wanted:
                return float(match[3])
    return 0.0


def test_metrics_are_off_unless_switched_on():
    assert fake_app().test_client().get("/metrics").status_code == 404


def test_only_allowed_addresses_and_the_token_may_scrape():
    app = fake_app(enabled=True, allow_from=["10.0.0.0/8"], token="s3cret")
    client = app.test_client()
    inside = {"REMOTE_ADDR": "10.1.2.3"}
    bearer = {"Authorization": "Bearer s3cret"}
    assert client.get("/metrics", environ_base=inside, headers=bearer).status_code == 200
    assert client.get("/metrics", environ_base=inside).status_code == 403
    wrong = {"Authorization": "Bearer guess"}
    assert client.get("/metrics", environ_base=inside, headers=wrong).status_code == 403
    outside = {"REMOTE_ADDR": "203.0.113.9"}
    assert client.get("/metrics", environ_base=outside, headers=bearer).status_code == 403


def test_loopback_is_the_default_and_a_forwarded_for_does_not_make_loopback():
    app = fake_app(enabled=True)
    client = app.test_client()  # the test client comes from 127.0.0.1
    assert client.get("/metrics").status_code == 200
    assert client.get("/metrics", environ_base={"REMOTE_ADDR": "192.0.2.4"}).status_code == 403
    spoofed = client.get(
        "/metrics",
        environ_base={"REMOTE_ADDR": "192.0.2.4"},
        headers={"X-Forwarded-For": "127.0.0.1"},
    )
    assert spoofed.status_code == 403  # no trusted proxies: the header is ignored


@pytest.fixture
def live_metrics_app(fault_sandbox):
    config = Config.from_mapping(
        {
            "sandbox": {},
            "portal": {"deadline_seconds": 3.0, "breaker_failures": 1},
            "auth": fault_sandbox.auth_config(),
            "sessions": {"backend": "memory"},
            "limits": {"lookups_per_minute": 0},
            "metrics": {"enabled": True},
            "sources": fault_sandbox.source_config(),
        }
    )
    portal = Portal.from_config(config)
    app = create_app(config, portal=portal)
    app.config["TESTING"] = True
    yield app, fault_sandbox
    portal.close()


def lookup(client, cpr: str) -> None:
    form = {"kind": "cpr", "value": cpr, "csrf_token": csrf_token(client)}
    assert client.post("/", data=form).status_code == 303


def test_lookups_count_per_source_with_latency_cache_and_breaker(live_metrics_app):
    app, sandbox = live_metrics_app
    client = app.test_client()
    sign_in(client, caseworker_user())
    cpr = sandbox.municipality.demo.typical
    lookup(client, cpr)
    lookup(client, cpr)  # the same person again: answered from the cache
    text = client.get("/metrics").get_data(as_text=True)
    assert value(text, "borgersag_lookups_total", kind="cpr") == 2
    assert value(text, "borgersag_lookup_seconds_count") == 2
    assert value(text, "borgersag_source_answers_total", source="sbsys", status="ok") == 2
    assert value(text, "borgersag_cache_total", source="sbsys", result="miss") == 1
    assert value(text, "borgersag_cache_total", source="sbsys", result="hit") == 1
    assert value(text, "borgersag_source_latency_seconds_count", source="sbsys") == 1
    assert value(text, "borgersag_source_breaker_open", source="sbsys") == 0
    assert cpr not in text and cpr[:6] not in text  # no person in the metrics

    sandbox.faults("esdh").update(fail="500")
    lookup(client, sandbox.municipality.demo.coowner)  # breaker_failures = 1: paused
    text = client.get("/metrics").get_data(as_text=True)
    # A 500 is retried once; the first failure opens the breaker, so the retry is refused.
    refused = {"source": "sbsys", "status": "circuit_open"}
    assert value(text, "borgersag_source_answers_total", **refused) == 1
    assert value(text, "borgersag_source_breaker_open", source="sbsys") == 1


WORKER = textwrap.dedent(
    """
    import sys
    from borgersag.domain.keys import CPR
    from borgersag.web import create_app
    from support.fake_portal import TYPICAL_CPR, FakePortal, make_config, sample_overview

    config = make_config(tables={"metrics": {"enabled": True}})
    app = create_app(config, portal=FakePortal(config=config))
    observer = app.extensions["borgersag.metrics"]
    for _ in range(int(sys.argv[1])):
        observer.overview_made(sample_overview(CPR.parse(TYPICAL_CPR)), 0.2)
    if sys.argv[2] == "scrape":
        sys.stdout.write(app.test_client().get("/metrics").get_data(as_text=True))
    """
)


def test_several_workers_add_up_in_one_scrape(tmp_path, state_dir):
    env = {
        **os.environ,
        "PROMETHEUS_MULTIPROC_DIR": str(tmp_path),
        "PYTHONPATH": str(TESTS),
    }

    def worker(lookups: int, then: str) -> str:
        done = subprocess.run(
            [sys.executable, "-c", WORKER, str(lookups), then],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        )
        return done.stdout

    worker(2, "-")
    worker(3, "-")
    text = worker(0, "scrape")  # a third worker, that made no lookup itself
    assert value(text, "borgersag_lookups_total", kind="cpr") == 5
