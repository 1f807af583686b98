"""What one caseworker may see of an overview: data restrictions and address protection.

Plain Python, no Flask. A caseworker's :class:`~borgersag.people.identity.Restrictions` follow
KOMBIT's data restrictions (dataafgrænsning): KLE subject prefixes, organisation units
and a highest sensitivity. A case is shown only when *all* of them hold (:func:`visible`).
:func:`restrict` turns a looked-up overview into the one this user may see: hidden cases
are removed together with everything derived from them (per-source counts, related ids)
and only their number is kept. Parties with name and address protection have their
address replaced by :data:`PROTECTED_ADDRESS` unless the user's roles grant
:data:`SEE_PROTECTED_ADDRESS`.

The web layer applies :func:`restrict` before it stores an overview, so the pages and the
JSON API read the same filtered value and nothing hidden can be reached by its id.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Collection, Iterable
from dataclasses import dataclass

from borgersag.domain.keys import Key
from borgersag.domain.model import Case, Document, Overview, Party, SourceResult, SourceStatus
from borgersag.people.identity import Restrictions, User
from borgersag.people.permissions import Permission

__all__ = [
    "PROTECTED_ADDRESS",
    "SEE_PROTECTED_ADDRESS",
    "RestrictedView",
    "case_ids",
    "document_visible",
    "kle_allowed",
    "mask_party",
    "restrict",
    "restrict_case",
    "shielded_keys",
    "visible",
]

PROTECTED_ADDRESS = "Adressebeskyttet"
"""Shown instead of the address of a person with name and address protection."""

SEE_PROTECTED_ADDRESS = Permission.SE_BESKYTTET_ADRESSE
"""The permission that lets a role see protected persons' addresses."""


def kle_allowed(kle: str | None, prefixes: Collection[str]) -> bool:
    """Whether a KLE number falls under one of ``prefixes`` (no prefixes: always).

    Prefixes match whole KLE levels: ``27`` covers ``27.24.00``, ``27.24`` covers
    ``27.24.03``, but ``2`` does not cover ``27.24.00`` — a shortened prefix must not
    widen access. A case without a KLE number is outside every prefix.
    """
    if not prefixes:
        return True
    if not kle or not kle.strip():
        return False
    number = kle.strip()
    for prefix in prefixes:
        prefix = prefix.strip().rstrip(".")
        if prefix and (number == prefix or number.startswith(prefix + ".")):
            return True
    return False


def visible(case: Case, restrictions: Restrictions) -> bool:
    """Whether ``case`` may be shown: KLE, unit and sensitivity must all be allowed.

    With units set, a case without a unit is hidden; with prefixes set, a case without a
    KLE number is hidden (see :func:`kle_allowed`).
    """
    if not kle_allowed(case.kle, restrictions.kle_prefixes):
        return False
    if restrictions.units and (case.unit or "").strip() not in _units(restrictions):
        return False
    return case.sensitivity <= restrictions.max_sensitivity


def document_visible(document: Document, restrictions: Restrictions) -> bool:
    """Whether a document of a visible case may be shown: its own sensitivity counts too."""
    return document.sensitivity <= restrictions.max_sensitivity


def mask_party(party: Party) -> Party:
    """``party`` with its address replaced when it has name and address protection.

    The name is kept: a source that must withhold it already does so.
    """
    if not party.protected:
        return party
    return dataclasses.replace(party, address=PROTECTED_ADDRESS)


def case_ids(cases: Iterable[Case]) -> frozenset[str]:
    """Every id the cases are known by (their own and those of joined views)."""
    return frozenset(cid for case in cases for cid in (case.id, *case.also_known_as))


@dataclass(frozen=True, slots=True)
class RestrictedView:
    """An overview as one user may see it, and how many cases were left out."""

    overview: Overview
    hidden_count: int = 0


