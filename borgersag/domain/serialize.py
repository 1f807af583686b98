"""Canonical model values as plain JSON-ready dicts, for the JSON API, and back.

Rules (documented for API users in ``docs/api.md``): dates and times are ISO 8601,
enums are given by value, keys are ``{"kind", "value"}`` and a CPR key also carries its
``masked`` form. Field names are the model's own, so the API follows the model.

:func:`from_json` reads such a dict back into the model type (driven by the dataclass'
type hints), so an overview can be kept outside the process — in Redis, encrypted — and
come back as the same value. It is for data the portal wrote itself: a field it does not
know is an error, never ignored.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import types
import typing
from collections.abc import Callable, Mapping
from enum import Enum
from typing import Any, TypeVar

from borgersag.domain.keys import Key, KeyKind, key_of
from borgersag.domain.model import Case, Overview, SourceResult

__all__ = [
    "case_to_dict",
    "from_json",
    "key_to_dict",
    "overview_from_dict",
    "overview_to_dict",
    "source_result_to_dict",
    "to_json",
]

T = TypeVar("T")


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


def overview_from_dict(data: Mapping[str, Any]) -> Overview:
    """The :class:`Overview` that ``to_json(overview)`` made ``data`` from (not
    :func:`overview_to_dict`, which adds the API's derived fields)."""
    return from_json(Overview, data)


def from_json(typ: Any, data: Any) -> Any:
    """``data`` (as :func:`to_json` wrote it) read back as a value of ``typ``.

    ``typ`` is a model dataclass, an enum, a key, a date or date-time, ``X | None``,
    ``tuple[X, ...]``, ``frozenset[X]`` or a plain JSON type. Raises ``ValueError`` for
    data of the wrong shape.
    """
    if typ is Any:
        return data
    origin = typing.get_origin(typ)
    if origin in (types.UnionType, typing.Union):
        options = typing.get_args(typ)
        if data is None and type(None) in options:
            return None
        (inner,) = [o for o in options if o is not type(None)]
        return from_json(inner, data)
    if origin in (tuple, frozenset, list, set):
        (inner, *_) = typing.get_args(typ)
        if not isinstance(data, list):
            raise ValueError(f"expected a list for {typ}")
        return origin(from_json(inner, item) for item in data)
    if origin is dict:
        _, inner = typing.get_args(typ)
        return {k: from_json(inner, v) for k, v in _mapping(data, typ).items()}
    if isinstance(typ, type) and issubclass(typ, Key):
        fields = _mapping(data, typ)
        return key_of(fields["kind"], fields["value"])
    if isinstance(typ, type) and issubclass(typ, Enum):
        return typ(data)
    if typ is dt.datetime:
        return dt.datetime.fromisoformat(data)
    if typ is dt.date:
        return dt.date.fromisoformat(data)
    if dataclasses.is_dataclass(typ):
        fields = _mapping(data, typ)
        hints = _hints(typ)
        unknown = set(fields) - set(hints)
        if unknown:
            raise ValueError(f"{typ.__name__} has no field {sorted(unknown)[0]}")
        return typ(**{name: from_json(hints[name], value) for name, value in fields.items()})
    if typ is float and isinstance(data, int) and not isinstance(data, bool):
        return float(data)
    if isinstance(typ, type) and not isinstance(data, typ):
        raise ValueError(f"expected {typ.__name__}, got {type(data).__name__}")
    return data


def _mapping(data: Any, typ: Any) -> Mapping[str, Any]:
    if not isinstance(data, Mapping):
        raise ValueError(f"expected an object for {getattr(typ, '__name__', typ)}")
    return data


@functools.cache
def _hints(typ: type) -> dict[str, Any]:
    """The init fields of a dataclass with their resolved types."""
    hints = typing.get_type_hints(typ)
    return {f.name: hints[f.name] for f in dataclasses.fields(typ) if f.init}
