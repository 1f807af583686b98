"""What a citizen sees in "Mine sager": which cases, and how they look.

Plain Python, no Flask. :func:`citizen_view` turns the engine's
:class:`~borgersag.domain.model.Overview` for the citizen's own CPR number into a
:class:`CitizenOverview` that holds only what the citizen may see, following the rules of
borger.dk's "Mit Overblik" as defaults the municipality can change in ``[citizen]``:

* **Which cases** (:mod:`borgersag.people.citizen_access`). A case is shown when the
  citizen is its *primary party* (by CPR), or when it is a *building case* (KLE main
  group 02, or area "Byggeri" when the case has no KLE number) about a parcel or
  property that a relation source says the citizen owns, co-owns or owned, and it began
  while they owned it. The rule reads the relation's role and dates, never its wording.
  Nothing else: not cases where the citizen is only a secondary party, and not other
  people's personal matters that happen to name the citizen's parcel.
* **What the municipality chose.** KLE subjects, source systems and a start date
  (:class:`~borgersag.people.citizen_policy.CitizenPolicy`, from ``[citizen]``; see
  :mod:`borgersag.people.citizen_policy`).
* **How they look.** Built from an allowlist into :class:`CitizenCase`, a type that has
  no field for caseworker-only data: no other parties, no sensitivity label, no deep
  link, no internal notes, no drafts. A new field on :class:`~borgersag.domain.model.Case` is
  therefore hidden from citizens until someone decides to show it here.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace

from flask_babel import LazyString, gettext
from flask_babel import lazy_gettext as _l

from borgersag.domain.keys import Key
from borgersag.domain.model import (
    Case,
    Document,
    DocumentStatus,
    DocumentType,
    Event,
    Overview,
    Progress,
    ProgressStep,
    SourceResult,
)
from borgersag.people.case_kinds import decision_outcome
from borgersag.people.citizen_access import (
    Access,
    Owned,
    before,
    case_start,
    grant,
    owned_properties,
    same_key,
)
from borgersag.people.citizen_policy import CitizenPolicy

__all__ = [
    "Access",
    "CitizenCase",
    "CitizenDocument",
    "CitizenOverview",
    "citizen_view",
    "document_kind",
    "progress_text",
    "step_explanation",
    "step_label",
]

# Timeline entries a citizen sees. "note" (journal notes) and "document" (which may name
# drafts or internal documents) are left out; visible documents have their own list.
_CITIZEN_EVENT_KINDS = frozenset({"status", "deadline"})

# The case states of the ESDH standard (FESD/SBSYS "sagstilstand"): names for the
# caseworker's process, not news for the citizen, who gets the plain step instead.
_INTERNAL_STATES = frozenset(
    {"opstået", "opklaring", "afventer", "afgjort", "afsluttet", "arkiveret"}
)


def citizen_status(text: str | None) -> str | None:
    """A system's status text as the citizen may read it: ``None`` for the ESDH's own
    state names ("Opstået", "Opklaring" …), which say nothing to a citizen."""
    if not text or text.strip().casefold() in _INTERNAL_STATES:
        return None
    return text.strip()


# Lazy: translated when shown, in the page's language (Danish outside a request).
_STEPS: dict[Progress, tuple[LazyString, LazyString]] = {
    Progress.OPSTAAET: (
        _l("Modtaget"),
        _l("Kommunen har modtaget eller oprettet sagen."),
    ),
    Progress.OPLYST: (
        _l("Under behandling"),
        _l("Kommunen har de oplysninger, der skal til, og behandler sagen."),
    ),
    Progress.AFGJORT: (
        _l("Afgjort"),
        _l(
            "Kommunen har truffet en afgørelse. Afgørelsen sendes til sagens parter,"
            " som regel med Digital Post."
        ),
    ),
    Progress.AFSLUTTET: (
        _l("Afsluttet"),
        _l("Sagen er afsluttet. Kommunen arbejder ikke længere på den."),
    ),
}


def step_label(progress: Progress) -> str:
    """The plain-language name of a progress step, e.g. ``Under behandling``."""
    return str(_STEPS[progress][0])


def step_explanation(progress: Progress) -> str:
    """One sentence on what a progress step means for the citizen."""
    return str(_STEPS[progress][1])


_DOCUMENT_KINDS: dict[DocumentType, LazyString] = {
    DocumentType.BREV_INDGAAENDE: _l("Brev til kommunen"),
    DocumentType.BREV_UDGAAENDE: _l("Brev fra kommunen"),
    DocumentType.DAGSORDEN: _l("Dagsorden"),
    DocumentType.EKSTERNT_NOTAT: _l("Notat"),
    DocumentType.FAKTURA: _l("Faktura"),
    DocumentType.RAPPORT: _l("Rapport"),
    DocumentType.PLAN: _l("Plan"),
    DocumentType.ANDET: _l("Andet"),
}


def document_kind(kind: DocumentType) -> str:
    """What kind of document it is, in the citizen's words (``Brev fra kommunen``)."""
    known = _DOCUMENT_KINDS.get(kind)
    return str(known) if known is not None else kind.label


