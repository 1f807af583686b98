"""Data restrictions, purpose and address protection through the web app and the API.

With the fake portal (tests/support/fake_portal.py): sbsys/1001 is a social case (KLE 27.24.00,
unit "Socialområdet, Voksne", følsomme personoplysninger), sbsys/1002 a building case
joined with byggesag/BYG-2024-00012 (KLE 02.34.02, unit "Byggeri og Miljø"), and
sbsys/1003 has neither KLE number nor unit.
"""

from __future__ import annotations

import dataclasses
import json
import re

import pytest

from borgersag.domain.keys import CPR
from borgersag.domain.model import Document, DocumentType, Party, PartyRole, Sensitivity
from borgersag.people.identity import Restrictions
from borgersag.web import create_app

from support.actions import caseworker_user, csrf_token, sign_in
from support.fake_portal import TYPICAL_CPR, FakePortal, make_config, sample_overview

TYPICAL_DASHED = f"{TYPICAL_CPR[:6]}-{TYPICAL_CPR[6:]}"
BUILDING_ONLY = Restrictions(
    ("02",), ("Byggeri og Miljø",), Sensitivity.FORTROLIGE_PERSONOPLYSNINGER
)
SOCIAL_ONLY = Restrictions(("27",), ("Socialområdet, Voksne",))

# What must never show for a caseworker limited to building cases.
HIDDEN = {
    "sbsys/1001": [
        "sbsys/1001",
        "Ansøgning om personlig tillæg",
        "27.24.00-G01-12-24",
        "Udkast til afgørelse",
        "Afventer lægeerklæring",
        "Partshøring sendt",
    ],
    "sbsys/1003": ["sbsys/1003", "15.00.00-G01-1-23", "alert(1)", "lukket"],
}


NO_LIMITS = Restrictions()


def caseworker(restrictions: Restrictions = NO_LIMITS, *permissions: str, index: int = 0):
    """A test caseworker with the given data restrictions and extra permissions."""
    user = caseworker_user(index)
    return dataclasses.replace(
        user, restrictions=restrictions, permissions=user.permissions | set(permissions)
    )


def lookup(client, purpose: str | None = None, **fields):
    data = {"kind": "cpr", "value": TYPICAL_DASHED, "csrf_token": csrf_token(client), **fields}
    if purpose is not None:
        data["purpose"] = purpose
    return client.post("/", data=data)


def overview_url(client, **kwargs) -> str:
    response = lookup(client, **kwargs)
    assert response.status_code == 303, response.status_code
    return response.location


def text(response) -> str:
    return response.get_data(as_text=True)


def page_without_form_tokens(response) -> str:
    """The page with its CSRF tokens and request id blanked: Flask-WTF signs each token
    with the second it was made, and every request gets an id of its own, so two
    otherwise identical pages differ in those."""
    page = re.sub(r'(data-session-csrf|value)="[\w.-]{40,}"', r'\1=""', text(response))
    return page.replace(response.headers["X-Request-ID"], "")


def source_count(page: str, title: str) -> str:
    """The 'Sager' cell of one row of the source panel."""
    row = re.search(rf'<th scope="row"[^>]*>{re.escape(title)}</th>(.*?)</tr>', page, re.S)[1]
    return re.findall(r'<td class="num"[^>]*>([^<]*)</td>', row)[-1]


@pytest.fixture
def restricted(client):
    """A client signed in as a caseworker who may see building cases only."""
    sign_in(client, caseworker(BUILDING_ONLY))
    return client


# -- data restrictions on the overview ----------------------------------------------------


