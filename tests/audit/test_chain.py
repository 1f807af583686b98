"""The audit log against an attacker with database access (issue 12): a keyed chain,
signed heads in a witness outside the database, checkpoints the database only accepts
when signed, made now and old enough — and ``verify`` naming every problem.

Each test runs on SQLite and on PostgreSQL (``audit_url``; the PostgreSQL runs are slow
tests, skipped without it unless ``BORGERSAG_REQUIRE_SERVICES=1``). The attacker uses the
owner's connection, past the triggers where needed (``support.audit_db.tampering``), and
has neither key file.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import hmac
import json
import os
import re
from types import SimpleNamespace

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from borgersag.audit import (
    AuditEvent,
    AuditLog,
    AuditUnavailable,
    ExpectedHead,
    PruneRefused,
    validate_audit_settings,
)
from borgersag.audit.chain import MAX_PROBLEMS, row_fields
from borgersag.audit.event import canonical_bytes, chain_hash
from borgersag.audit.schema import audit_checkpoint, audit_event
from borgersag.cli.audit import add_audit_commands
from borgersag.sdk.errors import ConfigError

from support.audit_db import audit_key_settings, keyed_log, rows, tampering

NOW = dt.datetime.now(dt.UTC)
OLD = NOW - dt.timedelta(days=40)  # older than the 30 days the database keeps


def event(i: int = 0, *, at: dt.datetime | None = None) -> AuditEvent:
    return AuditEvent(
        "lookup",
        "caseworker",
        actor_id="M1234",
        actor_unit="Borgerservice",
        subject="cpr:0101011234",
        purpose="Sagsbehandling",
        request_id=f"r{i}",
        at=at,
    )


@pytest.fixture
def keys(tmp_path):
    return tmp_path / "keys"


@pytest.fixture
def log(audit_url, keys):
    """A keyed log that signs its head after every row; its database keeps 30 days."""
    audit = keyed_log(audit_url, keys, retention_days=30, head_interval_seconds=0)
    audit.create_schema(write_policy=True)
    yield audit
    audit.close()


def witness_lines(keys) -> list[dict]:
    return [json.loads(line) for line in (keys / "witness.jsonl").read_text().splitlines()]


def problems(log: AuditLog, *heads: ExpectedHead) -> tuple[str, ...]:
    result = log.verify(heads)
    assert result.ok is not bool(result.problems)
    return result.problems


# --- an honest log ---------------------------------------------------------------------------


def test_an_untouched_log_verifies_and_its_heads_are_witnessed(log, keys):
    for i in range(5):
        log.record(event(i))

    result = log.verify()

    assert (result.ok, result.problems, result.rows, result.head_seq) == (True, (), 5, 5)
    heads = witness_lines(keys)
    assert [(h["kind"], h["seq"]) for h in heads] == [("head", n) for n in range(1, 6)]
    assert heads[-1]["hash"] == rows(log)[-1]["hash"] and len(heads[-1]["signature"]) == 128


def test_heads_are_signed_at_most_once_per_interval(audit_url, keys):
    with keyed_log(audit_url, keys, head_interval_seconds=300) as audit:
        audit.create_schema()
        for i in range(4):
            audit.record(event(i))
        assert [h["seq"] for h in witness_lines(keys)] == [1]  # the first row, then quiet
        assert audit.verify().ok


# --- what an attacker with database access does, each named -----------------------------------


def test_cutting_the_last_rows_is_named(log):
    for i in range(5):
        log.record(event(i))
    head = rows(log)[-1]["hash"]
    with tampering(log) as conn:
        conn.execute(text("DELETE FROM audit_event WHERE seq > 3"))

    found = problems(log)

    assert len(found) == 2  # one for each witnessed head beyond the end
    assert all(p.startswith("the log ends at row 3, but the head witnessed at ") for p in found)
    assert "names row 4: row 4 was cut off the end" in found[0]
    assert "names row 5: rows 4–5 were cut off the end" in found[1]
    # and against a head an operator kept, given on the command line
    given = ExpectedHead(5, head, "the head given with --head 5:…")
    assert (
        "the log ends at row 3, but the head given with --head 5:… names row 5: rows 4–5 were"
        " cut off the end (or the log was replaced by an older copy)"
    ) in problems(log, given)


def test_rows_deleted_behind_a_forged_checkpoint_are_named(log):
    """The database checks what it can (a signature's shape, its own clock, the row's age);
    it cannot check Ed25519, so a checkpoint with a made-up signature gets in — and verify
    names it."""
    for i in range(3):
        log.record(event(i, at=OLD + dt.timedelta(minutes=i)))
    log.record(event(3))
    third = rows(log)[2]["hash"]
    with log.engine.begin() as conn:  # with the triggers on, as the retention role could
        conn.execute(
            audit_checkpoint.insert().values(
                up_to_seq=3, anchor_hash=third, at=dt.datetime.now(dt.UTC), removed=3,
                signature="ab" * 64,
            )
        )  # fmt: skip
        conn.execute(text("DELETE FROM audit_event WHERE seq <= 3"))

    found = problems(log)

    assert found[0] == (
        "the checkpoint after row 3 has an invalid signature: it was not made by 'borgersag"
        " audit prune' (forged?), and the rows behind it were removed without right"
    )


def _forged_checkpoint(log: AuditLog, **values):
    third = rows(log)[2]
    fields = {
        "up_to_seq": 3,
        "anchor_hash": third["hash"],
        "at": dt.datetime.now(dt.UTC),
        "removed": 3,
        "signature": "ab" * 64,
        **values,
    }
    with log.engine.begin() as conn:
        conn.execute(audit_checkpoint.insert().values(**fields))


@pytest.mark.parametrize(
    "values",
    [
        {"signature": None},
        {"signature": "not hex" * 18 + "xx"},
        {"at": OLD},  # back-dated: the database's own clock says otherwise
        {"at": NOW + dt.timedelta(days=2)},
        {"up_to_seq": 4, "fresh": True},  # names a row younger than the 30 days
    ],
    ids=["unsigned", "not-a-signature", "back-dated", "future", "too-young"],
)
def test_the_database_refuses_a_checkpoint_it_can_tell_is_wrong(log, values):
    for i in range(3):
        log.record(event(i, at=OLD + dt.timedelta(minutes=i)))
    log.record(event(3))
    if values.pop("fresh", False):
        values["anchor_hash"] = rows(log)[3]["hash"]

    with pytest.raises(DBAPIError, match="audit_checkpoint"):
        _forged_checkpoint(log, **values)
    with pytest.raises(DBAPIError, match="append-only"), log.engine.begin() as conn:
        conn.execute(text("DELETE FROM audit_event WHERE seq <= 3"))
    assert len(rows(log)) == 4 and log.verify().ok


def test_rehashing_after_an_edit_without_the_key_is_named(log):
    for i in range(5):
        log.record(event(i))
    # The attacker knows the documented format but not the key: edit row 2 and re-hash
    # it and every row after it, with plain SHA-256 or with a key of their own.
    guessed = os.urandom(32)
    with tampering(log) as conn:
        conn.execute(text("UPDATE audit_event SET purpose = 'Nysgerrighed' WHERE seq = 2"))
    stored = rows(log)
    prev, forged = stored[0]["hash"], []
    for row in stored[1:]:
        key = guessed if row["seq"] >= 4 else None
        forged.append(
            {"p": prev, "h": chain_hash(row["seq"], prev, row_fields(row), key), "s": row["seq"]}
        )
        prev = forged[-1]["h"]
    with tampering(log) as conn:
        statement = text("UPDATE audit_event SET prev_hash = :p, hash = :h WHERE seq = :s")
        for values in forged:
            conn.execute(statement, values)

    found = problems(log)

    assert {
        "rows 2–3: hash is not keyed with this log's HMAC key (written before the key was"
        " set up, or re-hashed by someone without it)",
        "row 4: hash does not match its content (changed?)",
        "row 5: hash does not match its content (changed?)",
    } < set(found)
    # and the witnessed heads of rows 2-5 no longer match
    assert sum("is not the row of the head witnessed at" in p for p in found) == 4
    assert len(found) == 7


def test_swapping_the_whole_log_for_an_older_copy_is_named(log):
    for i in range(3):
        log.record(event(i))
    older = [dict(row) for row in rows(log)]
    for i in range(3, 6):
        log.record(event(i))
    with tampering(log) as conn:  # restore the old copy
        conn.execute(text("DELETE FROM audit_event"))
        conn.execute(audit_event.insert(), older)

    assert "names row 6: rows 4–6 were cut off the end" in problems(log)[-1]

    for i in range(10, 13):  # the portal goes on writing into the old copy
        log.record(event(i))
    found = problems(log)
    assert [p.split(" is not the row of")[0] for p in found] == ["row 4", "row 5", "row 6"]
    assert all(
        "the head witnessed at" in p
        and "its hash differs (the log was replaced by another copy, or rewritten)" in p
        for p in found
    )


def test_a_clock_jump_backwards_is_named(log):
    start = NOW - dt.timedelta(hours=1)
    log.record(event(0, at=start))
    log.record(event(1, at=start + dt.timedelta(minutes=2)))
    log.record(event(2, at=start + dt.timedelta(minutes=1, seconds=30)))  # within 120 s
    log.record(event(3, at=start - dt.timedelta(minutes=10)))  # 12 minutes back
    log.record(event(4, at=start + dt.timedelta(minutes=3)))

    found = problems(log)

    assert len(found) == 1
    assert found[0].startswith("row 4: its time runs backwards: ")
    assert found[0].endswith(" is 690 s before row 3's (clock set back, or rows moved?)")


def test_every_problem_is_named_up_to_a_cap(log):
    for i in range(MAX_PROBLEMS + 20):
        log.record(event(i))
    with tampering(log) as conn:
        conn.execute(text("UPDATE audit_event SET purpose = 'Nysgerrighed'"))

    result = log.verify()

    assert (len(result.problems), result.more) == (MAX_PROBLEMS, 20)
    assert result.problems[0] == "row 1: hash does not match its content (changed?)"
    assert result.problems[-1] == f"row {MAX_PROBLEMS}: hash does not match its content (changed?)"
    assert result.report()[-1] == "… and 20 more"


def test_a_forged_head_in_the_witness_is_named(log, keys):
    log.record(event(0))
    with (keys / "witness.jsonl").open("a") as witness:
        fake = {
            "kind": "head",
            "seq": 1,
            "hash": "f" * 64,
            "at": "2026-01-01",
            "signature": "0" * 128,
        }
        witness.write(json.dumps(fake) + "\n" + "{not json\n")

    assert problems(log) == (
        "witness line 3: not a signed head, skipped",
        "witness line 2: the signature of the head naming row 1 is not valid (forged, or"
        " signed with another key)",
    )


# --- retention ---------------------------------------------------------------------------------


def test_pruning_past_a_genuine_signed_checkpoint_still_verifies(log, keys):
    for i in range(3):
        log.record(event(i, at=OLD + dt.timedelta(minutes=i)))
    log.record(event(3))

    assert log.prune(NOW - dt.timedelta(days=30)) == 3

    assert [row["seq"] for row in rows(log)] == [4]
    result = log.verify()
    assert (result.ok, result.anchor_seq, result.problems) == (True, 3, ())
    kinds = [(h["kind"], h["seq"]) for h in witness_lines(keys)]
    assert kinds[-2:] == [("checkpoint", 3), ("head", 4)]
    log.record(event(4))
    assert log.verify().ok


def test_with_retention_zero_nothing_may_be_pruned(audit_url, keys):
    audit = keyed_log(audit_url, keys, retention_days=0, head_interval_seconds=0)
    audit.create_schema(write_policy=True)
    try:
        for i in range(3):
            audit.record(event(i, at=OLD + dt.timedelta(minutes=i)))
        audit.record(event(3))

        with pytest.raises(PruneRefused, match="keeps every row"):
            audit.prune(NOW)
        with pytest.raises(DBAPIError, match="audit_checkpoint"):
            _forged_checkpoint(audit)  # the database refuses even a well-formed one
        with pytest.raises(DBAPIError, match="append-only"), audit.engine.begin() as conn:
            conn.execute(text("DELETE FROM audit_event WHERE seq <= 2"))

        with tampering(audit) as conn:  # past the triggers, rows 1-2 go
            conn.execute(text("DELETE FROM audit_event WHERE seq <= 2"))
        assert problems(audit)[0] == (
            "rows 1–2 are missing: seq gap after the start of the log (removed?)"
        )
    finally:
        audit.close()


# --- keys and settings ---------------------------------------------------------------------


def test_outside_the_sandbox_the_keys_and_witness_must_be_named(tmp_path):
    url = f"sqlite:///{tmp_path / 'audit.sqlite3'}"
    named = audit_key_settings(tmp_path / "keys")
    for missing in ("hmac_key_file", "signing_key_file", "witness"):
        settings = validate_audit_settings({"url": url, **named, missing: ""})
        with pytest.raises(ConfigError, match=f"audit.{missing}: .* required outside the sandbox"):
            AuditLog.from_settings(settings)


@pytest.mark.parametrize(
    ("write", "mode", "says"),
    [
        (None, None, "does not exist; 'borgersag audit init' creates it"),
        (b"k" * 32, 0o644, "may be read by others (mode 644); make it 0600"),
        (b"short", 0o600, "must hold exactly 32 bytes"),
    ],
)
def test_a_key_file_that_is_not_private_and_whole_is_refused(tmp_path, write, mode, says):
    key = tmp_path / "hmac.key"
    if write is not None:
        key.write_bytes(write)
        key.chmod(mode)
    raw = {**audit_key_settings(tmp_path / "keys"), "hmac_key_file": str(key)}
    settings = validate_audit_settings({"url": f"sqlite:///{tmp_path / 'a.sqlite3'}", **raw})

    with pytest.raises(AuditUnavailable, match=re.escape(says)):
        AuditLog.from_settings(settings)
    if write is None:  # 'audit init' makes it, 0600
        AuditLog.from_settings(settings, create_keys=True).close()
        assert key.stat().st_mode & 0o777 == 0o600 and len(key.read_bytes()) == 32


def test_the_chain_is_hmac_sha256_under_the_key_file(log, keys):
    log.record(event(0))
    [row] = rows(log)
    key = (keys / "audit-hmac.key").read_bytes()
    document = canonical_bytes(1, row["prev_hash"], row_fields(row))
    assert row["hash"] == hmac.new(key, document, hashlib.sha256).hexdigest()
    assert row["hash"] != hashlib.sha256(document).hexdigest()


# --- the command -----------------------------------------------------------------------------


def run_audit(argv: list[str], settings) -> int:
    parser = argparse.ArgumentParser(prog="borgersag")
    add_audit_commands(
        parser.add_subparsers(dest="command"),
        lambda _args: SimpleNamespace(section=lambda _section: settings),
    )
    args = parser.parse_args(["audit", *argv])
    return args.handler(args)


def test_cli_verify_names_every_problem_and_checks_a_given_head(tmp_path, capsys):
    raw = {"url": f"sqlite:///{tmp_path / 'cli.sqlite3'}", **audit_key_settings(tmp_path)}
    settings = validate_audit_settings(raw)
    assert run_audit(["init"], settings) == 0
    with AuditLog.from_settings(settings) as audit:
        for i in range(4):
            audit.record(event(i))
        head = rows(audit)[-1]["hash"]
    capsys.readouterr()
    assert run_audit(["verify", "--head", f"4:{head}"], settings) == 0
    assert capsys.readouterr().out.startswith(
        f"OK: 4 rows, chain intact from the start of the log; head: row 4, hash {head}"
    )

    with AuditLog.from_settings(settings) as audit, tampering(audit) as conn:
        conn.execute(text("UPDATE audit_event SET purpose = 'x' WHERE seq IN (1, 2)"))
        conn.execute(text("DELETE FROM audit_event WHERE seq = 4"))

    assert run_audit(["verify", "--head", f"4:{head}"], settings) == 1
    out = capsys.readouterr().out.splitlines()
    assert out[:2] == [
        "FEJL: row 1: hash does not match its content (changed?)",
        "FEJL: row 2: hash does not match its content (changed?)",
    ]
    assert any(
        line.startswith("FEJL: the log ends at row 3, but the head given with --head 4:")
        for line in out
    )
    assert out[-1] == (
        "  3 rows read from the start of the log, 0 intact before the first problem;"
        " the log ends at row 3"
    )

    with pytest.raises(SystemExit) as caught:
        run_audit(["verify", "--head", "4:nothex"], settings)
    assert caught.value.code == 2


def test_serve_without_the_key_files_stops_with_one_line_naming_the_setting(tmp_path, capsys):
    from borgersag.cli.main import main

    (tmp_path / "portal.toml").write_text(
        "[portal]\nsecret_key = 'x'\ntrusted_hosts = ['localhost']\n"
        "[auth.caseworker]\nissuer = 'https://login.kommune.test'\n"
        "client_id = 'c'\nclient_secret = 's'\n"
        f"[audit]\nurl = 'sqlite:///{tmp_path / 'audit.sqlite3'}'\n"
    )

    assert main(["serve", "--config", str(tmp_path), "--bind", "127.0.0.1:1"]) == 2
    error = capsys.readouterr().err.strip()
    assert error == (
        f"borgersag: configuration error: {tmp_path / 'portal.toml'}: audit.hmac_key_file: a key"
        " file (32 random bytes, mode 0600) is required outside the sandbox (see"
        " docs/audit.md, 'Keys and the witness')"
    )


def test_in_the_sandbox_each_database_gets_a_witness_of_its_own(tmp_path, monkeypatch):
    monkeypatch.setenv("BORGERSAG_STATE_DIR", str(tmp_path / "state"))
    paths = []
    for name in ("a", "b", "a"):
        settings = validate_audit_settings({"url": f"sqlite:///{tmp_path / name}.sqlite3"})
        with AuditLog.from_settings(settings, sandbox=True) as audit:
            audit.create_schema()
            audit.record(event(0))
            paths.append(audit.witness.path)
            assert audit.verify().ok
    assert paths[0] == paths[2] != paths[1]
    assert all(
        path.parent == tmp_path and path.name.startswith("state-audit-witness-") for path in paths
    )


def test_a_witnessed_row_removed_from_the_middle_is_named_twice(log):
    for i in range(5):
        log.record(event(i))
    with tampering(log) as conn:
        conn.execute(text("DELETE FROM audit_event WHERE seq = 3"))

    found = problems(log)

    assert found[0] == "row 3 is missing: seq gap after row 2 (removed?)"
    assert found[1].startswith("row 3, named by the head witnessed at ")
    assert found[1].endswith(", is missing") and len(found) == 2


# --- the witness file ----------------------------------------------------------------------


def test_a_witness_that_cannot_be_written_loses_no_row_and_is_tried_again(log, keys, caplog):
    witness = keys / "witness.jsonl"
    witness.write_text("")
    witness.chmod(0o666)  # others may write it: refused

    assert log.record(event(0)) == 1  # committed all the same

    assert "the signed head of row 1 was not witnessed" in caplog.text
    assert "may be written by others" in caplog.text
    assert witness.read_text() == ""
    witness.chmod(0o600)
    log.record(event(1))
    assert [line["seq"] for line in witness_lines(keys)] == [2]
    assert log.verify().ok


def test_the_witness_is_read_without_trusting_it(log, keys):
    from borgersag.audit.witness import MAX_LINE_BYTES

    log.record(event(0))
    with (keys / "witness.jsonl").open("a") as witness:
        witness.write("x" * (MAX_LINE_BYTES * 3) + "\n")  # too long
        witness.write(json.dumps({"kind": "head", "seq": -1, "hash": "0" * 64}) + "\n")
        witness.write("\n")
    log.record(event(1))  # a good line after the bad ones still counts

    with tampering(log) as conn:
        conn.execute(text("DELETE FROM audit_event WHERE seq = 2"))

    found = problems(log)
    assert found[:2] == (
        "witness line 2: too long, skipped",
        "witness line 3: not a signed head, skipped",
    )
    assert "names row 2: row 2 was cut off the end" in found[2]


# --- a log from before the key ---------------------------------------------------------------


def test_an_unkeyed_log_from_before_the_key_is_named_as_such(audit_url, keys):
    with AuditLog(audit_url) as old:  # no key: the format before this release
        old.create_schema()
        for i in range(5):
            old.record(event(i, at=OLD + dt.timedelta(minutes=i)))
        with tampering(old) as conn:  # a checkpoint from before signed checkpoints
            conn.execute(
                audit_checkpoint.insert().values(
                    up_to_seq=2, anchor_hash=rows(old)[1]["hash"], at=OLD, removed=2
                )
            )
            conn.execute(text("DELETE FROM audit_event WHERE seq <= 2"))

    with keyed_log(audit_url, keys, retention_days=30) as audit:
        assert problems(audit) == (
            "the checkpoint after row 2 has no signature (made before signed checkpoints, or"
            " forged): the rows behind it may have been removed without right",
            "rows 3–5: hash is not keyed with this log's HMAC key (written before the key was"
            " set up, or re-hashed by someone without it)",
        )
