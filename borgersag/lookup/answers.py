"""A source's cached answer as JSON and back, for a cache outside the process.

What the engine caches per (source, operation, key) is a
:class:`~borgersag.sdk.records.Records`: the cases a search found (or the relations an
expansion found, or what a person register said of a person), plus the records that
could not be read and whether the answer was truncated. :func:`answer_to_json` keeps all
of that; :func:`answer_from_json` gives the same value back. An answer holding anything
else (a connector's own type) cannot leave the process: :class:`NotPortable`.
"""

from __future__ import annotations

from typing import Any

from borgersag.domain.model import Case
from borgersag.domain.person import Person
from borgersag.domain.relations import Relation
from borgersag.domain.serialize import from_json, to_json
from borgersag.sdk.records import Records, Unreadable

__all__ = ["NotPortable", "answer_from_json", "answer_to_json"]

_ITEM_TYPES: dict[str, type] = {"search": Case, "relations": Relation, "person": Person}


class NotPortable(ValueError):
    """The answer holds values that have no JSON form here."""


def answer_to_json(op: str, answer: Any) -> dict[str, Any]:
    """``answer`` (a list or :class:`Records` of what ``op`` returns) as JSON types."""
    item_type = _ITEM_TYPES.get(op)
    if item_type is None or not isinstance(answer, list):
        raise NotPortable(f"no JSON form for a {op!r} answer of {type(answer).__name__}")
    if not all(type(item) is item_type for item in answer):
        raise NotPortable(f"a {op!r} answer holds something other than {item_type.__name__}")
    records = answer if isinstance(answer, Records) else Records(answer)
    return {
        "items": [to_json(item) for item in records],
        "problems": [to_json(p) for p in records.problems],
        "truncated": records.truncated,
        "at_least": records.at_least,
    }


def answer_from_json(op: str, data: dict[str, Any]) -> Records:
    """The :class:`Records` that :func:`answer_to_json` made ``data`` from."""
    item_type = _ITEM_TYPES[op]
    return Records(
        (from_json(item_type, item) for item in data["items"]),
        problems=(from_json(Unreadable, p) for p in data["problems"]),
        truncated=bool(data["truncated"]),
        at_least=data["at_least"],
    )
