"""Every access through the web writes exactly one audit row, before anything is shown.

Runs on SQLite and on the local PostgreSQL (``audit_url`` in conftest). Also: the app
refuses to show data when the audit log cannot be written, and a citizen sees the staff
lookups of their own CPR number — and no one else's — on "Hvem har set mine oplysninger".
"""

from __future__ import annotations

import re

import pytest
import responses

from borgersag.audit import AuditLog

from support.actions import caseworker_user, citizen_user, csrf_token, seen_by_rows, sign_in
from support.fake_portal import CITIZEN_ISSUER, STAFF_ISSUER, TYPICAL_CPR, build_app
from support.oidc_fake import FakeProvider, finish, start

OTHER_CPR = "0909091234"


def events(log: AuditLog) -> list:
    """Every event, oldest first."""
    return [record.event for record in reversed(log.recent(1000))]


def overview_link(client, purpose: str = "Sagsbehandling"):
    response = client.post(
        "/",
        data={"kind": "cpr", "value": TYPICAL_CPR, "purpose": purpose,
              "csrf_token": csrf_token(client)},
    )  # fmt: skip
    assert response.status_code == 303, response.status_code
    return response


def test_each_caseworker_access_is_one_row_with_the_right_fields(audited):
    app, _portal, log = audited
    client = app.test_client()
    worker = caseworker_user(0)
    sign_in(client, worker)
    response = overview_link(client)

    [lookup] = events(log)
    assert lookup.kind.value == "lookup"
    assert (lookup.actor_type, lookup.actor_id, lookup.actor_name, lookup.actor_unit) == (
        "caseworker",
        worker.medarbejdernummer,
        worker.name,
        worker.unit,
    )
    assert lookup.actor_roles == worker.roles
    assert lookup.subject == f"cpr:{TYPICAL_CPR}"
    assert lookup.purpose == "Sagsbehandling"
    assert lookup.request_id == response.headers["X-Request-ID"]
    page = client.get(response.location).get_data(as_text=True)
    shown = set(re.findall(r'/sag/([^"]+)"', page))
    assert {case_id.split("/dokument")[0] for case_id in shown} <= set(lookup.case_ids)
    assert dict(lookup.sources)["sbsys"] in {"ok", "empty", "failed", "timeout", "stale"}
    assert len(events(log)) == 1, "showing the overview again is not a new lookup"

    case_links = re.findall(r'href="(/oversigt/[^"]+/sag/[^"]+)"', page)
    document = None
    for count, case_link in enumerate(case_links, start=1):
        case_page = client.get(case_link)
        assert case_page.status_code == 200
        assert len(events(log)) == 1 + count  # one case_view per page
        view = events(log)[-1]
        assert view.kind.value == "case_view" and view.purpose == "Sagsbehandling"
        assert case_link.rsplit("/sag/", 1)[1] in view.case_ids
        document = re.search(
            r'href="(/oversigt/[^"]+/dokument/[^"]+)"', case_page.get_data(as_text=True)
        )
        if document:
            break
    assert document, "some sample case has a document"
    assert client.get(document[1]).status_code == 200
    download = events(log)[-1]
    assert download.kind.value == "document" and download.detail.startswith("dokument ")

    api = client.post("/api/v1/overviews", json={"kind": "cpr", "value": OTHER_CPR})
    assert api.status_code == 201
    assert [e.kind.value for e in events(log)] == [
        "lookup",
        *["case_view"] * count,
        "document",
        "lookup",
    ]
    assert events(log)[-1].subject == f"cpr:{OTHER_CPR}"
    assert log.verify().ok


def test_each_citizen_access_is_one_row_and_a_foreign_id_is_refused(audited):
    app, _portal, log = audited
    client = app.test_client()
    sign_in(client, citizen_user(TYPICAL_CPR))
    page = client.get("/mine-sager").get_data(as_text=True)
    [lookup] = events(log)
    assert (lookup.kind.value, lookup.actor_type, lookup.subject) == (
        "lookup",
        "citizen",
        f"cpr:{TYPICAL_CPR}",
    )
    assert TYPICAL_CPR not in lookup.actor_id  # a pseudonym, never the CPR
    link = re.search(r'href="(/mine-sager/sag/[^"]+)"', page)[1]
    assert client.get(link).status_code == 200
    assert events(log)[-1].kind.value == "case_view"
    assert client.get("/mine-sager/sag/sbsys/nosuch-99").status_code == 404
    refused = events(log)[-1]
    assert refused.kind.value == "refused" and refused.actor_type == "citizen"
    assert len(events(log)) == 3


def test_login_logout_and_refusals_are_recorded(audited):
    app, _portal, log = audited
    client = app.test_client()
    mitid = FakeProvider(issuer=CITIZEN_ISSUER)
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mitid.install(mock)
        FakeProvider(issuer=STAFF_ISSUER, client_id="borgersag-staff").install(mock)
        params = start(client)
        low = mitid.claims(params["nonce"], nin=TYPICAL_CPR, mitid_loa="LOW")
        assert finish(client, mitid, params, mitid.sign(low)).status_code == 403
        params = start(client)
        good = mitid.claims(params["nonce"], nin=TYPICAL_CPR, mitid_loa="SUBSTANTIAL", name="K")
        assert finish(client, mitid, params, mitid.sign(good)).status_code == 303
        client.post("/log-ud", data={"csrf_token": csrf_token(client)})
    kinds = [(e.kind.value, e.actor_type) for e in events(log)]
    assert kinds == [("refused", "anonymous"), ("login", "citizen"), ("logout", "citizen")]
    assert "assurance" in events(log)[0].detail
    assert all(TYPICAL_CPR not in (e.detail + e.actor_id) for e in events(log))


