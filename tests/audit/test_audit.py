"""The audit log (borgersag/audit/ and borgersag/cli/audit.py), as an operator, an
auditor and a citizen meet it.

Most tests run twice: on SQLite (a file in ``tmp_path``) and on the local PostgreSQL in
a schema of their own, dropped afterwards. The PostgreSQL ones are skipped when it
cannot be reached, unless ``BORGERSAG_REQUIRE_SERVICES=1`` (then they fail).

Tampering is done the way someone with full database rights would: past the triggers
(``support.audit_db.tampering``).
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import hashlib
import hmac
import multiprocessing
import os
import socket
import sqlite3
import tempfile
import time
import traceback
from pathlib import Path
from types import SimpleNamespace

import psycopg
import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from borgersag.audit import (
    AuditChainBroken,
    AuditEvent,
    AuditLog,
    AuditSettings,
    AuditUnavailable,
    EventKind,
    retention_cutoff,
    subject_key,
    validate_audit_settings,
)
from borgersag.audit.event import canonical_bytes, chain_hash
from borgersag.cli.audit import add_audit_commands
from borgersag.domain.keys import KeyKind, parse_key
from borgersag.people.identity import Audience, User
from borgersag.sdk.errors import ConfigError

from support.audit_db import audit_key_settings, keyed_log, rows, tampering

CPR = "0101011234"
SUBJECT = f"cpr:{CPR}"
OTHER_SUBJECT = "cpr:0202025678"
STAFF_NAME = "Sara Sagsbehandler"
PURPOSE = "Ansøgning om boligstøtte"
T0 = dt.datetime(2025, 3, 1, 9, 15, 2, 123456, tzinfo=dt.UTC)


def staff_event(kind: str = "lookup", *, subject: str = SUBJECT, **fields) -> AuditEvent:
    """A caseworker's event about ``subject`` with every field filled in."""
    values = {
        "actor_id": "M1234",
        "actor_name": STAFF_NAME,
        "actor_unit": "Borgerservice",
        "actor_roles": ("sagsbehandler",),
        "purpose": PURPOSE,
        "sources": (("esdh", "ok"), ("byggesag", "timeout")),
        "case_ids": ("esdh/SAG-1", "byggesag/BYG-7"),
        "request_id": "req-1",
        **fields,
    }
    return AuditEvent(kind, "caseworker", subject=subject, **values)


def citizen_event(kind: str = "case_view", **fields) -> AuditEvent:
    """The citizen looking at their own case."""
    return AuditEvent(kind, "citizen", actor_id="pseudonym-1", subject=SUBJECT, **fields)


# --- backends ------------------------------------------------------------------------------


@pytest.fixture
def url(audit_url):
    """The audit database URL, once per backend (conftest's ``audit_url``)."""
    return audit_url


@pytest.fixture
def log(url, tmp_path):
    """An audit log with its keys, witness and schema (its database keeping rows 30
    days), closed afterwards."""
    audit = keyed_log(url, tmp_path / "keys", retention_days=30)
    audit.create_schema(write_policy=True)
    yield audit
    audit.close()


def record_days(log: AuditLog, per_day: dict[int, int]) -> None:
    """Record ``per_day[d]`` events on 1 + d March 2025."""
    for day, count in per_day.items():
        for i in range(count):
            at = dt.datetime(2025, 3, 1 + day, 8 + i, tzinfo=dt.UTC)
            log.record(staff_event(at=at, request_id=f"d{day}-{i}"))


# --- recording -----------------------------------------------------------------------------


def test_one_record_is_one_row_with_every_field(log):
    event = staff_event(at=T0, detail="ok")

    assert log.record(event) == 1

    [row] = rows(log)
    assert row["seq"] == 1
    assert row["kind"] == "lookup"
    assert (row["actor_type"], row["actor_id"], row["actor_name"], row["actor_unit"]) == (
        "caseworker",
        "M1234",
        STAFF_NAME,
        "Borgerservice",
    )
    assert row["actor_roles"] == '["sagsbehandler"]'
    assert (row["subject"], row["purpose"], row["request_id"], row["detail"]) == (
        SUBJECT,
        PURPOSE,
        "req-1",
        "ok",
    )
    assert row["sources"] == '[["esdh","ok"],["byggesag","timeout"]]'
    assert row["case_ids"] == '["esdh/SAG-1","byggesag/BYG-7"]'
    assert row["prev_hash"] == "0" * 64
    assert row["hash"] == chain_hash(1, "0" * 64, event.canonical_fields(), log.keys.hmac_key)
    [stored] = log.recent(5)
    assert stored.event == event  # time with microseconds, in UTC, and every tuple
    assert stored.event.at == T0 and stored.event.at.tzinfo is dt.UTC


