"""The caseworker pages: lookup, overview, case, document download, Mit skrivebord.

Views only translate HTTP: they read the form, call a use case
(:mod:`borgersag.lookup.usecases`, :mod:`borgersag.lookup.cases`) with the request's
context (:func:`borgersag.web.channel.context`) and render its result or refusal. The
lookup is a POST so a key never enters a URL; the overview lives server-side under an
opaque token (see :mod:`borgersag.web.overviews`), and case and document pages are
reachable only for cases in that overview. What is stored is already restricted to what
the caseworker may see (:mod:`borgersag.people.restrictions`): a hidden case is not in
it, so its id gives the same 404 as an unknown one and its source is never asked about
it.
"""

from __future__ import annotations

import itertools
from functools import partial
from typing import Any

from flask import (
    Blueprint,
    Flask,
    current_app,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)

from borgersag.domain.keys import KeyKind
from borgersag.domain.model import Overview, SourceStatus
from borgersag.domain.person import known_to_sources, person_facts
from borgersag.domain.relations import Expansion
from borgersag.lookup import cases, usecases
from borgersag.lookup.cases import Expired, NotShown
from borgersag.lookup.channels import Channel, Rejected, kinds_for
from borgersag.lookup.documents import DocumentGone, DocumentUnavailable
from borgersag.lookup.ports import FAILED, StoredOverview
from borgersag.people.permissions import Permission
from borgersag.people.restrictions import PROTECTED_ADDRESS, SEE_PROTECTED_ADDRESS
from borgersag.web.accessibility import ACCESSIBILITY
from borgersag.web.channel import context, in_background, send_download, settings
from borgersag.web.completeness import RowMarks, announce_incomplete, caseworker_notice
from borgersag.web.errors import error_response
from borgersag.web.login import caseworker_required, current_user
from borgersag.web.narrowing import NO_AREA, Sort, case_changed, case_systems, narrowed
from borgersag.web.overviews import OverviewStore, SealedOverviewStore, is_token
from borgersag.web.present import access_summary, plural, source_titles

__all__ = [
    "ASYNC_FIELD",
    "HINTS",
    "init_app",
    "overview_store",
    "purposes",
    "stored_overview",
]

bp = Blueprint("web", __name__)

HINTS = {
    KeyKind.CPR: "10 cifre, fx 010190-1234",
    KeyKind.CVR: "8 cifre, fx 29189846",
    KeyKind.MATRIKEL: "Ejerlavskode og matrikelnummer, fx 2000351-12a",
    KeyKind.BFE: "Et tal, fx 100123456",
    KeyKind.MEDARBEJDER: "Dit eget{own} (en kollegas kræver, at din rolle må se kollegers sager)",
}
HINT_ANY_EMPLOYEE = "Dit eget{own} eller en kollegas"

ASYNC_FIELD = ("respond", "async")
"""The form field ``static/js/lookup.js`` adds: the POST then answers at once with the
pending overview, which the page fills in as the sources answer. Without it (no
JavaScript) the POST waits for the whole overview, as it always did."""


def _hints() -> dict[KeyKind, str]:
    """The hints, the medarbejdernummer one naming the signed-in caseworker's own number
    and whether their role lets them look up a colleague's."""
    user = current_user()
    own = f": {user.medarbejdernummer}" if user and user.medarbejdernummer else ""
    employee = HINT_ANY_EMPLOYEE if user and user.may(Permission.SE_KOLLEGERS_SAGER) else None
    return {
        **HINTS,
        KeyKind.MEDARBEJDER: (employee or HINTS[KeyKind.MEDARBEJDER]).format(own=own),
    }


def purposes() -> tuple[tuple[str, ...], bool]:
    """The configured purposes (formål) and whether a lookup must name one."""
    found = settings()
    return found.purposes, found.purpose_required


def stored_overview(token: str) -> StoredOverview | None:
    """The signed-in user's overview under ``token``, or ``None`` (unknown, expired);
    restricted again by their current rights (:func:`borgersag.lookup.usecases.stored_overview`)."""
    return usecases.stored_overview(context(), token)


def overview_store() -> OverviewStore | SealedOverviewStore:
    """The app's store of overviews."""
    return current_app.extensions["borgersag.overviews"]


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
    name, wanted = ASYNC_FIELD
    try:
        if request.form.get(name) == wanted:
            token = usecases.start_look_up(
                context(), Channel.FORM, kind, value, chosen, in_background=in_background()
            )
        else:
            token = usecases.look_up(context(), Channel.FORM, kind, value, chosen).token
    except Rejected as exc:
        return _lookup_page(kind, value, chosen, exc.errors, exc.status)
    return redirect(url_for("web.overview", token=token), code=303)


