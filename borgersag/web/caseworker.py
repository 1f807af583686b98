"""The caseworker pages: lookup, overview, case, document download, accessibility.

Views are thin: parse input, call the portal, render. The lookup is a POST so a key never
enters a URL; the overview lives server-side under an opaque token (see
:mod:`borgersag.web.overviews`), and case and document pages are reachable only for cases in
that overview. What is stored is already restricted to what the caseworker may see
(:mod:`borgersag.people.restrictions`): a hidden case is not in it, so its id gives the same 404 as
an unknown one and its source is never asked about it.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import io
import logging
from typing import Any

from flask import (
    Blueprint,
    Flask,
    current_app,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)

from borgersag.domain.keys import InvalidKey, KeyKind, parse_key
from borgersag.domain.model import Case, Document, Overview
from borgersag.people.restrictions import case_ids, restrict, restrict_case
from borgersag.sdk.errors import NotFound, SourceError
from borgersag.web import auditing as audit
from borgersag.web.errors import error_response
from borgersag.web.login import caseworker_required, current_user
from borgersag.web.overviews import OverviewStore, StoredOverview
from borgersag.web.present import access_summary, source_titles

__all__ = [
    "LOOKUP_KINDS",
    "PURPOSE_ERROR",
    "check_purpose",
    "find_case",
    "init_app",
    "keep_overview",
    "overview_purpose",
    "purposes",
    "stored_overview",
]

log = logging.getLogger(__name__)

bp = Blueprint("web", __name__)

LOOKUP_KINDS = (KeyKind.CPR, KeyKind.CVR, KeyKind.MATRIKEL, KeyKind.BFE)
HINTS = {
    KeyKind.CPR: "10 cifre, fx 010190-1234",
    KeyKind.CVR: "8 cifre, fx 29189846",
    KeyKind.MATRIKEL: "Ejerlavskode og matrikelnummer, fx 2000351-12a",
    KeyKind.BFE: "Et tal, fx 100123456",
}
PURPOSE_ERROR = "Vælg formålet med opslaget."


def portal() -> Any:
    """The app's :class:`~borgersag.lookup.portal.Portal`."""
    return current_app.extensions["borgersag"]


def overview_store() -> OverviewStore:
    """The app's store of overviews."""
    return current_app.extensions["borgersag.overviews"]


def purposes() -> tuple[tuple[str, ...], bool]:
    """The configured purposes (formål) and whether a lookup must name one."""
    settings = portal().config.portal
    return settings.purposes, settings.purpose_required


def check_purpose(raw: object) -> str | None:
    """The purpose a lookup names, or ``None`` when it names none and none is required.

    Raises ``ValueError`` (message :data:`PURPOSE_ERROR`) when a required purpose is
    missing or the value is not one of the configured purposes.
    """
    choices, required = purposes()
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        if required:
            raise ValueError(PURPOSE_ERROR)
        return None
    if not isinstance(raw, str) or raw.strip() not in choices:
        raise ValueError(PURPOSE_ERROR)
    return raw.strip()


def keep_overview(overview: Overview, purpose: str | None) -> tuple[str, StoredOverview]:
    """Store what the signed-in user may see of ``overview``; return the token and entry.

    The one way a lookup's result is kept (pages and API alike): hidden cases are dropped
    here, before anything can link to them.
    """
    user = current_user()
    view = restrict(overview, user)
    # Recorded (and committed) before it is kept: no record, no overview.
    audit.record_overview("lookup", view.overview, purpose)
    token = overview_store().put(
        user.id, view.overview, hidden_count=view.hidden_count, purpose=purpose
    )
    return token, StoredOverview(view.overview, view.hidden_count, purpose)


def stored_overview(token: str) -> StoredOverview | None:
    """The signed-in user's overview under ``token``, or ``None`` (unknown, expired).

    The rules are applied again with the user's current rights, so a token made under
    wider rights (an earlier login) shows no more than the user may see now.
    """
    user = current_user()
    entry = overview_store().entry(token, user.id)
    if entry is None:
        return None
    view = restrict(entry.overview, user)
    return StoredOverview(view.overview, entry.hidden_count + view.hidden_count, entry.purpose)


def overview_purpose(token: str) -> str | None:
    """The purpose the signed-in user gave for the lookup behind ``token`` (for audit)."""
    user = current_user()
    return overview_store().purpose(token, user.id) if user else None


def find_case(overview: Overview, case_id: str) -> Case | None:
    """The case in ``overview`` with ``case_id`` (its own id or a joined source's id)."""
    for case in overview.cases:
        if case.id == case_id or case_id in case.also_known_as:
            return case
    return None


