"""How one key is related to another: the structured facts a relation source gives.

A :class:`Relation` is a relation source's answer about one related key: what it is to
the key asked about (its :class:`RelationRole`, with a :class:`Share` for a co-owner) and
when that held (``since``/``until``, either open). An :class:`Expansion` is the same facts
as the engine recorded them in an overview, with the source they came ``via``.

Rules that decide something — which cases a citizen sees on their property — read the
role and the dates, never ``reason``: that text is only the wording shown to people
("medejer (1/2) af matrikel 2000351-12a"), written by the connector from the same facts.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum

from borgersag.domain.keys import Key

__all__ = ["Expansion", "Relation", "RelationRole", "Share", "covers"]


class RelationRole(StrEnum):
    """What a related key is to the key asked about (or, for a property's owners, the
    other way round: how the person and the property are related).

    ``OTHER`` is the default and grants nothing anywhere: a connector that does not know
    the relation's nature must not give access by accident.
    """

    OWNER = "ejer"  # owns the whole property
    CO_OWNER = "medejer"  # owns a share of it (see Relation.share)
    PREVIOUS_OWNER = "tidligere_ejer"  # owned (all or a share of) it until ``until``
    TENANT = "lejer"  # rents it (a housing register)
    EMPLOYEE = "ansat"  # works in the organisation unit (an organisation register)
    OTHER = "anden"

    @property
    def label(self) -> str:
        """Danish label, e.g. ``Medejer``."""
        return _ROLE_LABELS[self]

    @property
    def is_ownership(self) -> bool:
        """Whether the role is owning the property, now or before."""
        return self in (RelationRole.OWNER, RelationRole.CO_OWNER, RelationRole.PREVIOUS_OWNER)


_ROLE_LABELS = {
    RelationRole.OWNER: "Ejer",
    RelationRole.CO_OWNER: "Medejer",
    RelationRole.PREVIOUS_OWNER: "Tidligere ejer",
    RelationRole.TENANT: "Lejer",
    RelationRole.EMPLOYEE: "Ansat",
    RelationRole.OTHER: "Anden relation",
}


@dataclass(frozen=True, slots=True)
class Share:
    """An owner's share of a property (ejerandel) as a fraction, e.g. ``Share(1, 2)``."""

    numerator: int
    denominator: int

    def __post_init__(self) -> None:
        if not 0 < self.numerator <= self.denominator:
            raise ValueError("an ownership share is a fraction above 0 and at most 1")

    @property
    def whole(self) -> bool:
        """Whether it is the whole property."""
        return self.numerator == self.denominator

    def __str__(self) -> str:
        return f"{self.numerator}/{self.denominator}"


def covers(since: dt.date | None, until: dt.date | None, day: dt.date | None) -> bool:
    """Whether a relation held from ``since`` (inclusive) until ``until`` (exclusive: the
    day it ended, e.g. the day a sale took effect) held on ``day``.

    An open end is open. An unknown ``day`` is covered only when neither date is known.
    """
    if day is None:
        return since is None and until is None
    return (since is None or since <= day) and (until is None or day < until)


@dataclass(frozen=True, slots=True)
class Relation:
    """A key reached from another key through a relation source: the structured facts
    (``role``, ``share``, ``since``, ``until``) and the wording shown for them."""

    key: Key
    reason: str  # display wording only, e.g. "ejer af matrikel 2000351-12a"
    # The property's address, kept apart from the reason so it can be masked for a
    # person with name and address protection (it may be where they live).
    address: str | None = None
    since: dt.date | None = None  # when the relation began, e.g. the date of purchase
    # False: shown with the overview (e.g. a property's owners) but not searched on.
    search: bool = True
    role: RelationRole = RelationRole.OTHER
    share: Share | None = None  # an owner's share, when the source says
    until: dt.date | None = None  # when it ended (exclusive), e.g. the day of the sale

    def covers(self, day: dt.date | None) -> bool:
        """Whether the relation held on ``day`` (see :func:`covers`)."""
        return covers(self.since, self.until, day)


@dataclass(frozen=True, slots=True)
class Expansion:
    """A key the engine also searched, reached from the subject through ``via``."""

    key: Key
    reason: str
    via: str
    address: str | None = None  # see Relation.address
    since: dt.date | None = None  # see Relation.since
    searched: bool = True  # see Relation.search
    role: RelationRole = RelationRole.OTHER  # see Relation.role
    share: Share | None = None  # see Relation.share
    until: dt.date | None = None  # see Relation.until

    @classmethod
    def of(cls, relation: Relation, via: str) -> Expansion:
        """The expansion for ``relation``, found through the source ``via``."""
        return cls(
            relation.key,
            relation.reason,
            via,
            address=relation.address,
            since=relation.since,
            searched=relation.search,
            role=relation.role,
            share=relation.share,
            until=relation.until,
        )

    def covers(self, day: dt.date | None) -> bool:
        """Whether the relation held on ``day`` (see :func:`covers`)."""
        return covers(self.since, self.until, day)
