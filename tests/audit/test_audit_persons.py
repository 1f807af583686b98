"""Every person whose data a row showed (``audit_person``), on SQLite and PostgreSQL.

A caseworker's lookup of a property shows its owners; a case page shows the case's
parties. Those persons are recorded with the row, in the same transaction, and the row is
then theirs to see: on "Hvem har set" (``lookups_of``) and in the officer's search by
person. The side table is guarded like ``audit_event``: no change, no delete newer than
the last checkpoint, and no person attached to any row but the one just appended.
"""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from borgersag.audit import AuditEvent, AuditLog
from borgersag.audit.search import AuditQuery, export_rows, search

from support.audit_db import keyed_log, tampering

OWNER = "cpr:0101011234"
CO_OWNER = "cpr:0202025678"
STRANGER = "cpr:0303039012"
PROPERTY = "bfe:100123456"


@pytest.fixture
def log(audit_url, tmp_path):
    audit = keyed_log(audit_url, tmp_path / "keys", retention_days=30)
    audit.create_schema(write_policy=True)  # as 'borgersag audit init' does
    yield audit
    audit.close()


def staff(kind: str = "lookup", subject: str = PROPERTY, **fields) -> AuditEvent:
    return AuditEvent(
        kind,
        "caseworker",
        actor_id="M1234",
        actor_name="Sara Sagsbehandler",
        actor_unit="Byggeri og Miljø",
        subject=subject,
        purpose="Byggesagsbehandling",
        **fields,
    )


def persons(log: AuditLog) -> list[tuple[int, str]]:
    with log.engine.connect() as conn:
        return [tuple(r) for r in conn.execute(text("SELECT seq, person FROM audit_person"))]


def test_a_property_lookup_is_on_each_owners_list_and_in_the_officers_search(log):
    log.record(staff("login", subject=""))
    seq = log.record(staff(persons=(CO_OWNER, OWNER, OWNER)))  # each person once
    log.record(staff(subject=STRANGER, persons=(STRANGER,)))

    assert sorted(persons(log)) == [(seq, OWNER), (seq, CO_OWNER), (3, STRANGER)]
    for person in (OWNER, CO_OWNER):
        found, total = log.lookups_of(person)
        assert total == 1 and [r.seq for r in found] == [seq]
        assert found[0].event.subject == PROPERTY
        assert search(log, AuditQuery(subject=person)).total == 1
        assert [r.seq for r in export_rows(log, AuditQuery(subject=person))] == [seq]
    # the subject still counts, and nobody else's row is anyone's
    assert [r.seq for r in log.lookups_of(STRANGER)[0]] == [3]
    assert log.lookups_of("cpr:0404041111") == ([], 0)


def test_a_row_without_persons_is_still_found_by_its_subject(log):
    """Rows written before persons were recorded have none; their subject still counts."""
    log.record(staff(subject=OWNER))
    assert persons(log) == []
    assert log.lookups_of(OWNER)[1] == 1
    assert search(log, AuditQuery(subject=OWNER)).total == 1


def test_persons_must_be_keys():
    with pytest.raises(ValueError, match="person"):
        staff(persons=("0101011234",))
    with pytest.raises(ValueError, match="list of keys"):
        staff(persons=OWNER)


def test_the_database_refuses_to_change_remove_or_backdate_persons(log):
    assert log.record(staff(persons=(OWNER,))) == 1
    log.record(staff(persons=(CO_OWNER,)))
    attempts = [
        "UPDATE audit_person SET person = 'cpr:0303039012' WHERE seq = 1",
        "DELETE FROM audit_person WHERE seq = 1",
        "DELETE FROM audit_person",
        # someone allowed to INSERT must not pin a person on an older row
        "INSERT INTO audit_person (seq, person) VALUES (1, 'cpr:0303039012')",
    ]
    if log.postgres:
        attempts.append("TRUNCATE audit_person")

    for statement in attempts:
        with pytest.raises(DBAPIError, match="audit_person"), log.engine.begin() as conn:
            conn.execute(text(statement))

    assert sorted(persons(log)) == [(1, OWNER), (2, CO_OWNER)]
    assert log.verify().ok


def test_create_schema_again_changes_nothing_and_restores_a_dropped_guard(log):
    log.create_schema()
    if not log.postgres:
        with log.engine.begin() as conn:
            conn.execute(text("DROP TRIGGER audit_person_no_update"))
        log.create_schema()
    log.record(staff(persons=(OWNER,)))
    with pytest.raises(DBAPIError, match="audit_person"), log.engine.begin() as conn:
        conn.execute(text("UPDATE audit_person SET person = 'cpr:x'"))


def test_pruning_removes_the_persons_of_the_rows_it_removes(log):
    old = dt.datetime(2025, 3, 1, 9, tzinfo=dt.UTC)
    log.record(staff(persons=(OWNER,), at=old))
    log.record(staff(persons=(OWNER, CO_OWNER), at=old + dt.timedelta(days=2)))

    assert log.prune(old + dt.timedelta(days=1)) == 1

    assert sorted(persons(log)) == [(2, OWNER), (2, CO_OWNER)]
    assert log.lookups_of(OWNER)[1] == 1
    assert log.verify().ok
    with pytest.raises(DBAPIError, match="audit_person"), log.engine.begin() as conn:
        conn.execute(text("DELETE FROM audit_person WHERE seq = 2"))


@pytest.mark.parametrize(
    "change",
    [
        "DELETE FROM audit_person WHERE seq = 2 AND person = 'cpr:0202025678'",
        "INSERT INTO audit_person (seq, person) VALUES (1, 'cpr:0303039012')",
        "UPDATE audit_person SET person = 'cpr:0303039012'"
        " WHERE seq = 2 AND person = 'cpr:0101011234'",
    ],
    ids=["removed", "added", "swapped"],
)
def test_a_person_removed_added_or_swapped_behind_the_guards_is_named_by_verify(log, change):
    """The persons are in the chain hash: someone past the triggers (the tables' owner, a
    superuser, the SQLite file's owner) cannot hide whom a row showed without verify noticing."""
    log.record(staff(persons=(OWNER,)))
    log.record(staff(persons=(OWNER, CO_OWNER)))
    log.record(staff())
    assert log.verify().ok

    with tampering(log) as conn:
        conn.execute(text(change))

    result = log.verify()
    assert not result.ok
    assert any(
        problem.startswith(f"row {2 if 'seq = 2' in change else 1}") for problem in result.problems
    )
