""" "Hvem har set mine oplysninger" lists every staff access that showed the citizen's data,
not only lookups of their CPR number: a lookup of their property by BFE (where they are
owner), the building case opened from it, "Mit skrivebord" showing their case and the
case opened from there — through the web app, as the citizen sees it, on SQLite and
PostgreSQL, and once against the sandbox's registers with real logins.
"""

from __future__ import annotations

import dataclasses
import re

from borgersag.domain.keys import BFE, CPR
from borgersag.domain.relations import Expansion, RelationRole

from support.actions import (
    caseworker_user,
    citizen_user,
    csrf_token,
    sandbox_login,
    seen_by_rows,
    sign_in,
)
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

    # the co-owner is party to no case, but both were named on the property page and the
    # building case is about their property
    assert seen_by_rows(citizen(app, CO_OWNER_CPR, "Ole Olsen")) == rows
    assert seen_by_rows(citizen(app, STRANGER_CPR, "Per Hansen")) == []
    app.extensions["borgersag.audit"].close()


def test_a_desk_view_and_a_case_opened_from_it_are_on_the_partys_list_with_the_name(
    audit_url,
):
    app, _portal = build_app(audit_url, show_staff_names=True)
    try:
        staff = app.test_client()
        sign_in(staff, caseworker_user(0))  # Mette Kjær, whose desk holds the citizen's cases
        desk = staff.get("/mit-skrivebord").get_data(as_text=True)
        [case] = re.findall(r'href="(/oversigt/[^"]+/sag/sbsys/1001)"', desk)
        assert staff.get(case).status_code == 200  # a case the citizen is party to

        rows = seen_by_rows(citizen(app, TYPICAL_CPR))
        name = "Mette Kjær, Jobcenter, Ydelser"
        assert [(who, what, purpose) for _when, who, what, purpose in rows] == [
            (name, "Så en af dine sager", "Eget skrivebord"),
            (name, "Så din sag i en medarbejders liste over sager", "Eget skrivebord"),
        ]
        assert seen_by_rows(citizen(app, STRANGER_CPR, "Per Hansen")) == []
    finally:
        app.extensions["borgersag.audit"].close()


# --- the same against the sandbox, with real logins ------------------------------------------


def test_in_the_sandbox_the_owners_see_a_property_lookup_and_its_building_case(
    live_portal, sandbox, tmp_path
):
    from borgersag.config.loader import Config
    from borgersag.web import create_app

    config = Config.from_mapping(
        {
            "sandbox": {},
            "auth": sandbox.auth_config(),
            "sessions": {"backend": "memory"},
            "sources": sandbox.source_config(),
            "audit": {"url": f"sqlite:///{tmp_path / 'audit.sqlite3'}"},
        }
    )
    app = create_app(config, portal=live_portal)
    app.config["TESTING"] = True
    town = sandbox.municipality
    [owned] = town.ownerships_of(town.demo.typical)
    try:
        staff = app.test_client()
        assert sandbox_login(staff, sandbox, "medarbejder", "caseworker").status_code == 303
        response = staff.post(
            "/",
            data={"kind": "bfe", "value": str(owned.bfe), "csrf_token": csrf_token(staff)},
        )
        assert response.status_code == 303, response.status_code
        page = staff.get(response.location).get_data(as_text=True)
        building = re.findall(r'href="(/oversigt/[^"]+/sag/byggesag/[^"]+)"', page)
        assert building, "the property has building cases"
        assert staff.get(building[0]).status_code == 200

        owner = app.test_client()
        assert sandbox_login(owner, sandbox, "borger", "typical").status_code == 303
        seen = [what for _when, _who, what, _purpose in seen_by_rows(owner)]
        assert seen == ["Så en af dine sager", "Slog en ejendom op, hvor du er nævnt"]

        nobody = app.test_client()
        assert sandbox_login(nobody, sandbox, "borger", "nothing").status_code == 303
        assert seen_by_rows(nobody) == []
    finally:
        app.extensions["borgersag.audit"].close()
