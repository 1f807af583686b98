"""The overview page with the first answers at once: the form's script asks for a pending
overview, the page's status endpoint tells what has arrived, and every case shown is
covered by a committed audit row; without the script the POST waits, as before."""

from __future__ import annotations

import dataclasses
import re
import threading
import time

import pytest

from borgersag.lookup.engine import LookupProgress
from borgersag.web import create_app

from support.actions import caseworker_user, csrf_token, sign_in
from support.fake_portal import TYPICAL_CPR, FakePortal, make_config

COOKIE = "borgersag_session"


class SteppedPortal(FakePortal):
    """Tells of the first source's answer, then waits for the test before the rest."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.rest = threading.Event()
        self.told = threading.Event()

    def lookup(self, key, on_progress=None):
        whole = super().lookup(key)
        if on_progress:
            first = whole.sources[0]
            early = dataclasses.replace(
                whole,
                sources=(first,),
                cases=tuple(c for c in whole.cases if c.source == first.source),
            )
            on_progress(
                LookupProgress(early, tuple((r.source, r.title) for r in whole.sources[1:]))
            )
            self.told.set()
            assert self.rest.wait(10)
        return whole


def build(**tables):
    config = make_config(tables=tables) if tables else make_config()
    portal = SteppedPortal(config=config)
    app = create_app(config, portal=portal)
    app.config["TESTING"] = True
    return app, portal


@pytest.fixture
def stepped():
    app, portal = build()
    yield app, portal
    portal.rest.set()


def start(client, **extra):
    return client.post(
        "/",
        data={"kind": "cpr", "value": TYPICAL_CPR, "csrf_token": csrf_token(client),
              "respond": "async", **extra},
    )  # fmt: skip


def status(client, location):
    answer = client.get(location + "/status")
    assert answer.status_code == 200
    return answer.get_json()


def until_complete(client, location):
    for _ in range(200):
        state = status(client, location)
        if state["state"] != "pending":
            return state
        time.sleep(0.02)
    raise AssertionError("the lookup never completed")


def newest_seq(app):
    rows = app.extensions["borgersag.audit"].recent(1)
    return rows[0].seq if rows else 0


def lookup_rows(app, after):
    """The lookup rows written since row ``after`` (the audit file may be shared)."""
    return [r.event for r in reversed(app.extensions["borgersag.audit"].recent(100))
            if r.event.kind == "lookup" and r.seq > after]  # fmt: skip


def test_the_page_comes_at_once_and_fills_in_as_sources_answer(stepped):
    app, portal = stepped
    client = app.test_client()
    sign_in(client, caseworker_user())
    made = start(client)
    assert made.status_code == 303
    location = made.location
    assert TYPICAL_CPR not in location
    assert portal.told.wait(5)

    page = client.get(location).get_data(as_text=True)
    assert 'aria-live="polite"' in page
    assert "1 af 6 systemer har svaret." in page  # the sample's six sources
    assert "Venter på svar" in page
    assert "Ansøgning om personlig tillæg" in page  # a case of the first source

    early = status(client, location)
    assert early["state"] == "pending"
    assert (early["answered"], early["total"]) == (1, 6)
    assert early["announce"] == "1 af 6 systemer har svaret."
    assert "Ansøgning om personlig tillæg" in early["html"]
    assert "<script>alert(1)</script>" not in early["html"]  # escaped by Jinja
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in early["html"]

    portal.rest.set()
    final = until_complete(client, location)
    assert final["state"] == "complete"
    assert final["announce"].startswith("Oversigten er færdig")
    assert "Venter på svar" not in final["html"]
    whole = client.get(location).get_data(as_text=True)
    assert "Lavet " in whole and "Venter på svar" not in whole


def test_every_case_shown_is_covered_by_a_committed_row_before_it_is_shown(stepped):
    app, portal = stepped
    client = app.test_client()
    sign_in(client, caseworker_user())
    before = newest_seq(app)
    location = start(client, purpose="").location
    assert portal.told.wait(5)
    shown_early = set(re.findall(r"/sag/([a-z]+/[0-9A-Z-]+)\"", status(client, location)["html"]))
    rows = lookup_rows(app, before)
    assert [r.detail for r in rows] == ["opslag startet", "delsvar"]
    assert rows[0].case_ids == ()
    assert shown_early and shown_early <= set(rows[1].case_ids)

    portal.rest.set()
    until_complete(client, location)
    rows = lookup_rows(app, before)
    assert [r.detail for r in rows] == ["opslag startet", "delsvar", ""]
    shown = set(
        re.findall(r"/sag/([a-z]+/[0-9A-Z-]+)\"", client.get(location).get_data(as_text=True))
    )
    assert shown <= set(rows[-1].case_ids)


def test_a_narrowed_pending_page_polls_for_the_same_narrowing(stepped):
    app, portal = stepped
    client = app.test_client()
    sign_in(client, caseworker_user())
    location = start(client).location
    assert portal.told.wait(5)
    page = client.get(location + "?q=tillæg&sorter=oprettet").get_data(as_text=True)
    status_url = re.search(r'data-status-url="([^"]+)"', page)[1].replace("&amp;", "&")
    assert "q=till" in status_url and "sorter=oprettet" in status_url
    portal.rest.set()
    final = client.get(status_url).get_json()
    for _ in range(200):
        if final["state"] != "pending":
            break
        time.sleep(0.02)
        final = client.get(status_url).get_json()
    assert final["state"] == "complete"
    # the body that replaces the page's still holds only what the search finds
    assert set(re.findall(r"/sag/([a-z]+/[0-9]+)\"", final["html"])) == {"sbsys/1001"}
    assert 'value="tillæg"' in final["html"]


def test_without_the_script_the_post_waits_for_the_whole_overview():
    app, portal = build()
    portal.rest.set()
    client = app.test_client()
    sign_in(client, caseworker_user())
    before = newest_seq(app)
    made = client.post(
        "/", data={"kind": "cpr", "value": TYPICAL_CPR, "csrf_token": csrf_token(client)}
    )
    assert made.status_code == 303
    page = client.get(made.location).get_data(as_text=True)
    assert "Lavet " in page and "Venter på svar" not in page
    assert [r.detail for r in lookup_rows(app, before)] == [""]  # one row, as always
    assert not portal.told.is_set()  # nobody listened for progress


def test_the_form_and_overview_load_the_script_from_our_own_origin(stepped):
    app, portal = stepped
    client = app.test_client()
    sign_in(client, caseworker_user())
    form = client.get("/").get_data(as_text=True)
    assert 'src="/static/js/lookup.js"' in form and "data-respond-async" in form
    with client.get("/static/js/lookup.js") as script:
        assert script.status_code == 200
    portal.rest.set()


def test_status_of_an_unknown_or_anothers_lookup_is_a_404(stepped):
    app, portal = stepped
    client = app.test_client()
    sign_in(client, caseworker_user())
    location = start(client).location
    assert client.get("/oversigt/" + "x" * 32 + "/status").status_code == 404
    other = app.test_client()
    sign_in(other, caseworker_user(1))
    answer = other.get(location + "/status")
    assert answer.status_code == 404 and answer.get_json() == {"state": "expired"}
    portal.rest.set()


def test_a_poll_on_another_worker_reads_the_shared_store(tmp_path):
    """Two workers sharing the SQLite sessions: the lookup runs on the first, the page's
    polls land on the second."""
    path = tmp_path / "sessions.sqlite3"
    tables = {"sessions": {"backend": "sqlite", "path": str(path)}}
    first_app, portal = build(**tables)
    second_app, _ = build(**tables)
    first = first_app.test_client()
    sign_in(first, caseworker_user())
    location = start(first).location
    second = second_app.test_client()
    second.set_cookie(COOKIE, first.get_cookie(COOKIE).value)
    try:
        assert portal.told.wait(5)
        early = status(second, location)
        assert early["state"] == "pending" and early["answered"] == 1
        portal.rest.set()
        assert until_complete(second, location)["state"] == "complete"
    finally:
        portal.rest.set()
    stored = b"".join(p.read_bytes() for p in tmp_path.iterdir())
    assert TYPICAL_CPR.encode() not in stored


def test_a_lookup_that_cannot_be_recorded_at_the_end_shows_nothing(stepped):
    app, portal = stepped
    client = app.test_client()
    sign_in(client, caseworker_user())
    location = start(client).location
    assert portal.told.wait(5)
    audit = app.extensions["borgersag.audit"]
    audit.close()  # the audit database goes away during the fan-out
    broken = type(audit)("sqlite:////nonexistent/dir/audit.sqlite3")
    app.extensions["borgersag.audit"] = broken
    portal.rest.set()
    assert until_complete(client, location) == {"state": "failed"}
    page = client.get(location)
    assert page.status_code == 503
    assert "Opslaget blev ikke færdigt" in page.get_data(as_text=True)
    assert "personlig tillæg" not in page.get_data(as_text=True)


# -- the JSON API: a status resource ----------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "headers"),
    [({"wait": False}, {}), ({}, {"Prefer": "respond-async"})],
    ids=["wait-false", "prefer-respond-async"],
)
def test_the_api_answers_202_at_once_and_the_location_says_pending_then_complete(
    stepped, body, headers
):
    app, portal = stepped
    client = app.test_client()
    sign_in(client, caseworker_user())
    made = client.post(
        "/api/v1/overviews", json={"kind": "cpr", "value": TYPICAL_CPR, **body}, headers=headers
    )
    assert made.status_code == 202
    assert made.json["state"] == "pending"
    assert made.headers["Location"] == f"/api/v1/overviews/{made.json['id']}"
    assert made.headers["Preference-Applied"] == "respond-async"
    assert portal.told.wait(5)
    for _ in range(100):  # the first source's answer lands in the store
        early = client.get(made.headers["Location"]).json
        if early["overview"]["sources"]:
            break
        time.sleep(0.02)
    assert early["state"] == "pending"
    assert [s["source"] for s in early["overview"]["sources"]] == ["sbsys"]
    assert "byggesag" in [w["source"] for w in early["waiting_sources"]]
    assert {c["id"].split("/")[0] for c in early["overview"]["cases"]} == {"sbsys"}

    portal.rest.set()
    for _ in range(200):
        final = client.get(made.headers["Location"]).json
        if final["state"] != "pending":
            break
        time.sleep(0.02)
    assert final["state"] == "complete" and final["waiting_sources"] == []
    assert len(final["overview"]["sources"]) == 6


def test_the_api_still_waits_by_default_and_says_complete(stepped):
    app, portal = stepped
    portal.rest.set()
    client = app.test_client()
    sign_in(client, caseworker_user())
    made = client.post("/api/v1/overviews", json={"kind": "cpr", "value": TYPICAL_CPR})
    assert made.status_code == 201
    assert made.json["state"] == "complete" and made.json["overview"]["cases"]
    assert not portal.told.is_set()


def test_wait_must_be_true_or_false(stepped):
    app, _portal = stepped
    client = app.test_client()
    sign_in(client, caseworker_user())
    made = client.post(
        "/api/v1/overviews", json={"kind": "cpr", "value": TYPICAL_CPR, "wait": "no"}
    )
    assert made.status_code == 400 and made.json["error"]["field"] == "wait"
