"""Which cases a citizen may see in "Mine sager", and why (the access rule).

Plain Python, no Flask. :func:`owned_properties` reads from an overview which parcels and
properties the citizen owns or owned; :func:`grant` decides for one case. A case is the
citizen's when they are its *primary party* (by CPR number), or when it is a *building
case* on property they own or owned and it began while they owned it.

The decision reads the relation's structured facts — its
:class:`~borgersag.domain.relations.RelationRole` and its ``since``/``until`` dates —
never its wording: a relation whose text says "ejer" but whose role is not ownership
gives nothing. A previous owner sees the building cases begun while they owned the
property, none begun on or after the day the sale took effect, and of those cases no
documents or timeline entries dated from that day on (what happens after the sale is the
new owner's). How the cases look is :mod:`borgersag.people.citizen_view`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from flask_babel import gettext
from flask_babel import lazy_gettext as _l

from borgersag.domain.keys import Key, KeyKind
from borgersag.domain.model import Case, Overview, PartyRole
from borgersag.domain.relations import Expansion, RelationRole
from borgersag.people.citizen_policy import CitizenPolicy

__all__ = [
    "BUILDING_KLE_GROUP",
    "Access",
    "Grant",
    "Owned",
    "before",
    "case_start",
    "grant",
    "owned_properties",
    "same_key",
]

BUILDING_KLE_GROUP = "02"
"""KLE main group for building (Byggeri): cases an owner sees on their property."""

_BUILDING_AREA = "byggeri"
_PROPERTY_KINDS = frozenset({KeyKind.MATRIKEL, KeyKind.BFE})
_PROPERTY_WORDS = {KeyKind.MATRIKEL: _l("matrikel"), KeyKind.BFE: _l("BFE-nummer")}


class Access(StrEnum):
    """Why a citizen may see a case."""

    PARTY = "part"  # the citizen is the primary party
    OWNER = "ejer"  # a building case on property the citizen (co-)owns or owned


Owned = Mapping[tuple[KeyKind, str], tuple[Expansion, ...]]
"""The citizen's property keys, each with the ownership relations that name it."""


@dataclass(frozen=True, slots=True)
class Grant:
    """Why the citizen may see a case, which of their properties it is about, and — when
    they have sold them — the day their ownership ended (``until``)."""

    access: Access
    properties: tuple[Key, ...]
    until: dt.date | None = None
    previous: bool = False  # every ownership that grants the case has ended

    @property
    def reason(self) -> str:
        """The citizen's "why is this case here", e.g. ``Du er part i sagen.``"""
        if self.access is Access.PARTY:
            return gettext("Du er part i sagen.")
        key = self.properties[0]
        where = f"{_PROPERTY_WORDS[key.kind]} {key.format()}"
        if self.previous:
            return gettext("Byggesag på din tidligere ejendom (%(where)s).", where=where)
        return gettext("Byggesag på din ejendom (%(where)s).", where=where)


def owned_properties(overview: Overview, policy: CitizenPolicy) -> Owned:
    """The parcels and properties the overview's relations say its subject owns or owned,
    from relation sources the policy allows."""
    owned: dict[tuple[KeyKind, str], tuple[Expansion, ...]] = {}
    for e in overview.expansions:
        if e.key.kind in _PROPERTY_KINDS and _owns(e) and policy.allows_source(e.via):
            at = (e.key.kind, e.key.value)
            owned[at] = (*owned.get(at, ()), e)
    return owned


def _owns(relation: Expansion) -> bool:
    """Whether ``relation`` makes the citizen an owner, now or before, by its role alone.

    A previous owner without the day the sale took effect gives nothing: which building
    cases began before the sale cannot be told.
    """
    if not relation.role.is_ownership:
        return False
    return relation.role is not RelationRole.PREVIOUS_OWNER or relation.until is not None


def grant(case: Case, cpr: Key, owned: Owned) -> Grant | None:
    """Why the citizen with ``cpr`` may see ``case``, or ``None``.

    A building case is the owner's only if it began while they owned the property: a
    previous owner's cases (and the letters sent to them) are not the new owner's, and a
    case begun on or after the day a sale took effect is not the seller's. A relation
    with neither date covers every case; with a date, a case without a start date is not
    covered.
    """
    properties = tuple(s for s in case.subjects if (s.kind, s.value) in owned)
    if any(p.role is PartyRole.PRIMARY and same_key(p.key, cpr) for p in case.parties):
        return Grant(Access.PARTY, properties)
    if not _is_building_case(case):
        return None
    began = case_start(case)
    holding = {
        key: [e for e in owned[(key.kind, key.value)] if e.covers(began)] for key in properties
    }
    while_owned = tuple(key for key, found in holding.items() if found)
    if not while_owned:
        return None
    granting = [e for key in while_owned for e in holding[key]]
    ends = [e.until for e in granting if e.until is not None]
    return Grant(
        Access.OWNER,
        while_owned,
        until=max(ends) if len(ends) == len(granting) else None,
        previous=all(e.role is RelationRole.PREVIOUS_OWNER for e in granting),
    )


def before(day: dt.date | None, until: dt.date | None) -> bool:
    """Whether something dated ``day`` happened before ``until`` (always, when open; an
    undated thing not, when there is an end)."""
    return until is None or (day is not None and day < until)


def case_start(case: Case) -> dt.date | None:
    """When the case began: its opening date, else its first progress step."""
    return case.opened or min((s.date for s in case.progress_history), default=None)


def same_key(a: Key, b: Key) -> bool:
    """The same kind and value (a CPR key compares like any other)."""
    return a.kind == b.kind and a.value == b.value


def _is_building_case(case: Case) -> bool:
    if case.kle:
        return case.kle.split(".", 1)[0] == BUILDING_KLE_GROUP
    return (case.area or "").strip().casefold() == _BUILDING_AREA
