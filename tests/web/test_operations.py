"""The operations page: source health and the kill switch, against the sandbox."""

from __future__ import annotations

import re
import threading
import time

import pytest

from borgersag.config.loader import Config
from borgersag.lookup.portal import Portal
from borgersag.web import create_app, operations

from support.actions import caseworker_user, csrf_token, sign_in

REASON = "SBSYS svarer med forkerte sager (leverandørsag 2026-1234)"
SHORT = {"deadline_seconds": 3.0, "source_timeout_seconds": 1.0, "cache_ttl_seconds": 0}


def portal_app(sandbox, sessions: dict, portal_settings=SHORT):
    config = Config.from_mapping(
        {
            "sandbox": {},
            "portal": portal_settings,
            "auth": sandbox.auth_config(),
            "sessions": sessions,
            "sources": sandbox.source_config(),
        }
    )  # fmt: skip
    portal = Portal.from_config(config)
    app = create_app(config, portal=portal)
    app.config["TESTING"] = True
    return app, portal


@pytest.fixture
def two_instances(sandbox, tmp_path):
    """Two app instances sharing one session store (as two workers or machines do)."""
    sessions = {"backend": "sqlite", "path": str(tmp_path / "sessions.sqlite3")}
    built = [portal_app(sandbox, sessions) for _ in range(2)]
    yield [app for app, _ in built]
    for _, portal in built:
        portal.close()


def admin(app):
    client = app.test_client()
    sign_in(client, caseworker_user(1))  # sagsbehandler + administrator
    return client


def lookup_status(client, cpr: str) -> str:
    response = client.post(
        "/", data={"kind": "cpr", "value": cpr, "csrf_token": csrf_token(client)}
    )
    return client.get(response.location).get_data(as_text=True)


def test_administrator_sees_every_source_answering(two_instances, sandbox):
    page = admin(two_instances[0]).get("/drift")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    for title in ("SBSYS (sandkasse)", "Ejerfortegnelsen (sandkasse)", "Byggesager (sandkasse)"):
        assert title in text
    assert text.count("badge-success") == len(sandbox.source_config())


def test_a_caseworker_without_the_role_is_refused(two_instances):
    client = two_instances[0].test_client()
    sign_in(client, caseworker_user(0))
    assert client.get("/drift").status_code == 403
    assert "/drift" not in client.get("/").get_data(as_text=True)


def test_kill_switch_takes_a_source_out_everywhere_without_a_restart(two_instances, sandbox):
    first, second = two_instances
    cpr = sandbox.municipality.demo.typical
    client = admin(first)
    response = client.post(
        "/drift/kilder/sbsys",
        data={"handling": "sluk", "aarsag": REASON, "csrf_token": csrf_token(client)},
    )
    assert response.status_code == 303
    text = client.get("/drift").get_data(as_text=True)
    assert "Slået fra" in text and "Jonas Bach Holm (JH1177)" in text
    assert re.search(r"JH1177\), \d{2}\.\d{2}\.\d{4} kl\. \d{2}\.\d{2}", text)  # local time
    assert f"Årsag: {REASON}" in text

    # The other instance leaves SBSYS out of its next lookup too.
    other = admin(second)
    page = lookup_status(other, cpr)
    assert "Slået fra" in page and "slået fra af en administrator" in page.lower()
    assert "sbsys/" not in page  # no SBSYS case is linked

    client.post("/drift/kilder/sbsys", data={"handling": "taend", "csrf_token": csrf_token(client)})
    # each process reads the switches at most once a second: within that, it holds there too
    time.sleep(operations.SWITCHES_MAX_AGE)
    page = lookup_status(other, cpr)
    assert "sbsys/" in page


def test_a_hanging_source_is_named_on_the_health_page(two_instances, fault_sandbox):
    fault_sandbox.faults("byggesag").update(hang=True)
    text = admin(two_instances[0]).get("/drift").get_data(as_text=True)
    sources = len(fault_sandbox.source_config())
    assert "badge-error" in text and text.count("badge-success") == sources - 1


@pytest.fixture
def default_timeout_app(sandbox, tmp_path):
    """One app with the default per-source HTTP timeout (3 s), not a shortened one."""
    sessions = {"backend": "sqlite", "path": str(tmp_path / "sessions.sqlite3")}
    app, portal = portal_app(sandbox, sessions, {"cache_ttl_seconds": 0})
    assert {c.http.timeout[1] for c in portal.sources.values()} == {3.0}
    yield app
    app.extensions["borgersag.health"].close()
    portal.close()


