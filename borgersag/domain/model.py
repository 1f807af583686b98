"""The canonical model every connector maps its system's records into.

After KOMBIT's Sags- og Dokumentindeks (SF1470) and the ZGW APIs: a :class:`Case` with
progress history, sensitivity, parties, subjects and documents; a :class:`SourceResult`
per source per lookup; and the :class:`Overview` a viewer sees. Every record carries its
:class:`Provenance` (which source, when fetched, whether served stale from cache). How
keys relate to each other (``Relation``, ``Expansion``) is in
:mod:`borgersag.domain.relations`.

All types are frozen dataclasses: the engine, the join and the viewer policy build new
values instead of changing shared ones, which keeps cached results safe across threads.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import IntEnum, StrEnum

from borgersag.domain.keys import Key
from borgersag.domain.person import Person
from borgersag.domain.relations import Expansion

__all__ = [
    "Case",
    "Caseworker",
    "Document",
    "DocumentStatus",
    "DocumentType",
    "Event",
    "Overview",
    "Party",
    "PartyRole",
    "Progress",
    "ProgressStep",
    "Provenance",
    "Sensitivity",
    "SourceResult",
    "SourceStatus",
]


class Progress(StrEnum):
    """SF1470 ``FremdriftStatusKode``: the coarse, comparable stage of every case."""

    OPSTAAET = "opstaaet"
    OPLYST = "oplyst"
    AFGJORT = "afgjort"
    AFSLUTTET = "afsluttet"

    @property
    def label(self) -> str:
        """Danish label, e.g. ``Opstået``."""
        return {
            "opstaaet": "Opstået",
            "oplyst": "Oplyst",
            "afgjort": "Afgjort",
            "afsluttet": "Afsluttet",
        }[self.value]

    @property
    def step(self) -> int:
        """Position in the sequence, 1–4."""
        return list(Progress).index(self) + 1


class Sensitivity(IntEnum):
    """SF1470 ``Foelsomhed``, ordered: access to a level includes the lower ones."""

    IKKE_FORTROLIG = 0
    FORTROLIGE_PERSONOPLYSNINGER = 1
    FOELSOMME_PERSONOPLYSNINGER = 2
    VIP = 3

    @property
    def label(self) -> str:
        """Danish label."""
        return (
            "Ikke fortrolig",
            "Fortrolige personoplysninger",
            "Følsomme personoplysninger",
            "VIP-sag",
        )[self.value]


class PartyRole(StrEnum):
    """A party's role on a case."""

    PRIMARY = "primaer"
    SECONDARY = "sekundaer"

    @property
    def label(self) -> str:
        """Danish label."""
        return "Primær part" if self is PartyRole.PRIMARY else "Sekundær part"


class DocumentType(StrEnum):
    """SF1470 document types."""

    BREV_INDGAAENDE = "brev_indgaaende"
    BREV_UDGAAENDE = "brev_udgaaende"
    DAGSORDEN = "dagsorden"
    EKSTERNT_NOTAT = "eksternt_notat"
    FAKTURA = "faktura"
    INTERNT_NOTAT = "internt_notat"
    RAPPORT = "rapport"
    PLAN = "plan"
    ANDET = "andet"

    @property
    def label(self) -> str:
        """Danish label."""
        return _DOC_TYPE_LABELS[self]


_DOC_TYPE_LABELS = {
    DocumentType.BREV_INDGAAENDE: "Brev indgående",
    DocumentType.BREV_UDGAAENDE: "Brev udgående",
    DocumentType.DAGSORDEN: "Dagsorden",
    DocumentType.EKSTERNT_NOTAT: "Eksternt notat",
    DocumentType.FAKTURA: "Faktura",
    DocumentType.INTERNT_NOTAT: "Internt notat",
    DocumentType.RAPPORT: "Rapport",
    DocumentType.PLAN: "Plan",
    DocumentType.ANDET: "Andet",
}


class DocumentStatus(StrEnum):
    """SF1470 document status, from draft to final."""

    MODTAGET = "modtaget"
    FORDELT = "fordelt"
    UNDER_UDARBEJDELSE = "under_udarbejdelse"
    UNDER_REVIEW = "under_review"
    PUBLICERET = "publiceret"
    ENDELIGT = "endeligt"
    AFLEVERET = "afleveret"

    @property
    def label(self) -> str:
        """Danish label."""
        return self.value.replace("_", " ").capitalize()

    @property
    def is_final(self) -> bool:
        """Whether the document is no longer a draft."""
        return self in (
            DocumentStatus.MODTAGET,
            DocumentStatus.FORDELT,
            DocumentStatus.PUBLICERET,
            DocumentStatus.ENDELIGT,
            DocumentStatus.AFLEVERET,
        )


