"""One case in full, and one document: the same paths for caseworkers and citizens.

Plain Python, no Flask; collaborators come in a :class:`~borgersag.lookup.ports.Context`.

* **Case detail.** :func:`fetch_detail` asks the case's source (every joined system) for
  the full case and keeps what the overview knew that one system's view does not;
  when the source fails the overview's copy is used and a :class:`Failure` says why.
  :func:`caseworker_case` applies the caseworker's restrictions again,
  :func:`citizen_case` the citizen's rules; both record the view before returning it.
* **Document.** :func:`caseworker_document` and :func:`citizen_document` decide whether
  the person may see the document and hand it to the one download path,
  :func:`borgersag.lookup.documents.fetch_document`.

Every use case here runs under a deadline (``page_deadline_seconds``,
``document_deadline_seconds`` in the context's settings) that bounds every source call it
makes, so a hung source costs a note on the page, not a wait.

A case or document the person may not see gets :class:`NotShown` — the same for one that
is hidden, another person's or made up — and its source is not asked about it. Either
way the attempt is recorded as ``refused`` first, for caseworkers as for citizens: a
caseworker trying the addresses of cases hidden from them must leave a trace.
"""

from __future__ import annotations

import dataclasses
import functools
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from typing import ParamSpec, TypeVar

from borgersag.domain.model import Case, Document, Overview
from borgersag.lookup.documents import Download, fetch_document
from borgersag.lookup.ports import Context, StoredOverview
from borgersag.lookup.usecases import (
    MyCases,
    find_case,
    my_cases,
    persons_shown,
    record_case_view,
    stored_overview,
)
from borgersag.people.citizen_view import CitizenCase, CitizenOverview
from borgersag.people.restrictions import case_ids, restrict_case, shielded_keys
from borgersag.runtime.logmask import mask_cpr
from borgersag.sdk.errors import NotFound, SourceError
from borgersag.sdk.http import deadline_in

__all__ = [
    "CaseView",
    "CitizenCaseView",
    "Expired",
    "Failure",
    "NotShown",
    "caseworker_case",
    "caseworker_document",
    "citizen_case",
    "citizen_document",
    "fetch_detail",
]

log = logging.getLogger(__name__)


class Expired(Exception):
    """The overview token is unknown, expired or another user's."""


class NotShown(Exception):
    """The case or document is not one the person may see (or does not exist).

    ``what`` is ``"sag"`` or ``"dokument"``.
    """

    def __init__(self, what: str) -> None:
        super().__init__(what)
        self.what = what


class Failure(Enum):
    """Why a case's details could not be read from its source."""

    GONE = "gone"  # the source does not know the case (any more)
    UNAVAILABLE = "unavailable"  # the source did not answer
    BROKEN = "broken"  # the connector failed (a bug in third-party code)
    PARTIAL = "partial"  # a joined case: some of its systems answered, not all


CASEWORKER_PROBLEMS = {
    Failure.GONE: "Kildesystemet kan ikke vise flere detaljer om sagen.",
    Failure.UNAVAILABLE: "Kildesystemet svarede ikke, da vi hentede sagens detaljer.",
    Failure.BROKEN: "Sagens detaljer kunne ikke hentes på grund af en fejl.",
    Failure.PARTIAL: "Ikke alle sagens systemer svarede, da vi hentede detaljerne;"
    " dokumenter og historik fra dem mangler på siden.",
}
CITIZEN_PROBLEM = "Vi kunne ikke hente alle sagens oplysninger lige nu, så noget kan mangle."


_PAGE_RESERVE_SHARE = 0.1  # of a page's deadline, kept for what comes after the sources ...
_PAGE_RESERVE_MAX = 0.5  # ... but never more than this many seconds

P = ParamSpec("P")
R = TypeVar("R")


def _under_deadline(setting: str) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Run the use case under the deadline its context's settings name ``setting``."""

    def wrap(use_case: Callable[P, R]) -> Callable[P, R]:
        @functools.wraps(use_case)
        def bounded(*args: P.args, **kwargs: P.kwargs) -> R:
            ctx = args[0]
            assert isinstance(ctx, Context)
            seconds = getattr(ctx.settings, setting)
            # the sources get all but a tenth of it (at most half a second): the audit
            # record, a joined view's merge and the page's rendering come after them
            with deadline_in(seconds - min(_PAGE_RESERVE_MAX, seconds * _PAGE_RESERVE_SHARE)):
                return use_case(*args, **kwargs)

        return bounded

    return wrap


