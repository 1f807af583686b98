"""A subscriber's refresh over the sandbox: a status changed in a back end becomes exactly
one queued notification; nothing twice, nothing for hidden cases or the unsubscribed, and
nothing lost or doubled when a refresh is killed half-way."""

from __future__ import annotations

import multiprocessing

import pytest

from borgersag.audit import EventKind

from support.index_helpers import raw_config, refresh_killed_before_commit, set_status


def typical(sandbox) -> str:
    return sandbox.municipality.demo.typical


def open_esdh_case(sandbox) -> str:
    """The typical citizen's open SBSYS case (``sbsys/<id>``), from the sandbox's data."""
    cases = sandbox.municipality.cases_for(typical(sandbox))
    return next(f"sbsys/{c.id}" for c in cases if c.status.progress != "afsluttet")


def move(sandbox, case_id: str) -> str:
    """Move the case to another open status than its current one (the module's tests
    share the sandbox, so each must make a change of its own); the new status text."""
    current = sandbox.municipality.case(int(case_id.split("/")[1])).status.name
    status = "Afventer" if current == "Opklaring" else "Opklaring"
    set_status(sandbox, case_id, status)
    return status


@pytest.fixture
def subscribed(make_refresher, own_sandbox, audit_url):
    """A refresher on SQLite and PostgreSQL, the typical citizen subscribed and indexed."""
    refresher, recorded = make_refresher(audit_url)
    subscriber_id = refresher.store.subscribe(typical(own_sandbox))
    first = refresher.refresh(subscriber_id)
    assert first.cases > 0 and first.changes == ()  # the first refresh is the baseline
    return refresher, recorded, subscriber_id


def test_a_status_change_is_one_queued_notification_and_a_second_refresh_adds_none(
    subscribed, own_sandbox
):
    refresher, _, subscriber_id = subscribed
    status = move(own_sandbox, open_esdh_case(own_sandbox))

    done = refresher.refresh(subscriber_id)

    outbox = refresher.store.outbox(subscriber_id)
    assert [(n.kind, n.state) for n in outbox] == [("status", "queued")]
    assert outbox[0].detail["status_text"] == status
    assert outbox[0].case_id in refresher.store.facts(subscriber_id)
    assert [c.case_id for c in done.changes] == [outbox[0].case_id]
    again = refresher.refresh(subscriber_id)
    assert again.changes == ()
    assert len(refresher.store.outbox(subscriber_id)) == 1


def test_a_refresh_is_audited_as_the_municipality_s_service(subscribed, own_sandbox):
    _, recorded, _ = subscribed
    event_ = recorded[-1]
    assert event_.kind is EventKind.INDEX_REFRESH
    assert event_.actor_type == "system"
    assert event_.actor_unit == "Kommunens eget system"
    assert event_.subject == f"cpr:{typical(own_sandbox)}"
    assert ("sbsys", "ok") in event_.sources and event_.case_ids


def test_a_decision_is_reported_as_a_decision(subscribed, own_sandbox):
    refresher, _, subscriber_id = subscribed
    case_id = open_esdh_case(own_sandbox)
    set_status(own_sandbox, case_id, "Afgjort")
    assert [c.kind for c in refresher.refresh(subscriber_id).changes] == ["decision"]
    set_status(own_sandbox, case_id, "Afventer")  # reopened, for the other tests
    assert [c.kind for c in refresher.refresh(subscriber_id).changes] == ["status"]


def test_no_notification_for_a_case_the_citizen_policy_hides(make_refresher, own_sandbox):
    refresher, _ = make_refresher()
    subscriber_id = refresher.store.subscribe(typical(own_sandbox))
    refresher.refresh(subscriber_id)
    case_id = open_esdh_case(own_sandbox)
    case = own_sandbox.municipality.case(int(case_id.split("/")[1]))
    # The municipality now shows citizens only other subjects than this case's.
    cases = own_sandbox.municipality.cases_for(typical(own_sandbox))
    others = sorted({c.kle[:2] for c in cases} - {case.kle[:2]})
    hiding, _ = make_refresher(citizen={"kle_subjects": others or ["99"]})
    move(own_sandbox, case_id)

    hiding.refresh(subscriber_id)

    assert hiding.store.outbox(subscriber_id) == []
    assert all(f.kle and f.kle[:2] in others for f in hiding.store.facts(subscriber_id).values())


