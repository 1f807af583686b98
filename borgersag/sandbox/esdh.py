"""The sandbox ESDH: an SBSYS-style REST API over the generated municipality.

OAuth2 password grant at ``connect/token``; every ``api/*`` call needs the Bearer token.
Case search is a POST so a CPR number never appears in a URL or an access log. It is
exactly the documented search: ``Limit`` (1-2000) and ``{"Results": [...]}``, no offset,
no total — the sandbox never offers what the real API lacks.
"""

from __future__ import annotations

import datetime as dt
import re
import secrets
import threading
import time
import zlib

from flask import Flask, Response, jsonify, request

from borgersag.sandbox import catalog, hostile
from borgersag.sandbox.data import EsdhCase, EsdhDocument, Municipality, StatusEntry
from borgersag.sandbox.faults import Faults
from borgersag.sandbox.service import json_error, make_service_app

__all__ = ["CREDENTIALS", "create_app"]

CREDENTIALS = {
    "client_id": "borgersag",
    "client_secret": "sandbox-secret",
    "username": "borgersag-svc",
    "password": "sandbox",
}
TOKEN_LIFETIME = 3600
MAX_LIMIT = 2000
DEFAULT_LIMIT = 100
_CPR_DASHED = re.compile(r"^\d{6}-\d{4}$")


class _Tokens:
    """Issued access tokens and when they expire."""

    def __init__(self) -> None:
        self._tokens: dict[str, float] = {}
        self._lock = threading.Lock()

    def issue(self) -> str:
        token = secrets.token_urlsafe(24)
        with self._lock:
            self._tokens[token] = time.monotonic() + TOKEN_LIFETIME
        return token

    def valid(self, token: str) -> bool:
        with self._lock:
            expires = self._tokens.get(token)
        return expires is not None and expires > time.monotonic()

    def revoke_all(self) -> int:
        with self._lock:
            count = len(self._tokens)
            self._tokens.clear()
        return count


