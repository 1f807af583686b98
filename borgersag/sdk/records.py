"""A source's answer that holds what it could read, and says what it could not.

Real back ends send surprises: a case with a null ``Nummer``, a date like 2024-02-30, a
list entry that is not an object. One such record must not cost the caseworker the
source's good records. :meth:`borgersag.sdk.reader.Reader.each` maps a list record by
record and returns :class:`Records`: the records it could read, plus one
:class:`Unreadable` per record it could not (its position and field, never its values).

:class:`Records` is a ``list``, so a connector that returns a plain list keeps working
and code that iterates an answer needs no change. The engine carries ``unreadable``,
``truncated`` and ``at_least`` into the source's
:class:`~borgersag.domain.model.SourceResult`, and an overview with either is not
complete.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Generic, TypeVar

__all__ = ["Records", "Unreadable"]

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Unreadable:
    """One record that could not be read: where it sits and what is wrong with it.

    ``position`` is the record (``"Results[3]"``), ``field`` the place inside it that
    failed (``"Results[3].Nummer"``) and ``problem`` what is wrong (``"mangler"``). None
    of them holds a value from the record, so they may be logged and shown.
    """

    position: str
    field: str
    problem: str


class Records(list[T], Generic[T]):
    """The records of one answer, plus what the source could not give.

    * ``problems`` — one :class:`Unreadable` per record that could not be read;
    * ``truncated`` — the source may hold more than it sent (a search that returned
      exactly its limit);
    * ``at_least`` — with ``truncated``: how many records the source is known to hold
      (what was observed, never a guess).
    """

    def __init__(
        self,
        items: Iterable[T] = (),
        *,
        problems: Iterable[Unreadable] = (),
        truncated: bool = False,
        at_least: int | None = None,
    ):
        super().__init__(items)
        self.problems: list[Unreadable] = list(problems)
        self.truncated = truncated
        self.at_least = at_least

    @property
    def unreadable(self) -> int:
        """How many records could not be read."""
        return len(self.problems)

    def merge(self, other: Iterable[T]) -> None:
        """Add another part of the same answer (e.g. the next page): its records, its
        problems and, when it says so, that the answer may be truncated."""
        self.extend(other)
        if isinstance(other, Records):
            self.problems.extend(other.problems)
            if other.truncated:
                self.truncated = True
                self.at_least = max(self.at_least or 0, other.at_least or 0) or None

    def __repr__(self) -> str:
        extra = f", unreadable={self.unreadable}" if self.problems else ""
        extra += f", truncated=True, at_least={self.at_least}" if self.truncated else ""
        return f"Records({list.__repr__(self)}{extra})"