def source_row(text: str, name: str) -> str:
    match = re.search(rf'<tr id="kilde-{name}">(.*?)</tr>', text, re.S)
    assert match, name
    return match.group(1)


def health_threads() -> int:
    return sum(1 for t in threading.enumerate() if t.name.startswith("health"))


def test_a_hanging_source_does_not_hold_the_page_past_its_deadline(
    default_timeout_app, fault_sandbox, monkeypatch
):
    # The source hangs far longer than its HTTP timeout (3 s); the page's deadline is 0.5 s,
    # and the check's own requests end by then: the page shows the source's own timeout.
    monkeypatch.setattr(operations, "HEALTH_DEADLINE_SECONDS", 0.5)
    fault_sandbox.faults("byggesag").update(hang=True)
    client = admin(default_timeout_app)
    others = [name for name in fault_sandbox.source_config() if name != "byggesag"]
    before = health_threads()

    started = time.monotonic()
    first = client.get("/drift")
    assert time.monotonic() - started < 0.5 * 1.05 + 0.5  # the deadline, and rendering
    text = first.get_data(as_text=True)
    hanging = source_row(text, "byggesag")
    assert "badge-error" in hanging and "svarede ikke inden for tidsgrænsen" in hanging
    for name in others:
        assert "badge-success" in source_row(text, name), name

    # Opened again: the first check has ended, so the source is asked afresh.
    started = time.monotonic()
    second = client.get("/drift").get_data(as_text=True)
    assert time.monotonic() - started < 0.5 * 1.05 + 0.5
    hanging = source_row(second, "byggesag")
    assert "badge-error" in hanging and "svarede ikke inden for tidsgrænsen" in hanging
    for name in others:
        assert "badge-success" in source_row(second, name), name
    for _ in range(3):
        client.get("/drift")
    assert health_threads() - before <= len(others) + 1  # one per source at most

    # Once the source answers again, the next view checks it afresh.
    fault_sandbox.faults("byggesag").update(hang=False)
    for _ in range(50):
        text = client.get("/drift").get_data(as_text=True)
        if "badge-success" in source_row(text, "byggesag"):
            break
        time.sleep(0.1)
    assert "badge-success" in source_row(text, "byggesag")


def test_switching_off_asks_for_confirmation_and_a_reason_first(two_instances):
    client = admin(two_instances[0])
    page = client.get("/drift").get_data(as_text=True)
    assert 'href="/drift/kilder/sbsys/sluk"' in page  # a link to confirm, not a one-click form
    confirm = client.get("/drift/kilder/sbsys/sluk")
    assert confirm.status_code == 200
    text = confirm.get_data(as_text=True)
    assert "Slå SBSYS (sandkasse) fra for alle?" in text
    assert 'name="aarsag"' in text and 'value="sluk"' in text and "Fortryd" in text

    for reason in ("", "   ", "x" * 301):
        response = client.post(
            "/drift/kilder/sbsys",
            data={"handling": "sluk", "aarsag": reason, "csrf_token": csrf_token(client)},
        )
        assert response.status_code == 400
        assert "Der er en fejl i formularen" in response.get_data(as_text=True)
    page = client.get("/drift").get_data(as_text=True)
    assert 'badge-warning">Slået fra' not in page  # nothing was switched


def test_a_switch_is_audited_with_its_reason_before_it_is_made(two_instances):
    app = two_instances[0]
    audit = app.extensions["borgersag.audit"]
    client = admin(app)
    before = max((r.seq for r in audit.recent(1)), default=0)
    client.post(
        "/drift/kilder/sbsys",
        data={"handling": "sluk", "aarsag": f"  {REASON}\n", "csrf_token": csrf_token(client)},
    )
    client.post("/drift/kilder/sbsys", data={"handling": "taend", "csrf_token": csrf_token(client)})
    records = [r for r in audit.recent(10) if r.seq > before]
    off, on = [
        r.event for r in sorted(records, key=lambda r: r.seq) if r.event.kind == "source_switch"
    ]
    assert off.detail == REASON and off.sources == (("sbsys", "disabled"),)
    assert off.actor_id == "JH1177"
    assert on.sources == (("sbsys", "enabled"),)