def test_no_notification_for_a_change_the_rules_do_not_inform_of(make_refresher, own_sandbox):
    refresher, _ = make_refresher(index={"inform": ["decision", "document"]})
    subscriber_id = refresher.store.subscribe(typical(own_sandbox))
    refresher.refresh(subscriber_id)
    case_id = open_esdh_case(own_sandbox)
    area = own_sandbox.municipality.case(int(case_id.split("/")[1])).area
    move(own_sandbox, case_id)
    refresher.refresh(subscriber_id)
    assert refresher.store.outbox(subscriber_id) == []  # a plain status change: not told

    ruled, _ = make_refresher(
        index={"inform": [], "rules": {"x": {"area": area, "inform": ["status"]}}}
    )
    move(own_sandbox, case_id)
    ruled.refresh(subscriber_id)
    assert [n.kind for n in ruled.store.outbox(subscriber_id)] == ["status"]


def test_an_unsubscribed_citizen_gets_nothing_and_is_not_looked_up(make_refresher, own_sandbox):
    refresher, recorded = make_refresher()
    subscriber_id = refresher.store.subscribe(typical(own_sandbox))
    refresher.refresh(subscriber_id)
    case_id = open_esdh_case(own_sandbox)
    assert refresher.store.unsubscribe(typical(own_sandbox))
    move(own_sandbox, case_id)
    before = len(recorded)

    done = refresher.refresh(subscriber_id)

    assert not done.subscribed
    assert refresher.store.outbox() == [] and refresher.store.facts(subscriber_id) == {}
    assert len(recorded) == before  # nobody's data was fetched


def test_nothing_is_written_when_the_audit_record_fails(make_refresher, own_sandbox):
    from borgersag.audit import AuditUnavailable

    refresher, recorded = make_refresher()
    subscriber_id = refresher.store.subscribe(typical(own_sandbox))
    recorded.fail = AuditUnavailable("the audit log is down")
    with pytest.raises(AuditUnavailable):
        refresher.refresh(subscriber_id)
    assert refresher.store.facts(subscriber_id) == {}  # retried later, with its audit row


def test_a_refresh_killed_before_its_commit_and_run_again_writes_each_change_once(
    make_refresher, own_sandbox, tmp_path
):
    url = f"sqlite:///{tmp_path / 'index.sqlite3'}"
    refresher, _ = make_refresher(url)
    subscriber_id = refresher.store.subscribe(typical(own_sandbox))
    refresher.refresh(subscriber_id)
    case_id = open_esdh_case(own_sandbox)
    move(own_sandbox, case_id)
    child = multiprocessing.get_context("spawn").Process(
        target=refresh_killed_before_commit,
        args=(url, subscriber_id, raw_config(own_sandbox)),
    )
    child.start()
    child.join(60)
    assert child.exitcode == 9  # it died inside the transaction
    assert refresher.store.outbox(subscriber_id) == []  # nothing half-written

    refresher.refresh(subscriber_id)  # the job, run again
    refresher.refresh(subscriber_id)  # and once more, as a duplicate in the queue would

    assert [n.kind for n in refresher.store.outbox(subscriber_id)] == ["status"]


def test_no_notification_for_a_receipt_of_what_the_citizen_sent(make_refresher, own_sandbox):
    # the sandbox's SBSYS has no "Modtaget" status: its "Opklaring" plays the receipt here
    refresher, _ = make_refresher(index={"receipt_statuses": ["opklaring"]})
    subscriber_id = refresher.store.subscribe(typical(own_sandbox))
    case_id = open_esdh_case(own_sandbox)
    set_status(own_sandbox, case_id, "Afventer")
    refresher.refresh(subscriber_id)
    before = len(refresher.store.outbox(subscriber_id))

    set_status(own_sandbox, case_id, "Opklaring")
    assert refresher.refresh(subscriber_id).changes == ()
    set_status(own_sandbox, case_id, "Afventer")  # the municipality's own move is told
    assert [c.kind for c in refresher.refresh(subscriber_id).changes] == ["status"]
    assert len(refresher.store.outbox(subscriber_id)) == before + 1