def test_the_log_sets_the_time_and_chains_the_next_row(log):
    first = log.record(staff_event(at=T0))
    before = dt.datetime.now(dt.UTC)

    second = log.record(staff_event())

    assert (first, second) == (1, 2)
    newest = log.recent(1)[0]
    assert before <= newest.event.at <= dt.datetime.now(dt.UTC)
    assert newest.prev_hash == rows(log)[0]["hash"]


def test_canonical_form_is_fixed():
    """The serialisation the chain is built on; changing it breaks every stored row."""
    event = AuditEvent(
        "document",
        "caseworker",
        actor_id="M1",
        actor_name="Ærø Øst",
        actor_roles=("a", "b"),
        subject="cpr:0101011234",
        sources=(("esdh", "ok"),),
        case_ids=("esdh/1",),
        at=dt.datetime(2025, 3, 1, 10, 0, tzinfo=dt.timezone(dt.timedelta(hours=1))),
    )
    expected = (
        '{"actor_id":"M1","actor_name":"Ærø Øst","actor_roles":["a","b"],'
        '"actor_type":"caseworker","actor_unit":"","at":"2025-03-01T09:00:00.000000+00:00",'
        '"case_ids":["esdh/1"],"detail":"","kind":"document","prev":"' + "0" * 64 + '",'
        '"purpose":"","request_id":"","seq":1,"sources":[["esdh","ok"]],'
        '"subject":"cpr:0101011234"}'
    ).encode()

    assert canonical_bytes(1, "0" * 64, event.canonical_fields()) == expected
    assert chain_hash(1, "0" * 64, event.canonical_fields()) == hashlib.sha256(expected).hexdigest()
    key = bytes(range(32))
    keyed = hmac.new(key, expected, hashlib.sha256).hexdigest()  # HMAC-SHA256, RFC 2104
    assert chain_hash(1, "0" * 64, event.canonical_fields(), key) == keyed


@pytest.mark.parametrize(
    ("fields", "problem"),
    [
        ({"actor_type": "robot"}, "actor_type"),
        ({"subject": "0101011234"}, "subject"),
        ({"at": dt.datetime(2025, 3, 1, 9, 0)}, "timezone-aware"),
        ({"purpose": "a\x00b"}, "NUL"),
        ({"sources": (("esdh", "Not OK!"),)}, "outcome"),
        ({"kind": "peek"}, "peek"),
    ],
)
def test_malformed_events_are_refused_before_writing(fields, problem):
    values = {"kind": "lookup", "actor_type": "caseworker", **fields}
    with pytest.raises(ValueError, match=problem):
        AuditEvent(**values)


def test_event_repr_hides_the_subject_and_names():
    shown = repr(staff_event())
    assert CPR not in shown and STAFF_NAME not in shown and "lookup" in shown


def test_events_for_signed_in_people_never_carry_the_cpr_as_actor():
    citizen = User(Audience.CITIZEN, "pseudo-9", "Mette", cpr=parse_key(KeyKind.CPR, CPR))
    worker = User(Audience.CASEWORKER, "pseudo-1", STAFF_NAME, medarbejdernummer="M1", unit="Byg")
    subject = subject_key(parse_key(KeyKind.CPR, CPR))

    own = AuditEvent.for_user(EventKind.CASE_VIEW, citizen, subject=subject)
    look = AuditEvent.for_user("lookup", worker, subject=subject)
    refused = AuditEvent.for_user("refused", None, detail="no_role")

    assert (own.actor_type, own.actor_id, own.subject) == ("citizen", "pseudo-9", SUBJECT)
    assert (look.actor_type, look.actor_id, look.actor_unit) == ("caseworker", "M1", "Byg")
    assert (refused.actor_type, refused.actor_id) == ("anonymous", "")


