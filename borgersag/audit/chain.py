"""Checking the hash chain: which row is the first that is not what was written.

Pure functions over rows already read from the database, so the rules are easy to
test and the same for a full :meth:`~borgersag.audit.AuditLog.verify` and for the
range a retention run is about to remove.

For each row, in ``seq`` order from the anchor (the newest checkpoint, or the start):

1. its ``seq`` is the previous one + 1 — otherwise a row was removed;
2. its ``prev_hash`` is the previous row's ``hash`` — otherwise rows were removed or
   reordered, or a row before it was changed and re-hashed;
3. its ``hash`` is the HMAC of its own canonical form under the log's key — otherwise it
   was changed (or re-hashed by someone without the key);
4. its time is not more than the tolerance before the previous row's.

Every problem is named, not only the first. Rows cut off the end leave no gap; the heads
the caller expects (from the witness, or given by an operator) catch that.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from borgersag.audit.event import GENESIS_HASH, chain_hash, iso_utc

__all__ = [
    "MAX_PROBLEMS",
    "AuditChainBroken",
    "ExpectedHead",
    "Findings",
    "VerifyResult",
    "check_chain",
    "row_fields",
]


MAX_PROBLEMS = 100
"""How many problems a result lists; the rest are counted ("and 7 more")."""


@dataclass(frozen=True, slots=True)
class ExpectedHead:
    """A head the chain must reach: row ``seq`` with ``hash``; ``origin`` says who said so
    (``the head witnessed at …``, ``the head given with --head``)."""

    seq: int
    hash: str
    origin: str


@dataclass(frozen=True, slots=True)
class VerifyResult:
    """The outcome of checking the chain.

    ``problems`` names every problem found (at most :data:`MAX_PROBLEMS`; ``more``
    counts the others), ``problem`` is the first, empty when ``ok``. ``checked`` counts
    the rows found intact before the first problem in the chain, ``rows`` all rows read.
    ``head_seq`` and ``head_hash`` are those of the last row read (the anchor's when
    there is none).
    """

    ok: bool
    checked: int
    first_bad_seq: int | None = None
    problem: str = ""
    anchor_seq: int = 0
    anchor_hash: str = GENESIS_HASH
    head_seq: int = 0
    head_hash: str = GENESIS_HASH
    problems: tuple[str, ...] = ()
    more: int = 0
    rows: int = 0

    @property
    def anchor(self) -> str:
        """Where checking started, for people: the start or the checkpoint."""
        if self.anchor_seq == 0:
            return "the start of the log"
        return f"checkpoint after row {self.anchor_seq} (hash {self.anchor_hash[:16]}…)"

    def report(self) -> list[str]:
        """The problems as lines, with "… and N more" when the list was capped."""
        lines = list(self.problems)
        if self.more:
            lines.append(f"… and {self.more} more")
        return lines


class Findings:
    """Problems collected while checking, capped at :data:`MAX_PROBLEMS`."""

    def __init__(self) -> None:
        self.problems: list[str] = []
        self.more = 0
        self.first_bad_seq: int | None = None

    def add(self, problem: str, seq: int | None = None) -> None:
        if seq is not None and (self.first_bad_seq is None or seq < self.first_bad_seq):
            self.first_bad_seq = seq
        if len(self.problems) < MAX_PROBLEMS:
            self.problems.append(problem)
        else:
            self.more += 1

    def __bool__(self) -> bool:
        return bool(self.problems)


class AuditChainBroken(Exception):
    """The chain is broken where an operation needed it intact (a retention run refuses
    to delete the evidence). ``result`` says where."""

    def __init__(self, result: VerifyResult) -> None:
        super().__init__(result.problem)
        self.result = result


def _strings(value: Any) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ValueError("not a list of strings")
    return value


def row_fields(row: Mapping[str, Any]) -> dict[str, Any]:
    """A stored row's hashed fields in canonical shape; ``ValueError`` if unreadable."""
    try:
        sources = json.loads(row["sources"])
        if not isinstance(sources, list) or not all(
            isinstance(pair, list) and len(pair) == 2 for pair in sources
        ):
            raise ValueError("sources is not a list of pairs")
        return {
            "at": iso_utc(row["at"]),
            "kind": row["kind"],
            "actor_type": row["actor_type"],
            "actor_id": row["actor_id"],
            "actor_name": row["actor_name"],
            "actor_unit": row["actor_unit"],
            "actor_roles": _strings(json.loads(row["actor_roles"])),
            "subject": row["subject"],
            "purpose": row["purpose"],
            "sources": [_strings(pair) for pair in sources],
            "case_ids": _strings(json.loads(row["case_ids"])),
            "request_id": row["request_id"],
            "detail": row["detail"],
            "persons": _strings(list(row.get("persons") or ())),
        }
    except (TypeError, AttributeError) as exc:
        raise ValueError(str(exc)) from None


def _seconds(delta: dt.timedelta) -> str:
    return f"{delta.total_seconds():.0f} s"


