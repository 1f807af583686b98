"""The delivery job on the index's huey queue: a refresh that finds news sends it at
once; the operators' pauses (all, or one source) hold it back until resumed."""

from __future__ import annotations

import uuid

import pytest

from borgersag.audit import AUDIT, AuditLog
from borgersag.cli.index import start_worker, stop_worker
from borgersag.config.loader import Config
from borgersag.index.queue import Jobs, Runtime, make_huey
from borgersag.index.section import INDEX, WorkerSettings
from borgersag.index.service import build_jobs
from borgersag.lookup.portal import Portal
from borgersag.lookup.shared_state import MemorySharedState
from borgersag.notify.service import DeliveryJobs, attach_delivery, save_pauses
from borgersag.notify.store import NotifyStore

from support.index_helpers import Recorded, eventually, raw_config, signals_kept
from support.notify_helpers import (
    EMAIL,
    PHONE,
    Setup,
    clear_inboxes,
    inbox,
    move_on,
    notify_tables,
    open_case,
)
from support.services import require_redis

REDIS_URL = "redis://127.0.0.1:6379/12"  # a database of the senders' tests' own


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
    case = open_case(sandbox, cpr)
    move_on(sandbox, store, subscriber_id, case)
    (source,) = {
        f.source for f in store.facts(subscriber_id).values() if f.sagsnummer == case.nummer
    }
    return subscriber_id, source


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


def test_the_worker_s_consumer_sends_the_news_of_a_refresh(own_sandbox, tmp_path):
    """A real huey consumer (the demo's threads), built by the CLI's worker from config."""
    clear_inboxes(own_sandbox)
    tables = raw_config(own_sandbox, {"url": f"sqlite:///{tmp_path / 'index.db'}"})
    tables["notify"] = notify_tables(own_sandbox)
    tables["worker"] = {"queue": f"sqlite:///{tmp_path / 'queue.db'}", "retry_delay_seconds": 1}
    tables["audit"] = {"url": f"sqlite:///{tmp_path / 'audit.db'}"}
    config = Config.from_mapping(tables)
    portal = Portal.from_config(config)
    audit = AuditLog.from_settings(config.section(AUDIT), sandbox=True)
    audit.create_schema()
    cpr = own_sandbox.municipality.demo.typical
    with signals_kept():
        worker = start_worker(config, portal, audit)
        assert worker is not None and worker.delivery is not None
        try:
            store = worker.jobs.runtime().refresher.store
            subscriber_id = store.subscribe(cpr)
            NotifyStore(store).save_contact(
                subscriber_id, ("email", "sms", "digital_post"), EMAIL, PHONE
            )
            worker.jobs.refresh(subscriber_id, "manuel")
            eventually(lambda: store.facts(subscriber_id))  # the baseline
            move_on(own_sandbox, store, subscriber_id, open_case(own_sandbox, cpr))
            worker.jobs.refresh(subscriber_id, "manuel")
            assert len(eventually(lambda: inbox(own_sandbox, "smtp"))) == 1
            assert len(eventually(lambda: inbox(own_sandbox, "nemsms"))) == 1
            assert len(eventually(lambda: inbox(own_sandbox, "digitalpost"))) == 1
        finally:
            stop_worker(worker)
            audit.close()
            portal.close()


@pytest.mark.slow
def test_on_redis_the_news_goes_from_one_machine_s_refresh_to_another_s_sender(
    own_sandbox, tmp_path
):
    require_redis(REDIS_URL)
    setup = Setup(own_sandbox, f"sqlite:///{tmp_path / 'index.db'}")
    runtime = Runtime(setup.refresher, setup.config.section(INDEX))
    settings = WorkerSettings(queue=REDIS_URL)
    name = f"channels-test-{uuid.uuid4().hex}"
    jobs = Jobs(make_huey(settings, name=name), settings, lambda: runtime)
    DeliveryJobs(jobs, setup.settings, state=MemorySharedState())
    try:
        cpr = own_sandbox.municipality.demo.typical
        subscriber_id = setup.subscribed(cpr, channels=("digital_post",))
        setup.news(subscriber_id, setup.open_case(cpr))
        # the refresh found the news already (Setup refreshes in-process): plan it by job
        jobs.on_changes()
        task = jobs.huey.dequeue()
        assert task.name.endswith("notify.deliver") and task.args == ()  # no id, no address
        jobs.huey.execute(task)
        (post,) = inbox(own_sandbox, "digitalpost")
        assert post["cpr"] == cpr
    finally:
        jobs.huey.flush()
        setup.close()