# --- verification --------------------------------------------------------------------------


def test_verify_accepts_an_intact_log(log):
    assert log.verify().ok and log.verify().checked == 0
    for i in range(5):
        log.record(staff_event(request_id=f"r{i}"))

    result = log.verify()

    assert (result.ok, result.checked, result.first_bad_seq, result.problem) == (True, 5, None, "")
    assert (result.head_seq, result.head_hash) == (5, rows(log)[-1]["hash"])


TAMPERING = {
    "edited": (
        ["UPDATE audit_event SET purpose = 'Nysgerrighed' WHERE seq = 3"],
        3,
        "row 3: hash does not match its content (changed?)",
    ),
    "deleted": (
        ["DELETE FROM audit_event WHERE seq = 4"],
        4,
        "row 4 is missing: seq gap after row 3 (removed?)",
    ),
    "first deleted": (
        ["DELETE FROM audit_event WHERE seq = 1"],
        1,
        "row 1 is missing: seq gap after the start of the log",
    ),
    "reordered": (
        [
            "UPDATE audit_event SET seq = -2 WHERE seq = 2",
            "UPDATE audit_event SET seq = 2 WHERE seq = 3",
            "UPDATE audit_event SET seq = 3 WHERE seq = -2",
        ],
        2,
        "row 2: previous-hash does not match row 1 (removed or reordered?)",
    ),
    "unreadable": (
        ["UPDATE audit_event SET case_ids = 'nonsense' WHERE seq = 5"],
        5,
        "row 5: content cannot be read",
    ),
}


@pytest.mark.parametrize("how", TAMPERING)
def test_verify_names_the_first_tampered_row(log, how):
    statements, bad_seq, problem = TAMPERING[how]
    for i in range(6):
        log.record(staff_event(request_id=f"r{i}"))
    with tampering(log) as conn:
        for statement in statements:
            conn.execute(text(statement))

    result = log.verify()

    assert not result.ok
    assert result.first_bad_seq == bad_seq
    assert result.problem.startswith(problem)
    assert result.checked == bad_seq - 1


def test_an_edit_with_a_fresh_hash_without_the_key_is_named(log):
    for i in range(5):
        log.record(staff_event(request_id=f"r{i}"))
    [third] = [record for record in log.recent(5) if record.seq == 3]
    edited = dataclasses.replace(third.event, purpose="Nysgerrighed")
    forged = chain_hash(3, third.prev_hash, edited.canonical_fields())  # the documented format
    with tampering(log) as conn:
        conn.execute(
            text("UPDATE audit_event SET purpose = 'Nysgerrighed', hash = :h WHERE seq = 3"),
            {"h": forged},
        )

    result = log.verify()

    assert (result.first_bad_seq, result.checked) == (3, 2)
    assert result.problems == (
        "row 3: hash is not keyed with this log's HMAC key (written before the key was set"
        " up, or re-hashed by someone without it)",
        "row 4: previous-hash does not match row 3 (removed or reordered?)",
    )


def test_the_database_refuses_update_and_delete(log):
    for _ in range(3):
        log.record(staff_event())
    attempts = [
        "UPDATE audit_event SET purpose = 'x' WHERE seq = 1",
        "DELETE FROM audit_event WHERE seq = 1",
        "DELETE FROM audit_event",
        # a checkpoint must name a real row by its true hash before rows may go
        "INSERT INTO audit_checkpoint (up_to_seq, anchor_hash, at, removed)"
        " VALUES (2, 'forged', '2025-01-01', 2)",
    ]
    if log.postgres:
        attempts.append("TRUNCATE audit_event")

    for statement in attempts:
        with pytest.raises(DBAPIError, match=r"audit_(event|checkpoint)"), log.engine.begin() as c:
            c.execute(text(statement))

    assert [row["seq"] for row in rows(log)] == [1, 2, 3]
    assert log.verify().ok


# --- retention -----------------------------------------------------------------------------


def checkpoints(log: AuditLog) -> list:
    with log.engine.connect() as conn:
        return conn.execute(text("SELECT * FROM audit_checkpoint ORDER BY up_to_seq")).all()


