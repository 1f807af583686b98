"""The data-protection officer's page: search the audit log, export one person's log.

Routes (all for the permission ``databeskyttelse``; anyone else gets 403 and a
``refused`` row, like every page a role does not allow):

``GET /databeskyttelse``, ``POST /databeskyttelse``
    the search form: a person (CPR number), an employee (medarbejdernummer), a unit, a
    period and why. The CPR number travels only in the POST body: the search is kept in
    the server-side session under a random id, and the browser is sent to
    ``/databeskyttelse/soegning/<id>``, so no address, link or history entry holds it.
``GET /databeskyttelse/soegning/<id>?side=N``
    one page of the results, newest first, pinned to the log as it was when the search
    was made (the officer's own search rows do not shift the pages).
``GET /databeskyttelse/soegning/<id>/udtraek.csv``, ``…/udskrift``
    one person's log for a GDPR art. 15 request, as CSV for Excel and as a page meant for
    printing: date, what, purpose, unit, and the employee's name only when the
    municipality shows names to citizens (``[audit] show_staff_names``).

Every results page and every export is itself written to the audit log before it is
shown (``audit_search``, ``audit_export``, with the searched person as subject), and
fails closed like any other audited view: no row, nothing shown.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import secrets
from collections.abc import Callable
from typing import Any

from flask import (
    Blueprint,
    Flask,
    Response,
    current_app,
    redirect,
    render_template,
    request,
    url_for,
)
from flask import session as flask_session

from borgersag.audit import AUDIT, AuditUnavailable
from borgersag.audit.search import (
    AuditQuery,
    ExportTooLarge,
    export_rows,
    head_seq,
    search,
)
from borgersag.domain.keys import InvalidKey, Key, KeyKind, key_of, parse_key
from borgersag.web import auditing
from borgersag.web.dpo_export import citizen_rows, export_csv, officer_row, subject_text
from borgersag.web.errors import error_response
from borgersag.web.login import dpo_required
from borgersag.web.present import LOCAL_TZ

__all__ = ["PER_PAGE", "PURPOSES", "init_app"]

log = logging.getLogger(__name__)

bp = Blueprint("dpo", __name__)

PER_PAGE = 50
KEPT_SEARCHES = 5  # searches a session remembers (other tabs); the oldest goes first
SESSION_KEY = "_dpo_searches"
PURPOSES = (
    "Anmodning om indsigt (art. 15)",
    "Klage eller henvendelse fra en borger",
    "Kontrol af opslag",
    "Sikkerhedshændelse",
)
_ID_RE = re.compile(r"^[A-Za-z0-9_-]{16,32}$")
_DATE_FORMATS = ("%Y-%m-%d", "%d.%m.%Y", "%d-%m-%Y", "%d/%m/%Y")

UNAVAILABLE = (
    "Loggen kan ikke læses lige nu",
    "Vi kan ikke søge i loggen over opslag lige nu. Prøv igen om lidt. Hvis fejlen bliver"
    " ved, så kontakt support og oplys fejl-id'et nedenfor.",
)
GONE = (
    "Søgningen findes ikke længere",
    "Søgningen er ikke gemt i din session længere: du er logget ud imens, eller du har"
    " lavet mange søgninger siden. Lav søgningen igen.",
)
TOO_LARGE = (
    "Udtrækket er for stort",
    "Der er for mange rækker til ét udtræk. Vælg en kortere periode i søgningen, og lav"
    " udtrækket i flere dele.",
)


# --- the form ------------------------------------------------------------------------------


def _parse_date(text: str) -> dt.date:
    for fmt in _DATE_FORMATS:
        try:
            return dt.datetime.strptime(text.strip(), fmt).date()
        except ValueError:
            continue
    raise ValueError("Skriv datoen som dd.mm.åååå, fx 01.11.2026.")


def _midnight(day: dt.date) -> dt.datetime:
    """00:00 Danish time on ``day``: the period's days are the officer's own days."""
    return dt.datetime.combine(day, dt.time(), tzinfo=LOCAL_TZ)


def _read_form(form: Any) -> tuple[dict[str, Any], dict[str, str]]:
    """The search the form asks for, as it is kept in the session, and the errors."""
    errors: dict[str, str] = {}
    kept: dict[str, Any] = {}
    for field, name, kind in (
        ("cpr", "cpr", KeyKind.CPR),
        ("medarbejder", "employee", KeyKind.MEDARBEJDER),
    ):
        given = str(form.get(field, "")).strip()
        if given:
            try:
                kept[name] = parse_key(kind, given).value
            except InvalidKey as exc:
                errors[field] = str(exc)
    unit = str(form.get("enhed", "")).strip()
    if unit:
        if len(unit) > 200:
            errors["enhed"] = "Enhedens navn er højst 200 tegn."
        elif re.search(r"\d{6}", re.sub(r"[\s./-]", "", unit)):
            # kept in the search's audit row: no CPR number may hide in it
            errors["enhed"] = (
                "Skriv enhedens navn uden numre. Et CPR-nummer hører til feltet CPR-nummer."
            )
        else:
            kept["unit"] = unit
    for field, name in (("fra", "since"), ("til", "until")):
        text = str(form.get(field, "")).strip()
        if text:
            try:
                kept[name] = _parse_date(text).isoformat()
            except ValueError as exc:
                errors[field] = str(exc)
    if "since" in kept and "until" in kept and kept["until"] < kept["since"]:
        errors["til"] = "Slutdatoen skal ligge på eller efter startdatoen."
    purpose = str(form.get("formaal", ""))
    if purpose and purpose not in PURPOSES:
        errors["formaal"] = "Vælg et af formålene på listen."
    kept["purpose"] = purpose if purpose in PURPOSES else ""
    if not errors and not ({"cpr", "employee", "unit", "since", "until"} & set(kept)):
        errors["cpr"] = (
            "Udfyld mindst ét af felterne: CPR-nummer, medarbejder, enhed eller periode."
        )
    return kept, errors


def _form_page(values: dict[str, str], errors: dict[str, str], status: int = 200) -> Any:
    return (
        render_template("dpo/search.html", values=values, errors=errors, purposes=PURPOSES),
        status,
    )


@bp.get("/databeskyttelse")
@dpo_required
def form() -> Any:
    """The empty search form."""
    return _form_page({}, {})


@bp.post("/databeskyttelse")
@dpo_required
def form_post() -> Any:
    """Check the form, keep the search in the session and send the browser to it."""
    kept, errors = _read_form(request.form)
    if errors:
        shown = {name: str(request.form.get(name, ""))[:200] for name in _FIELDS}
        return _form_page(shown, errors, 400)
    try:
        kept["up_to_seq"] = head_seq(auditing.audit_log())
    except AuditUnavailable:
        return error_response(503, *UNAVAILABLE)
    search_id = secrets.token_urlsafe(18)
    kept["id"] = search_id
    searches = [s for s in flask_session.get(SESSION_KEY, []) if isinstance(s, dict)]
    flask_session[SESSION_KEY] = [*searches, kept][-KEPT_SEARCHES:]
    return redirect(url_for("dpo.results", search_id=search_id), code=303)


_FIELDS = ("cpr", "medarbejder", "enhed", "fra", "til", "formaal")


# --- a kept search -------------------------------------------------------------------------


class _Search:
    """A search kept in the session, read back."""

    def __init__(self, data: dict[str, Any]):
        self.id = str(data["id"])
        self.person: Key | None = key_of(KeyKind.CPR, data["cpr"]) if data.get("cpr") else None
        self.employee: str = str(data.get("employee", ""))
        self.unit: str = str(data.get("unit", ""))
        self.since = dt.date.fromisoformat(data["since"]) if data.get("since") else None
        self.until = dt.date.fromisoformat(data["until"]) if data.get("until") else None
        self.purpose: str = str(data.get("purpose", ""))
        self.up_to_seq = int(data["up_to_seq"])

    def query(self, *, pinned: bool = True, exclude_actor_type: str | None = None) -> AuditQuery:
        """The search as an audit query (``pinned``: to the log as it was when made)."""
        return AuditQuery(
            subject=f"cpr:{self.person.value}" if self.person else "",
            employee=self.employee,
            unit=self.unit,
            since=_midnight(self.since) if self.since else None,
            until=_midnight(self.until + dt.timedelta(days=1)) if self.until else None,
            up_to_seq=self.up_to_seq if pinned else None,
            exclude_actor_type=exclude_actor_type,
        )

    @property
    def subject(self) -> Key | None:
        """Whom the search is about, for its audit row: the person, else the employee."""
        if self.person is not None:
            return self.person
        return key_of(KeyKind.MEDARBEJDER, self.employee) if self.employee else None

    def summary(self) -> list[tuple[str, str]]:
        """The criteria in Danish, the CPR number masked."""
        parts = []
        if self.person is not None:
            parts.append(("Person", subject_text(f"cpr:{self.person.value}")))
        if self.employee:
            parts.append(("Medarbejder", self.employee))
        if self.unit:
            parts.append(("Enhed indeholder", self.unit))
        if self.since or self.until:
            since = self.since.strftime("%d.%m.%Y") if self.since else "…"
            until = self.until.strftime("%d.%m.%Y") if self.until else "…"
            parts.append(("Periode", f"{since} – {until}"))
        if self.purpose:
            parts.append(("Formål", self.purpose))
        return parts

    def detail(self, what: str, count: int) -> str:
        """The audit row's ``detail``: the criteria besides the person (who is the
        subject), and how many rows were shown — never the CPR number."""
        parts = [what]
        if self.employee:
            parts.append(f"medarbejder {self.employee}")
        if self.unit:
            parts.append(f"enhed '{self.unit}'")
        if self.since or self.until:
            parts.append(f"periode {self.since or '…'} – {self.until or '…'}")
        parts.append(f"{count} rækker")
        return "; ".join(parts)


def _kept(search_id: str) -> _Search | None:
    if not _ID_RE.match(search_id):
        return None
    for data in flask_session.get(SESSION_KEY, []):
        if isinstance(data, dict) and data.get("id") == search_id:
            try:
                return _Search(data)
            except (KeyError, TypeError, ValueError, InvalidKey):
                log.warning("a kept audit search could not be read; treated as gone")
                return None
    return None


def _page_number() -> int:
    try:
        return max(1, min(int(request.args.get("side", "1")), 100_000))
    except ValueError:
        return 1


@bp.get("/databeskyttelse/soegning/<search_id>")
@dpo_required
def results(search_id: str) -> Any:
    """One page of a kept search's results, recorded before it is shown."""
    kept = _kept(search_id)
    if kept is None:
        return error_response(404, *GONE)
    page = _page_number()
    try:
        found = search(auditing.audit_log(), kept.query(), page=page, per_page=PER_PAGE)
    except AuditUnavailable:
        return error_response(503, *UNAVAILABLE)
    auditing.record(
        "audit_search",
        subject=kept.subject,
        purpose=kept.purpose,
        detail=kept.detail(f"søgning side {page}", len(found.records)),
    )
    return render_template(
        "dpo/results.html",
        search=kept,
        found=found,
        rows=[officer_row(record) for record in found.records],
    )