def progress_text(progress: Progress) -> str:
    """``"Trin 2 af 4: Under behandling"``."""
    return gettext(
        "Trin %(step)s af %(steps)s: %(label)s",
        step=progress.step,
        steps=len(Progress),
        label=step_label(progress),
    )


@dataclass(frozen=True, slots=True)
class CitizenDocument:
    """A document as a citizen sees it: final, and one the party may see."""

    id: str
    title: str
    type: DocumentType
    date: dt.date | None
    source: str | None


@dataclass(frozen=True, slots=True)
class CitizenCase:
    """A case as a citizen sees it. Built from an allowlist of :class:`Case` fields.

    ``also_known_as`` holds the same matter's ids in other systems; it is used to fetch
    details and documents, never shown. ``sources`` are source names (see
    :attr:`CitizenOverview.titles` for the names people know).
    """

    id: str
    sagsnummer: str
    title: str
    access: Access
    reason: str
    progress: Progress
    progress_history: tuple[ProgressStep, ...]
    sources: tuple[str, ...]
    status_text: str | None = None
    kle: str | None = None
    area: str | None = None
    unit: str | None = None
    caseworker_name: str | None = None
    opened: dt.date | None = None
    decided: dt.date | None = None
    closed: dt.date | None = None
    documents: tuple[CitizenDocument, ...] = ()
    events: tuple[Event, ...] = ()
    properties: tuple[Key, ...] = ()
    also_known_as: tuple[str, ...] = ()
    stale: bool = False
    # an open case's deadline, when the municipality shows deadlines
    deadline: dt.date | None = None
    # "refusal" or "partial" when the decision went (partly) against the citizen
    decision: str = ""
    # what the system said about its decision, e.g. "Ikke visiteret – kan bruge egen tandlæge"
    decision_text: str | None = None

    @property
    def source(self) -> str:
        """The source the case was read from."""
        return self.sources[0]

    @property
    def plain_status(self) -> str | None:
        """The system's status text when it tells the citizen something."""
        return citizen_status(self.status_text)

    @property
    def is_open(self) -> bool:
        """Whether the case is still being worked on."""
        return self.progress is not Progress.AFSLUTTET

    @property
    def progress_text(self) -> str:
        """``"Trin 2 af 4: Under behandling"``."""
        return progress_text(self.progress)

    @property
    def awaits_decision(self) -> bool:
        """Whether the decision is still to come (its deadline still runs)."""
        return self.progress.step < Progress.AFGJORT.step

    @property
    def latest_activity(self) -> dt.date | None:
        """The most recent date something happened on the case (not a future deadline)."""
        dates = [step.date for step in self.progress_history]
        dates += [e.date for e in self.events if e.kind == "status"]
        dates += [d for d in (self.opened, self.decided, self.closed) if d]
        return max(dates, default=None)

    def timeline(self) -> list[Event]:
        """Progress steps and the visible events merged, oldest first (like the case page)."""
        items = [
            Event(
                step.date,
                citizen_status(step.status_text) or step_label(step.progress),
                "status",
                self.source,
            )
            for step in self.progress_history
        ]
        items.extend(self.events)
        # Two systems of a joined case often record the same step on the same day in
        # words that read alike to the citizen ("Modtaget"): shown once.
        once: dict[tuple[dt.date, str], Event] = {}
        for event in items:
            once.setdefault((event.date, event.title), event)
        return sorted(once.values(), key=lambda e: e.date)

    def document(self, document_id: str) -> CitizenDocument | None:
        """The visible document with ``document_id``, if any."""
        return next((d for d in self.documents if d.id == document_id), None)