def test_prune_removes_whole_old_days_behind_a_checkpoint(log):
    record_days(log, {0: 3, 1: 2, 2: 2})  # seq 1-3 on 1 March, 4-5 on the 2nd, 6-7 on the 3rd
    anchor = rows(log)[4]["hash"]

    removed = log.prune(dt.datetime(2025, 3, 3, tzinfo=dt.UTC))

    assert removed == 5
    assert [row["seq"] for row in rows(log)] == [6, 7]
    [(up_to, anchor_hash, _at, count, _signature)] = checkpoints(log)
    assert (up_to, anchor_hash, count) == (5, anchor, 5)
    result = log.verify()
    assert (result.ok, result.checked, result.anchor_seq) == (True, 2, 5)
    assert "checkpoint after row 5" in result.anchor
    assert log.record(staff_event()) == 8
    assert log.verify().ok
    assert log.prune(dt.datetime(2025, 3, 3, tzinfo=dt.UTC)) == 0  # nothing more to remove
    # rows after the checkpoint stay protected, and so do checkpoints
    for statement in ("DELETE FROM audit_event WHERE seq = 6", "DELETE FROM audit_checkpoint"):
        with pytest.raises(DBAPIError, match="append-only"), log.engine.begin() as conn:
            conn.execute(text(statement))

    with tampering(log) as conn:
        conn.execute(text("UPDATE audit_event SET actor_id = 'M9999' WHERE seq = 7"))
    assert log.verify().first_bad_seq == 7
    with tampering(log) as conn:
        conn.execute(text("DELETE FROM audit_event WHERE seq IN (6, 7)"))
    assert log.verify().problem.startswith("rows 6–7 are missing: seq gap after the checkpoint")


def test_prune_never_removes_a_row_younger_than_the_cutoff(log):
    record_days(log, {0: 2, 2: 1})
    late = staff_event(at=dt.datetime(2025, 3, 1, 23, tzinfo=dt.UTC))  # recorded late
    log.record(staff_event(at=dt.datetime(2025, 3, 10, tzinfo=dt.UTC)))  # seq 4, young
    log.record(late)  # seq 5: old, but behind a young row

    assert log.prune(dt.datetime(2025, 3, 5, tzinfo=dt.UTC)) == 3
    assert [row["seq"] for row in rows(log)] == [4, 5]


def test_after_pruning_everything_the_chain_continues_from_the_checkpoint(log):
    record_days(log, {0: 3})

    assert log.prune(dt.datetime(2030, 1, 1, tzinfo=dt.UTC)) == 3
    assert rows(log) == []
    assert log.verify().ok
    assert log.record(staff_event()) == 4
    result = log.verify()
    assert (result.ok, result.checked, result.anchor_seq) == (True, 1, 3)


def test_prune_refuses_to_remove_tampered_rows(log):
    record_days(log, {0: 3, 1: 1})
    with tampering(log) as conn:
        conn.execute(text("UPDATE audit_event SET subject = 'cpr:0202025678' WHERE seq = 2"))

    with pytest.raises(AuditChainBroken, match="row 2") as caught:
        log.prune(dt.datetime(2025, 3, 2, tzinfo=dt.UTC))

    assert caught.value.result.first_bad_seq == 2
    assert len(rows(log)) == 4 and checkpoints(log) == []


@pytest.mark.parametrize(
    ("days", "now", "cutoff"),
    [
        (0, "2025-06-15T12:00", None),
        (30, "2025-06-15T12:00", "2025-05-16T00:00"),
        (1, "2025-06-15T00:00", "2025-06-14T00:00"),
        (1, "2025-06-15T23:59", "2025-06-14T00:00"),
    ],
)
def test_retention_keeps_whole_days(days, now, cutoff):
    moment = dt.datetime.fromisoformat(now).replace(tzinfo=dt.UTC)
    expected = dt.datetime.fromisoformat(cutoff).replace(tzinfo=dt.UTC) if cutoff else None
    assert retention_cutoff(days, moment) == expected


# --- many writers --------------------------------------------------------------------------


