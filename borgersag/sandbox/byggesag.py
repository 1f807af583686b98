"""The sandbox building-permit system: building cases keyed on BFE number and parcel.

``GET api/v1/byggesager?bfe=N`` or ``?ejerlav=N&matrikel=12a`` lists cases, paged with
``side`` / ``antal_pr_side``; ``GET api/v1/byggesager/{sagsnummer}`` gives one case with
its history and documents, and ``esdhReference`` where the ESDH journalised it.
"""

from __future__ import annotations

import re

from flask import Flask, Response, jsonify, request

from borgersag.sandbox.data import BuildingCase, Municipality
from borgersag.sandbox.faults import Faults
from borgersag.sandbox.service import api_key_check, json_error, make_service_app

__all__ = ["MAX_PAGE_SIZE", "create_app"]

DEFAULT_PAGE_SIZE = 20
MAX_PAGE_SIZE = 100
_MATRIKELNR = re.compile(r"^\d+[a-zæøå]{0,3}$")


def create_app(municipality: Municipality, faults: Faults | None = None) -> Flask:
    """The building-permit API for ``municipality``, with ``faults`` as its knobs."""
    app = make_service_app(
        "byggesag", "Byggesagssystemet", faults or Faults(), authorize=api_key_check()
    )
    m = municipality

    @app.get("/api/v1/byggesager")
    def search():
        args = request.args
        try:
            side = int(args.get("side", "1"))
            size = int(args.get("antal_pr_side", str(DEFAULT_PAGE_SIZE)))
        except ValueError:
            return json_error(400, "side og antal_pr_side skal være heltal.")
        if side < 1 or not 1 <= size <= MAX_PAGE_SIZE:
            return json_error(400, f"side skal være >= 1 og antal_pr_side 1-{MAX_PAGE_SIZE}.")
        if "bfe" in args:
            if not args["bfe"].isdigit():
                return json_error(400, "bfe skal være et heltal.")
            found = m.building_cases_on_property(int(args["bfe"]))
        elif "ejerlav" in args and "matrikel" in args:
            matrikel = args["matrikel"].strip().lower()
            if not args["ejerlav"].isdigit() or not _MATRIKELNR.match(matrikel):
                return json_error(400, "ejerlav skal være et heltal og matrikel fx 12a.")
            found = m.building_cases_on_parcel(int(args["ejerlav"]), matrikel)
        elif "sagsbehandler" in args:
            worker = args["sagsbehandler"].strip().upper()
            found = [b for b in m.building_cases if b.caseworker == worker]
        else:
            return json_error(400, "Angiv bfe, ejerlav og matrikel, eller sagsbehandler.")
        page = found[(side - 1) * size : side * size]
        return jsonify(
            {
                "sager": [_case_json(m, b) for b in page],
                "antal": len(found),
                "side": side,
                "antal_pr_side": size,
            }
        )

    @app.get("/api/v1/byggesager/<sagsnummer>")
    def get_case(sagsnummer: str):
        case = m.building_case(sagsnummer)
        if case is None:
            return json_error(404, "Byggesagen findes ikke.")
        return jsonify(_case_json(m, case, detail=True))

    @app.get("/api/v1/byggesager/<sagsnummer>/dokumenter/<int:doc_id>/indhold")
    def document(sagsnummer: str, doc_id: int):
        case = m.building_case(sagsnummer)
        doc = next((d for d in case.documents if d.id == doc_id), None) if case else None
        if doc is None:
            return json_error(404, "Dokumentet findes ikke på sagen.")
        response = Response(doc.content.encode("utf-8"), mimetype="text/plain")
        response.headers["Content-Disposition"] = (
            f'attachment; filename="{sagsnummer}-{doc_id}.txt"'
        )
        return response

    @app.get("/api/v1/status")
    def status():
        return jsonify({"status": "ok", "sager": len(m.building_cases)})

    return app


def _case_json(m: Municipality, case: BuildingCase, *, detail: bool = False) -> dict:
    prop = m.property(case.bfe)
    body: dict = {
        "sagsnummer": case.sagsnummer,
        "titel": case.title,
        "sagstype": case.type,
        "kle": case.kle,
        "status": case.status.name,
        "statusDato": case.status.date.isoformat(),
        "modtaget": case.received.isoformat(),
        "frist": case.deadline.isoformat() if case.deadline else None,
        "ejendom": {
            "bfe": case.bfe,
            "ejerlavskode": case.parcel.ejerlavskode,
            "ejerlavsnavn": case.parcel.ejerlavsnavn,
            "matrikelnummer": case.parcel.matrikelnummer,
            "adresse": str(prop.address) if prop else None,
        },
        "statushistorik": [{"status": s.name, "dato": s.date.isoformat()} for s in case.history],
        "esdhReference": (
            {"sagsnummer": case.esdh_nummer, "id": case.esdh_case_id} if case.esdh_nummer else None
        ),
    }
    if detail:
        worker = m.employee(case.caseworker)
        body["ansoeger"] = {"navn": case.applicant_name}
        body["sagsbehandler"] = {
            "initialer": worker.logon_id if worker else None,
            "navn": worker.name if worker else None,
            "medarbejdernummer": case.caseworker,
            "afdeling": worker.unit if worker else None,
        }
        body["dokumenter"] = [
            {
                "id": d.id,
                "titel": d.title,
                "type": d.type,
                "dato": d.date.isoformat(),
                "offentlig": d.public,
            }
            for d in case.documents
        ]
    return body
