"""The citizen pages, "Mine sager": the signed-in citizen's own cases, one case, a document.

Every request looks the citizen up by the CPR number from their sign-in (never from the
URL or a form), filters the answer with :func:`borgersag.people.citizen_view.citizen_view`, and
serves only what that view holds. An id that is not in it — another person's case, a
case where the citizen is only a secondary party, a made-up or tampered id — gets the
same 404, and the portal is not even asked about it. The views only translate HTTP: the
use cases (:func:`borgersag.lookup.usecases.my_cases`,
:func:`borgersag.lookup.cases.citizen_case`, :func:`~borgersag.lookup.cases.citizen_document`)
do the lookup, the rules, the audit and the quota, the same way as for caseworkers.
"""

from __future__ import annotations

import logging
from functools import partial
from typing import Any

from flask import Blueprint, Flask, current_app, render_template, request, url_for
from flask_babel import gettext
from flask_babel import lazy_gettext as _l

from borgersag.audit import AUDIT, AuditUnavailable, subject_key
from borgersag.lookup import cases
from borgersag.lookup.cases import NotShown
from borgersag.lookup.channels import Rejected
from borgersag.lookup.documents import DocumentGone, DocumentUnavailable
from borgersag.lookup.usecases import my_cases
from borgersag.people.case_kinds import CASE_KINDS
from borgersag.people.citizen_view import (
    CitizenCase,
    document_kind,
    progress_text,
    step_explanation,
    step_label,
)
from borgersag.people.steps import Steps, citizen_steps
from borgersag.web import auditing, index_hook, notify_pages
from borgersag.web.channel import context, send_download
from borgersag.web.completeness import CITIZEN_STALE_MARK, RowMarks, citizen_notice
from borgersag.web.dpo_export import citizen_what
from borgersag.web.errors import error_response
from borgersag.web.login import citizen_required, current_user
from borgersag.web.narrowing import narrowed

__all__ = ["init_app"]

log = logging.getLogger(__name__)

bp = Blueprint("citizen", __name__)

NOT_FOUND = (
    _l("Sagen findes ikke blandt dine sager"),
    _l(
        "Vi kan ikke vise sagen. Enten er adressen forkert, eller også er sagen ikke en af"
        " dine sager i Mine sager. Gå tilbage til Mine sager for at se dine sager."
    ),
)
DOCUMENT_NOT_FOUND = (
    _l("Dokumentet findes ikke blandt dine dokumenter"),
    _l(
        "Vi kan ikke vise dokumentet. Enten er adressen forkert, eller også er dokumentet ikke"
        " et af dem, du kan se i Mine sager. Gå tilbage til sagen."
    ),
)


CITIZEN_PER_PAGE = 10
"""Cases on one page of Mine sager (Open Inwoner shows 9)."""


@bp.get("/mine-sager/henter")
@citizen_required
def loading() -> Any:
    """Right after login: a page that says the cases are being fetched, and goes on to
    Mine sager at once (a meta refresh, no script). The browser shows it while Mine sager
    waits for the systems, up to the lookup's deadline, instead of a blank page."""
    return render_template("citizen/loading.html")


@bp.get("/mine-sager")
@citizen_required
def overview() -> Any:
    """The list, open cases first, a page of :data:`CITIZEN_PER_PAGE` at a time,
    searched and filtered by the query (:mod:`borgersag.web.narrowing`); and which
    systems did not answer. Each page asks the systems again and is recorded as the
    citizen's own lookup, as every visit is."""
    try:
        mine = my_cases(context(), recorded=True)
    except Rejected as exc:
        return error_response(exc.status)
    shown = narrowed(
        mine.view.cases,
        request.args,
        partial(url_for, "citizen.overview"),
        per_page=CITIZEN_PER_PAGE,
        changed=lambda case: case.latest_activity,
        systems_of=lambda case: case.sources,
        citizen=True,
        search_hint=_l("Sagens titel eller sagsnummer"),
    )
    return render_template(
        "citizen/overview.html",
        view=mine.view,
        shown=shown,
        user=current_user(),
        notice=citizen_notice(mine.view.shortfalls),
        mark=RowMarks(mine.overview, stale=str(CITIZEN_STALE_MARK), cut=False),
        delivery_failures=notify_pages.unseen_failures(),
        notify_on=notify_pages.enabled(),
        news=index_hook.news(current_user().cpr.value, mine.view.cases),
    ), shown.status


