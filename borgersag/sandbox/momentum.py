"""The sandbox employment system: a Momentum-style jobcenter API over generated courses.

OAuth2 client credentials at ``oauth2/token``; every other call (except ``health`` and
``/_sandbox/*``) needs the Bearer token.

* ``GET citizens/find?cpr=DDMMYYSSSS`` — Momentum's own lookup: citizen id for a CPR
  number. ``POST citizens/find`` with ``{"cpr": …}`` answers the same; it is the
  sandbox's addition so that a CPR number need not appear in a URL (and so in an access
  log), and the connector uses it. Unknown CPR: 404.
* ``GET citizens/{id}`` — the citizen with their courses (forløb).
* ``GET responsibleCaseworkers/all/byCitizen/{id}`` — responsible caseworkers, past and
  present (``role`` 1 is primary; ``endDate`` set means ended).
* ``GET responsibleCaseworkers/{medarbejdernummer}/citizens?pageNumber=&pageSize=`` —
  the sandbox's stand-in for Momentum's caseworker worklists: the citizens the employee
  is currently responsible for, each as ``citizens/{id}`` shows them, paged
  ``{"data", "totalCount", "pageNumber", "pageSize"}`` (pageNumber from 1).
* ``GET courses/{id}`` — one course with its ``citizenId`` (sandbox addition).
* ``GET targetGroups`` — the target groups (målgrupper) the system knows.
"""

from __future__ import annotations

import datetime as dt
import re

from flask import Flask, jsonify, request

from borgersag.sandbox import catalog
from borgersag.sandbox.data import Municipality
from borgersag.sandbox.faults import Faults
from borgersag.sandbox.momentum_data import (
    TARGET_GROUPS,
    Course,
    EmploymentCitizen,
    Responsibility,
    actor_id,
    build_momentum,
)
from borgersag.sandbox.oauth import ClientCredentials
from borgersag.sandbox.service import json_error, make_service_app

__all__ = ["CREDENTIALS", "MAX_PAGE_SIZE", "TOKEN_PATH", "create_app"]

CREDENTIALS = {"client_id": "borgersag-momentum", "client_secret": "sandbox-secret"}
TOKEN_PATH = "oauth2/token"
DEFAULT_PAGE_SIZE = 25
MAX_PAGE_SIZE = 100
_CPR = re.compile(r"^\d{10}$")
_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


def create_app(municipality: Municipality, faults: Faults | None = None) -> Flask:
    """The Momentum-style API for ``municipality``, with ``faults`` as its knobs."""
    tokens = ClientCredentials(CREDENTIALS, TOKEN_PATH)
    app = make_service_app("momentum", "Momentum", faults or Faults(), authorize=tokens.authorize)
    tokens.install(app)
    m = municipality
    data = build_momentum(m)

    @app.route("/citizens/find", methods=["GET", "POST"])
    def find():
        if request.method == "POST":
            body = request.get_json(silent=True)
            cpr = body.get("cpr") if isinstance(body, dict) else None
        else:
            cpr = request.args.get("cpr")
        if not isinstance(cpr, str) or not _CPR.match(cpr):
            return json_error(400, 'Forventede cpr med 10 cifre (POST {"cpr": "DDMMÅÅLLLL"}).')
        person = data.by_cpr(cpr)
        if person is None:
            return json_error(404, "Borgeren findes ikke i Momentum.")
        citizen = m.citizen(cpr)
        return jsonify(
            {"citizenId": person.id, "id": person.id, "name": citizen.name if citizen else None}
        )

    @app.get("/citizens/<citizen_id>")
    def citizen(citizen_id: str):
        person = data.citizen(citizen_id)
        if person is None:
            return json_error(404, "Borgeren findes ikke i Momentum.")
        return jsonify(_citizen_json(m, person))

    @app.get("/responsibleCaseworkers/all/byCitizen/<citizen_id>")
    def caseworkers(citizen_id: str):
        person = data.citizen(citizen_id)
        if person is None:
            return json_error(404, "Borgeren findes ikke i Momentum.")
        return jsonify([_duty_json(m, d) for d in person.caseworkers])

    @app.get("/responsibleCaseworkers/<medarbejdernummer>/citizens")
    def worklist(medarbejdernummer: str):
        try:
            number = int(request.args.get("pageNumber", "1"))
            size = int(request.args.get("pageSize", str(DEFAULT_PAGE_SIZE)))
        except ValueError:
            return json_error(400, "pageNumber og pageSize skal være heltal.")
        if number < 1 or not 1 <= size <= MAX_PAGE_SIZE:
            return json_error(400, f"pageNumber skal være >= 1 og pageSize 1-{MAX_PAGE_SIZE}.")
        found = data.citizens_of(medarbejdernummer)
        page = found[(number - 1) * size : number * size]
        return jsonify(
            {
                "data": [_citizen_json(m, p) for p in page],
                "totalCount": len(found),
                "pageNumber": number,
                "pageSize": size,
            }
        )

    @app.get("/courses/<course_id>")
    def course(course_id: str):
        found = data.course(course_id) if _UUID.match(course_id) else None
        if found is None:
            return json_error(404, "Forløbet findes ikke i Momentum.")
        person, one = found
        return jsonify({"citizenId": person.id, **_course_json(one)})

    @app.get("/targetGroups")
    def target_groups():
        return jsonify([{"code": g.code, "name": g.name} for g in TARGET_GROUPS.values()])

    return app