@dataclass(frozen=True, slots=True)
class Provenance:
    """Where a record came from: source instance name, when it was fetched, and whether
    it is served from cache after the source failed (``stale``)."""

    source: str
    fetched_at: dt.datetime
    stale: bool = False


@dataclass(frozen=True, slots=True)
class Party:
    """A person or company on a case (``key`` is a CPR or CVR key)."""

    key: Key
    role: PartyRole
    name: str | None = None
    address: str | None = None
    protected: bool = False  # name and address protection (navne- og adressebeskyttelse)


@dataclass(frozen=True, slots=True)
class Caseworker:
    """The case's responsible caseworker."""

    medarbejdernummer: str | None
    name: str | None


@dataclass(frozen=True, slots=True)
class ProgressStep:
    """One entry of a case's progress history, with the source's own status text."""

    progress: Progress
    date: dt.date
    status_text: str | None = None


@dataclass(frozen=True, slots=True)
class Event:
    """One entry on a case's timeline (status change, document, hearing, …)."""

    date: dt.date
    title: str
    kind: str = "status"  # status | document | note | deadline
    source: str | None = None


@dataclass(frozen=True, slots=True)
class Document:
    """A document's metadata; its content is fetched through the source on demand.

    ``content_hash`` is the source's own digest of the content when it gives one, as
    ``"<algorithm>:<hex>"`` (ZGW's ``integriteit``, e.g. ``"sha_256:9f86…"``). ``also_in``
    names the other sources that hold the same document, when a joined case found it in
    more than one system (:func:`borgersag.domain.join.merge`).
    """

    id: str
    title: str
    type: DocumentType
    date: dt.date | None
    status: DocumentStatus = DocumentStatus.ENDELIGT
    sensitivity: Sensitivity = Sensitivity.IKKE_FORTROLIG
    party_may_see: bool = True
    source: str | None = None
    content_hash: str | None = None
    also_in: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Case:
    """A matter as one source system sees it, in canonical form.

    ``id`` is namespaced ``"<source>/<native id>"``. ``join_keys`` are references that
    identify the same matter in other systems (e.g. ``"byggesag:BYG-2024-00012"``);
    cases sharing one are merged by :mod:`borgersag.domain.join`, and ``sources`` then lists the
    provenance of every system that holds the matter.
    """

    id: str
    sagsnummer: str
    title: str
    provenance: Provenance
    progress: Progress = Progress.OPSTAAET
    progress_history: tuple[ProgressStep, ...] = ()
    status_text: str | None = None
    public_title: str | None = None
    kle: str | None = None
    facet: str | None = None
    area: str | None = None
    sensitivity: Sensitivity = Sensitivity.IKKE_FORTROLIG
    parties: tuple[Party, ...] = ()
    subjects: tuple[Key, ...] = ()
    caseworker: Caseworker | None = None
    unit: str | None = None
    opened: dt.date | None = None
    decided: dt.date | None = None
    closed: dt.date | None = None
    deadline: dt.date | None = None
    documents: tuple[Document, ...] = ()
    # documents the source holds on the case but does not let the portal's access read
    # (ZGW: above the client's maximum confidentiality): counted, so "no documents" is
    # never said of a case that has them
    documents_withheld: int = 0
    events: tuple[Event, ...] = ()
    join_keys: frozenset[str] = frozenset()
    related: tuple[str, ...] = ()
    deep_link: str | None = None
    sources: tuple[Provenance, ...] = ()
    also_known_as: tuple[str, ...] = ()  # ids of the same matter in other sources
    reason: str | None = None  # why this case is in an overview, e.g. "ejer af 2000351-12a"

    @property
    def source(self) -> str:
        """The source instance this case was read from."""
        return self.provenance.source

    @property
    def native_id(self) -> str:
        """The id within the source system."""
        return self.id.split("/", 1)[1]

    @property
    def all_sources(self) -> tuple[Provenance, ...]:
        """Every source holding this matter (just its own before joining)."""
        return self.sources or (self.provenance,)

    @property
    def is_open(self) -> bool:
        """Whether the case is still being worked on."""
        return self.progress is not Progress.AFSLUTTET

    @property
    def awaits_decision(self) -> bool:
        """Whether the decision is still to come: the case's deadline still runs."""
        return self.progress.step < Progress.AFGJORT.step

    def timeline(self) -> list[Event]:
        """Progress steps and events merged, oldest first."""
        items = [
            Event(step.date, step.status_text or step.progress.label, "status", self.source)
            for step in self.progress_history
        ]
        items.extend(self.events)
        return sorted(items, key=lambda e: e.date)