def append_many(url: str, keys: str, worker: int, count: int, barrier) -> None:
    """Runs in a spawned process: ``count`` records as actor ``w<worker>``."""
    audit = keyed_log(url, Path(keys))
    try:
        barrier.wait(timeout=30)
        for i in range(count):
            audit.record(staff_event(actor_id=f"w{worker}", request_id=f"{worker}-{i}"))
    finally:
        audit.close()


def test_concurrent_writers_keep_one_chain(log, url, tmp_path):
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(4)
    keys = str(tmp_path / "keys")  # the log fixture's
    workers = [
        context.Process(target=append_many, args=(url, keys, worker, 50, barrier))
        for worker in range(4)
    ]
    for process in workers:
        process.start()
    for process in workers:
        process.join(timeout=60)
    assert [process.exitcode for process in workers] == [0, 0, 0, 0]

    stored = rows(log)
    assert [row["seq"] for row in stored] == list(range(1, 201))
    assert sorted(row["request_id"] for row in stored) == sorted(
        f"{w}-{i}" for w in range(4) for i in range(50)
    )
    result = log.verify()
    assert (result.ok, result.checked) == (True, 200)


# --- failing databases ---------------------------------------------------------------------


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def assert_no_event_data(exc: BaseException) -> None:
    shown = "".join(traceback.format_exception(exc))
    for secret in (CPR, STAFF_NAME, PURPOSE, "esdh/SAG-1", "M1234"):
        assert secret not in shown


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_an_unreachable_database_fails_closed(backend, tmp_path):
    if backend == "sqlite":
        (tmp_path / "a-file").write_text("not a folder")
        audit = AuditLog(f"sqlite:///{tmp_path / 'a-file' / 'audit.sqlite3'}")
    else:
        audit = AuditLog(f"postgresql://postgres@127.0.0.1:{closed_port()}/test")

    with audit, pytest.raises(AuditUnavailable) as caught:
        audit.record(staff_event())

    message = str(caught.value)
    assert ("SQLite file" if backend == "sqlite" else "PostgreSQL at 127.0.0.1") in message
    assert caught.value.__cause__ is None and caught.value.__suppress_context__
    assert_no_event_data(caught.value)


def test_a_database_locked_too_long_fails_closed_in_time(url):
    audit = AuditLog(url, lock_timeout_seconds=0.3)
    audit.create_schema()
    with audit:
        if audit.postgres:
            holder = psycopg.connect(url)
            holder.execute("LOCK TABLE audit_event IN ACCESS EXCLUSIVE MODE")
        else:
            holder = sqlite3.connect(audit.url.database, isolation_level=None)
            holder.execute("BEGIN EXCLUSIVE")
        started = time.monotonic()
        try:
            with pytest.raises(AuditUnavailable, match="lock") as caught:
                audit.record(staff_event())
        finally:
            holder.rollback()
            holder.close()
        assert time.monotonic() - started < 5
        assert_no_event_data(caught.value)

        assert audit.record(staff_event()) == 1  # works again once the lock is gone
        assert audit.verify().ok


# --- "Hvem har set mine oplysninger" -------------------------------------------------------


def test_lookups_of_lists_staff_views_of_the_subject_newest_first(log):
    log.record(staff_event("lookup", request_id="a"))  # 1
    log.record(citizen_event("case_view", request_id="own"))  # 2: the citizen's own view
    log.record(staff_event("case_view", request_id="b"))  # 3
    log.record(staff_event("lookup", subject=OTHER_SUBJECT, request_id="other"))  # 4
    log.record(staff_event("login", subject="", request_id="login"))  # 5
    log.record(staff_event("document", request_id="c"))  # 6
    log.record(staff_event("refused", request_id="refused", detail="no_role"))  # 7

    first, total = log.lookups_of(SUBJECT, page=1, per_page=2)
    second, _ = log.lookups_of(SUBJECT, page=2, per_page=2)
    beyond, again = log.lookups_of(SUBJECT, page=3, per_page=2)

    assert total == again == 3
    assert [r.event.request_id for r in first] == ["c", "b"]
    assert [r.seq for r in second] == [1]
    assert beyond == []
    assert first[0].event.actor_unit == "Borgerservice"
    everyone, count = log.lookups_of(SUBJECT, exclude_actor_type=None)
    assert count == 4 and "own" in {r.event.request_id for r in everyone}