def test_overview_shows_only_visible_cases_and_counts_the_hidden(app, restricted):
    url = overview_url(restricted)
    # filtered before it is kept: the stored overview itself holds no hidden case
    stored = app.extensions["borgersag.overviews"].entry(url.rsplit("/", 1)[1], "cw-1")
    assert [c.id for c in stored.overview.cases] == ["sbsys/1002"]
    assert stored.hidden_count == 2
    page = text(restricted.get(url))
    assert "Tilbygning til carport" in page and "02.34.02-P19-3-24" in page
    for needles in HIDDEN.values():
        for needle in needles:
            assert needle not in page, needle
    for area in ("Socialområdet", "Beskæftigelse"):
        assert f'<span class="area-title">{area}</span>' not in page
    assert "<strong>1 sag</strong>, heraf 1 åben" in page
    assert re.search(r"\b1 fagområde(?!r)", page)
    assert "2 sager skjult pga. adgangsbegrænsning" in page
    assert (
        "Din adgang omfatter sager under KLE-emne 02, fra enheden »Byggeri og Miljø« og med"
        " følsomhed højst »Fortrolige personoplysninger«." in page
    )
    # per-source numbers are those of the visible cases (sbsys held three, one is shown)
    assert source_count(page, "SBSYS (ESDH)") == "1"
    assert source_count(page, "Byggesag") == "1"


def test_unrestricted_caseworker_sees_every_case_and_no_hidden_notice(client):
    sign_in(client, caseworker())
    page = text(client.get(overview_url(client)))
    assert "Ansøgning om personlig tillæg" in page and "Tilbygning til carport" in page
    assert "skjult pga. adgangsbegrænsning" not in page
    assert source_count(page, "SBSYS (ESDH)") == "3"


def test_source_whose_every_case_is_hidden_reads_as_having_none_you_may_see(client):
    sign_in(client, caseworker(SOCIAL_ONLY))
    page = text(client.get(overview_url(client)))
    assert "Ansøgning om personlig tillæg" in page
    assert "Tilbygning til carport" not in page and "Byggetilladelse" not in page
    row = re.search(r'<tr class="source-row source-(\w+)">\s*<th scope="row"[^>]*>Byggesag<', page)
    assert row[1] == "empty"
    assert source_count(page, "Byggesag") == "0"
    assert "Kilden svarede; der er ingen sager herfra, som du har adgang til." in page
    assert source_count(page, "SBSYS (ESDH)") == "1"
    assert "2 sager skjult" in page


def test_all_cases_hidden_says_so_instead_of_no_cases_found(client):
    sign_in(client, caseworker(Restrictions(("99",))))
    page = text(client.get(overview_url(client)))
    assert "3 sager skjult pga. adgangsbegrænsning" in page
    assert "Ingen sager, som du har adgang til (se ovenfor)." in page
    assert "Ingen sager fundet" not in page


HIDDEN_URLS = [
    "/sag/sbsys/1001",
    "/sag/sbsys/1003",
    "/sag/sbsys/1001/dokument/d1",
    "/sag/sbsys/1001/dokument/d2",
]


@pytest.mark.parametrize("path", HIDDEN_URLS)
def test_hidden_case_urls_are_the_same_404_and_the_source_is_not_asked(
    restricted, fake_portal, path
):
    url = overview_url(restricted)
    response = restricted.get(url + path)
    assert response.status_code == 404
    unknown = restricted.get(url + path.replace("sbsys/100", "sbsys/999"))
    assert unknown.status_code == 404
    assert page_without_form_tokens(response) == page_without_form_tokens(unknown)
    assert fake_portal.case_requests == []
    assert fake_portal.document_requests == []


def test_joined_case_is_hidden_under_every_id(client, fake_portal):
    sign_in(client, caseworker(SOCIAL_ONLY))
    url = overview_url(client)
    for path in (
        "/sag/sbsys/1002",
        "/sag/byggesag/BYG-2024-00012",
        "/sag/sbsys/1002/dokument/b7",
        "/sag/byggesag/BYG-2024-00012/dokument/b7",
    ):
        assert client.get(url + path).status_code == 404, path
    assert fake_portal.case_requests == [] and fake_portal.document_requests == []


def test_visible_case_and_document_still_open(restricted, fake_portal):
    url = overview_url(restricted)
    page = text(restricted.get(url + "/sag/sbsys/1002"))
    assert "Tilbygning til carport" in page and "Byggetilladelse" in page
    assert restricted.get(url + "/sag/sbsys/1002/dokument/b7").status_code == 200
    assert fake_portal.document_requests == [("byggesag/BYG-2024-00012", "b7")]


