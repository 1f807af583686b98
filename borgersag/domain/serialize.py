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
    return _writer(type(value))(value)


@functools.cache
def _writer(typ: type) -> Callable[[Any], Any]:
    """How a value of ``typ`` is written, worked out once per type: an overview holds
    thousands of values, and asking each one what it is was most of writing it."""
    if typ in (str, int, float, bool, type(None)):
        return _same
    if issubclass(typ, Key):
        return key_to_dict
    if issubclass(typ, Enum):
        return _enum_value
    if issubclass(typ, dt.date):  # datetime is a date too
        return _isoformat
    if dataclasses.is_dataclass(typ):
        names = tuple(f.name for f in dataclasses.fields(typ))
        return lambda value: {name: to_json(getattr(value, name)) for name in names}
    if issubclass(typ, (set, frozenset)):
        return lambda value: sorted(to_json(item) for item in value)
    if issubclass(typ, (list, tuple)):
        return lambda value: [to_json(item) for item in value]
    if issubclass(typ, dict):
        return lambda value: {str(k): to_json(v) for k, v in value.items()}
    return _same


def _enum_value(value: Enum) -> Any:
    return value.value


def _isoformat(value: dt.date) -> str:
    return value.isoformat()


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
        "persons": [to_json(p) for p in overview.persons],
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
    return _reader(typ)(data)


@functools.cache
def _reader(typ: Any) -> Callable[[Any], Any]:
    """A function reading data of ``typ``, worked out from the type hints once per type
    (reading a kept overview back, on every request that shows it, was dominated by
    inspecting the same types again for each of its values)."""
    if typ is Any:
        return _same
    origin = typing.get_origin(typ)
    if origin in (types.UnionType, typing.Union):
        options = typing.get_args(typ)
        (inner,) = [o for o in options if o is not type(None)]
        return _optional(_reader(inner)) if type(None) in options else _reader(inner)
    if origin in (tuple, frozenset, list, set):
        return _collection(origin, typ)
    if origin is dict:
        return _dictionary(typ)
    if isinstance(typ, type) and issubclass(typ, Key):
        return lambda data: key_of(_mapping(data, typ)["kind"], _mapping(data, typ)["value"])
    if isinstance(typ, type) and issubclass(typ, Enum):
        return typ
    if typ is dt.datetime:
        return dt.datetime.fromisoformat
    if typ is dt.date:
        return dt.date.fromisoformat
    if dataclasses.is_dataclass(typ):
        return _dataclass(typ)
    if typ is float:
        return _float
    if isinstance(typ, type):
        return _checked(typ)
    return _same


def _same(data: Any) -> Any:
    return data


def _optional(read: Callable[[Any], Any]) -> Callable[[Any], Any]:
    return lambda data: None if data is None else read(data)


def _collection(origin: Any, typ: Any) -> Callable[[Any], Any]:
    (inner, *_) = typing.get_args(typ)

    def read(data: Any) -> Any:
        if not isinstance(data, list):
            raise ValueError(f"expected a list for {typ}")
        item = _reader(inner)  # looked up here: a type may contain itself
        return origin(item(value) for value in data)

    return read


def _dictionary(typ: Any) -> Callable[[Any], Any]:
    _, inner = typing.get_args(typ)

    def read(data: Any) -> Any:
        value = _reader(inner)
        return {k: value(v) for k, v in _mapping(data, typ).items()}

    return read


def _dataclass(typ: type) -> Callable[[Any], Any]:
    def read(data: Any) -> Any:
        fields = _mapping(data, typ)
        readers = _field_readers(typ)
        try:
            return typ(**{name: readers[name](value) for name, value in fields.items()})
        except KeyError:
            unknown = sorted(set(fields) - set(readers))
            if not unknown:
                raise
            raise ValueError(f"{typ.__name__} has no field {unknown[0]}") from None

    return read


@functools.cache
def _field_readers(typ: type) -> dict[str, Callable[[Any], Any]]:
    return {name: _reader(hint) for name, hint in _hints(typ).items()}


def _float(data: Any) -> Any:
    if isinstance(data, int) and not isinstance(data, bool):
        return float(data)
    if not isinstance(data, float):
        raise ValueError(f"expected float, got {type(data).__name__}")
    return data


def _checked(typ: type) -> Callable[[Any], Any]:
    def read(data: Any) -> Any:
        if not isinstance(data, typ):
            raise ValueError(f"expected {typ.__name__}, got {type(data).__name__}")
        return data

    return read


def _mapping(data: Any, typ: Any) -> Mapping[str, Any]:
    if not isinstance(data, Mapping):
        raise ValueError(f"expected an object for {getattr(typ, '__name__', typ)}")
    return data


@functools.cache
def _hints(typ: type) -> dict[str, Any]:
    """The init fields of a dataclass with their resolved types."""
    hints = typing.get_type_hints(typ)
    return {f.name: hints[f.name] for f in dataclasses.fields(typ) if f.init}
