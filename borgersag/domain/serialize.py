"""Canonical model values as plain JSON-ready dicts, for the JSON API.

Rules (documented for API users in ``docs/api.md``): dates and times are ISO 8601,
enums are given by value, keys are ``{"kind", "value"}`` and a CPR key also carries its
``masked`` form. Field names are the model's own, so the API follows the model.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable, Mapping
from enum import Enum
from typing import Any

from borgersag.domain.keys import Key, KeyKind
from borgersag.domain.model import Case, Overview, SourceResult

__all__ = ["case_to_dict", "key_to_dict", "overview_to_dict", "source_result_to_dict", "to_json"]


def key_to_dict(key: Key) -> dict[str, str]:
    """A key as ``{"kind", "value"}``; a CPR key also has ``masked`` (``DDMMYY-xxxx``)."""
    data = {"kind": key.kind.value, "value": key.value}
    if key.kind is KeyKind.CPR:
        data["masked"] = key.mask()
    return data


def to_json(value: Any) -> Any:
    """Convert a model value (dataclass, enum, date, key, collection) to JSON types."""
    if isinstance(value, Key):
        return key_to_dict(value)
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, dt.date):  # datetime is a date too
        return value.isoformat()
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_json(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, (set, frozenset)):
        return sorted(to_json(item) for item in value)
    if isinstance(value, (list, tuple)):
        return [to_json(item) for item in value]
    if isinstance(value, dict):
        return {str(k): to_json(v) for k, v in value.items()}
    return value


Describe = Callable[[SourceResult], Mapping[str, Any]]
"""Extra fields for one source, e.g. its wording from ``borgersag.web.wording``."""


def source_result_to_dict(result: SourceResult, describe: Describe | None = None) -> dict[str, Any]:
    """One source's answer, with ``answered`` saying whether its data is included, and
    the fields ``describe(result)`` gives (the web layer's texts)."""
    data = to_json(result)
    data["answered"] = result.status.answered
    if describe is not None:
        data.update(describe(result))
    return data


def case_to_dict(case: Case) -> dict[str, Any]:
    """A case with every model field, plus ``all_sources`` and ``is_open``."""
    data = to_json(case)
    data["all_sources"] = [s.source for s in case.all_sources]
    data["is_open"] = case.is_open
    return data


def overview_to_dict(overview: Overview, describe: Describe | None = None) -> dict[str, Any]:
    """The whole overview: subject, expansions, cases, sources and completeness;
    ``describe`` adds fields to each source (see :func:`source_result_to_dict`)."""
    return {
        "subject": key_to_dict(overview.subject),
        "generated_at": overview.generated_at.isoformat(),
        "complete": overview.complete,
        "unavailable_sources": [r.source for r in overview.unavailable],
        "partial_sources": [r.source for r in overview.partial],
        "expansions": [to_json(e) for e in overview.expansions],
        "sources": [source_result_to_dict(r, describe) for r in overview.sources],
        "cases": [case_to_dict(c) for c in overview.cases],
    }