def test_source_detail_outside_the_rules_is_404(restricted, fake_portal, monkeypatch):
    url = overview_url(restricted)
    original = fake_portal.get_case

    def now_vip(case_id, *, also_known_as=()):
        case = original(case_id, also_known_as=also_known_as)
        return dataclasses.replace(case, sensitivity=Sensitivity.VIP)

    monkeypatch.setattr(fake_portal, "get_case", now_vip)
    response = restricted.get(url + "/sag/sbsys/1002")
    assert response.status_code == 404
    assert "Tilbygning til carport" not in text(response)
    assert restricted.get(url + "/sag/sbsys/1002/dokument/zz").status_code == 404
    assert fake_portal.document_requests == []


def test_documents_above_the_highest_sensitivity_are_not_shown_or_served(
    restricted, fake_portal, monkeypatch
):
    url = overview_url(restricted)
    original = fake_portal.get_case
    secret = Document(
        "s9",
        "Lægeerklæring om bygherre",
        DocumentType.BREV_INDGAAENDE,
        None,
        sensitivity=Sensitivity.FOELSOMME_PERSONOPLYSNINGER,
        source="sbsys",
    )

    def with_secret(case_id, *, also_known_as=()):
        case = original(case_id, also_known_as=also_known_as)
        return dataclasses.replace(case, documents=(*case.documents, secret))

    monkeypatch.setattr(fake_portal, "get_case", with_secret)
    page = text(restricted.get(url + "/sag/sbsys/1002"))
    assert "Byggetilladelse" in page and "Lægeerklæring om bygherre" not in page
    assert restricted.get(url + "/sag/sbsys/1002/dokument/s9").status_code == 404
    assert fake_portal.document_requests == []


def test_narrower_rights_at_a_later_login_apply_to_an_old_token(client, fake_portal):
    sign_in(client, caseworker())
    url = overview_url(client)
    sign_in(client, caseworker(BUILDING_ONLY))  # same person, signed in again
    page = text(client.get(url))
    assert "Ansøgning om personlig tillæg" not in page
    assert "2 sager skjult pga. adgangsbegrænsning" in page
    assert client.get(url + "/sag/sbsys/1001").status_code == 404
    assert fake_portal.case_requests == []


# -- the JSON API -------------------------------------------------------------------------


def test_api_gives_the_same_filtered_overview_and_the_hidden_count(restricted):
    response = restricted.post("/api/v1/overviews", json={"kind": "cpr", "value": TYPICAL_CPR})
    assert response.status_code == 201
    body = response.json
    assert body["hidden_count"] == 2
    assert [c["id"] for c in body["overview"]["cases"]] == ["sbsys/1002"]
    counts = {s["source"]: s["case_count"] for s in body["overview"]["sources"]}
    assert counts["sbsys"] == 1 and counts["byggesag"] == 1
    dumped = json.dumps(body, ensure_ascii=False)
    for needles in HIDDEN.values():
        for needle in needles:
            assert needle not in dumped, needle
    again = restricted.get(response.headers["Location"])
    assert again.json == body


def test_api_for_an_unrestricted_caseworker_has_hidden_count_zero(client):
    sign_in(client, caseworker())
    body = client.post("/api/v1/overviews", json={"kind": "cpr", "value": TYPICAL_CPR}).json
    assert body["hidden_count"] == 0 and body["purpose"] is None
    assert len(body["overview"]["cases"]) == 3


# -- purpose (formål) ---------------------------------------------------------------------


@pytest.fixture
def purpose_app():
    """An app where every lookup must name a purpose."""
    portal = FakePortal(config=make_config(purpose_required=True))
    app = create_app(portal.config, portal=portal)
    app.config["TESTING"] = True
    return app