def test_a_forbidden_page_is_recorded_as_refused(audited):
    app, _portal, log = audited
    client = app.test_client()
    sign_in(client, caseworker_user(0))
    assert client.get("/mine-sager").status_code == 403
    [refused] = events(log)
    assert refused.kind.value == "refused" and "citizen.overview" in refused.detail


# --- fail closed -------------------------------------------------------------------------------


@pytest.fixture
def broken_audit(tmp_path):
    """An app whose audit database went away after start-up (a closed port)."""
    app, portal = build_app(f"sqlite:///{tmp_path / 'audit.sqlite3'}")
    app.extensions["borgersag.audit"].close()
    app.extensions["borgersag.audit"] = AuditLog(
        "postgresql://postgres@127.0.0.1:9/none", connect_timeout_seconds=1
    )
    yield app, portal
    app.extensions["borgersag.audit"].close()


def test_nothing_is_shown_when_the_lookup_cannot_be_recorded(broken_audit):
    app, _portal = broken_audit
    client = app.test_client()
    sign_in(client, caseworker_user(0))
    response = client.post(
        "/", data={"kind": "cpr", "value": TYPICAL_CPR, "csrf_token": csrf_token(client)}
    )
    assert response.status_code == 503
    page = response.get_data(as_text=True)
    assert "Opslaget kunne ikke registreres" in page
    assert "Byggesag" not in page and "oversigt/" not in page
    assert app.extensions["borgersag.overviews"].get("anything", "cw-1") is None
    api = client.post("/api/v1/overviews", json={"kind": "cpr", "value": TYPICAL_CPR})
    assert api.status_code == 503 and api.is_json and "id" not in api.json


def test_a_citizen_sees_nothing_when_the_visit_cannot_be_recorded(broken_audit):
    app, _portal = broken_audit
    client = app.test_client()
    sign_in(client, citizen_user(TYPICAL_CPR))
    response = client.get("/mine-sager")
    assert response.status_code == 503
    assert "/mine-sager/sag/" not in response.get_data(as_text=True)


# --- "Hvem har set mine oplysninger" ----------------------------------------------------------


def test_citizen_sees_staff_lookups_of_their_cpr_and_no_one_elses(audited):
    app, _portal, _log = audited
    staff = app.test_client()
    sign_in(staff, caseworker_user(0))
    overview_link(staff, "Borgerhenvendelse")
    staff.post("/api/v1/overviews", json={"kind": "cpr", "value": OTHER_CPR})
    other_staff = app.test_client()
    sign_in(other_staff, caseworker_user(1))
    overview_link(other_staff, "Kontrol og opfølgning")

    citizen = app.test_client()
    sign_in(citizen, citizen_user(TYPICAL_CPR))
    citizen.get("/mine-sager")  # their own visit is not "someone looked"
    page = citizen.get("/mine-sager/hvem-har-set").get_data(as_text=True)
    assert [(who, purpose) for _when, who, _what, purpose in seen_by_rows(citizen)] == [
        ("Byggeri og Miljø", "Kontrol og opfølgning"),  # newest first
        ("Jobcenter, Ydelser", "Borgerhenvendelse"),
    ]
    assert "Mette Kjær" not in page  # names are off by default

    other = app.test_client()
    sign_in(other, citizen_user(OTHER_CPR, "Ole Olsen"))
    other_page = other.get("/mine-sager/hvem-har-set").get_data(as_text=True)
    assert "Borgerhenvendelse" not in other_page and "Jobcenter, Ydelser" in other_page


def test_staff_names_and_paging_on_the_citizens_page(tmp_path):
    app, _portal = build_app(f"sqlite:///{tmp_path / 'audit.sqlite3'}", show_staff_names=True)
    app.extensions["borgersag.limiter"].enabled = False
    staff = app.test_client()
    sign_in(staff, caseworker_user(0))
    for _ in range(23):
        staff.post("/api/v1/overviews", json={"kind": "cpr", "value": TYPICAL_CPR})
    citizen = app.test_client()
    sign_in(citizen, citizen_user(TYPICAL_CPR))
    first = citizen.get("/mine-sager/hvem-har-set").get_data(as_text=True)
    assert "Mette Kjær, Jobcenter, Ydelser" in first
    assert first.count("<tr>") == 1 + 20 and "side 1 af 2" in first
    second = citizen.get("/mine-sager/hvem-har-set?side=2").get_data(as_text=True)
    assert second.count("<tr>") == 1 + 3
    assert citizen.get("/mine-sager/hvem-har-set?side=x").status_code == 200
    app.extensions["borgersag.audit"].close()
