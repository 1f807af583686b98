"""The citizen pages, "Mine sager": the signed-in citizen's own cases, one case, a document.

Every request looks the citizen up by the CPR number from their sign-in (never from the
URL or a form), filters the answer with :func:`borgersag.people.citizen_view.citizen_view`, and
serves only what that view holds. An id that is not in it — another person's case, a
case where the citizen is only a secondary party, a made-up or tampered id — gets the
same 404, and the portal is not even asked about it.
"""

from __future__ import annotations

import io
import logging
import re
import unicodedata
from typing import Any

from flask import Blueprint, Flask, abort, current_app, render_template, request, send_file

from borgersag.audit import AUDIT, AuditUnavailable, source_outcomes, subject_key
from borgersag.people.citizen_policy import CitizenPolicy
from borgersag.people.citizen_view import (
    CitizenCase,
    CitizenOverview,
    citizen_view,
    document_kind,
    progress_text,
    step_explanation,
    step_label,
)
from borgersag.people.sections import CITIZEN
from borgersag.sdk.errors import NotFound, SourceError
from borgersag.web import auditing as audit
from borgersag.web.errors import error_response
from borgersag.web.login import citizen_required, current_user

__all__ = ["init_app", "policy"]

log = logging.getLogger(__name__)

bp = Blueprint("citizen", __name__)

NOT_FOUND = (
    "Sagen findes ikke blandt dine sager",
    "Vi kan ikke vise sagen. Enten er adressen forkert, eller også er sagen ikke en af"
    " dine sager i Mine sager. Gå tilbage til Mine sager for at se dine sager.",
)
DOCUMENT_NOT_FOUND = (
    "Dokumentet findes ikke blandt dine dokumenter",
    "Vi kan ikke vise dokumentet. Enten er adressen forkert, eller også er dokumentet ikke"
    " et af dem, du kan se i Mine sager. Gå tilbage til sagen.",
)


def policy() -> CitizenPolicy:
    """The municipality's ``[citizen]`` choices (defaults when the config has none)."""
    config = current_app.extensions["borgersag"].config
    return config.section(CITIZEN)


def _my_view(*, record_lookup: bool = False) -> CitizenOverview:
    """The signed-in citizen's own view; the key comes from the sign-in only.

    With ``record_lookup`` the lookup is audited (committed) before anything is shown.
    """
    user = current_user()
    if user is None or user.cpr is None:
        abort(403)
    overview = current_app.extensions["borgersag"].lookup(user.cpr)
    view = citizen_view(overview, user.cpr, policy())
    if record_lookup:
        audit.record(
            "lookup",
            subject=user.cpr,
            sources=source_outcomes(overview.sources),
            case_ids=[case.id for case in view.cases],
        )
    return view


def _refused(what: str) -> None:
    """Record a citizen asking for something that is not theirs (kept short, no data)."""
    audit.record("refused", subject=current_user().cpr, detail=f"{what} ikke i Mine sager")


@bp.get("/mine-sager")
@citizen_required
def overview() -> Any:
    """The list: open and closed cases, and which systems did not answer."""
    view = _my_view(record_lookup=True)
    return render_template("citizen/overview.html", view=view, user=current_user())


@bp.get("/mine-sager/sag/<path:case_id>")
@citizen_required
def case(case_id: str) -> Any:
    """One of the citizen's cases: progress, timeline, visible documents."""
    view = _my_view()
    summary = view.case(case_id)
    if summary is None:
        _refused("sag")
        return error_response(404, *NOT_FOUND)
    shown, problem = _detail(view, summary)
    audit.record(
        "case_view",
        subject=current_user().cpr,
        sources=[(summary.source, "ok" if problem is None else "failed")],
        case_ids=[summary.id, *summary.also_known_as],
    )
    return render_template("citizen/case.html", view=view, case=shown, problem=problem)


