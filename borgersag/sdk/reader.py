"""Defensive reading of a source's JSON: the wrong shape is a clear error, never a crash.

A body of the wrong shape must become a :class:`~borgersag.sdk.errors.FatalError` that names
the source and where the problem is — never a ``KeyError`` or ``TypeError`` deep in a
mapping function, which the engine could only report as "an unexpected error in the
connector". Messages name fields, never values (a value may be a CPR number).

Use one :class:`Reader` per call, bound to the source's display name. Map a list of
records with :meth:`Reader.each`, so that one unreadable record is counted and logged
instead of failing the whole answer::

    read = self.reader
    body = read.expect(self.http.get_json("sager"), dict, "søgesvaret")
    raw_cases = read.field(body, "sager", list, "søgesvaret")
    return read.each(raw_cases, "sager", self._case)   # Records: good cases + problems

    def _case(self, raw: dict, where: str) -> Case:       # where is "sager[3]"
        title = self.reader.text(raw, "titel", where, required=True)

:func:`check_url` and :func:`check_range` are for ``Connector.validate_settings``.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from borgersag.domain.model import Progress
from borgersag.sdk.errors import ConfigError, DataError
from borgersag.sdk.records import Records, Unreadable

__all__ = ["Reader", "check_range", "check_url", "parse_status_map"]

log = logging.getLogger(__name__)
T = TypeVar("T")
MAX_LOGGED = 5  # warnings per list; a source sending thousands of bad records gets a summary

_TYPE_WORDS = {
    dict: "et objekt",
    list: "en liste",
    str: "en tekst",
    int: "et heltal",
    float: "et tal",
    bool: "sand/falsk",
}


class Reader:
    """Reads fields from one source's JSON; every failure is a :class:`DataError`
    (a :class:`~borgersag.sdk.errors.FatalError`).

    ``where`` arguments say where in the body a value sits (``"sager[3]"``); they end up
    in the message, so an operator can find the record without the message containing it.
    """

    def __init__(self, source: str):
        self.source = source

    def fail(self, where: str, problem: str) -> DataError:
        """The error for a body that is not what the API promises (raise it). ``where``
        and ``problem`` name places and expectations, never values."""
        return DataError(
            f"{self.source} sendte data i et uventet format: {where} {problem}.",
            where=where,
            problem=problem,
        )

    def each(
        self,
        items: Iterable[Any],
        where: str,
        read: Callable[[dict, str], T],
        *,
        start: int = 0,
    ) -> Records[T]:
        """``read(item, position)`` for every object in ``items``, record by record.

        ``position`` is ``f"{where}[{i}]"`` with ``i`` counted from ``start`` (pass the
        number of records on earlier pages, so positions run on across pages). A record
        that is not an object, or whose ``read`` raises a :class:`DataError` about a place
        in the record (any reader failure whose ``where`` is ``position`` or under it, so
        name places from the ``position`` you are given), is left out and counted in the
        returned :class:`Records` with its position and field; it is logged as a warning
        naming the source, position and field, never a value (the first
        :data:`MAX_LOGGED` of a list each, the rest as one count). Other errors — the
        source failing on a follow-up request, or a follow-up body of the wrong shape —
        still fail the whole call.
        """
        pairs = ((item, f"{where}[{i}]") for i, item in enumerate(items, start=start))
        return self.each_at(pairs, read, where)

    def each_at(
        self, pairs: Iterable[tuple[Any, str]], read: Callable[[dict, str], T], where: str = ""
    ) -> Records[T]:
        """:meth:`each` for records whose positions the caller knows: ``pairs`` of
        ``(item, position)``, e.g. from a configured path. ``where`` names the list in the
        summary log line."""
        records: Records[T] = Records()
        for item, position in pairs:
            try:
                records.append(read(self.expect(item, dict, position), position))
            except DataError as exc:
                if not _within(exc.where, position):
                    raise  # about another body (a follow-up request): the source failed
                records.problems.append(Unreadable(position, exc.where, exc.problem))
                if len(records.problems) <= MAX_LOGGED:
                    log.warning(
                        "source %s: record %s could not be read: %s %s",
                        self.source,
                        position,
                        exc.where,
                        exc.problem,
                    )
        if len(records.problems) > MAX_LOGGED:
            log.warning(
                "source %s: %d more records in %s could not be read",
                self.source,
                len(records.problems) - MAX_LOGGED,
                where or "the answer",
            )
        return records

    def expect(self, value: Any, typ: type, where: str) -> Any:
        """``value`` itself, which must be of ``typ`` (``int`` excludes ``bool``)."""
        if isinstance(value, typ) and not (typ in (int, float) and isinstance(value, bool)):
            return value
        return self._wrong(value, typ, where)

    def field(self, obj: dict, name: str, typ: type, where: str, *, required: bool = True) -> Any:
        """``obj[name]`` of type ``typ``; ``None`` when optional and missing or null."""
        value = obj.get(name)
        if value is None:
            if required:
                raise self.fail(f"{where}.{name}", "mangler")
            return None
        return self.expect(value, typ, f"{where}.{name}")

    def text(self, obj: dict, name: str, where: str, *, required: bool = False) -> str | None:
        """An optional (or required) string field; a required one must not be blank."""
        value = self.field(obj, name, str, where, required=required)
        if required and not value.strip():
            raise self.fail(f"{where}.{name}", "er tom")
        return value

    def obj(self, obj: dict, name: str, where: str, *, required: bool = False) -> dict:
        """A nested object; ``{}`` when optional and missing."""
        return self.field(obj, name, dict, where, required=required) or {}

    def items(self, obj: dict, name: str, where: str, *, required: bool = False) -> list[dict]:
        """A list of objects; ``[]`` when optional and missing."""
        values = self.field(obj, name, list, where, required=required) or []
        return [self.expect(v, dict, f"{where}.{name}[{i}]") for i, v in enumerate(values)]

    def date(self, obj: dict, name: str, where: str, *, required: bool = False) -> dt.date | None:
        """An ISO date or date-time field, as a date."""
        value = self.text(obj, name, where, required=required)
        if value is None:
            return None
        try:
            if len(value) <= 10:
                return dt.date.fromisoformat(value)
            return dt.datetime.fromisoformat(value.replace("Z", "+00:00")).date()
        except ValueError:
            raise self.fail(f"{where}.{name}", "er ikke en dato (ÅÅÅÅ-MM-DD)") from None

    def _wrong(self, value: Any, typ: type, where: str) -> Any:
        got = "null" if value is None else _TYPE_WORDS.get(type(value), type(value).__name__)
        raise self.fail(where, f"skulle være {_TYPE_WORDS.get(typ, typ.__name__)}, men er {got}")


def _within(where: str, position: str) -> bool:
    """Whether ``where`` is the record at ``position`` or a place inside it."""
    return where == position or where.startswith((position + ".", position + "["))


def check_url(value: str, file: str, key: str) -> None:
    """A setting that must be an http(s) URL; raises :class:`ConfigError` naming ``key``."""
    if not value.startswith(("http://", "https://")):
        raise ConfigError(file, key, "expected an http:// or https:// URL")


def check_range(value: int, low: int, high: int, file: str, key: str) -> None:
    """An integer setting that must lie within bounds; raises :class:`ConfigError`."""
    if not low <= value <= high:
        raise ConfigError(file, key, f"expected an integer {low}-{high}, got {value}")


def parse_status_map(text: str, name: str = "STATUS") -> dict[str, Progress]:
    """Parse a config mapping of a system's status names to progress,
    ``"Visiteret=afgjort; Behandles=oplyst"``; keys are lower-cased. Raises ``ValueError``
    naming the part that is wrong (``name`` is how the message calls the left side)."""
    result = {}
    for part in filter(None, (p.strip() for p in text.split(";"))):
        status, sep, progress = part.partition("=")
        try:
            if not sep or not status.strip():
                raise ValueError
            result[status.strip().lower()] = Progress(progress.strip().lower())
        except ValueError:
            raise ValueError(
                f"'{part}' is not {name}=PROGRESS with PROGRESS one of "
                + ", ".join(p.value for p in Progress)
            ) from None
    return result