def _lookup_page(
    kind: str, value: str, purpose: str, errors: dict[str | None, str], status: int = 200
) -> Any:
    choices, required = purposes()
    return (
        render_template(
            "lookup.html",
            kinds=kinds_for(Channel.FORM),
            hints=_hints(),
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
    if entry.state == FAILED:
        return _failed_lookup()
    view = _overview_view(token, entry)
    return render_template("overview.html", **view), view["shown"].status


@bp.get("/oversigt/<token>/status")
@caseworker_required
def overview_status(token: str) -> Any:
    """A pending overview's progress for the page's script: ``state`` (``pending``,
    ``complete``, ``failed``), ``answered`` of ``total`` sources, the sentence to
    announce, and the overview's body as HTML rendered here (escaped by Jinja)."""
    entry = stored_overview(token)
    if entry is None:
        return jsonify(state="expired"), 404
    if entry.state == FAILED:
        return jsonify(state=FAILED)
    view = _overview_view(token, entry)
    return jsonify(
        state=entry.state,
        answered=view["answered"],
        total=view["total"],
        announce=view["announce"],
        html=render_template("_overview_body.html", **view),
    )


OVERVIEW_PER_PAGE = 25
"""Cases on one page of a caseworker overview (and of Mit skrivebord)."""


def _systems(found: Overview) -> list[tuple[str, str]]:
    """The sources that hold some of the overview's cases: (name, title) to filter by."""
    titles = source_titles(found)
    names = dict.fromkeys(name for case in found.cases for name in case_systems(case))
    return sorted(((name, titles.get(name, name)) for name in names), key=lambda s: s[1])


def _overview_view(token: str, entry: StoredOverview) -> dict[str, Any]:
    """What the overview page and its status fragment are rendered from."""
    found = entry.overview
    asked = [
        r
        for r in found.sources
        if r.status not in (SourceStatus.NOT_APPLICABLE, SourceStatus.DISABLED)
    ]
    answered, total = len(asked), len(asked) + len(entry.waiting)
    notice = caseworker_notice(found)
    if entry.pending:
        announce = (
            f"{answered} af {plural(total, 'system', 'systemer')} har svaret."
            if total
            else "Systemerne spørges."
        )
    elif notice:
        announce = announce_incomplete(notice)
    else:
        announce = (
            f"Oversigten er færdig: {plural(len(found.cases), 'sag', 'sager')}"
            f" fra {plural(answered, 'system', 'systemer')}."
        )
    groups = found.by_area()
    shown = narrowed(
        [case for _, cases in groups for case in cases],
        request.args,
        partial(url_for, "web.overview", token=token),
        per_page=OVERVIEW_PER_PAGE,
        changed=case_changed,
        systems_of=case_systems,
        sorts=(Sort.CHANGED, Sort.DEADLINE, Sort.OPENED),
        systems=_systems(found),
        own_order="Fagområde",
    )
    page_groups = [
        (area, list(cases))
        for area, cases in itertools.groupby(shown.page.items, key=lambda c: c.area or NO_AREA)
    ]
    user = current_user()
    may_see = user.may(SEE_PROTECTED_ADDRESS)
    return dict(
        overview=found,
        token=token,
        person=person_facts(found, masked_address=None if may_see else PROTECTED_ADDRESS),
        known=known_to_sources(found) or entry.hidden_count > 0,
        owners=_owners(found),
        groups=groups,
        shown=shown,
        page_groups=page_groups,
        status_url=url_for("web.overview_status", token=token, **shown.how.query()),
        titles=source_titles(found),
        open_count=sum(1 for c in found.cases if c.is_open),
        hidden_count=entry.hidden_count,
        access=access_summary(user.restrictions),
        purpose=entry.purpose,
        pending=entry.pending,
        waiting=entry.waiting,
        answered=answered,
        total=total,
        announce=announce,
        notice=notice,
        mark=RowMarks(found),
    )


def _owners(found: Overview) -> list[Expansion]:
    """A property's owners as the overview shows them (not searched on), in order; the
    owner form names one by its place in this list, so no CPR number leaves the server."""
    return [e for e in found.expansions if not e.searched and e.key.kind is KeyKind.CPR]


@bp.post("/oversigt/<token>/ejer")
@caseworker_required
def owner_overview(token: str) -> Any:
    """Open the overview of one of a property's owners: the form names the owner by
    number in the kept property overview, the server reads the CPR number from there and
    looks it up like any other lookup (rate limit, audit, purpose of the property's
    lookup), so the number never travels in a URL or a form."""
    entry = stored_overview(token)
    if entry is None or entry.pending:
        return _expired() if entry is None else redirect(url_for("web.overview", token=token))
    owners = _owners(entry.overview)
    chosen = request.form.get("ejer", "")
    if not chosen.isdecimal() or not 1 <= int(chosen) <= len(owners):
        return error_response(
            400, "Ejeren findes ikke", "Vælg en af ejendommens ejere på oversigten."
        )
    owner = owners[int(chosen) - 1].key
    try:
        kept = usecases.look_up(
            context(), Channel.FORM, owner.kind.value, owner.value, entry.purpose or ""
        )
    except Rejected as exc:
        return error_response(exc.status, exc.title, exc.message)
    return redirect(url_for("web.overview", token=kept.token), code=303)


@bp.get("/oversigt/<token>/sag/<path:case_id>")
@caseworker_required
def case(token: str, case_id: str) -> Any:
    """One case in full, from its source; the overview's copy if the source fails."""
    try:
        shown = cases.caseworker_case(context(), token, case_id)
    except Expired:
        return _expired()
    except NotShown:
        return _no_such_case()
    found = shown.entry.overview
    return render_template(
        "case.html",
        overview=found,
        token=token,
        case=shown.case,
        problem=shown.problem,
        titles=source_titles(found),
    )


@bp.get("/oversigt/<token>/sag/<path:case_id>/dokument/<document_id>")
@caseworker_required
def document(token: str, case_id: str, document_id: str) -> Any:
    """Download a document of a case in the overview, as an attachment."""
    try:
        download = cases.caseworker_document(context(), token, case_id, document_id)
    except Expired:
        return _expired()
    except NotShown:
        return error_response(
            404,
            "Dokumentet findes ikke",
            "Dokumentet hører ikke til en sag i dette opslag. Gå tilbage til sagen.",
        )
    except DocumentGone:
        return error_response(
            404,
            "Dokumentet findes ikke længere",
            "Kildesystemet kender ikke dokumentet længere. Det kan være flyttet eller slettet.",
        )
    except DocumentUnavailable:
        return error_response(
            502,
            "Dokumentet kunne ikke hentes",
            "Kildesystemet svarede ikke, da vi bad om dokumentet. Prøv igen om lidt.",
        )
    return send_download(download)


@bp.get("/mit-skrivebord")
@caseworker_required
def desk() -> Any:
    """ "Mit skrivebord": the caseworker's own cases in every system, deadlines first.

    A lookup on the caseworker's own medarbejdernummer, kept and audited like any other
    (:func:`borgersag.lookup.usecases.desk`); the case links open the usual case pages.
    """
    token = request.args.get("liste", "")
    try:
        found = usecases.desk(context(), token if is_token(token) else None)
    except Rejected as exc:
        return error_response(exc.status, exc.title, exc.message)
    entry = found.kept.entry
    shown = narrowed(
        found.open_cases,
        request.args,
        partial(url_for, "web.desk"),
        per_page=OVERVIEW_PER_PAGE,
        changed=case_changed,
        systems_of=case_systems,
        sorts=(Sort.CHANGED, Sort.OPENED),
        systems=_systems(entry.overview),
        own_order="Frist",
        states=False,
        hidden={"liste": found.kept.token},
    )
    return render_template(
        "desk.html",
        overview=entry.overview,
        token=found.kept.token,
        shown=shown,
        open_cases=list(found.open_cases),
        closed_count=found.closed_count,
        systems=found.systems,
        titles=source_titles(entry.overview),
        hidden_count=entry.hidden_count,
        access=access_summary(current_user().restrictions),
        notice=caseworker_notice(entry.overview, "Skrivebordet er ikke komplet"),
        mark=RowMarks(entry.overview),
    ), shown.status


@bp.get("/tilgaengelighed")
def accessibility() -> Any:
    """The accessibility statement (public, linked from every footer): the facts of the
    ``[accessibility]`` table, in the order of the EU model statement."""
    config = current_app.extensions["borgersag"].config
    statement = config.section(ACCESSIBILITY)
    return render_template("accessibility.html", statement=statement, overdue=statement.overdue())


def _no_such_case() -> Any:
    # The same answer for a case that is hidden from the user and one that does not exist.
    return error_response(
        404,
        "Sagen findes ikke i oversigten",
        "Sagen er ikke en del af dette opslag. Gå tilbage til oversigten.",
    )


def _failed_lookup() -> Any:
    return error_response(
        503,
        "Opslaget blev ikke færdigt",
        "Opslaget kunne ikke gøres færdigt, så der vises intet fra det. Lav opslaget igen."
        " Sker det igen, så kontakt din systemadministrator.",
    )


def _expired() -> Any:
    return (
        render_template("expired.html", ttl_minutes=_ttl_minutes()),
        404,
    )


def _ttl_minutes() -> int:
    return max(1, round(overview_store().ttl / 60))


def init_app(app: Flask) -> None:
    """Register the pages."""
    app.register_blueprint(bp)
