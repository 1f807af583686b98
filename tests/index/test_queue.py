"""The index's jobs on huey: the login hook, the periodic refresh, retries that wait
longer each time, and a real Redis queue shared by two workers."""

from __future__ import annotations

import datetime as dt
import logging
import uuid

import pytest

from borgersag.audit import AuditUnavailable, EventKind
from borgersag.index.queue import Jobs, Runtime, make_huey
from borgersag.index.section import WorkerSettings

from support.services import require_redis

REDIS_URL = "redis://127.0.0.1:6379/11"  # a database of the index tests' own


@pytest.fixture
def runtime(make_refresher, own_sandbox):
    refresher, recorded = make_refresher()
    return Runtime(refresher, refresher.settings), recorded


def jobs_on(huey_settings: WorkerSettings, runtime: Runtime, **huey_args) -> Jobs:
    return Jobs(make_huey(huey_settings, **huey_args), huey_settings, lambda: runtime)


def test_a_login_subscribes_and_refreshes_at_once(runtime, own_sandbox, tmp_path):
    rt, recorded = runtime
    jobs = jobs_on(WorkerSettings(queue=f"sqlite:///{tmp_path / 'q.db'}"), rt, immediate=True)
    cpr = own_sandbox.municipality.demo.typical

    subscriber_id = jobs.after_login(cpr, subscribe=True)

    assert subscriber_id is not None
    assert rt.refresher.store.facts(subscriber_id)  # indexed by the job
    assert [e.kind for e in recorded] == [EventKind.INDEX_REFRESH]
    assert "efter login" in recorded[0].detail


def test_a_login_of_someone_not_subscribed_does_nothing(runtime, own_sandbox, tmp_path):
    rt, recorded = runtime
    jobs = jobs_on(WorkerSettings(queue=f"sqlite:///{tmp_path / 'q.db'}"), rt, immediate=True)
    assert jobs.after_login(own_sandbox.municipality.demo.coowner, subscribe=False) is None
    assert recorded == [] and rt.refresher.store.subscriber_ids() == []


def test_the_periodic_job_refreshes_only_who_is_due(runtime, own_sandbox, tmp_path):
    rt, recorded = runtime
    jobs = jobs_on(WorkerSettings(queue=f"sqlite:///{tmp_path / 'q.db'}"), rt, immediate=True)
    store = rt.refresher.store
    first = store.subscribe(own_sandbox.municipality.demo.typical)
    store.subscribe(own_sandbox.municipality.demo.coowner)

    assert jobs.refresh_due.call_local() == 2  # never refreshed: both due
    assert len(recorded) == 2
    assert jobs.refresh_due.call_local() == 0  # just refreshed: nobody
    later = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=61)
    assert store.due({}, 60, now=later) == [first, first + 1]  # an hour on, both again
    assert store.due({"sbsys": 120, "zgw": 120, "momentum": 120}, 60, now=later) == [
        first,
        first + 1,
    ]  # ejerfortegnelse and the others keep the default of 60


def test_the_schedule_does_not_enqueue_a_subscriber_twice(runtime, own_sandbox, tmp_path):
    rt, recorded = runtime
    jobs = jobs_on(WorkerSettings(queue=f"sqlite:///{tmp_path / 'q.db'}"), rt)
    rt.refresher.store.subscribe(own_sandbox.municipality.demo.typical)

    assert jobs.refresh_due.call_local() == 1
    assert jobs.refresh_due.call_local() == 0  # a minute on, its job still waits
    assert jobs.huey.pending_count() == 1
    jobs.huey.execute(jobs.huey.dequeue())
    assert len(recorded) == 1
    later = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=61)
    assert rt.refresher.store.due({}, 60, now=later, waiting=False) != []  # due again