@dataclass(frozen=True, slots=True)
class CitizenOverview:
    """The cases one citizen may see, and which systems did not answer.

    ``unavailable`` holds the titles of allowed sources that did not answer, ``partial``
    those that answered without everything; the citizen is told that cases may be
    missing, without technical detail.
    """

    cases: tuple[CitizenCase, ...]
    unavailable: tuple[str, ...]
    titles: Mapping[str, str]
    policy: CitizenPolicy
    generated_at: dt.datetime
    cpr: Key = field(repr=False)
    # Owned property keys → the ownership relations that give them (role and period).
    owned: Owned = field(default_factory=dict, repr=False)
    # Titles of allowed sources that answered without everything (unreadable records, or
    # an answer cut off at the source's limit): some cases may be missing.
    partial: tuple[str, ...] = ()
    # The allowed sources that did not answer whole and fresh (switched off, failed,
    # from an old copy, partial …): what the citizen's completeness notice is made from.
    shortfalls: tuple[SourceResult, ...] = ()

    @property
    def open_cases(self) -> list[CitizenCase]:
        """Cases still being worked on, most recent activity first."""
        return [c for c in self.cases if c.is_open]

    @property
    def closed_cases(self) -> list[CitizenCase]:
        """Closed cases, most recent activity first."""
        return [c for c in self.cases if not c.is_open]

    @property
    def unavailable_count(self) -> int:
        """How many sources did not answer."""
        return len(self.unavailable)

    def source_titles(self, case: CitizenCase) -> list[str]:
        """The names people know the case's systems by, without repeats."""
        return list(dict.fromkeys(self.titles.get(s, s) for s in case.sources))

    def case(self, case_id: str) -> CitizenCase | None:
        """The visible case with ``case_id`` (its own id or a joined system's id)."""
        for case in self.cases:
            if case.id == case_id or case_id in case.also_known_as:
                return case
        return None

    def document(self, case_id: str, document_id: str) -> CitizenDocument | None:
        """A visible document of a visible case."""
        case = self.case(case_id)
        return case.document(document_id) if case else None

    def detail(self, full: Case) -> CitizenCase | None:
        """The citizen's view of ``full`` (a visible case's details from its source).

        ``None`` unless ``full`` is the same matter as a visible case and passes the same
        rules on its own: details never widen what the citizen sees.
        """
        summary = self.case(full.id)
        if summary is None:
            return None
        shown = _citizen_case(full, self.cpr, self.owned, self.policy)
        if shown is None:
            return None
        also = tuple(dict.fromkeys((*shown.also_known_as, *summary.also_known_as)))
        return replace(shown, also_known_as=tuple(a for a in also if a != shown.id))


def citizen_view(overview: Overview, cpr: Key, policy: CitizenPolicy) -> CitizenOverview:
    """The cases in ``overview`` that the citizen with ``cpr`` may see, redacted.

    ``overview`` must be the lookup of ``cpr`` itself: an overview of another key shows
    nothing. Open cases come first, each group by most recent activity.
    """
    titles = {r.source: r.title or r.source for r in overview.sources}
    unavailable = tuple(
        dict.fromkeys(
            r.title or r.source for r in overview.unavailable if policy.allows_source(r.source)
        )
    )
    partial = tuple(
        dict.fromkeys(
            r.title or r.source for r in overview.partial if policy.allows_source(r.source)
        )
    )
    shortfalls = tuple(r for r in overview.shortfalls if policy.allows_source(r.source))
    if not same_key(overview.subject, cpr):
        return CitizenOverview(
            (),
            unavailable,
            titles,
            policy,
            overview.generated_at,
            cpr,
            partial=partial,
            shortfalls=shortfalls,
        )
    owned = owned_properties(overview, policy)
    shown = [c for case in overview.cases if (c := _citizen_case(case, cpr, owned, policy))]
    return CitizenOverview(
        tuple(_open_first(shown)),
        unavailable,
        titles,
        policy,
        overview.generated_at,
        cpr,
        owned,
        partial,
        shortfalls,
    )