def create_app(municipality: Municipality, faults: Faults | None = None) -> Flask:
    """The SBSYS-style API for ``municipality``, with ``faults`` as its knobs."""
    tokens = _Tokens()

    def authorize():
        if request.path == "/connect/token":
            return None
        header = request.headers.get("Authorization", "")
        if not header.startswith("Bearer ") or not tokens.valid(header[7:].strip()):
            return json_error(401, "Adgang kræver et gyldigt Bearer-token fra connect/token.")
        return None

    faults = faults or Faults()
    app = make_service_app("esdh", "SBSYS", faults, authorize=authorize)
    m = municipality

    @app.post("/connect/token")
    def token():
        form = request.form
        if form.get("grant_type") != "password":
            return jsonify(
                {
                    "error": "unsupported_grant_type",
                    "error_description": "Only grant_type=password is supported.",
                }
            ), 400
        if any(not secrets.compare_digest(form.get(k, ""), v) for k, v in CREDENTIALS.items()):
            return jsonify(
                {"error": "invalid_grant", "error_description": "Wrong client or user credentials."}
            ), 400
        return jsonify(
            {"access_token": tokens.issue(), "token_type": "Bearer", "expires_in": TOKEN_LIFETIME}
        )

    @app.post("/_sandbox/revoke-tokens")
    def revoke_tokens():
        return jsonify({"revoked": tokens.revoke_all()})

    @app.put("/_sandbox/cases/<int:case_id>/status")
    def set_status(case_id: int):
        """The demo's and the tests' knob: a caseworker moves a case to another status
        (one of the sandbox's status names), dated today unless ``date`` says otherwise."""
        body = request.get_json(silent=True)
        statuses = {
            name: (tilstand, progress) for name, tilstand, progress in catalog.ESDH_STATUSES
        }
        name = body.get("status") if isinstance(body, dict) else None
        if name not in statuses:
            return json_error(400, f"status skal være en af {', '.join(statuses)}.")
        try:
            day = dt.date.fromisoformat(body.get("date") or dt.date.today().isoformat())
        except (TypeError, ValueError):
            return json_error(400, "date skal skrives ÅÅÅÅ-MM-DD.")
        tilstand, progress = statuses[name]
        comment = body.get("comment")
        entry = StatusEntry(
            name, day, tilstand, progress, comment if isinstance(comment, str) else None
        )
        case = m.set_status(case_id, entry)
        if case is None:
            return json_error(404, f"Sag {case_id} findes ikke.")
        return jsonify(_case_json(m, case))

    @app.post("/api/sag/search")
    def search():
        body = request.get_json(silent=True)
        if not isinstance(body, dict):
            return json_error(400, "Forventede et JSON-objekt med søgekriterier.")
        # The documented search: Limit and nothing else to page with. An Offset (or any
        # field the real API lacks) is ignored, as a real server ignores unknown fields.
        limit = body.get("Limit", DEFAULT_LIMIT)
        if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_LIMIT:
            return json_error(400, f"Limit skal være et heltal 1-{MAX_LIMIT}.")
        person, worker = body.get("PrimaerPerson"), body.get("Behandler")
        if isinstance(person, dict):
            cpr = person.get("CprNummer")
            if not isinstance(cpr, str) or not _CPR_DASHED.match(cpr):
                return json_error(400, "PrimaerPerson.CprNummer skal skrives DDMMÅÅ-LLLL.")
            found = m.cases_for(cpr.replace("-", ""))
        elif isinstance(worker, dict) and isinstance(worker.get("Medarbejdernummer"), str):
            found = m.cases_handled_by(worker["Medarbejdernummer"])
        else:
            return json_error(
                400, "Angiv PrimaerPerson.CprNummer eller Behandler.Medarbejdernummer."
            )
        results = [_case_json(m, c) for c in found]
        if faults.hostile:
            results = _hostile_results(results)
        return jsonify({"Results": results[:limit]})

    @app.get("/api/sag/<int:case_id>")
    def get_case(case_id: int):
        case = m.case(case_id)
        if case is None:
            return json_error(404, f"Sag {case_id} findes ikke.")
        body = _case_json(m, case)
        return jsonify(_hostile_case(body) if faults.hostile else body)

    @app.get("/api/sag/<int:case_id>/dokumenter")
    def documents(case_id: int):
        case = m.case(case_id)
        if case is None:
            return json_error(404, f"Sag {case_id} findes ikke.")
        response = jsonify([_document_json(m, d) for d in case.documents])
        if faults.hostile and hostile.spoilt(case_id, 3, "content-type"):
            response.headers["Content-Type"] = hostile.WRONG_CONTENT_TYPE
        return response

    @app.get("/api/fil/<int:file_id>")
    def file(file_id: int):
        doc = m.file(file_id)
        if doc is None:
            return json_error(404, f"Fil {file_id} findes ikke.")
        response = Response(doc.content.encode("utf-8"), mimetype="text/plain")
        response.headers["Content-Disposition"] = f'attachment; filename="dokument-{doc.id}.txt"'
        return response

    @app.get("/api/sag/sagStatusList")
    def status_list():
        if faults.hostile:  # the list a real server sends as text/html now and then
            response = jsonify([{"Id": 1, "Navn": "Opstået", "SagsTilstand": "Aktiv"}])
            response.headers["Content-Type"] = hostile.WRONG_CONTENT_TYPE
            return response
        return jsonify(
            [
                {"Id": i, "Navn": name, "SagsTilstand": tilstand}
                for i, (name, tilstand, _) in enumerate(catalog.ESDH_STATUSES, start=1)
            ]
        )

    return app


def _stamp(day: dt.date, hour: int = 9) -> str:
    return dt.datetime.combine(day, dt.time(hour, 0)).isoformat()


def _user(m: Municipality, medarbejdernummer: str) -> dict | None:
    employee = m.employee(medarbejdernummer)
    if employee is None:
        return None
    return {
        "LogonId": employee.logon_id,
        "Navn": employee.name,
        "Medarbejdernummer": employee.medarbejdernummer,
    }