def test_lookups_of_rejects_bad_paging(log):
    with pytest.raises(ValueError):
        log.lookups_of(SUBJECT, page=0)
    with pytest.raises(ValueError):
        log.lookups_of("", page=1)


# --- settings ------------------------------------------------------------------------------


def test_settings_defaults():
    assert validate_audit_settings({}, "audit.toml") == AuditSettings(
        url="", retention_days=0, show_staff_names=False
    )


@pytest.mark.parametrize(
    "url",
    [
        "postgresql://audit:pw@db.kommune.dk/borgersag",
        "postgresql+psycopg://db/borgersag",
        "sqlite:////var/lib/borgersag/audit.sqlite3",
    ],
)
def test_settings_accept_sqlite_files_and_postgresql(url):
    assert validate_audit_settings({"url": url}, "audit.toml").url == url


@pytest.mark.parametrize(
    ("raw", "key", "expected"),
    [
        ({"url": "mysql://u:hunter2@h/db"}, "audit.url", "a sqlite:// or postgresql:// URL"),
        ({"url": "postgres://u@h/db"}, "audit.url", "not postgres://"),
        ({"url": "postgresql+psycopg2://h/db"}, "audit.url", "postgresql+psycopg"),
        ({"url": "sqlite://"}, "audit.url", "in-memory"),
        ({"url": "sqlite:///:memory:"}, "audit.url", "in-memory"),
        ({"url": "the audit database"}, "audit.url", "a database URL"),
        ({"url": 5}, "audit.url", "expected a string, got a secret value"),
        ({"retention_days": -1}, "audit.retention_days", "0 or more"),
        ({"retention_days": "30"}, "audit.retention_days", "an integer"),
        ({"retention_days": 1.5}, "audit.retention_days", "an integer"),
        ({"show_staff_names": "yes"}, "audit.show_staff_names", "true or false"),
        ({"keep_days": 3}, "audit.keep_days", "unknown setting"),
    ],
)
def test_settings_errors_name_the_key(raw, key, expected):
    with pytest.raises(ConfigError) as caught:
        validate_audit_settings(raw, "config/audit.toml")

    assert caught.value.key == key
    assert str(caught.value).startswith(f"config/audit.toml: {key}: ")
    assert expected in caught.value.expected
    assert "hunter2" not in str(caught.value)


def test_empty_url_means_a_private_sqlite_file_in_the_temp_dir(tmp_path, monkeypatch):
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    monkeypatch.delenv("BORGERSAG_STATE_DIR")
    with AuditLog.from_settings(validate_audit_settings({}), sandbox=True) as audit:
        audit.create_schema()
        assert audit.record(staff_event()) == 1
    folder = tmp_path / f"borgersag-{os.getuid()}"
    assert audit.url.database == str(folder / "borgersag-audit.sqlite3")
    assert folder.stat().st_mode & 0o777 == 0o700
    assert (folder / "borgersag-audit.sqlite3").stat().st_mode & 0o077 == 0
    # the sandbox's keys are made in the folder, the witness beside it
    for name in ("audit-hmac.key", "audit-signing.key"):
        assert (folder / name).stat().st_mode & 0o777 == 0o600
    witness = tmp_path / f"borgersag-{os.getuid()}-audit-witness.jsonl"
    assert '"seq":1' in witness.read_text() and witness.stat().st_mode & 0o777 == 0o600

    folder.chmod(0o777)
    with pytest.raises(AuditUnavailable, match="not a private folder"):
        AuditLog.from_settings(validate_audit_settings({}), sandbox=True)


# --- the command ---------------------------------------------------------------------------


def run_audit(argv: list[str], settings: AuditSettings) -> int:
    """Parse ``borgersag audit …`` with our own parser and run the handler."""
    parser = argparse.ArgumentParser(prog="borgersag")
    commands = parser.add_subparsers(dest="command")
    seen = []

    def load_config(args):
        seen.append(args.config)
        return SimpleNamespace(section=lambda section: {"audit": settings}[section.table])

    add_audit_commands(commands, load_config)
    args = parser.parse_args(["audit", *argv])
    code = args.handler(args)
    assert seen and seen[-1] == args.config
    return code