def fetch_detail(ctx: Context, summary: Case) -> tuple[Case, Failure | None]:
    """The full case from its source(s), merged with what the overview knew; the
    overview's copy and why when the source fails. A connector's own bug is caught too:
    it must not cost the person the page."""
    try:
        if summary.also_known_as:
            detail = ctx.portal.get_case(summary.id, also_known_as=summary.also_known_as)
        else:
            detail = ctx.portal.get_case(summary.id)
    except NotFound:
        return summary, Failure.GONE
    except SourceError as exc:
        log.warning("case details from %s unavailable: %s", summary.source, type(exc).__name__)
        return summary, Failure.UNAVAILABLE
    except Exception:
        log.exception("case details from %s failed", summary.source)
        return summary, Failure.BROKEN
    # Keep what the overview knows and the source's single view does not.
    answered = {p.source for p in detail.all_sources}
    missing = [p.source for p in summary.all_sources if p.source not in answered]
    more_sources = len(detail.all_sources) >= len(summary.all_sources)
    merged = dataclasses.replace(
        detail,
        # the page's address and the overview name the case by the summary's id, also
        # when the system behind it was the one that did not answer
        id=summary.id if missing else detail.id,
        reason=detail.reason or summary.reason,
        sources=detail.sources if more_sources else summary.sources,
        also_known_as=summary.also_known_as
        if missing
        else detail.also_known_as or summary.also_known_as,
    )
    if missing:
        log.warning("case details: %d joined system(s) did not answer", len(missing))
        return merged, Failure.PARTIAL
    return merged, None


# --- caseworkers ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CaseView:
    """A case page: the stored overview, the case as the caseworker may see it, and a
    note when the source's details could not be read."""

    entry: StoredOverview
    case: Case
    problem: str | None


# Refusal codes of a caseworker's case and document addresses (the audit row's detail).
REFUSED_EXPIRED = "oversigt udløbet eller ukendt"
REFUSED_CASE = "sag ikke i opslaget"  # hidden from them, or made up: the same to us
REFUSED_CASE_DETAIL = "sag uden for adgangen"  # the source's own view is restricted
REFUSED_DOCUMENT = "dokument ikke i opslaget"

# The id asked for is kept with the refusal when it has the shape of a case id; anything
# else came from whoever typed the address, and is left out rather than stored.
_CASE_ID_SHAPE = re.compile(r"^[A-Za-z0-9._-]{1,40}/[A-Za-z0-9._:-]{1,100}$")


def _refused(
    ctx: Context, entry: StoredOverview | None, case_id: str, detail: str, what: str
) -> NotShown:
    """Record a caseworker's refused case or document address and return the refusal.

    The recorder raises when the row cannot be committed, so an unrecorded probe is
    refused all the same (with the page that says the access could not be recorded).
    """
    asked = (case_id,) if _CASE_ID_SHAPE.match(case_id) and mask_cpr(case_id) == case_id else ()
    ctx.record(
        "refused",
        user=ctx.user,
        subject=entry.overview.subject if entry else None,
        purpose=entry.purpose if entry else None,
        case_ids=asked,
        detail=detail,
    )
    return NotShown(what)


def _entry(ctx: Context, token: str, case_id: str, what: str) -> StoredOverview:
    entry = stored_overview(ctx, token)
    if entry is None:
        _refused(ctx, None, case_id, f"{REFUSED_EXPIRED} ({what})", what)
        raise Expired()
    return entry


def _visible_detail(
    ctx: Context, summary: Case, overview: Overview
) -> tuple[Case | None, Failure | None]:
    """The detail as the caseworker may see it (``None`` if the source's own view falls
    outside their restrictions), and why the source failed, if it did."""
    detail, failure = fetch_detail(ctx, summary)
    shown = restrict_case(
        detail, ctx.user, known_ids=case_ids(overview.cases), shielded=shielded_keys(overview)
    )
    return shown, failure


@_under_deadline("page_deadline_seconds")
def caseworker_case(ctx: Context, token: str, case_id: str) -> CaseView:
    """One case of the overview under ``token``, from its source, recorded.

    Raises :class:`Expired` or :class:`NotShown` (not in the overview, or the source's
    view of it is outside the caseworker's restrictions), each recorded as refused.
    """
    entry = _entry(ctx, token, case_id, "sag")
    summary = find_case(entry.overview, case_id)
    if summary is None:
        raise _refused(ctx, entry, case_id, REFUSED_CASE, "sag")
    detail, failure = _visible_detail(ctx, summary, entry.overview)
    if detail is None:
        raise _refused(ctx, entry, case_id, REFUSED_CASE_DETAIL, "sag")
    record_case_view(
        ctx,
        summary,
        entry.overview.subject,
        entry.purpose,
        failed=failure is not None,
        persons=persons_shown(entry.overview, detail),
    )
    return CaseView(entry, detail, CASEWORKER_PROBLEMS[failure] if failure else None)


