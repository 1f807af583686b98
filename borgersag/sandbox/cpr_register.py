"""The sandbox person register, flavoured after the CPR register's person lookup.

``POST cpr/v1/personer/opslag`` with ``{"cprNummer": "DDMMÅÅLLLL"}`` (the number in the
body, never in a URL) answers the person's name, address, status and the marker for
name and address protection (``adressebeskyttelse``): the register gives an authority
the protected person's address too, marked, and the receiving system must keep it back.
It answers person facts only, never cases. An unknown number is a 404, as the real
register answers "personen findes ikke"; a malformed body is a 400.
"""

from __future__ import annotations

import re

from flask import Flask, jsonify, request

from borgersag.sandbox.data import Citizen, Municipality
from borgersag.sandbox.faults import Faults
from borgersag.sandbox.service import api_key_check, json_error, make_service_app

__all__ = ["create_app"]

_CPR = re.compile(r"^\d{10}$")
ACTIVE = "01"  # CPR status: active, resident in Denmark


def create_app(municipality: Municipality, faults: Faults | None = None) -> Flask:
    """The person register for ``municipality``, with ``faults`` as its knobs."""
    app = make_service_app(
        "cpr_register", "CPR-registret", faults or Faults(), authorize=api_key_check()
    )
    m = municipality

    @app.post("/cpr/v1/personer/opslag")
    def lookup():
        body = request.get_json(silent=True)
        if not isinstance(body, dict) or set(body) != {"cprNummer"}:
            return json_error(400, 'Forventede {"cprNummer": "DDMMÅÅLLLL"} og intet andet.')
        cpr = body["cprNummer"]
        if not isinstance(cpr, str) or not _CPR.match(cpr):
            return json_error(400, "cprNummer skal være 10 cifre uden bindestreg.")
        person = m.citizen(cpr)
        if person is None:
            return json_error(404, "Personen findes ikke i CPR.")
        return jsonify({"person": _person_json(person)})

    @app.get("/cpr/v1/status")
    def status():
        return jsonify({"status": "ok", "personer": len(m.citizens)})

    return app


def _person_json(person: Citizen) -> dict:
    address = person.address
    return {
        "cprNummer": person.cpr,
        "status": ACTIVE,
        "navn": {
            "fornavne": person.first_name,
            "efternavn": person.last_name,
            "adresseringsnavn": f"{person.last_name},{person.first_name}",
        },
        "adressebeskyttelse": person.protected,
        "adresse": {
            "vejnavn": address.street,
            "husnummer": str(address.number),
            "etage": address.floor,
            "postnummer": address.postnummer,
            "postdistrikt": address.by,
        },
    }