def _open_first(cases: Iterable[CitizenCase]) -> list[CitizenCase]:
    def recent(case: CitizenCase) -> int:
        return -(case.latest_activity or dt.date.min).toordinal()

    return sorted(cases, key=lambda c: (not c.is_open, recent(c), c.id))


def _citizen_case(case: Case, cpr: Key, owned: Owned, policy: CitizenPolicy) -> CitizenCase | None:
    """``case`` as the citizen sees it, or ``None`` when they may not see it.

    For a previous owner, documents and timeline entries dated on or after the day their
    ownership ended are left out: what happens after the sale is the new owner's.
    """
    why = grant(case, cpr, owned)
    if why is None:
        return None
    # A joined case is shown when any system holding it is allowed; what the other
    # systems add (documents, status changes) is left out.
    sources = tuple(dict.fromkeys(p.source for p in case.all_sources))
    allowed = tuple(s for s in sources if policy.allows_source(s))
    if not allowed:
        return None
    if not policy.allows_kle(case.kle) or not policy.allows_start(case_start(case)):
        return None
    documents = tuple(
        CitizenDocument(d.id, d.title, d.type, d.date, d.source)
        for d in case.documents
        if policy.show_documents
        and _document_visible(d)
        and policy.allows_source(d.source or case.source)
        and before(d.date, why.until)
    )
    events = tuple(
        e
        for e in case.events
        if e.kind in _CITIZEN_EVENT_KINDS
        and policy.allows_source(e.source or case.source)
        and before(e.date, why.until)
    )
    history = case.progress_history if policy.allows_source(case.source) else ()
    name = case.caseworker.name if case.caseworker and policy.show_caseworker_names else None
    decision, decision_text = _decision(case, history, events)
    return CitizenCase(
        id=case.id,
        sagsnummer=case.sagsnummer,
        title=case.public_title or case.title,
        access=why.access,
        reason=why.reason,
        progress=case.progress,
        progress_history=history,
        sources=allowed,
        status_text=case.status_text,
        kle=case.kle,
        area=case.area,
        unit=case.unit if policy.show_unit else None,
        caseworker_name=name or None,
        opened=case_start(case),
        decided=case.decided,
        closed=case.closed,
        documents=documents,
        events=events,
        properties=why.properties,
        also_known_as=case.also_known_as,
        stale=any(p.stale for p in case.all_sources if p.source in allowed),
        deadline=case.deadline if case.awaits_decision and policy.show_deadlines else None,
        decision=decision,
        decision_text=decision_text,
    )


_RESULT_PREFIX = "Resultat: "  # how the ZGW connector names a zaak's resultaat


def _decision(
    case: Case, history: tuple[ProgressStep, ...], events: tuple[Event, ...]
) -> tuple[str, str | None]:
    """Whether a decided case went against the citizen, and the system's words for it:
    the texts of the steps from the decision on, the case's status and a ZGW result."""
    if case.progress.step < Progress.AFGJORT.step:
        return "", None
    results = [
        e.title.removeprefix(_RESULT_PREFIX) for e in events if e.title.startswith(_RESULT_PREFIX)
    ]
    texts = [s.status_text for s in history if s.progress.step >= Progress.AFGJORT.step]
    texts = [*results, *texts, case.status_text]
    said = next((t for t in map(citizen_status, texts) if t), None)
    return decision_outcome(texts), said


def _document_visible(document: Document) -> bool:
    """Final documents the party may see; never an internal note, whatever its flag."""
    return (
        document.status is DocumentStatus.ENDELIGT
        and document.party_may_see
        and document.type is not DocumentType.INTERNT_NOTAT
    )