def restrict(overview: Overview, user: User) -> RestrictedView:
    """The part of ``overview`` that ``user`` may see.

    Hidden cases leave no trace but their number: per-source case counts are those of the
    visible cases (a source whose every case is hidden reads as ``empty``), and related
    ids are pruned. Protected addresses are masked unless the user may see them. Applying
    it to its own result changes nothing, so a stored view can safely be restricted again.
    """
    restrictions = user.restrictions
    shown = [case for case in overview.cases if visible(case, restrictions)]
    hidden_count = len(overview.cases) - len(shown)
    known = case_ids(shown)
    # a person a register (or any case) flags is protected on every case, not only where
    # that source says so
    shielded = shielded_keys(overview)
    cases = tuple(_trim(case, user, known, shielded) for case in shown)
    sources = overview.sources
    if hidden_count:
        counts = Counter(cid.split("/", 1)[0] for cid in known)
        sources = tuple(_recount(result, counts[result.source]) for result in sources)
    expansions, persons = overview.expansions, overview.persons
    if subject_protected(overview) and not user.may(SEE_PROTECTED_ADDRESS):
        # The addresses of a protected person's own property may be where they live.
        expansions = tuple(
            dataclasses.replace(e, address=PROTECTED_ADDRESS) if e.address else e
            for e in expansions
        )
        persons = tuple(
            dataclasses.replace(p, address=PROTECTED_ADDRESS) if p.address else p for p in persons
        )
    if (
        not hidden_count
        and expansions is overview.expansions
        and persons is overview.persons
        and all(new is old for new, old in zip(cases, overview.cases, strict=True))
    ):
        # Nothing to take away: the same object, so what was worked out from it once (the
        # API's JSON form of a kept overview) can be used again.
        return RestrictedView(overview, 0)
    restricted = dataclasses.replace(
        overview, cases=cases, sources=sources, expansions=expansions, persons=persons
    )
    return RestrictedView(restricted, hidden_count)


def subject_protected(overview: Overview) -> bool:
    """Whether any source flags the looked-up person with name and address protection:
    a party on a case, or a person register."""
    return any(
        party.protected and party.key == overview.subject
        for case in overview.cases
        for party in case.parties
    ) or any(p.protected and p.key == overview.subject for p in overview.persons)


def restrict_case(
    case: Case,
    user: User,
    *,
    known_ids: Collection[str],
    shielded: Collection[Key] = frozenset(),
) -> Case | None:
    """A case read from its source as ``user`` may see it, or ``None`` when it is hidden.

    For the case page: the source's own view may say more than the overview did (other
    documents, a changed sensitivity), so the rules are applied again. ``known_ids`` are
    the ids of the cases in the user's overview (:func:`case_ids`); with restrictions,
    only those may be named as related cases; ``shielded``, the keys of people known to be
    protected (:func:`shielded_keys` of the overview), whatever this source says.
    """
    if not visible(case, user.restrictions):
        return None
    return _trim(case, user, known_ids, shielded)


def shielded_keys(overview: Overview) -> frozenset[Key]:
    """The keys whose addresses are masked on every case of ``overview``'s case pages:
    the subject's, when any source flags them protected."""
    return frozenset({overview.subject}) if subject_protected(overview) else frozenset()


def _trim(
    case: Case, user: User, known_ids: Collection[str], shielded: Collection[Key] = ()
) -> Case:
    """Documents, related ids and parties of a visible case as ``user`` may see them."""
    restrictions = user.restrictions
    documents = tuple(d for d in case.documents if document_visible(d, restrictions))
    related = case.related
    if not restrictions.unrestricted:
        # An id outside the overview cannot be checked against the rules, so it is left out.
        related = tuple(rid for rid in related if rid in known_ids)
    parties = case.parties
    if not user.may(SEE_PROTECTED_ADDRESS):
        parties = tuple(
            mask_party(dataclasses.replace(p, protected=True) if p.key in shielded else p)
            for p in parties
        )
    if (documents, related, parties) == (case.documents, case.related, case.parties):
        return case
    return dataclasses.replace(case, documents=documents, related=related, parties=parties)


def _recount(result: SourceResult, count: int) -> SourceResult:
    """``result`` with ``case_count`` set to the ``count`` of its cases that are visible."""
    if not result.case_count or count == result.case_count:
        return result  # nothing of it was hidden (or it only expands keys)
    status = result.status
    if count == 0 and status is SourceStatus.OK and not result.relation_count:
        # "Svarede, 0 sager" would say that this source holds hidden cases.
        status = SourceStatus.EMPTY
    return dataclasses.replace(result, case_count=count, status=status)


def _units(restrictions: Restrictions) -> frozenset[str]:
    return frozenset(unit.strip() for unit in restrictions.units)
