"""Facts of a case as the index keeps them, and what changed between two refreshes.

Plain Python. :func:`facts_of` reads the facts of a case the citizen may see from the
citizen's own view of it (:class:`~borgersag.people.citizen_view.CitizenCase`, so what
the citizen policy hides never reaches the index), :func:`changes` compares the facts
in the index with fresh ones and says what a citizen would want to hear of:

* ``status`` — the progress step or the source's own status text changed;
* ``decision`` — the case was decided (a decision date appeared, or it reached
  *Afgjort*); reported instead of ``status`` for the same change;
* ``document`` — a document the citizen may see appeared;
* ``deadline`` — a deadline appeared or moved.

Not what the citizen did themselves (:func:`changes`): the back ends name no sender, so
the rule goes by what they do give — an incoming letter (``BREV_INDGAAENDE``: an
application, a reply, drawings the citizen sent) is not news to its sender, nor is a
move to a status that says the municipality received something (``receipts``, from
``[index] receipt_statuses``: "Modtaget" by default), since what it received is what the
citizen sent (an application, an appeal). A case seen for the first time is no
change either: its facts are the baseline. Each change
carries a :attr:`Change.dedup_key` that is the same whenever the same change is found
again, so writing it twice is writing it once.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass, field

from borgersag.domain.model import DocumentType, Progress
from borgersag.people.citizen_view import CitizenCase

__all__ = ["CaseFacts", "Change", "changes", "facts_of", "index_id"]

# Column widths of index_case (borgersag/index/schema.py): back-end text is cut to them.
_WIDTHS = {"case_id": 255, "source": 100, "sagsnummer": 100, "status_text": 200, "kle": 20}
_WIDTHS |= {"area": 200, "unit": 200}
MAX_DOCUMENTS = 2000  # a case with more lists its newest this many; the rest are not tracked


def _cut(name: str, value: str | None) -> str | None:
    return None if value is None else value[: _WIDTHS[name]]


@dataclass(frozen=True, slots=True)
class CaseFacts:
    """What the index keeps of one case: ids, state and dates, never a title or content."""

    case_id: str
    source: str
    sagsnummer: str
    progress: Progress
    progress_date: dt.date | None = None
    status_text: str | None = None
    kle: str | None = None
    area: str | None = None
    unit: str | None = None
    opened: dt.date | None = None
    decided: dt.date | None = None
    closed: dt.date | None = None
    deadline: dt.date | None = None
    documents: tuple[tuple[str, dt.date | None], ...] = field(default=())
    systems: tuple[str, ...] = ()  # the sources the case was seen in (a joined case: several)
    # the incoming letters among the documents: sent by the citizen as far as anyone can
    # tell, so never news to them (known from a fresh answer only; not stored)
    incoming: frozenset[str] = field(default=frozenset(), compare=False)

    @property
    def document_ids(self) -> frozenset[str]:
        """The ids of the visible documents."""
        return frozenset(doc_id for doc_id, _ in self.documents)

    def documents_json(self) -> str:
        """The documents as stored: ``[[id, "YYYY-MM-DD" or null], ...]``."""
        return json.dumps([[i, d.isoformat() if d else None] for i, d in self.documents])

    @staticmethod
    def documents_from_json(text: str) -> tuple[tuple[str, dt.date | None], ...]:
        """The documents back from :meth:`documents_json`."""
        return tuple((i, dt.date.fromisoformat(d) if d else None) for i, d in json.loads(text))


def index_id(case: CitizenCase) -> str:
    """The id a case is indexed under: the least of its ids in every system holding it.

    A joined case is shown under the id of the system whose status changed last, which
    moves when another system changes; the index's key must not.
    """
    return min((case.id, *case.also_known_as))


def facts_of(case: CitizenCase, deadline: dt.date | None) -> CaseFacts:
    """The facts of a case the citizen may see (``deadline`` from the source's case: the
    citizen's view has none of its own)."""
    history = [step.date for step in case.progress_history if step.progress is case.progress]
    documents = sorted(case.documents, key=lambda d: (d.date or dt.date.min, d.id), reverse=True)
    return CaseFacts(
        case_id=_cut("case_id", index_id(case)) or "",
        source=_cut("source", case.source) or "",
        sagsnummer=_cut("sagsnummer", case.sagsnummer) or "",
        progress=case.progress,
        progress_date=max(history, default=None),
        status_text=_cut("status_text", case.status_text),
        kle=_cut("kle", case.kle),
        area=_cut("area", case.area),
        unit=_cut("unit", case.unit),
        opened=case.opened,
        decided=case.decided,
        closed=case.closed,
        deadline=deadline,
        documents=tuple((d.id[:255], d.date) for d in documents[:MAX_DOCUMENTS]),
        systems=tuple(sorted(name[:100] for name in case.sources)),
        incoming=frozenset(d.id[:255] for d in documents if d.type is DocumentType.BREV_INDGAAENDE),
    )


@dataclass(frozen=True, slots=True)
class Change:
    """One change of one case, as the outbox keeps it."""

    case_id: str
    kind: str  # status | decision | document | deadline
    detail: dict[str, str | None]

    def dedup_key(self, subscriber_id: int) -> str:
        """The same for the same change of the same case for the same subscriber."""
        what = json.dumps([subscriber_id, self.case_id, self.kind, self.detail], sort_keys=True)
        return hashlib.sha256(what.encode()).hexdigest()


def _day(value: dt.date | None) -> str | None:
    return value.isoformat() if value else None


def changes(old: CaseFacts, new: CaseFacts, receipts: frozenset[str] = frozenset()) -> list[Change]:
    """What changed from ``old`` to ``new`` (the same case), in a fixed order; never
    what the citizen did themselves: their incoming letter, or its receipt (a move to
    one of the status texts in ``receipts``, in lower case)."""
    found: list[Change] = []
    decided = (new.decided and not old.decided) or (
        new.progress is Progress.AFGJORT and old.progress is not Progress.AFGJORT
    )
    moved = new.progress is not old.progress or new.status_text != old.status_text
    if not decided and (new.status_text or "").strip().lower() in receipts:
        moved = False  # "Modtaget": the receipt of what the citizen sent
    if decided or moved:
        found.append(
            Change(
                new.case_id,
                "decision" if decided else "status",
                {
                    "progress": new.progress.value,
                    "status_text": new.status_text,
                    "date": _day(new.decided if decided and new.decided else new.progress_date),
                    "previous_progress": old.progress.value,
                },
            )
        )
    for doc_id, date in new.documents:
        if doc_id not in old.document_ids and doc_id not in new.incoming:
            found.append(
                Change(new.case_id, "document", {"document_id": doc_id, "date": _day(date)})
            )
    if new.deadline and new.deadline != old.deadline:
        found.append(
            Change(
                new.case_id,
                "deadline",
                {"deadline": _day(new.deadline), "previous": _day(old.deadline)},
            )
        )
    return found