def test_lookup_form_offers_the_purposes(client):
    sign_in(client, caseworker())
    page = text(client.get("/"))
    assert (
        '<label class="form-label" for="purpose">Formål med opslaget (frivilligt)</label>' in page
    )
    assert '<select class="form-select" id="purpose" name="purpose"' in page
    for purpose in (
        "Sagsbehandling",
        "Borgerhenvendelse",
        "Partshøring eller aktindsigt",
        "Kontrol og opfølgning",
    ):
        assert f'<option value="{purpose}">{purpose}</option>' in page


def test_no_purposes_configured_means_no_field():
    portal = FakePortal(config=make_config(purposes=[]))
    app = create_app(portal.config, portal=portal)
    client = app.test_client()
    sign_in(client, caseworker())
    assert 'name="purpose"' not in text(client.get("/"))
    assert lookup(client).status_code == 303


def test_chosen_purpose_is_shown_on_the_overview_and_kept(app, client):
    user = caseworker()
    sign_in(client, user)
    url = overview_url(client, purpose="Borgerhenvendelse")
    assert "Formål: Borgerhenvendelse" in text(client.get(url))
    token = url.rsplit("/", 1)[1]
    store = app.extensions["borgersag.overviews"]
    assert store.purpose(token, user.id) == "Borgerhenvendelse"
    assert store.purpose(token, caseworker(index=1).id) is None


def test_optional_purpose_may_be_left_out(app, client):
    user = caseworker()
    sign_in(client, user)
    url = overview_url(client, purpose="")
    assert "Formål:" not in text(client.get(url))
    assert app.extensions["borgersag.overviews"].purpose(url.rsplit("/", 1)[1], user.id) is None


@pytest.mark.parametrize("purpose", [None, "", "   "])
def test_required_purpose_missing_is_an_error_next_to_the_field(purpose_app, purpose):
    client = purpose_app.test_client()
    sign_in(client, caseworker())
    assert "Formål med opslaget</label>" in text(client.get("/"))  # no "(frivilligt)"
    response = lookup(client, purpose=purpose)
    page = text(response)
    assert response.status_code == 400
    assert '<span class="form-error-message" id="purpose-error">' in page
    assert "Vælg formålet med opslaget." in page
    assert '<a href="#purpose">Vælg formålet med opslaget.</a>' in page
    assert re.search(r'<select[^>]*aria-describedby="purpose-hint purpose-error"', page, re.S)
    assert f'value="{TYPICAL_DASHED}"' in page  # what was typed is kept
    assert purpose_app.extensions["borgersag"].lookups == []


@pytest.mark.parametrize("required", [True, False])
def test_purpose_not_in_the_list_is_the_same_error(purpose_app, client, required):
    app = purpose_app if required else client.application
    client = app.test_client()
    sign_in(client, caseworker())
    response = lookup(client, purpose="Nysgerrighed")
    assert response.status_code == 400
    assert 'id="purpose-error"' in text(response)
    assert app.extensions["borgersag"].lookups == []


def test_purpose_error_is_shown_together_with_a_key_error(purpose_app):
    client = purpose_app.test_client()
    sign_in(client, caseworker())
    page = text(lookup(client, value="310285-1234"))
    assert 'id="value-error"' in page and 'id="purpose-error"' in page


def test_chosen_purpose_stays_selected_after_a_key_error(client):
    sign_in(client, caseworker())
    page = text(lookup(client, purpose="Kontrol og opfølgning", value="123"))
    assert '<option value="Kontrol og opfølgning" selected>' in page


def test_required_purpose_given_works(purpose_app):
    client = purpose_app.test_client()
    sign_in(client, caseworker())
    url = overview_url(client, purpose="Sagsbehandling")
    assert "Formål: Sagsbehandling" in text(client.get(url))