def test_a_failing_job_is_retried_each_time_later(runtime, own_sandbox, tmp_path):
    rt, recorded = runtime
    settings = WorkerSettings(
        queue=f"sqlite:///{tmp_path / 'q.db'}", retries=3, retry_delay_seconds=10
    )
    jobs = jobs_on(settings, rt)
    subscriber_id = rt.refresher.store.subscribe(own_sandbox.municipality.demo.typical)
    recorded.fail = AuditUnavailable("the audit log is down")
    jobs.refresh(subscriber_id, "efter login")
    task = jobs.huey.dequeue()
    waits = []
    for _ in range(3):
        now = dt.datetime.now(dt.UTC).replace(tzinfo=None)  # huey's clock: naive UTC
        jobs.huey.execute(task, timestamp=task.eta or now)  # fails: the audit log is down
        (task,) = jobs.huey.scheduled()  # back in the queue, for later
        jobs.huey.storage.flush_schedule()
        waits.append(round((task.eta - now).total_seconds()))
    assert waits == [10, 20, 40]
    assert rt.refresher.store.facts(subscriber_id) == {}  # never written unaudited
    assert task.retries == 0
    recorded.fail = None
    jobs.huey.execute(task, timestamp=task.eta)
    assert rt.refresher.store.facts(subscriber_id)  # the last try got through
    assert jobs.huey.scheduled() == []


@pytest.mark.slow
def test_two_workers_share_one_redis_queue(runtime, own_sandbox):
    require_redis(REDIS_URL)
    rt, recorded = runtime
    name = f"index-test-{uuid.uuid4().hex}"
    settings = WorkerSettings(queue=REDIS_URL)
    web = jobs_on(settings, rt, name=name)  # the portal that enqueues after a login
    worker = jobs_on(settings, rt, name=name)  # another machine's worker
    try:
        subscriber_id = web.after_login(own_sandbox.municipality.demo.typical, subscribe=True)
        assert recorded == []  # only enqueued: nobody asked yet
        task = worker.huey.dequeue()
        assert task.args == (subscriber_id, "efter login")  # the id, never the CPR number
        worker.huey.execute(task)
        assert [e.kind for e in recorded] == [EventKind.INDEX_REFRESH]
        assert rt.refresher.store.facts(subscriber_id)
        assert worker.huey.pending_count() == 0
    finally:
        web.huey.flush()


def test_a_refresh_logs_no_cpr_number_even_when_it_fails(runtime, own_sandbox, tmp_path, caplog):
    from borgersag.runtime import logmask

    rt, recorded = runtime
    jobs = jobs_on(WorkerSettings(queue=f"sqlite:///{tmp_path / 'q.db'}", retries=0), rt)
    cpr = own_sandbox.municipality.demo.typical
    with logmask.suspended(), caplog.at_level(logging.DEBUG):
        subscriber_id = jobs.after_login(cpr, subscribe=True)
        jobs.huey.execute(jobs.huey.dequeue())  # a refresh that works
        recorded.fail = AuditUnavailable("the audit log is down")
        jobs.refresh(subscriber_id, "manuel")
        jobs.huey.execute(jobs.huey.dequeue())  # and one that fails
    assert "index refresh of subscriber" in caplog.text
    assert "AuditUnavailable" in caplog.text
    for shown in (cpr, f"{cpr[:6]}-{cpr[6:]}"):
        assert shown not in caplog.text


def test_a_subscriber_sealed_under_another_key_is_given_up_at_once_not_retried(
    make_refresher, own_sandbox, tmp_path, caplog
):
    from borgersag.index.sealing import CprSeal
    from borgersag.index.store import IndexStore

    url = f"sqlite:///{tmp_path / 'index.sqlite3'}"
    old_key = IndexStore.open(url, CprSeal("the-key-before-" + "x" * 32))
    old_key.upgrade()
    subscriber_id = old_key.subscribe(own_sandbox.municipality.demo.typical)
    old_key.close()
    refresher, recorded = make_refresher(url)  # the index's key has changed since
    rt = Runtime(refresher, refresher.settings)
    jobs = jobs_on(WorkerSettings(queue=f"sqlite:///{tmp_path / 'q.db'}", retries=3), rt)

    jobs.refresh(subscriber_id, "manuel")
    jobs.huey.execute(jobs.huey.dequeue())

    assert jobs.huey.scheduled() == [] and jobs.huey.pending_count() == 0  # not retried
    assert recorded == []  # nobody was looked up
    assert "does not open with [index] key" in caplog.text
