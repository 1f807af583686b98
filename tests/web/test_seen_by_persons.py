""" "Hvem har set mine oplysninger" lists every staff access that showed the citizen's data,
not only lookups of their CPR number: a lookup of their property by BFE (where they are
owner), the building case of theirs opened from it, and "Mit skrivebord" showing their
case — through the web app, as the citizen sees it, on SQLite and PostgreSQL.
"""

from __future__ import annotations

import dataclasses

from borgersag.domain.keys import BFE, CPR
from borgersag.domain.relations import Expansion, RelationRole

from support.actions import caseworker_user, citizen_user, csrf_token, seen_by_rows, sign_in
from support.fake_portal import TYPICAL_CPR, build_app, sample_overview

CO_OWNER_CPR = "0202025678"  # owns the property too, party to none of its cases
STRANGER_CPR = "0909091234"
PROPERTY = "100123456"
OWNER = RelationRole.OWNER


def with_owners(key):
    """The sample overview; a property's names both owners (not searched: their own
    cases are not asked for), as the ownership register answers a BFE lookup."""
    overview = sample_overview(key)
    if not isinstance(key, BFE):
        return overview
    owners = tuple(
        Expansion(
            CPR.parse(cpr), "ejer", "ejerfortegnelse", searched=False, role=RelationRole.OWNER
        )
        for cpr in (TYPICAL_CPR, CO_OWNER_CPR)
    )
    return dataclasses.replace(overview, expansions=(*overview.expansions, *owners))


def look_up_property(client) -> str:
    response = client.post(
        "/",
        data={"kind": "bfe", "value": PROPERTY, "purpose": "Kontrol og opfølgning",
              "csrf_token": csrf_token(client)},
    )  # fmt: skip
    assert response.status_code == 303, response.status_code
    return response.location


def citizen(app, cpr: str, name: str = "Karen Nielsen"):
    client = app.test_client()
    sign_in(client, citizen_user(cpr, name))
    return client


def test_a_property_lookup_and_a_case_opened_from_it_are_on_the_owners_list(audited):
    app, portal, _log = audited
    portal.overview_for = with_owners
    staff = app.test_client()
    sign_in(staff, caseworker_user(1))  # Jonas Bach Holm, Byggeri og Miljø
    overview = look_up_property(staff)
    page = staff.get(overview).get_data(as_text=True)
    assert "020202-xxxx" in page  # the co-owner's masked CPR is on the property page
    assert staff.get(overview + "/sag/sbsys/1002").status_code == 200  # the building case

    owner = citizen(app, TYPICAL_CPR)
    owner.get("/mine-sager")  # the citizen's own visit is not listed
    rows = seen_by_rows(owner)
    assert [(who, what, purpose) for _when, who, what, purpose in rows] == [
        ("Byggeri og Miljø", "Så en af dine sager", "Kontrol og opfølgning"),
        ("Byggeri og Miljø", "Slog en ejendom op, hvor du er nævnt", "Kontrol og opfølgning"),
    ]
    assert all(when.strip() for when, *_rest in rows)
    assert "Jonas Bach Holm" not in owner.get("/mine-sager/hvem-har-set").get_data(as_text=True)

    # the co-owner was shown on the property page, but is no party to the case opened
    assert [what for _w, _who, what, _p in seen_by_rows(citizen(app, CO_OWNER_CPR, "Ole"))] == [
        "Slog en ejendom op, hvor du er nævnt"
    ]
    assert seen_by_rows(citizen(app, STRANGER_CPR, "Per Hansen")) == []
    app.extensions["borgersag.audit"].close()


def test_a_desk_view_showing_the_citizens_case_is_on_their_list_with_the_name(audit_url):
    app, _portal = build_app(audit_url, show_staff_names=True)
    try:
        staff = app.test_client()
        sign_in(staff, caseworker_user(0))  # Mette Kjær, whose desk holds the citizen's cases
        assert staff.get("/mit-skrivebord").status_code == 200

        rows = seen_by_rows(citizen(app, TYPICAL_CPR))
        assert [(who, what, purpose) for _when, who, what, purpose in rows] == [
            (
                "Mette Kjær, Jobcenter, Ydelser",
                "Så din sag i en medarbejders liste over sager",
                "Eget skrivebord",
            )
        ]
        assert seen_by_rows(citizen(app, STRANGER_CPR, "Per Hansen")) == []
    finally:
        app.extensions["borgersag.audit"].close()