def check_chain(
    rows: Iterable[Mapping[str, Any]],
    *,
    anchor_seq: int = 0,
    anchor_hash: str = GENESIS_HASH,
    key: bytes | None = None,
    tolerance: dt.timedelta | None = None,
    expected: Iterable[ExpectedHead] = (),
    findings: Findings | None = None,
) -> VerifyResult:
    """Check ``rows`` (ascending ``seq``, all after the anchor) against the chain rules.

    Every problem is named, not only the first: after a bad row, checking goes on from
    that row as stored. ``key`` is the HMAC key the hashes must be made with (``None``:
    unkeyed SHA-256). With ``tolerance``, a row whose time is more than that before the
    previous row's is named (a clock set back, or rows moved). Each of ``expected`` must
    be reached: its row present with its hash. ``findings`` may already hold problems
    found elsewhere (checkpoints, the witness); they come first in the result.
    """
    found = findings if findings is not None else Findings()
    wanted: dict[int, list[ExpectedHead]] = {}
    for head in expected:
        wanted.setdefault(head.seq, []).append(head)
    checked = count = 0
    intact = True
    prev_seq, prev_hash, prev_at = anchor_seq, anchor_hash, None
    unkeyed: list[int] = []  # a run of rows hashed without the key

    def end_unkeyed() -> None:
        if unkeyed:
            rows_ = f"row {unkeyed[0]}" if len(unkeyed) == 1 else f"rows {unkeyed[0]}–{unkeyed[-1]}"
            found.add(
                f"{rows_}: hash is not keyed with this log's HMAC key (written before the"
                " key was set up, or re-hashed by someone without it)",
                unkeyed[0],
            )
            unkeyed.clear()

    def bad(seq: int, problem: str) -> None:
        found.add(problem, seq)

    for row in rows:
        count += 1
        seq = row["seq"]
        if prev_seq != anchor_seq:
            previous = f"row {prev_seq}"
        elif anchor_seq:
            previous = f"the checkpoint after row {anchor_seq}"
        else:
            previous = "the start of the log"
        ok = True
        if seq != prev_seq + 1:
            end_unkeyed()
            if seq == prev_seq + 2:
                missing, verb = f"row {prev_seq + 1}", "is"
            else:
                missing, verb = f"rows {prev_seq + 1}–{seq - 1}", "are"
            bad(prev_seq + 1, f"{missing} {verb} missing: seq gap after {previous} (removed?)")
            ok = False
        elif row["prev_hash"] != prev_hash:
            end_unkeyed()
            bad(seq, f"row {seq}: previous-hash does not match {previous} (removed or reordered?)")
            ok = False
        try:
            fields = row_fields(row)
        except ValueError:
            end_unkeyed()
            bad(seq, f"row {seq}: content cannot be read (changed?)")
            fields = None
            ok = False
        if fields is not None:
            if chain_hash(seq, row["prev_hash"], fields, key) == row["hash"]:
                end_unkeyed()
            elif key is not None and chain_hash(seq, row["prev_hash"], fields) == row["hash"]:
                ok = False
                if unkeyed and unkeyed[-1] != seq - 1:
                    end_unkeyed()
                unkeyed.append(seq)
            else:
                ok = False
                end_unkeyed()
                bad(seq, f"row {seq}: hash does not match its content (changed?)")
        at = row["at"]
        if tolerance is not None and prev_at is not None and at < prev_at - tolerance:
            ok = False
            bad(
                seq,
                f"row {seq}: its time runs backwards: {iso_utc(at)} is"
                f" {_seconds(prev_at - at)} before {previous}'s (clock set back, or rows"
                " moved?)",
            )
        for head in wanted.pop(seq, ()):
            if head.hash != row["hash"]:
                ok = False
                bad(
                    seq,
                    f"row {seq} is not the row of {head.origin}: its hash differs (the log"
                    " was replaced by another copy, or rewritten)",
                )
        intact = intact and ok
        if intact:
            checked += 1
        prev_seq, prev_hash, prev_at = seq, row["hash"], at
    end_unkeyed()
    for seq, heads in sorted(wanted.items()):
        for head in heads:
            if seq > prev_seq:
                cut = f"row {seq} was" if seq == prev_seq + 1 else f"rows {prev_seq + 1}–{seq} were"
                found.add(
                    f"the log ends at row {prev_seq}, but {head.origin} names row {seq}:"
                    f" {cut} cut off the end (or the log was replaced by an older copy)",
                    prev_seq + 1,
                )
            elif seq == anchor_seq and head.hash != anchor_hash:
                found.add(
                    f"the checkpoint after row {seq} does not have the hash of {head.origin}"
                    " (the log was replaced by another copy, or rewritten)",
                    seq,
                )
            elif seq > anchor_seq:
                found.add(f"row {seq}, named by {head.origin}, is missing", seq)
            # a head of rows already removed behind a checkpoint cannot be compared
    problems = tuple(found.problems)
    ok = not problems and not found.more
    first = problems[0] if problems else ""
    return VerifyResult(
        ok,
        checked,
        found.first_bad_seq,
        first,
        anchor_seq,
        anchor_hash,
        prev_seq,
        prev_hash,
        problems,
        found.more,
        count,
    )