@bp.get("/")
def lookup() -> Any:
    """The lookup form (citizens are sent to their own cases)."""
    user = current_user()
    if user is not None and user.is_citizen:
        return redirect(url_for("citizen.overview"), code=303)
    return _lookup_form()


@caseworker_required
def _lookup_form() -> Any:
    return _lookup_page(KeyKind.CPR.value, "", "", {})


@bp.post("/")
@caseworker_required
def lookup_post() -> Any:
    """Validate key and purpose, ask every source, keep the overview, redirect to it."""
    kind = request.form.get("kind", "")
    value = request.form.get("value", "")
    chosen = request.form.get("purpose", "")
    errors: dict[str, str] = {}
    key = purpose = None
    if kind not in {k.value for k in LOOKUP_KINDS}:
        errors["kind"] = "Vælg, hvad du vil søge på."
    else:
        try:
            key = parse_key(kind, value)
        except InvalidKey as exc:
            errors["value"] = exc.message
    try:
        purpose = check_purpose(chosen)
    except ValueError as exc:
        errors["purpose"] = str(exc)
    if errors or key is None:
        return _lookup_page(kind, value, chosen, errors, 400)
    token, _entry = keep_overview(portal().lookup(key), purpose)
    return redirect(url_for("web.overview", token=token), code=303)


def _lookup_page(
    kind: str, value: str, purpose: str, errors: dict[str, str], status: int = 200
) -> Any:
    choices, required = purposes()
    return (
        render_template(
            "lookup.html",
            kinds=LOOKUP_KINDS,
            hints=HINTS,
            kind=kind,
            value=value,
            purposes=choices,
            purpose_required=required,
            purpose=purpose,
            errors=errors,
        ),
        status,
    )


@bp.get("/oversigt/<token>")
@caseworker_required
def overview(token: str) -> Any:
    """The joined overview: source panel, expanded keys, cases by area."""
    entry = stored_overview(token)
    if entry is None:
        return _expired()
    found = entry.overview
    groups = found.by_area()
    return render_template(
        "overview.html",
        overview=found,
        token=token,
        groups=groups,
        titles=source_titles(found),
        open_count=sum(1 for c in found.cases if c.is_open),
        collapse_groups=len(found.cases) > 40,
        hidden_count=entry.hidden_count,
        access=access_summary(current_user().restrictions),
        purpose=entry.purpose,
    )


@bp.get("/oversigt/<token>/sag/<path:case_id>")
@caseworker_required
def case(token: str, case_id: str) -> Any:
    """One case in full, from its source; the overview's copy if the source fails."""
    entry = stored_overview(token)
    if entry is None:
        return _expired()
    found = entry.overview
    summary = find_case(found, case_id)
    detail, problem = _visible_detail(summary, found) if summary else (None, None)
    if detail is None:
        return _no_such_case()
    audit.record(
        "case_view",
        subject=found.subject,
        purpose=entry.purpose,
        sources=[(summary.source, "ok" if problem is None else "failed")],
        case_ids=[summary.id, *summary.also_known_as],
    )
    return render_template(
        "case.html",
        overview=found,
        token=token,
        case=detail,
        problem=problem,
        titles=source_titles(found),
    )


@bp.get("/oversigt/<token>/sag/<path:case_id>/dokument/<document_id>")
@caseworker_required
def document(token: str, case_id: str, document_id: str) -> Any:
    """Download a document of a case in the overview, as an attachment."""
    entry = stored_overview(token)
    if entry is None:
        return _expired()
    summary = find_case(entry.overview, case_id)
    doc = _find_document(summary, document_id, entry.overview) if summary else None
    if summary is None or doc is None:
        return error_response(
            404,
            "Dokumentet findes ikke",
            "Dokumentet hører ikke til en sag i dette opslag. Gå tilbage til sagen.",
        )
    try:
        content = portal().get_document(_owning_case_id(summary, doc), doc.id)
    except NotFound:
        return error_response(
            404,
            "Dokumentet findes ikke længere",
            "Kildesystemet kender ikke dokumentet længere. Det kan være flyttet eller slettet.",
        )
    except SourceError as exc:
        log.warning("document from %s unavailable: %s", summary.source, type(exc).__name__)
        return error_response(
            502,
            "Dokumentet kunne ikke hentes",
            "Kildesystemet svarede ikke, da vi bad om dokumentet. Prøv igen om lidt.",
        )
    audit.record(
        "document",
        subject=entry.overview.subject,
        purpose=entry.purpose,
        sources=[(doc.source or summary.source, "ok")],
        case_ids=[summary.id],
        detail=f"dokument {doc.id}",
    )
    response = send_file(
        io.BytesIO(content.content),
        mimetype=content.media_type or "application/octet-stream",
        as_attachment=True,
        download_name=content.filename or f"dokument-{doc.id}",
    )
    return response


