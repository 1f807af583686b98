"""The worker end to end: the demo's consumer threads beside a real portal; a citizen
logs in for real, is subscribed and indexed by the worker, a caseworker changes a case's
status in the sandbox, and the next refresh puts exactly one notification in the outbox."""

from __future__ import annotations

import pytest

from borgersag.cli.index import start_worker, stop_worker
from borgersag.config.loader import Config
from borgersag.web import create_app

from support.actions import sandbox_login
from support.index_helpers import eventually, raw_config, set_status, signals_kept


@pytest.fixture
def restore_signals():
    """huey's consumer sets its own signal handlers; put pytest's back."""
    with signals_kept():
        yield


def test_login_refresh_change_one_notification(own_sandbox, tmp_path, restore_signals):
    tables = raw_config(
        own_sandbox, {"subscribe_on_login": True, "url": f"sqlite:///{tmp_path / 'i.db'}"}
    )
    tables["auth"] = own_sandbox.auth_config()
    tables["worker"] = {"queue": f"sqlite:///{tmp_path / 'q.db'}", "retry_delay_seconds": 1}
    tables["audit"] = {"url": f"sqlite:///{tmp_path / 'audit.db'}"}
    config = Config.from_mapping(tables)
    app = create_app(config)
    worker = start_worker(config, app.extensions["borgersag"], app.extensions["borgersag.audit"])
    assert worker is not None
    try:
        with app.test_client() as client:
            assert sandbox_login(client, own_sandbox, "borger", "typical").status_code == 303
        store = worker.jobs.runtime().refresher.store
        (subscriber_id,) = store.subscriber_ids()
        eventually(lambda: store.facts(subscriber_id))  # the worker ran the login's refresh
        case = next(
            c
            for c in own_sandbox.municipality.cases_for(own_sandbox.municipality.demo.typical)
            if c.status.progress != "afsluttet"
        )
        set_status(own_sandbox, f"sbsys/{case.id}", "Afventer", date="2026-12-07")

        app.extensions["borgersag.index"].refresh(subscriber_id, "manuel")  # as the schedule would

        (row,) = eventually(lambda: store.outbox(subscriber_id))
        assert (row.kind, row.state, row.detail["status_text"]) == ("status", "queued", "Afventer")
        app.extensions["borgersag.index"].refresh(subscriber_id, "manuel")
        subject = f"cpr:{own_sandbox.municipality.demo.typical}"
        # the login's refresh and both by hand are done when all three are audited
        eventually(lambda: worker.audit.lookups_of(subject)[1] == 3)
        seen = worker.audit.lookups_of(subject)[0]
        assert len(store.outbox(subscriber_id)) == 1  # the second found nothing new
        assert {r.event.actor_type for r in seen} == {"system"}  # "Hvem har set": the service
    finally:
        stop_worker(worker)
        app.extensions["borgersag"].close()