@_under_deadline("document_deadline_seconds")
def caseworker_document(ctx: Context, token: str, case_id: str, document_id: str) -> Download:
    """A document of a case in the overview under ``token`` (see :func:`fetch_document`).

    Raises :class:`Expired`, :class:`NotShown` (each recorded as refused),
    :class:`DocumentGone`, :class:`DocumentUnavailable`.
    """
    entry = _entry(ctx, token, case_id, "dokument")
    summary = find_case(entry.overview, case_id)
    doc = _find_document(ctx, summary, document_id, entry.overview) if summary else None
    if summary is None or doc is None:
        raise _refused(ctx, entry, case_id, REFUSED_DOCUMENT, "dokument")
    return fetch_document(
        ctx,
        doc,
        case_id=summary.id,
        known_as=(summary.id, *summary.also_known_as),
        fallback_source=summary.source,
        subject=entry.overview.subject,
        purpose=entry.purpose,
        persons=persons_shown(entry.overview, summary),
    )


def _find_document(
    ctx: Context, summary: Case, document_id: str, overview: Overview
) -> Document | None:
    for doc in summary.documents:
        if doc.id == document_id:
            return doc
    detail, _failure = _visible_detail(ctx, summary, overview)
    return next((d for d in detail.documents if d.id == document_id), None) if detail else None


# --- citizens ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CitizenCaseView:
    """A citizen's case page: their view, the case as they may see it, and a note when
    its details could not all be read."""

    view: CitizenOverview
    case: CitizenCase
    problem: str | None


def _citizen_summary(ctx: Context, mine: MyCases, case_id: str, what: str) -> CitizenCase:
    summary = mine.view.case(case_id)
    if summary is None:
        # Asking for something that is not theirs is recorded (kept short, no data).
        ctx.record(
            "refused", user=ctx.user, subject=ctx.user.cpr, detail=f"{what} ikke i Mine sager"
        )
        raise NotShown(what)
    return summary


def _citizen_detail(ctx: Context, mine: MyCases, summary: CitizenCase) -> tuple[CitizenCase, bool]:
    """The case's details from its source(s), filtered again by the citizen's rules; the
    list's copy (and ``True``: something may be missing) when that fails."""
    original = find_case(mine.overview, summary.id)
    if original is None:
        return summary, True
    detail, failure = fetch_detail(ctx, original)
    if failure is not None and failure is not Failure.PARTIAL:
        return summary, True
    shown = mine.view.detail(detail)
    if shown is None:
        # The source's details no longer pass the rules (another primary party, a
        # different property): show only what the list already showed.
        log.warning("citizen case details from %s did not pass the rules", summary.source)
        return summary, True
    return shown, failure is Failure.PARTIAL


@_under_deadline("page_deadline_seconds")
def citizen_case(ctx: Context, case_id: str) -> CitizenCaseView:
    """One of the signed-in citizen's cases, from its source, recorded.

    Raises :class:`NotShown` (recorded as refused) for anything that is not theirs.
    """
    mine = my_cases(ctx)
    summary = _citizen_summary(ctx, mine, case_id, "sag")
    shown, failed = _citizen_detail(ctx, mine, summary)
    record_case_view(ctx, summary, ctx.user.cpr, None, failed=failed)
    return CitizenCaseView(mine.view, shown, CITIZEN_PROBLEM if failed else None)


@_under_deadline("document_deadline_seconds")
def citizen_document(ctx: Context, case_id: str, document_id: str) -> Download:
    """A document the signed-in citizen may see (see :func:`fetch_document`).

    Raises :class:`NotShown` (recorded as refused), :class:`DocumentGone`,
    :class:`DocumentUnavailable`.
    """
    mine = my_cases(ctx)
    summary = _citizen_summary(ctx, mine, case_id, "dokument")
    # The list's copy already passed the citizen's rules in this request; the source is
    # asked for the case's details only for a document the list does not hold.
    shown, doc = summary, summary.document(document_id)
    if doc is None:
        shown, _failed = _citizen_detail(ctx, mine, summary)
        doc = shown.document(document_id)
    if doc is None:
        ctx.record(
            "refused", user=ctx.user, subject=ctx.user.cpr, detail="dokument ikke i Mine sager"
        )
        raise NotShown("dokument")
    return fetch_document(
        ctx,
        doc,
        case_id=summary.id,
        known_as=(shown.id, *shown.also_known_as),
        fallback_source=summary.source,
        subject=ctx.user.cpr,
        purpose=None,
    )
