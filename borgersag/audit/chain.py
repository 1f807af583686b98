"""Checking the hash chain: which row is the first that is not what was written.

Pure functions over rows already read from the database, so the rules are easy to
test and the same for a full :meth:`~borgersag.audit.AuditLog.verify` and for the
range a retention run is about to remove.

For each row, in ``seq`` order from the anchor (the newest checkpoint, or the start):

1. its ``seq`` is the previous one + 1 — otherwise a row was removed;
2. its ``prev_hash`` is the previous row's ``hash`` — otherwise rows were removed or
   reordered, or a row before it was changed and re-hashed;
3. its ``hash`` is the hash of its own canonical form — otherwise it was changed.

A row deleted at the very end leaves no gap; compare the head ``seq`` and hash that
``borgersag audit verify`` prints with an earlier run's to notice that.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from borgersag.audit.event import GENESIS_HASH, chain_hash, iso_utc

__all__ = ["AuditChainBroken", "VerifyResult", "check_chain", "row_fields"]


@dataclass(frozen=True, slots=True)
class VerifyResult:
    """The outcome of checking the chain.

    ``checked`` counts the rows found intact before the first problem. ``problem`` is
    one line naming the row and what is wrong; empty when ``ok``. ``head_seq`` and
    ``head_hash`` are those of the last intact row (the anchor's when there is none).
    """

    ok: bool
    checked: int
    first_bad_seq: int | None = None
    problem: str = ""
    anchor_seq: int = 0
    anchor_hash: str = GENESIS_HASH
    head_seq: int = 0
    head_hash: str = GENESIS_HASH

    @property
    def anchor(self) -> str:
        """Where checking started, for people: the start or the checkpoint."""
        if self.anchor_seq == 0:
            return "the start of the log"
        return f"checkpoint after row {self.anchor_seq} (hash {self.anchor_hash[:16]}…)"


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
        }
    except (TypeError, AttributeError) as exc:
        raise ValueError(str(exc)) from None


def check_chain(
    rows: Iterable[Mapping[str, Any]], *, anchor_seq: int = 0, anchor_hash: str = GENESIS_HASH
) -> VerifyResult:
    """Check ``rows`` (ascending ``seq``, all after the anchor) against the chain rules."""
    checked = 0
    prev_seq, prev_hash = anchor_seq, anchor_hash

    def bad(seq: int, problem: str) -> VerifyResult:
        return VerifyResult(
            False, checked, seq, problem, anchor_seq, anchor_hash, prev_seq, prev_hash
        )

    for row in rows:
        seq = row["seq"]
        if prev_seq != anchor_seq:
            previous = f"row {prev_seq}"
        elif anchor_seq:
            previous = f"the checkpoint after row {anchor_seq}"
        else:
            previous = "the start of the log"
        if seq != prev_seq + 1:
            return bad(
                prev_seq + 1, f"row {prev_seq + 1} is missing: seq gap after {previous} (removed?)"
            )
        if row["prev_hash"] != prev_hash:
            return bad(
                seq, f"row {seq}: previous-hash does not match {previous} (removed or reordered?)"
            )
        try:
            fields = row_fields(row)
        except ValueError:
            return bad(seq, f"row {seq}: content cannot be read (changed?)")
        if chain_hash(seq, row["prev_hash"], fields) != row["hash"]:
            return bad(seq, f"row {seq}: hash does not match its content (changed?)")
        checked += 1
        prev_seq, prev_hash = seq, row["hash"]
    return VerifyResult(True, checked, None, "", anchor_seq, anchor_hash, prev_seq, prev_hash)
