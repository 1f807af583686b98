"""The sandbox ownership register, flavoured after Datafordeleren's Ejerfortegnelse.

``POST ejerfortegnelse/v1/ejerskaber/soeg`` turns a CPR number (in the body, never in a
URL) into the properties the person owns with their parcels — with ``"historik": true``
also those they owned before; ``GET ejerfortegnelse/v1/ejendomme/{bfe}/ejere`` lists a
property's owners with masked CPR (``?historik=true``: the previous owners too). Each
ownership has ``virkningFra`` and ``virkningTil``: the day it ended, ``null`` while it
lasts.
"""

from __future__ import annotations

import re

from flask import Flask, jsonify, request

from borgersag.sandbox.data import Municipality, Ownership, Property
from borgersag.sandbox.faults import Faults
from borgersag.sandbox.service import api_key_check, json_error, make_service_app

__all__ = ["create_app"]

_CPR = re.compile(r"^\d{10}$")


def create_app(municipality: Municipality, faults: Faults | None = None) -> Flask:
    """The ownership register for ``municipality``, with ``faults`` as its knobs."""
    app = make_service_app(
        "ejerfortegnelse", "Ejerfortegnelsen", faults or Faults(), authorize=api_key_check()
    )
    m = municipality

    @app.post("/ejerfortegnelse/v1/ejerskaber/soeg")
    def search():
        body = request.get_json(silent=True)
        cpr = body.get("cpr") if isinstance(body, dict) else None
        if not isinstance(cpr, str) or not _CPR.match(cpr):
            return json_error(400, 'Forventede {"cpr": "DDMMÅÅLLLL"} (10 cifre).')
        history = body.get("historik", False)
        if not isinstance(history, bool):
            return json_error(400, '"historik" skal være true eller false.')
        owned = []
        for own in m.ownerships_of(cpr, history=history):
            prop = m.property(own.bfe)
            if prop is not None:
                owned.append(_ownership_json(own, prop))
        return jsonify({"ejerskaber": owned})

    @app.get("/ejerfortegnelse/v1/ejendomme/<int:bfe>/ejere")
    def owners(bfe: int):
        prop = m.property(bfe)
        if prop is None:
            return json_error(404, f"BFE {bfe} findes ikke.")
        result = []
        for own in m.owners_of(bfe, history=request.args.get("historik") == "true"):
            person = m.citizen(own.cpr)
            protected = bool(person and person.protected)
            result.append(
                {
                    "navn": "Navne- og adressebeskyttet"
                    if protected or not person
                    else person.name,
                    "cpr": own.cpr,
                    "cprMaskeret": f"{own.cpr[:6]}-xxxx",
                    "ejerandel": {"taeller": own.share[0], "naevner": own.share[1]},
                    **_period_json(own),
                }
            )
        return jsonify({"bfeNummer": bfe, "adresse": str(prop.address), "ejere": result})

    @app.get("/ejerfortegnelse/v1/status")
    def status():
        return jsonify({"status": "ok", "ejendomme": len(m.properties)})

    return app


def _ownership_json(own: Ownership, prop: Property) -> dict:
    return {
        "bfeNummer": prop.bfe,
        "ejerandel": {"taeller": own.share[0], "naevner": own.share[1]},
        **_period_json(own),
        "ejendom": {
            "bfeNummer": prop.bfe,
            "adresse": str(prop.address),
            "jordstykker": [
                {
                    "ejerlavskode": p.ejerlavskode,
                    "ejerlavsnavn": p.ejerlavsnavn,
                    "matrikelnummer": p.matrikelnummer,
                }
                for p in prop.parcels
            ],
        },
    }


def _period_json(own: Ownership) -> dict:
    until = own.until.isoformat() if own.until else None
    return {"virkningFra": own.since.isoformat(), "virkningTil": until}
