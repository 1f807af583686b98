"""A refresh on a bad day: a source that fails keeps its cases as they were (and is not
reported as "everything changed"), hostile data is read within bounds, closed cases
expire, and details are fetched only when asked for."""

from __future__ import annotations

import datetime as dt

import pytest

from borgersag.domain.model import Progress
from borgersag.index.changes import CaseFacts


@pytest.fixture
def healthy_afterwards(own_sandbox):
    yield own_sandbox
    own_sandbox.reset_faults()


def test_a_failing_source_keeps_its_cases_and_reports_no_change(make_refresher, healthy_afterwards):
    sandbox = healthy_afterwards
    refresher, recorded = make_refresher()
    subscriber_id = refresher.store.subscribe(sandbox.municipality.demo.typical)
    refresher.refresh(subscriber_id)
    before = refresher.store.facts(subscriber_id)
    assert any(f.source == "sbsys" for f in before.values())

    sandbox.faults("esdh").update(fail="500")
    done = refresher.refresh(subscriber_id)

    assert "sbsys" in done.unanswered and done.changes == ()
    assert refresher.store.facts(subscriber_id) == before  # nothing dropped, nothing moved
    assert refresher.store.refreshed(subscriber_id)["sbsys"][1] == "failed"
    seen = refresher.store.sources_seen()  # what `borgersag index status` shows operators
    assert seen["sbsys"][1:] == (0, 1) and seen["zgw"][1:] == (1, 0)
    assert ("sbsys", "failed") in recorded[-1].sources  # the audit row says so too


def test_hostile_data_is_read_within_the_index_s_bounds(make_refresher, healthy_afterwards):
    sandbox = healthy_afterwards
    refresher, _ = make_refresher()
    subscriber_id = refresher.store.subscribe(sandbox.municipality.demo.typical)
    sandbox.faults("esdh").update(hostile=True)

    done = refresher.refresh(subscriber_id)

    facts = refresher.store.facts(subscriber_id).values()
    assert done.cases == len(facts) > 0  # the readable cases are kept
    assert all(len(f.case_id) <= 255 and len(f.status_text or "") <= 200 for f in facts)
    assert all(len(f.area or "") <= 200 and len(f.kle or "") <= 20 for f in facts)


def test_closed_cases_expire_after_the_retention_time(make_refresher, own_sandbox):
    refresher, _ = make_refresher(index={"closed_retention_days": 30})
    store = refresher.store
    subscriber_id = store.subscribe(own_sandbox.municipality.demo.coowner)
    refresher.refresh(subscriber_id)
    # the co-owner's only ESDH case closed years ago: not kept at all
    assert not any(f.source == "sbsys" for f in store.facts(subscriber_id).values())

    today = dt.date(2026, 12, 8)
    closed = CaseFacts("x/1", "x", "1", Progress.AFSLUTTET, closed=today - dt.timedelta(days=31))
    recent = CaseFacts("x/2", "x", "2", Progress.AFSLUTTET, closed=today - dt.timedelta(days=29))
    store.apply(subscriber_id, [closed, recent], {}, lambda old, new: [])
    assert store.prune_closed(30, today=today) == 1
    assert {"x/1", "x/2"} & set(store.facts(subscriber_id)) == {"x/2"}


def test_details_are_fetched_only_when_asked_for(make_refresher, own_sandbox):
    cpr = own_sandbox.municipality.demo.typical
    plain, _ = make_refresher()
    detailed, _ = make_refresher(index={"fetch_details": True})
    first = plain.store.subscribe(cpr)
    plain.refresh(first)
    detailed.refresh(first)  # the same database: the same subscriber
    open_sbsys = [
        f
        for f in detailed.store.facts(first).values()
        if f.progress is not Progress.AFSLUTTET and f.source == "sbsys"
    ]
    # SBSYS lists a case's documents only in its details: with them, they are indexed
    assert open_sbsys and all(f.documents for f in open_sbsys)