@bp.get("/mine-sager/sag/<path:case_id>/dokument/<doc_id>")
@citizen_required
def document(case_id: str, doc_id: str) -> Any:
    """Download a document the citizen may see, as an attachment."""
    view = _my_view()
    summary = view.case(case_id)
    if summary is None:
        _refused("dokument")
        return error_response(404, *DOCUMENT_NOT_FOUND)
    shown, _problem = _detail(view, summary)
    doc = shown.document(doc_id)
    if doc is None:
        _refused("dokument")
        return error_response(404, *DOCUMENT_NOT_FOUND)
    try:
        content = current_app.extensions["borgersag"].get_document(
            shown.owning_case_id(doc), doc.id
        )
    except NotFound:
        return error_response(
            404,
            "Dokumentet findes ikke længere",
            "Kommunens system kender ikke dokumentet længere. Kontakt kommunen, hvis du"
            " har brug for det.",
        )
    except SourceError as exc:
        log.warning("citizen document from %s unavailable: %s", doc.source, type(exc).__name__)
        return error_response(
            502,
            "Dokumentet kunne ikke hentes lige nu",
            "Kommunens system svarede ikke, da vi bad om dokumentet. Prøv igen om lidt.",
        )
    audit.record(
        "document",
        subject=current_user().cpr,
        sources=[(doc.source or summary.source, "ok")],
        case_ids=[summary.id],
        detail=f"dokument {doc.id}",
    )
    return send_file(
        io.BytesIO(content.content),
        mimetype=content.media_type or "application/octet-stream",
        as_attachment=True,
        download_name=safe_filename(content.filename, f"dokument-{doc.id}"),
    )


def _detail(view: CitizenOverview, summary: CitizenCase) -> tuple[CitizenCase, str | None]:
    """The case's details from its source(s), filtered again; the list's copy on failure."""
    portal = current_app.extensions["borgersag"]
    problem = "Vi kunne ikke hente alle sagens oplysninger lige nu, så noget kan mangle."
    try:
        if summary.also_known_as:
            full = portal.get_case(summary.id, also_known_as=summary.also_known_as)
        else:
            full = portal.get_case(summary.id)
    except SourceError as exc:
        log.warning(
            "citizen case details from %s unavailable: %s", summary.source, type(exc).__name__
        )
        return summary, problem
    except Exception:
        # A connector is third-party code: its bug must not cost the citizen the page.
        log.exception("citizen case details from %s failed", summary.source)
        return summary, problem
    shown = view.detail(full)
    if shown is None:
        # The source's details no longer pass the rules (another primary party, a
        # different property): show only what the list already showed.
        log.warning("citizen case details from %s did not pass the rules", summary.source)
        return summary, problem
    return shown, None


SEEN_PER_PAGE = 20
SEEN_KIND = {
    "lookup": "Slog dig op",
    "case_view": "Så en af dine sager",
    "document": "Hentede et dokument",
}


@bp.get("/mine-sager/hvem-har-set")
@citizen_required
def seen_by() -> Any:
    """ "Hvem har set mine oplysninger": staff lookups of the citizen's CPR, newest first.

    The citizen's own visits are not listed. Whether staff names are shown is the
    municipality's choice (``[audit] show_staff_names``); the unit always is.
    """
    user = current_user()
    try:
        page = max(1, min(int(request.args.get("side", "1")), 10_000))
    except ValueError:
        page = 1
    try:
        rows, total = audit.audit_log().lookups_of(
            subject_key(user.cpr), page=page, per_page=SEEN_PER_PAGE
        )
    except AuditUnavailable:
        log.error("the audit log could not be read for a citizen's 'hvem har set' page")
        return error_response(
            503,
            "Oplysningerne kan ikke vises lige nu",
            "Vi kan ikke læse loggen over opslag lige nu. Prøv igen om lidt.",
        )
    pages = max(1, -(-total // SEEN_PER_PAGE))
    config = current_app.extensions["borgersag"].config
    return render_template(
        "citizen/seen_by.html",
        rows=[record.event for record in rows],
        total=total,
        page=min(page, pages),
        pages=pages,
        kinds=SEEN_KIND,
        show_names=config.section(AUDIT).show_staff_names,
    )


_UNSAFE_FILENAME = re.compile(r"[\x00-\x1f\x7f/\\:*?\"<>|]+")


def safe_filename(name: str | None, fallback: str) -> str:
    """A download name without paths, control or reserved characters (``fallback`` if none)."""
    text = unicodedata.normalize("NFC", name or "")
    text = text.replace("\\", "/").rsplit("/", 1)[-1]
    text = _UNSAFE_FILENAME.sub("_", text).strip(" ._")
    return text[:150] or fallback


@bp.context_processor
def _template_helpers() -> dict[str, Any]:
    return {
        "step_label": step_label,
        "step_explanation": step_explanation,
        "progress_text": progress_text,
        "document_kind": document_kind,
    }


def init_app(app: Flask) -> None:
    """Register the citizen pages."""
    app.register_blueprint(bp)