def _case_json(m: Municipality, case: EsdhCase) -> dict:
    party = m.citizen(case.party_cpr)
    status = case.status
    closed = case.closed
    return {
        "Id": case.id,
        "SagIdentity": case.identity,
        "Nummer": case.nummer,
        "SagsTitel": case.title,
        "Opstaaet": _stamp(case.opened),
        "OprettetAf": _user(m, case.created_by),
        "SenestAendret": _stamp(case.last_changed, 14),
        "SagsStatus": {
            "Navn": status.name,
            "SagsTilstand": status.tilstand,
            "SagsStatusKommentar": status.comment,
        },
        "SagsStatusHistorik": [
            {
                "Navn": s.name,
                "Dato": _stamp(s.date),
                "SagsTilstand": s.tilstand,
                "Kommentar": s.comment,
            }
            for s in case.history
        ],
        "ErBeskyttet": case.protected,
        "ErBesluttet": case.decided,
        "Fagomraade": {"Navn": case.area},
        "SagSkabelon": {"Id": zlib.crc32(case.template.encode()) % 1000, "Navn": case.template},
        "Kle": {"Nummer": case.kle, "Titel": case.kle_title},
        "Facet": case.facet,
        "Foelsomhed": catalog.SENSITIVITY_CODES[case.sensitivity],
        "PrimaryPart": {
            "Navn": party.name if party else None,
            "CPRnummer": party.cpr_dashed if party else None,
            "Adresse": str(party.address) if party else None,
            "NavneOgAdressebeskyttelse": party.protected if party else False,
        },
        "Behandler": _user(m, case.caseworker),
        "AnsvarligEnhed": {"Navn": case.unit},
        "Frist": case.deadline.isoformat() if case.deadline else None,
        "Afsluttet": _stamp(closed, 15) if closed else None,
        "EksterneReferencer": [{"System": s, "Nummer": n} for s, n in case.external_refs],
        "Ejendomme": [
            {"BfeNummer": bfe, "Ejerlavskode": ejerlav, "Matrikelnummer": nr}
            for bfe, ejerlav, nr in case.parcels
        ],
    }


def _document_json(m: Municipality, doc: EsdhDocument) -> dict:
    return {
        "Id": doc.id,
        "DokumentIdentity": doc.identity,
        "DokumentNavn": doc.title,
        "RegistreringsDato": _stamp(doc.date, 10),
        "Behandler": _user(m, doc.behandler),
        "DokumentArt": doc.art,
        "Status": doc.status,
        "Foelsomhed": catalog.SENSITIVITY_CODES[doc.sensitivity],
        "PartMaaSe": doc.party_may_see,
        "FilId": doc.file_id,
    }


def _hostile_results(results: list[dict]) -> list[dict]:
    """A search answer as a bad day sends it: some cases spoilt, thousands more."""
    if not results:
        return results
    extra = []
    for n in range(hostile.EXTRA_CASES):
        copy = dict(results[n % len(results)])
        copy["Id"] = 9_000_000 + n  # a fresh id: the same case journalised again and again
        copy["SagIdentity"] = f"kopi-{n}"
        copy["EksterneReferencer"] = []  # not the permit system's case again and again
        extra.append(copy)
    return [_hostile_case(case) for case in (*results, *extra)]


def _hostile_case(case: dict) -> dict:
    """``case`` with what real ESDH data holds: nulls, impossible dates, unknown status
    names, markup in the title; which and how follows from the case's id."""
    case = dict(case)
    native = case["Id"]
    if hostile.spoilt(native, 20, "nummer"):
        case["Nummer"] = None
    if hostile.spoilt(native, 25, "dato"):
        case["Opstaaet"] = hostile.impossible_date(case["Opstaaet"])
    if hostile.spoilt(native, 5, "status"):
        status = dict(case["SagsStatus"] or {})
        status["Navn"] = hostile.pick(native, hostile.UNKNOWN_STATUSES)
        case["SagsStatus"] = status
    if hostile.spoilt(native, 4, "titel"):
        case["SagsTitel"] = hostile.pick(native, hostile.MARKUP) + (case["SagsTitel"] or "")
    if hostile.spoilt(native, 6, "null"):
        case["Fagomraade"] = None
        case["Behandler"] = None
    if hostile.spoilt(native, 40, "frist"):
        case["Frist"] = "2025-13-45"
    return case