DESK_PURPOSE = "Eget skrivebord"


@bp.get("/mit-skrivebord")
@caseworker_required
def desk() -> Any:
    """ "Mit skrivebord": the caseworker's own cases in every system, deadlines first.

    A lookup on the caseworker's own medarbejdernummer, kept and audited like any other
    (purpose "Eget skrivebord"); the case links open the usual case pages.
    """
    user = current_user()
    try:
        key = parse_key(KeyKind.MEDARBEJDER, user.medarbejdernummer)
    except InvalidKey:
        return error_response(
            400,
            "Dit login har intet gyldigt medarbejdernummer",
            "Mit skrivebord finder dine sager ud fra dit medarbejdernummer, og dit login"
            " indeholdt ikke et, vi kan bruge. Kontakt din systemadministrator.",
        )
    token, entry = keep_overview(portal().lookup(key), DESK_PURPOSE)
    found = entry.overview
    today = dt.date.today()
    with_deadline = sorted(
        (c for c in found.cases if c.is_open and c.deadline), key=lambda c: c.deadline
    )
    without = sorted(
        (c for c in found.cases if c.is_open and not c.deadline),
        key=lambda c: c.opened or dt.date.min,
        reverse=True,
    )
    closed = [c for c in found.cases if not c.is_open]
    systems = {c.source for c in found.cases}
    return render_template(
        "desk.html",
        overview=found,
        token=token,
        open_cases=[*with_deadline, *without],
        closed_count=len(closed),
        systems=systems,
        today=today,
        titles=source_titles(found),
        hidden_count=entry.hidden_count,
        access=access_summary(user.restrictions),
    )


@bp.get("/tilgaengelighed")
def accessibility() -> Any:
    """The accessibility statement (public, linked from every footer)."""
    return render_template("accessibility.html")


def _no_such_case() -> Any:
    # The same answer for a case that is hidden from the user and one that does not exist.
    return error_response(
        404,
        "Sagen findes ikke i oversigten",
        "Sagen er ikke en del af dette opslag. Gå tilbage til oversigten.",
    )


def _expired() -> Any:
    return (
        render_template("expired.html", ttl_minutes=_ttl_minutes()),
        404,
    )


def _ttl_minutes() -> int:
    return max(1, round(overview_store().ttl / 60))


def _detail(summary: Case) -> tuple[Case, str | None]:
    """The full case from its source(s), or the overview's copy and a note why."""
    try:
        if summary.also_known_as:
            detail = portal().get_case(summary.id, also_known_as=summary.also_known_as)
        else:
            detail = portal().get_case(summary.id)
    except NotFound:
        return summary, "Kildesystemet kan ikke vise flere detaljer om sagen."
    except SourceError as exc:
        log.warning("case details from %s unavailable: %s", summary.source, type(exc).__name__)
        return summary, "Kildesystemet svarede ikke, da vi hentede sagens detaljer."
    except Exception:
        # A connector is third-party code: its bug must not cost the caseworker the page.
        log.exception("case details from %s failed", summary.source)
        return summary, "Sagens detaljer kunne ikke hentes på grund af en fejl."
    # Keep what the overview knows and the source's single view does not.
    more_sources = len(detail.all_sources) >= len(summary.all_sources)
    merged = dataclasses.replace(
        detail,
        reason=detail.reason or summary.reason,
        sources=detail.sources if more_sources else summary.sources,
        also_known_as=detail.also_known_as or summary.also_known_as,
    )
    return merged, None


def _visible_detail(summary: Case, overview: Overview) -> tuple[Case | None, str | None]:
    """:func:`_detail` as the signed-in user may see it; ``None`` if the source's own view
    of the case falls outside their restrictions."""
    detail, problem = _detail(summary)
    shown = restrict_case(detail, current_user(), known_ids=case_ids(overview.cases))
    return shown, problem


def _find_document(summary: Case, document_id: str, overview: Overview) -> Document | None:
    for doc in summary.documents:
        if doc.id == document_id:
            return doc
    detail, _problem = _visible_detail(summary, overview)
    for doc in detail.documents if detail else ():
        if doc.id == document_id:
            return doc
    return None


def _owning_case_id(case: Case, doc: Document) -> str:
    """The id of the joined view whose source holds ``doc``."""
    if doc.source:
        for cid in (case.id, *case.also_known_as):
            if cid.split("/", 1)[0] == doc.source:
                return cid
    return case.id


def init_app(app: Flask) -> None:
    """Register the pages."""
    app.register_blueprint(bp)