@bp.get("/mine-sager/sag/<path:case_id>")
@citizen_required
def case(case_id: str) -> Any:
    """One of the citizen's cases: progress, timeline, visible documents."""
    try:
        shown = cases.citizen_case(context(), case_id)
    except Rejected as exc:
        return error_response(exc.status)
    except NotShown:
        return error_response(404, *NOT_FOUND)
    return render_template(
        "citizen/case.html", view=shown.view, case=shown.case, problem=shown.problem
    )


@bp.get("/mine-sager/sag/<path:case_id>/dokument/<doc_id>")
@citizen_required
def document(case_id: str, doc_id: str) -> Any:
    """Download a document the citizen may see, as an attachment."""
    try:
        download = cases.citizen_document(context(), case_id, doc_id)
    except Rejected as exc:
        return error_response(exc.status)
    except NotShown:
        return error_response(404, *DOCUMENT_NOT_FOUND)
    except DocumentGone:
        return error_response(
            404,
            _l("Dokumentet findes ikke længere"),
            _l(
                "Kommunens system kender ikke dokumentet længere. Kontakt kommunen, hvis du"
                " har brug for det."
            ),
        )
    except DocumentUnavailable:
        return error_response(
            502,
            _l("Dokumentet kunne ikke hentes lige nu"),
            _l("Kommunens system svarede ikke, da vi bad om dokumentet. Prøv igen om lidt."),
        )
    return send_download(download)


SEEN_PER_PAGE = 20


@bp.get("/mine-sager/hvem-har-set")
@citizen_required
def seen_by() -> Any:
    """ "Hvem har set mine oplysninger": every staff row that showed the citizen's data,
    newest first — lookups of their CPR, property lookups naming them as owner or party,
    case views and "Mit skrivebord" views of their cases (the persons each row records).

    The citizen's own visits are not listed. Whether staff names are shown is the
    municipality's choice (``[audit] show_staff_names``); the unit always is.
    """
    user = current_user()
    person = subject_key(user.cpr)
    try:
        page = max(1, min(int(request.args.get("side", "1")), 10_000))
    except ValueError:
        page = 1
    try:
        rows, total = auditing.audit_log().lookups_of(person, page=page, per_page=SEEN_PER_PAGE)
    except AuditUnavailable:
        log.error("the audit log could not be read for a citizen's 'hvem har set' page")
        return error_response(
            503,
            _l("Oplysningerne kan ikke vises lige nu"),
            _l("Vi kan ikke læse loggen over opslag lige nu. Prøv igen om lidt."),
        )
    pages = max(1, -(-total // SEEN_PER_PAGE))
    config = current_app.extensions["borgersag"].config
    return render_template(
        "citizen/seen_by.html",
        rows=[(record.event, _what(record.event, person)) for record in rows],
        total=total,
        page=min(page, pages),
        pages=pages,
        show_names=config.section(AUDIT).show_staff_names,
    )


def _what(event, person: str) -> str:
    """A "Hvem har set" row's what, in the page's language (the export stays Danish)."""
    what = citizen_what(event, person)
    return gettext(what) if what else ""  # gettext("") would be the catalogue's header


def steps_of(case: CitizenCase) -> Steps:
    """The case's steps under the step model of its kind (``[case_kinds.<name>] steps``)."""
    kinds = current_app.extensions["borgersag"].config.section(CASE_KINDS)
    model = kinds.steps(case.kle, case.area, case.sources)
    return citizen_steps(case.progress, case.progress_history, model)


@bp.context_processor
def _template_helpers() -> dict[str, Any]:
    return {
        "steps_of": steps_of,
        "step_label": step_label,
        "step_explanation": step_explanation,
        "progress_text": progress_text,
        "document_kind": document_kind,
    }


def init_app(app: Flask) -> None:
    """Register the citizen pages."""
    app.register_blueprint(bp)
