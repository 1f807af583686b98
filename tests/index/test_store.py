"""The index's writes: a joined case that one of its systems did not answer for keeps
its facts; a case is dropped only when every system holding it answered in full."""

from __future__ import annotations

import dataclasses

import pytest

from borgersag.domain.model import Progress
from borgersag.index.changes import CaseFacts, changes
from borgersag.index.sealing import CprSeal
from borgersag.index.store import IndexStore

from support.index_helpers import SECRET

JOINED = CaseFacts(
    "byggesag/BYG-1",
    "byggesag",
    "BYG-1",
    Progress.OPLYST,
    status_text="Afventer",  # the ESDH's words, which lead the joined case
    systems=("byggesag", "sbsys"),
)
ALONE = CaseFacts(
    "byggesag/BYG-1",
    "byggesag",
    "BYG-1",
    Progress.OPSTAAET,
    status_text="Modtaget",  # the permit system's own words
    systems=("byggesag",),
)


@pytest.fixture
def store(tmp_path):
    opened = IndexStore.open(f"sqlite:///{tmp_path / 'index.sqlite3'}", CprSeal(SECRET))
    opened.upgrade()
    yield opened
    opened.close()


def test_a_joined_case_keeps_its_facts_while_one_of_its_systems_is_down(store):
    sid = store.subscribe("0101011234")
    store.apply(sid, [JOINED], {"byggesag": "ok", "sbsys": "ok"}, changes)

    found = store.apply(
        sid,
        [ALONE],
        {"byggesag": "ok", "sbsys": "failed"},
        changes,
        complete={"byggesag"},
        fresh_sources={"byggesag"},
    )

    assert found == [] and store.facts(sid) == {JOINED.case_id: JOINED}


def test_a_case_is_dropped_only_when_every_system_holding_it_answered_in_full(store):
    sid = store.subscribe("0101011234")
    store.apply(sid, [JOINED], {"byggesag": "ok", "sbsys": "ok"}, changes)
    outcomes = {"byggesag": "ok", "sbsys": "ok"}
    store.apply(sid, [], outcomes, changes, complete={"byggesag"})  # sbsys: truncated
    assert JOINED.case_id in store.facts(sid)
    store.apply(sid, [], outcomes, changes, complete={"byggesag", "sbsys"})
    assert store.facts(sid) == {}
    assert store.outbox(sid) == []  # a case gone is not news


def test_a_sender_reports_on_a_notification_and_can_queue_a_failed_one_again(store):
    sid = store.subscribe("0101011234")
    store.apply(sid, [JOINED], {"byggesag": "ok", "sbsys": "ok"}, changes)
    decided = dataclasses.replace(JOINED, progress=Progress.AFGJORT, status_text="Afgjort")
    store.apply(sid, [decided], {"byggesag": "ok", "sbsys": "ok"}, changes)
    (queued,) = store.outbox(sid, state="queued")

    store.mark(queued.id, "failed", "SMTP 451 " + "x" * 5000)
    (failed,) = store.outbox(sid, state="failed")
    assert (failed.attempts, len(failed.last_error)) == (1, 1000)
    store.mark(queued.id, "queued")
    store.mark(queued.id, "sent")
    (sent,) = store.outbox(sid)
    assert (sent.state, sent.attempts, sent.last_error) == ("sent", 2, None)
    with pytest.raises(ValueError, match="state must be one of"):
        store.mark(queued.id, "delivered")


def test_a_visit_counts_news_from_the_visit_before_the_login_and_is_forgotten(audit_url):
    import datetime as dt

    opened = IndexStore.open(audit_url, CprSeal(SECRET))
    opened.upgrade()
    try:
        cpr, day = "0101701234", dt.datetime(2026, 12, 1, 9, tzinfo=dt.UTC)
        opened.begin_visit(cpr, now=day)
        assert opened.seen(cpr, now=day) is None  # the first visit: nothing is new
        opened.begin_visit(cpr, now=day + dt.timedelta(days=2))
        later = day + dt.timedelta(days=2, minutes=1)
        assert opened.seen(cpr, now=later) == day
        assert opened.seen(cpr, now=later) == day  # paging on: the same visit before
        assert opened.seen("0202801234", now=later) is None  # another citizen's own
        assert opened.prune_visits(180, now=later + dt.timedelta(days=181)) == 2
        opened.begin_visit(cpr)
        assert opened.seen(cpr) is None
    finally:
        opened.close()
