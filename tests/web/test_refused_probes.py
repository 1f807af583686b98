"""A caseworker trying the address of a case or document hidden from them leaves a trace.

The page is the same 404 for a hidden case and a made-up one (tests/web/test_web_access.py),
and now each attempt is also one ``refused`` audit row — the subject and purpose of the
overview it was tried under, the case id asked for — as a citizen's attempts already
were. Runs on SQLite and PostgreSQL (``audit_url``).
"""

from __future__ import annotations

import dataclasses

from borgersag.audit import AuditLog
from borgersag.domain.model import Sensitivity
from borgersag.people.identity import Restrictions

from support.actions import caseworker_user, csrf_token, sign_in
from support.fake_portal import TYPICAL_CPR, build_app

# May see building cases only: of the fake portal's three cases, sbsys/1002 (joined with
# byggesag/BYG-2024-00012) is shown, the social case sbsys/1001 and sbsys/1003 are hidden.
BUILDING_ONLY = Restrictions(
    ("02",), ("Byggeri og Miljø",), Sensitivity.FORTROLIGE_PERSONOPLYSNINGER
)


def refusals(log: AuditLog) -> list:
    """The refused events, oldest first."""
    return [r.event for r in reversed(log.recent(1000)) if r.event.kind.value == "refused"]


def restricted_overview(client) -> str:
    worker = dataclasses.replace(caseworker_user(0), restrictions=BUILDING_ONLY)
    sign_in(client, worker)
    response = client.post(
        "/",
        data={"kind": "cpr", "value": TYPICAL_CPR, "purpose": "Sagsbehandling",
              "csrf_token": csrf_token(client)},
    )  # fmt: skip
    assert response.status_code == 303
    return response.location


def test_probes_of_hidden_and_made_up_cases_and_documents_are_each_refused_rows(audited):
    app, portal, log = audited
    client = app.test_client()
    url = restricted_overview(client)
    probes = [
        ("/sag/sbsys/1001", "sag ikke i opslaget", "sbsys/1001"),  # hidden from them
        ("/sag/sbsys/424242", "sag ikke i opslaget", "sbsys/424242"),  # made up
        ("/sag/sbsys/1001/dokument/d1", "dokument ikke i opslaget", "sbsys/1001"),
        ("/sag/sbsys/1002/dokument/opdigtet", "dokument ikke i opslaget", "sbsys/1002"),
    ]
    request_ids = []
    for path, _detail, _case in probes:
        response = client.get(url + path)
        assert response.status_code == 404, path
        request_ids.append(response.headers["X-Request-ID"])

    rows = refusals(log)
    assert [(e.detail, e.case_ids) for e in rows] == [
        (detail, (case,)) for _path, detail, case in probes
    ]
    worker = caseworker_user(0)
    for event, request_id in zip(rows, request_ids, strict=True):
        assert (event.actor_type, event.actor_id) == ("caseworker", worker.medarbejdernummer)
        assert event.subject == f"cpr:{TYPICAL_CPR}"  # the overview's, never from the URL
        assert event.purpose == "Sagsbehandling"
        assert event.request_id == request_id
    # nothing hidden was asked for; only the visible case's details, to look for the document
    assert {case for case, _also in portal.case_requests} <= {"sbsys/1002"}
    assert portal.document_requests == []


def test_a_probe_under_an_unknown_overview_and_an_id_that_is_not_a_case_id(audited):
    app, _portal, log = audited
    client = app.test_client()
    url = restricted_overview(client)
    made_up = "/oversigt/" + "A" * 32 + "/sag/sbsys/1001"
    assert client.get(made_up).status_code == 404
    # something typed into the address that is not shaped like a case id is not stored
    assert client.get(f"{url}/sag/sbsys/{TYPICAL_CPR}").status_code == 404
    assert client.get(f"{url}/sag/ikke et id").status_code == 404
    expired, cpr_shaped, odd = refusals(log)
    assert (expired.detail, expired.subject, expired.case_ids) == (
        "oversigt udløbet eller ukendt (sag)",
        "",
        ("sbsys/1001",),
    )
    assert (cpr_shaped.detail, cpr_shaped.case_ids) == ("sag ikke i opslaget", ())
    assert (odd.detail, odd.case_ids) == ("sag ikke i opslaget", ())


def test_a_probe_that_cannot_be_recorded_is_still_refused(tmp_path):
    app, portal = build_app(f"sqlite:///{tmp_path / 'audit.sqlite3'}")
    client = app.test_client()
    url = restricted_overview(client)
    app.extensions["borgersag.audit"].close()
    app.extensions["borgersag.audit"] = AuditLog(
        "postgresql://postgres@127.0.0.1:9/none", connect_timeout_seconds=1
    )
    try:
        for path in ("/sag/sbsys/1001", "/sag/sbsys/1002/dokument/opdigtet"):
            response = client.get(url + path)
            assert response.status_code == 503
            assert "Opslaget kunne ikke registreres" in response.get_data(as_text=True)
        assert portal.document_requests == []
    finally:
        app.extensions["borgersag.audit"].close()