@pytest.mark.parametrize(
    "body",
    [
        {"kind": "cpr", "value": TYPICAL_CPR},
        {"kind": "cpr", "value": TYPICAL_CPR, "purpose": None},
        {"kind": "cpr", "value": TYPICAL_CPR, "purpose": ""},
        {"kind": "cpr", "value": TYPICAL_CPR, "purpose": "Nysgerrighed"},
        {"kind": "cpr", "value": TYPICAL_CPR, "purpose": ["Sagsbehandling"]},
    ],
)
def test_api_refuses_a_missing_or_unknown_purpose_when_required(purpose_app, body):
    client = purpose_app.test_client()
    sign_in(client, caseworker())
    response = client.post("/api/v1/overviews", json=body)
    assert response.status_code == 400
    assert response.json["error"]["field"] == "purpose"
    assert "Vælg formålet med opslaget." in response.json["error"]["message"]
    assert "Sagsbehandling" in response.json["error"]["message"]  # says what is allowed
    assert purpose_app.extensions["borgersag"].lookups == []


def test_api_keeps_the_purpose(app, client):
    user = caseworker()
    sign_in(client, user)
    body = {"kind": "cpr", "value": TYPICAL_CPR, "purpose": "Partshøring eller aktindsigt"}
    response = client.post("/api/v1/overviews", json=body)
    assert response.status_code == 201
    assert response.json["purpose"] == "Partshøring eller aktindsigt"
    assert client.get(response.location).json["purpose"] == "Partshøring eller aktindsigt"
    store = app.extensions["borgersag.overviews"]
    assert store.purpose(response.json["id"], user.id) == "Partshøring eller aktindsigt"
    bad = client.post("/api/v1/overviews", json={**body, "purpose": "Nysgerrighed"})
    assert bad.status_code == 400 and bad.json["error"]["field"] == "purpose"


# -- name and address protection ----------------------------------------------------------

PROTECTED = Party(
    CPR.parse("0101901234"),
    PartyRole.SECONDARY,
    "Skjult Person",
    "Hemmelig Vej 13, 8000 Aarhus C",
    protected=True,
)


@pytest.fixture
def protected_party(fake_portal, monkeypatch):
    """sbsys/1002 has a protected secondary party, in the overview and in the source."""

    def with_party(case):
        if case.id != "sbsys/1002":
            return case
        return dataclasses.replace(case, parties=(*case.parties, PROTECTED))

    def overview_for(key):
        found = sample_overview(key)
        return dataclasses.replace(found, cases=tuple(with_party(c) for c in found.cases))

    original = fake_portal.get_case
    monkeypatch.setattr(fake_portal, "overview_for", overview_for)
    monkeypatch.setattr(
        fake_portal,
        "get_case",
        lambda case_id, **kw: with_party(original(case_id, **kw)),
    )
    return PROTECTED


@pytest.mark.parametrize("source_fails", [False, True])
def test_protected_address_is_masked_on_the_case_page(
    client, fake_portal, protected_party, source_fails
):
    sign_in(client, caseworker())
    url = overview_url(client)
    if source_fails:  # the overview's copy is shown instead of the source's view
        fake_portal.detail_error = RuntimeError("x")
    page = text(client.get(url + "/sag/sbsys/1002"))
    assert "Skjult Person" in page
    assert "Adressebeskyttet" in page
    assert "Hemmelig Vej" not in page
    assert "Møllevej 4, 8000 Aarhus C" in page  # an unprotected party's address stays


def test_protected_address_is_masked_in_the_api(client, protected_party):
    sign_in(client, caseworker())
    body = client.post("/api/v1/overviews", json={"kind": "cpr", "value": TYPICAL_CPR}).json
    assert "Hemmelig Vej" not in json.dumps(body, ensure_ascii=False)
    case = next(c for c in body["overview"]["cases"] if c["id"] == "sbsys/1002")
    party = next(p for p in case["parties"] if p["protected"])
    assert party["address"] == "Adressebeskyttet" and party["name"] == "Skjult Person"


def test_permission_shows_the_protected_address(client, protected_party):
    sign_in(client, caseworker(Restrictions(), "se_beskyttet_adresse"))
    url = overview_url(client)
    page = text(client.get(url + "/sag/sbsys/1002"))
    assert "Hemmelig Vej 13, 8000 Aarhus C" in page
    assert "Navne- og adressebeskyttelse" in page  # still marked as protected
    body = client.post("/api/v1/overviews", json={"kind": "cpr", "value": TYPICAL_CPR}).json
    case = next(c for c in body["overview"]["cases"] if c["id"] == "sbsys/1002")
    assert any(p["address"] == "Hemmelig Vej 13, 8000 Aarhus C" for p in case["parties"])