@pytest.fixture
def sqlite_settings(tmp_path):
    url = f"sqlite:///{tmp_path / 'cli.sqlite3'}"
    return validate_audit_settings({"url": url, **audit_key_settings(tmp_path / "keys")})


def test_cli_verify_ok_and_broken(sqlite_settings, capsys):
    assert run_audit(["init", "--config", "conf"], sqlite_settings) == 0
    with AuditLog.from_settings(sqlite_settings) as audit:
        for _ in range(3):
            audit.record(staff_event())
        head = rows(audit)[-1]["hash"]
    capsys.readouterr()

    assert run_audit(["verify"], sqlite_settings) == 0
    assert capsys.readouterr().out == (
        f"OK: 3 rows, chain intact from the start of the log; head: row 3, hash {head}\n"
    )

    with AuditLog.from_settings(sqlite_settings) as audit, tampering(audit) as conn:
        conn.execute(text("UPDATE audit_event SET purpose = 'x' WHERE seq = 2"))
    assert run_audit(["verify"], sqlite_settings) == 1
    out = capsys.readouterr().out
    assert out.startswith("FEJL: row 2: hash does not match its content (changed?)\n")


def test_cli_verify_on_an_unusable_database(tmp_path, capsys):
    (tmp_path / "a-file").touch()
    url = f"sqlite:///{tmp_path / 'a-file' / 'x.db'}"
    settings = validate_audit_settings({"url": url, **audit_key_settings(tmp_path / "keys")})

    assert run_audit(["verify"], settings) == 3
    assert capsys.readouterr().err.startswith("FEJL: The audit log (SQLite file ")


def test_cli_prune_uses_retention_days(sqlite_settings, capsys):
    run_audit(["init"], sqlite_settings)
    with AuditLog.from_settings(sqlite_settings) as audit:
        audit.record(staff_event(at=dt.datetime.now(dt.UTC) - dt.timedelta(days=40)))
        audit.record(staff_event(at=dt.datetime.now(dt.UTC) - dt.timedelta(days=35)))
        audit.record(staff_event())
    capsys.readouterr()

    assert run_audit(["prune"], sqlite_settings) == 0
    assert capsys.readouterr().out.startswith("Retention is off")

    # the database enforces the retention it was given at 'init' (0 days: none)
    keep_30 = dataclasses.replace(sqlite_settings, retention_days=30)
    assert run_audit(["prune"], keep_30) == 1
    assert "retention policy keeps every row" in capsys.readouterr().out
    assert run_audit(["init"], keep_30) == 0
    assert capsys.readouterr().out.endswith("the database keeps 30 days\n")

    assert run_audit(["prune"], keep_30) == 0
    assert capsys.readouterr().out.startswith("Removed 2 rows recorded before ")
    assert run_audit(["verify"], keep_30) == 0
    # with retention off, rows gone behind a checkpoint are a problem
    assert run_audit(["verify"], sqlite_settings) == 1
    assert "retention_days is 0 (every row is kept), but rows 1–2 were removed" in (
        capsys.readouterr().out
    )


def test_cli_show_masks_the_cpr_number(sqlite_settings, capsys):
    run_audit(["init"], sqlite_settings)
    with AuditLog.from_settings(sqlite_settings) as audit:
        audit.record(staff_event(at=T0, purpose=f"Henvendelse om {CPR}"))
        audit.record(staff_event("lookup", subject="bfe:100004", request_id="req-2"))
    capsys.readouterr()

    assert run_audit(["show", "--last", "5"], sqlite_settings) == 0

    out = capsys.readouterr().out
    first, second = out.splitlines()
    assert CPR not in out and STAFF_NAME not in out
    assert first.split() == [
        "1",
        "2025-03-01",
        "09:15:02Z",
        "lookup",
        "caseworker:M1234",
        "(Borgerservice)",
        "cpr:010101-xxxx",
        "purpose='Henvendelse",
        "om",
        "010101-xxxx'",
        "sources=esdh:ok,byggesag:timeout",
        "cases=2",
        "request=req-1",
    ]
    assert "bfe:100004" in second and second.lstrip().startswith("2 ")


def test_cli_audit_needs_an_action(sqlite_settings):
    with pytest.raises(SystemExit) as caught:
        run_audit([], sqlite_settings)
    assert caught.value.code == 2