def test_unknown_source_or_action_is_404(two_instances):
    client = admin(two_instances[0])
    token = csrf_token(client)
    assert (
        client.post(
            "/drift/kilder/nosuch", data={"handling": "sluk", "csrf_token": token}
        ).status_code
        == 404
    )
    assert (
        client.post("/drift/kilder/sbsys", data={"handling": "x", "csrf_token": token}).status_code
        == 404
    )
    assert client.get("/drift/kilder/nosuch/sluk").status_code == 404


def test_a_check_that_ignores_its_deadline_is_reported_and_not_started_again():
    """A connector's health() that does not go through self.http (or waits on something
    else) is not ended by the deadline: the page still answers in time, and says so."""
    from support.fakes import FakeSource

    release = threading.Event()
    started = []

    class Stubborn(FakeSource):
        def health(self):
            started.append(1)
            release.wait(10)
            return "svarer"

    checks = operations.HealthChecks(1)
    try:
        sources = {"stubborn": Stubborn("stubborn")}
        began = time.monotonic()
        first = checks.check(sources, 0.3)["stubborn"]
        second = checks.check(sources, 0.3)["stubborn"]
        assert time.monotonic() - began < 2 * 0.3 * 1.05 + 0.1
        assert not first.ok and "0,3 s" in first.text
        assert not second.ok and "kører stadig" in second.text
        assert len(started) == 1
    finally:
        release.set()
        checks.close()


def test_a_source_whose_last_answer_left_records_out_says_so(two_instances, fault_sandbox):
    """An operator sees on the operations page that a source's last answer was partial."""
    fault_sandbox.faults("esdh").update(hostile=True)
    client = admin(two_instances[0])
    lookup_status(client, fault_sandbox.municipality.demo.typical)
    page = client.get("/drift").get_data(as_text=True)
    row = page[page.index("SBSYS (sandkasse)") :].split("</tr>", 1)[0]
    assert re.search(r"\d+ sager? kunne ikke læses", row)
    assert "Der kan være flere sager" in row


class CountingState:
    """A shared state store that counts its reads and can be made to fail."""

    def __init__(self):
        self.values: dict = {}
        self.reads = 0
        self.down = False

    def read(self, name):
        self.reads += 1
        if self.down:
            raise OSError("down")
        return self.values.get(name)

    def write(self, name, value, ttl_seconds):
        self.values[name] = value


def test_requests_read_the_switches_from_the_store_at_most_once_a_second(caplog):
    state, now = CountingState(), [0.0]
    board = operations.SwitchBoard(state, clock=lambda: now[0])
    state.values[operations.SWITCHES] = {"sbsys": {"by": "x", "at": "y"}}
    for _ in range(100):
        assert set(board.current()) == {"sbsys"}
    assert state.reads == 1
    now[0] += 1.0
    state.values[operations.SWITCHES] = {}
    assert board.current() == {}
    assert state.reads == 2

    state.down = True  # the store fails: the last known switches hold, said once
    for _ in range(3):
        now[0] += 1.0
        assert board.current() == {}
    assert len([r for r in caplog.records if "source switches" in r.getMessage()]) == 1


def test_a_switch_made_here_holds_here_at_once():
    state = CountingState()
    board = operations.SwitchBoard(state, clock=lambda: 0.0)
    assert board.current() == {}
    board.save({"sbsys": {"by": "x", "at": "y"}})
    assert set(board.current()) == {"sbsys"}


@pytest.mark.slow
def test_with_redis_a_switch_on_one_instance_holds_on_the_other(sandbox):
    from support.services import require_redis

    url = "redis://127.0.0.1:6379/7"
    require_redis(url)
    sessions = {"backend": "redis", "redis_url": url}
    built = [portal_app(sandbox, sessions) for _ in range(2)]
    (first, _), (second, _) = built
    try:
        client, other = admin(first), admin(second)
        client.post(
            "/drift/kilder/sbsys",
            data={"handling": "sluk", "aarsag": REASON, "csrf_token": csrf_token(client)},
        )
        time.sleep(operations.SWITCHES_MAX_AGE)
        page = lookup_status(other, sandbox.municipality.demo.typical)
        assert "slået fra af en administrator" in page.lower()
        assert "sbsys/" not in page
        kept = first.extensions["borgersag.state"].client
        assert kept.get("borgersag:state:value:kill-switches") is not None
        assert kept.ttl("borgersag:state:value:kill-switches") > 0
    finally:
        client.post(
            "/drift/kilder/sbsys", data={"handling": "taend", "csrf_token": csrf_token(client)}
        )
        first.extensions["borgersag.state"].client.delete("borgersag:state:value:kill-switches")
        for _, portal in built:
            portal.close()