def test_default_roles_do_not_show_protected_addresses(client, protected_party):
    sign_in(client, caseworker_user(1))  # sagsbehandler and administrator
    page = text(client.get(overview_url(client) + "/sag/sbsys/1002"))
    assert "Hemmelig Vej" not in page and "Adressebeskyttet" in page


# -- end to end, with the sandbox municipality and its login ------------------------------


@pytest.fixture
def live_app(sandbox):
    from borgersag.config.loader import Config
    from borgersag.lookup.portal import Portal

    config = Config.from_mapping(
        {
            "sandbox": {},
            "auth": sandbox.auth_config(),
            "sessions": {"backend": "memory"},
            "sources": sandbox.source_config(),
        }
    )
    portal = Portal.from_config(config)
    app = create_app(config, portal=portal)
    app.config["TESTING"] = True
    yield app
    portal.close()


def api_lookup(client, cpr: str) -> dict:
    response = client.post("/api/v1/overviews", json={"kind": "cpr", "value": cpr})
    assert response.status_code == 201, response.status_code
    return response.json


def test_sandbox_restricted_caseworker_sees_only_cases_their_claims_allow(sandbox, live_app):
    from borgersag.sandbox.idp_people import demo_staff

    from support.actions import sandbox_login

    cpr = sandbox.municipality.demo.typical
    everyone = live_app.test_client()
    assert sandbox_login(everyone, sandbox, "medarbejder", "caseworker").status_code == 303
    full = api_lookup(everyone, cpr)
    limited = live_app.test_client()
    assert sandbox_login(limited, sandbox, "medarbejder", "restricted").status_code == 303
    body = api_lookup(limited, cpr)

    claims = next(p for p in demo_staff(sandbox.municipality) if p.key == "restricted").claims
    prefixes = claims["kle_emner"]
    cases = body["overview"]["cases"]
    assert full["hidden_count"] == 0
    assert body["hidden_count"] > 0 and cases, "the demo should show both sides"
    assert len(cases) + body["hidden_count"] == len(full["overview"]["cases"])
    for case in cases:
        assert case["kle"].split(".")[0] in prefixes, case["kle"]
        assert case["sensitivity"] <= Sensitivity.FORTROLIGE_PERSONOPLYSNINGER
    shown = {cid for c in cases for cid in (c["id"], *c["also_known_as"])}
    for source in body["overview"]["sources"]:
        mine = sum(1 for cid in shown if cid.split("/")[0] == source["source"])
        assert source["case_count"] == mine, source["source"]
    hidden = [c for c in full["overview"]["cases"] if c["id"] not in shown]
    page = limited.get(f"/oversigt/{body['id']}").get_data(as_text=True)
    assert f"{body['hidden_count']} sag" in page and "skjult pga. adgangsbegrænsning" in page
    for case in hidden:
        assert case["sagsnummer"] not in page
        assert limited.get(f"/oversigt/{body['id']}/sag/{case['id']}").status_code == 404


def test_sandbox_protected_persons_address_is_masked(sandbox, live_app):
    from support.actions import sandbox_login

    cpr = sandbox.municipality.demo.protected
    client = live_app.test_client()
    assert sandbox_login(client, sandbox, "medarbejder", "caseworker").status_code == 303
    body = api_lookup(client, cpr)
    parties = [p for c in body["overview"]["cases"] for p in c["parties"] if p["protected"]]
    assert parties, "the demo's protected person is a party to their cases"
    assert {p["address"] for p in parties} == {"Adressebeskyttet"}
    person = sandbox.municipality.citizen(cpr)
    assert str(person.address) not in json.dumps(body, ensure_ascii=False)
    case_id = body["overview"]["cases"][0]["id"]
    page = client.get(f"/oversigt/{body['id']}/sag/{case_id}").get_data(as_text=True)
    assert "Adressebeskyttet" in page and str(person.address) not in page