def _date(day: dt.date | None) -> str | None:
    return day.isoformat() if day else None


def _citizen_json(m: Municipality, person: EmploymentCitizen) -> dict:
    citizen = m.citizen(person.cpr)
    current = next((c for c in reversed(person.courses) if c.end is None), None)
    return {
        "id": person.id,
        "citizenId": person.id,
        "cpr": person.cpr,
        "name": citizen.name if citizen else None,
        "firstName": citizen.first_name if citizen else None,
        "lastName": citizen.last_name if citizen else None,
        "address": str(citizen.address) if citizen else None,
        "hasNameAndAddressProtection": bool(citizen and citizen.protected),
        "targetGroup": _group_json(current) if current else None,
        "courses": [_course_json(c) for c in person.courses],
    }


def _group_json(course: Course) -> dict:
    return {"code": course.target_group.code, "name": course.target_group.name}


def _course_json(course: Course) -> dict:
    meeting = course.next_meeting
    deadline = course.next_deadline
    return {
        "id": course.id,
        "caseNumber": course.case_number,
        "title": course.target_group.course_title,
        "targetGroup": _group_json(course),
        "startDate": _date(course.start),
        "endDate": _date(course.end),
        "status": course.status,
        "endReason": course.end_reason,
        "statusHistory": [{"status": s.status, "date": _date(s.date)} for s in course.history],
        "meetings": [
            {"date": _date(x.date), "title": x.title, "status": "Afholdt"}
            for x in course.meetings
            if x.held
        ],
        "nextMeeting": {"date": _date(meeting.date), "title": meeting.title} if meeting else None,
        "nextDeadline": {"date": _date(deadline[1]), "title": deadline[0]} if deadline else None,
        "organizationUnit": {"name": catalog.AREAS["15"].unit},
    }


def _duty_json(m: Municipality, duty: Responsibility) -> dict:
    employee = m.employee(duty.medarbejdernummer)
    return {
        "id": duty.id,
        "caseworkerId": actor_id(duty.medarbejdernummer),
        "employeeNumber": duty.medarbejdernummer,
        "name": employee.name if employee else None,
        "initials": employee.logon_id if employee else None,
        "role": 1 if duty.primary else 0,
        "responsibilityName": duty.name,
        "responsibilityCode": duty.code,
        "startDate": _date(duty.start),
        "endDate": _date(duty.end),
        "caseworkerIsActive": 1,
    }