class SourceStatus(StrEnum):
    """The outcome of asking one source; a failure is never shown as "no cases".

    Worded for people in ``borgersag.web.wording``."""

    OK = "ok"
    EMPTY = "empty"
    FAILED = "failed"
    TIMEOUT = "timeout"
    CIRCUIT_OPEN = "circuit_open"  # paused by its circuit breaker after repeated failures
    STALE = "stale"
    NOT_APPLICABLE = "not_applicable"
    FORBIDDEN = "forbidden"
    DISABLED = "disabled"

    @property
    def answered(self) -> bool:
        """Whether the source's data is in the overview (fresh or from cache)."""
        return self in (SourceStatus.OK, SourceStatus.EMPTY, SourceStatus.STALE)


@dataclass(frozen=True, slots=True)
class SourceResult:
    """What one source answered in one lookup, with latency and a human message."""

    source: str
    title: str
    status: SourceStatus
    message: str = ""
    latency_ms: float | None = None
    case_count: int = 0
    relation_count: int = 0
    person_count: int = 0  # people a person register told about (it has no cases)
    age_seconds: float | None = None  # for STALE: how old the cached answer is
    keys_searched: tuple[Key, ...] = ()
    unreadable: int = 0  # records the source sent that could not be read (left out)
    truncated: bool = False  # the source may hold more than it sent (a search hit its limit)
    at_least: int | None = None  # with truncated: how many the source is known to hold
    # a person register: it tells who the subject is (name, address, protection), and
    # holds no cases, so what its silence costs is worded apart
    person_register: bool = False
    # a relation source only (an ownership register): its silence costs the cases on the
    # keys it would have led to, not cases of its own
    relation_source: bool = False

    @property
    def partial(self) -> bool:
        """Whether the source answered but some of its records are missing."""
        return self.unreadable > 0 or self.truncated


@dataclass(frozen=True, slots=True)
class Overview:
    """The joined picture for one subject key."""

    subject: Key
    cases: tuple[Case, ...]
    sources: tuple[SourceResult, ...]
    generated_at: dt.datetime
    expansions: tuple[Expansion, ...] = field(default=())
    # What person registers answered about the subject (person facts, never cases).
    persons: tuple[Person, ...] = field(default=())

    @property
    def complete(self) -> bool:
        """Whether every applicable source contributed its whole answer: none failed or
        was switched off, none left out records it could not read, none may hold more
        than it sent."""
        return not self.partial and not self.unavailable

    @property
    def shortfalls(self) -> tuple[SourceResult, ...]:
        """Every source whose answer is not in the overview whole and fresh: those that
        did not answer (:attr:`unavailable`), answered from an old copy (``stale``), or
        answered without everything (:attr:`partial`), in the order of :attr:`sources`."""
        return tuple(
            r
            for r in self.sources
            if r.status is SourceStatus.STALE
            or (r.status.answered and r.partial)
            or (not r.status.answered and r.status is not SourceStatus.NOT_APPLICABLE)
        )

    @property
    def partial(self) -> tuple[SourceResult, ...]:
        """Sources that answered, but not with everything (see :attr:`SourceResult.partial`)."""
        return tuple(r for r in self.sources if r.status.answered and r.partial)

    @property
    def unavailable(self) -> tuple[SourceResult, ...]:
        """Sources that should have answered but did not (a source switched off where it
        would have been asked included: its cases are missing all the same)."""
        return tuple(
            r
            for r in self.sources
            if not r.status.answered and r.status is not SourceStatus.NOT_APPLICABLE
        )

    def by_area(self) -> list[tuple[str, list[Case]]]:
        """Cases grouped by area (fagområde), areas alphabetical, open cases first."""
        groups: dict[str, list[Case]] = {}
        for case in self.cases:
            groups.setdefault(case.area or "Øvrige sager", []).append(case)
        return [(area, _newest_open_first(groups[area])) for area in sorted(groups)]


def _newest_open_first(cases: Iterable[Case]) -> list[Case]:
    return sorted(
        cases,
        key=lambda c: (not c.is_open, -(c.opened or dt.date.min).toordinal(), c.id),
    )