def _export(
    kept: _Search | None, what: str, build: Callable[[list[dict[str, str]], bool], Any]
) -> Any:
    """Answer with ``build(rows, names)`` for the person of ``kept``: every row about them
    up to now except their own visits, recorded as an export before anything is sent.
    ``names``: whether the employee's name is included (``[audit] show_staff_names``)."""
    if kept is None or kept.person is None:
        return error_response(404, *GONE)
    names = current_app.extensions["borgersag"].config.section(AUDIT).show_staff_names
    query = kept.query(pinned=False, exclude_actor_type="citizen")
    try:
        records = export_rows(auditing.audit_log(), query)
    except ExportTooLarge:
        return error_response(413, *TOO_LARGE)
    except AuditUnavailable:
        return error_response(503, *UNAVAILABLE)
    auditing.record(
        "audit_export",
        subject=kept.person,
        purpose=kept.purpose,
        detail=kept.detail(what, len(records)),
    )
    person = f"cpr:{kept.person.value}"
    return build(citizen_rows(records, names=names, person=person), names)


def _csv(rows: list[dict[str, str]], names: bool) -> Response:
    made = dt.datetime.now(LOCAL_TZ).strftime("%Y-%m-%d")
    response = Response(export_csv(rows, names=names), mimetype="text/csv")
    response.headers["Content-Type"] = "text/csv; charset=utf-8"
    # No CPR number in the file name: it ends up in download folders and mail subjects.
    response.headers["Content-Disposition"] = f'attachment; filename="log-udtraek-{made}.csv"'
    return response


@bp.get("/databeskyttelse/soegning/<search_id>/udtraek.csv")
@dpo_required
def export_as_csv(search_id: str) -> Any:
    """The person's log as CSV for Excel (UTF-8 with BOM, ``;``, formulas disarmed)."""
    return _export(_kept(search_id), "udtræk csv", _csv)


@bp.get("/databeskyttelse/soegning/<search_id>/udskrift")
@dpo_required
def export_for_print(search_id: str) -> Any:
    """The person's log as a page meant for printing (or saving as PDF)."""
    kept = _kept(search_id)

    def page(rows: list[dict[str, str]], names: bool) -> Any:
        made = dt.datetime.now(dt.UTC)
        return render_template("dpo/print.html", search=kept, rows=rows, names=names, made=made)

    return _export(kept, "udtræk udskrift", page)


def init_app(app: Flask) -> None:
    """Register the page."""
    app.register_blueprint(bp)
