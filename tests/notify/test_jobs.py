"""The delivery job on the index's huey queue: a refresh that finds news sends it at
once; the operators' pauses (all, or one source) hold it back until resumed."""

from __future__ import annotations

from borgersag.config.loader import Config
from borgersag.index.service import build_jobs
from borgersag.lookup.portal import Portal
from borgersag.lookup.shared_state import MemorySharedState
from borgersag.notify.service import attach_delivery, save_pauses
from borgersag.notify.store import NotifyStore

from support.index_helpers import Recorded, raw_config, set_status
from support.notify_helpers import EMAIL, PHONE, clear_inboxes, inbox, notify_tables


def _jobs(sandbox, tmp_path, state):
    tables = raw_config(sandbox, {"url": f"sqlite:///{tmp_path / 'index.db'}"})
    tables["notify"] = notify_tables(sandbox)
    tables["worker"] = {"queue": f"sqlite:///{tmp_path / 'queue.db'}"}
    config = Config.from_mapping(tables)
    portal = Portal.from_config(config)
    jobs = build_jobs(config, lambda: portal, Recorded(), immediate=True)
    delivery = attach_delivery(jobs, config, state)
    assert delivery is not None
    return jobs, delivery, portal


def _news(sandbox, jobs, cpr):
    store = jobs.runtime().refresher.store
    subscriber_id = store.subscribe(cpr)
    NotifyStore(store).save_contact(subscriber_id, ("email", "sms", "digital_post"), EMAIL, PHONE)
    jobs.refresh(subscriber_id, "manuel")  # the baseline: nothing to tell
    m = sandbox.municipality
    case = next(c for c in m.cases_for(cpr) if c.status.progress not in ("afsluttet",))
    facts = next(f for f in store.facts(subscriber_id).values() if f.sagsnummer == case.nummer)
    status = "Opklaring" if facts.status_text != "Opklaring" else "Afventer"
    set_status(sandbox, f"sbsys/{case.id}", status, date="2026-12-07")
    return subscriber_id, facts.source


def test_a_refresh_with_news_sends_it_through_the_queue(own_sandbox, tmp_path):
    clear_inboxes(own_sandbox)
    jobs, _delivery, portal = _jobs(own_sandbox, tmp_path, MemorySharedState())
    try:
        subscriber_id, _source = _news(own_sandbox, jobs, own_sandbox.municipality.demo.typical)
        assert inbox(own_sandbox, "smtp") == []  # the baseline sent nothing
        jobs.refresh(subscriber_id, "manuel")
        assert len(inbox(own_sandbox, "smtp")) == 1
        assert len(inbox(own_sandbox, "nemsms")) == 1
        assert len(inbox(own_sandbox, "digitalpost")) == 1
        jobs.refresh(subscriber_id, "manuel")  # nothing new
        assert len(inbox(own_sandbox, "smtp")) == 1
    finally:
        portal.close()


def test_paused_news_waits_and_goes_when_resumed(own_sandbox, tmp_path):
    clear_inboxes(own_sandbox)
    state = MemorySharedState()
    jobs, delivery, portal = _jobs(own_sandbox, tmp_path, state)
    try:
        subscriber_id, source = _news(own_sandbox, jobs, own_sandbox.municipality.demo.typical)
        save_pauses(state, {source: {"by": "Drift", "at": "nu", "reason": "test"}})
        jobs.refresh(subscriber_id, "manuel")
        assert inbox(own_sandbox, "smtp") == []  # that source's news waits
        save_pauses(state, {"*": {"by": "Drift", "at": "nu", "reason": "test"}})
        delivery.deliver()
        assert inbox(own_sandbox, "smtp") == []  # everything waits
        save_pauses(state, {})
        delivery.deliver()
        assert len(inbox(own_sandbox, "smtp")) == 1
    finally:
        portal.close()
