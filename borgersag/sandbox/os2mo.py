"""The sandbox organisation register: an OS2mo-style GraphQL endpoint with fixed queries.

OS2mo serves employees, engagements and organisation units over GraphQL; units carry KLE
numbers in the aspects Ansvarlig / Indsigt / Udførende. This sandbox keeps the shape of
OS2mo's answers but does not parse GraphQL: ``POST graphql/v22`` with
``{"query": …, "operationName": …, "variables": …}`` runs one of three fixed operations,
chosen by ``operationName`` (or the name after ``query`` in the text), and always
answers with the fields the connector's query asks for:

* ``Employee`` — ``variables.user_keys`` (medarbejdernumre) → ``employees.objects[].current``
  with name, engagements and each engagement's ``org_unit`` (a list, as in OS2mo) with
  ``parent``, ``ancestors`` (nearest first) and ``kles``;
* ``OrgUnit`` — ``variables.uuids`` or ``variables.user_keys`` → ``org_units.objects[].current``;
* ``Version`` — ``version.mo_version``.

Other operations get ``{"data": null, "errors": [...]}`` with HTTP 200, as GraphQL does.
Auth: OAuth2 client credentials at Keycloak's token path
(``auth/realms/mo/protocol/openid-connect/token``), as OS2mo uses.

Data: the municipality's employees and the units and KLE groups of :mod:`.catalog`, under
a fixed tree (municipality → directorate → unit); no randomness.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass

from flask import Flask, jsonify, request

from borgersag.sandbox import catalog
from borgersag.sandbox.data import Employee, Municipality
from borgersag.sandbox.faults import Faults
from borgersag.sandbox.oauth import ClientCredentials
from borgersag.sandbox.service import make_service_app

__all__ = [
    "CREDENTIALS",
    "GRAPHQL_PATH",
    "KLE_ASPECTS",
    "TOKEN_PATH",
    "OrgUnit",
    "Organisation",
    "build_organisation",
    "create_app",
]

CREDENTIALS = {"client_id": "borgersag-mo", "client_secret": "sandbox-secret"}
TOKEN_PATH = "auth/realms/mo/protocol/openid-connect/token"
GRAPHQL_PATH = "graphql/v22"
MO_VERSION = "sandbox-22"
KLE_ASPECTS = ("Ansvarlig", "Indsigt", "Udførende")
_NAMESPACE = uuid.UUID("0b5c3e7a-4d1f-4f0e-8c52-6f73326d6f00")
_OPERATION = re.compile(r"\b(?:query)\s+([A-Za-z_]\w*)")

# Which directorate (forvaltning) each unit of catalog.UNITS sits under.
DIRECTORATES = {
    "Borgerservice": "Kultur og Borgerservice",
    "Jobcenter": "Social- og Beskæftigelsesforvaltningen",
    "Ydelsesservice": "Social- og Beskæftigelsesforvaltningen",
    "Socialafdelingen": "Social- og Beskæftigelsesforvaltningen",
    "Børn og Familie": "Børn og Unge",
    "Byggeri og Miljø": "Teknik og Miljø",
    "Sundhed og Omsorg": "Sundheds- og Omsorgsforvaltningen",
}

# KLE numbers a unit sees or works on beyond its own main groups (Ansvarlig + Udførende):
# the jobcenter sees benefits, the health unit takes part in sick-leave follow-up and
# resource courses (rehabiliteringsteamet), the citizen service desk handles housing benefit.
EXTRA_KLE = {
    "Jobcenter": (("32", ("Indsigt",)),),
    "Ydelsesservice": (("15", ("Indsigt",)),),
    "Socialafdelingen": (("15.20.02", ("Indsigt",)),),
    "Sundhed og Omsorg": (("15.24.04", ("Indsigt", "Udførende")), ("15.20.02", ("Indsigt",))),
    "Borgerservice": (("32.18.06", ("Udførende",)),),
}


@dataclass(frozen=True, slots=True)
class OrgUnit:
    """An organisation unit with its parent and KLE numbers by aspect."""

    uuid: str
    user_key: str
    name: str
    parent: str | None  # uuid
    kles: tuple[tuple[str, tuple[str, ...]], ...] = ()  # (KLE number, aspects)


class Organisation:
    """The unit tree and employees, with lookups by the keys the queries use."""

    def __init__(self, units: list[OrgUnit], employees: tuple[Employee, ...], unit_of: dict):
        self.units = {u.uuid: u for u in units}
        self.by_user_key = {u.user_key: u for u in units}
        self.employees = {e.medarbejdernummer: e for e in employees}
        self._unit_of = unit_of  # unit name -> OrgUnit

    def unit_for(self, employee: Employee) -> OrgUnit | None:
        """The unit an employee is engaged in."""
        return self._unit_of.get(employee.unit)

    def ancestors(self, unit: OrgUnit) -> list[OrgUnit]:
        """Parent, grandparent, … up to the root."""
        found, parent = [], unit.parent
        while parent is not None:
            found.append(self.units[parent])
            parent = self.units[parent].parent
        return found


def _uuid(kind: str, name: str) -> str:
    return str(uuid.uuid5(_NAMESPACE, f"{kind}:{name}"))


def build_organisation(municipality: Municipality) -> Organisation:
    """The organisation of ``municipality`` (deterministic, no randomness)."""
    root = OrgUnit(_uuid("unit", "root"), "ROOT", catalog.MUNICIPALITY_NAME, None)
    units = [root]
    directorates: dict[str, OrgUnit] = {}
    unit_of: dict[str, OrgUnit] = {}
    for i, unit in enumerate(catalog.UNITS, start=1):
        parent = root
        directorate = DIRECTORATES.get(unit.name)
        if directorate is not None:
            if directorate not in directorates:
                key = f"FORV-{len(directorates) + 1:02d}"
                directorates[directorate] = OrgUnit(
                    _uuid("unit", directorate), key, directorate, root.uuid
                )
                units.append(directorates[directorate])
            parent = directorates[directorate]
        kles = [(group, ("Ansvarlig", "Udførende")) for group in unit.kle_groups]
        kles.extend(EXTRA_KLE.get(unit.name, ()))
        org_unit = OrgUnit(
            _uuid("unit", unit.name), f"ENH-{i:03d}", unit.name, parent.uuid, tuple(kles)
        )
        units.append(org_unit)
        unit_of[unit.name] = org_unit
    return Organisation(units, municipality.employees, unit_of)


def _kle_titles() -> dict[str, str]:
    titles = {group: area.name for group, area in catalog.AREAS.items()}
    titles[catalog.AREAS_BUILDING.group] = catalog.AREAS_BUILDING.name
    for area in catalog.AREAS.values():
        titles.update((s.kle, s.kle_title) for s in area.subjects)
    return titles


def create_app(municipality: Municipality, faults: Faults | None = None) -> Flask:
    """The OS2mo-style GraphQL API for ``municipality``, with ``faults`` as its knobs."""
    tokens = ClientCredentials(CREDENTIALS, TOKEN_PATH)
    app = make_service_app("os2mo", "OS2mo", faults or Faults(), authorize=tokens.authorize)
    tokens.install(app)
    org = build_organisation(municipality)
    titles = _kle_titles()

    def unit_json(unit: OrgUnit) -> dict:
        parent = org.units.get(unit.parent) if unit.parent else None
        return {
            "uuid": unit.uuid,
            "user_key": unit.user_key,
            "name": unit.name,
            "parent": {"uuid": parent.uuid, "name": parent.name} if parent else None,
            "ancestors": [{"uuid": a.uuid, "name": a.name} for a in org.ancestors(unit)],
            "kles": [
                {
                    "uuid": _uuid("kle", f"{unit.name}:{number}"),
                    "kle_number": {"user_key": number, "name": titles.get(number, number)},
                    "kle_aspects": [{"user_key": a, "name": a} for a in aspects],
                }
                for number, aspects in unit.kles
            ],
        }

    def employee_json(employee: Employee) -> dict:
        given, _, surname = employee.name.rpartition(" ")
        unit = org.unit_for(employee)
        return {
            "uuid": _uuid("employee", employee.medarbejdernummer),
            "user_key": employee.medarbejdernummer,
            "name": employee.name,
            "given_name": given,
            "surname": surname,
            "engagements": [
                {
                    "uuid": _uuid("engagement", employee.medarbejdernummer),
                    "user_key": employee.medarbejdernummer,
                    "is_primary": True,
                    "job_function": {"name": "Sagsbehandler"},
                    "org_unit": [unit_json(unit)] if unit else [],
                }
            ],
        }

    def run(operation: str, variables: dict) -> dict | str:
        """The ``data`` of a fixed operation, or an error message."""
        if operation == "Version":
            return {"version": {"mo_version": MO_VERSION}}
        if operation == "Employee":
            keys = _strings(variables.get("user_keys"))
            if keys is None:
                return "Variablen user_keys skal være en liste af tekster."
            found = [org.employees[k] for k in keys if k in org.employees]
            return {"employees": {"objects": [{"current": employee_json(e)} for e in found]}}
        if operation == "OrgUnit":
            uuids, keys = _strings(variables.get("uuids")), _strings(variables.get("user_keys"))
            if uuids is None and keys is None:
                return "Angiv variablen uuids eller user_keys som en liste af tekster."
            found = [org.units[u] for u in uuids or () if u in org.units]
            found += [org.by_user_key[k] for k in keys or () if k in org.by_user_key]
            return {"org_units": {"objects": [{"current": unit_json(u)} for u in found]}}
        return (
            f"Sandkassen kender ikke forespørgslen {operation or '(uden navn)'};"
            " kun Employee, OrgUnit og Version."
        )

    @app.post("/" + GRAPHQL_PATH)
    def graphql():
        body = request.get_json(silent=True)
        query = body.get("query") if isinstance(body, dict) else None
        if not isinstance(query, str):
            return jsonify({"errors": [{"message": "Forventede et JSON-objekt med query."}]}), 400
        variables = body.get("variables") or {}
        operation = body.get("operationName")
        if not isinstance(operation, str):
            match = _OPERATION.search(query)
            operation = match[1] if match else ""
        if not isinstance(variables, dict):
            return jsonify(
                {"data": None, "errors": [{"message": "variables skal være et objekt."}]}
            )
        result = run(operation, variables)
        if isinstance(result, str):
            return jsonify({"data": None, "errors": [{"message": result}]})
        return jsonify({"data": result})

    return app


def _strings(value: object) -> list[str] | None:
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return value
    return None
