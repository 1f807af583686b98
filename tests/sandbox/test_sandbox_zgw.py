"""The sandbox ZGW service (Open Zaak): its data, JWT auth, CRS headers, paging, filters,
and that what it serves validates against the official Zaken and Catalogi specifications."""

from __future__ import annotations

import dataclasses
import time

import pytest
import requests
from jose import jwt

from borgersag.sandbox import catalog
from borgersag.sandbox.data import NOW
from borgersag.sandbox.generator import generate
from borgersag.sandbox.zgw import CREDENTIALS, JWT_MAX_AGE, LIMITED_CREDENTIALS
from borgersag.sandbox.zgw_catalog import ZAAKTYPEN
from borgersag.sandbox.zgw_data import VERTROUWELIJKHEID, build_register
from borgersag.sandbox.zgw_json import Urls, rol_json

from support.zgw_specs import REPO_SPECS_DIR, SPEC_FILES, SPECS_DIR, assert_valid, errors

TIMEOUT = 5
PERSON = "rol__betrokkeneIdentificatie__natuurlijkPersoon__anpIdentificatie"
BSN = "rol__betrokkeneIdentificatie__natuurlijkPersoon__inpBsn"
EMPLOYEE = "rol__betrokkeneIdentificatie__medewerker__identificatie"


def token(secret=CREDENTIALS["secret"], *, algorithm="HS256", client=CREDENTIALS, **claims):
    body = {
        "iss": client["client_id"],
        "iat": int(time.time()),
        "client_id": client["client_id"],
        "user_id": "test",
        "user_representation": "Test",
        **claims,
    }
    return jwt.encode(body, secret, algorithm=algorithm)


def headers(client=CREDENTIALS, **extra):
    auth = f"Bearer {token(client['secret'], client=client)}"
    return {"Authorization": auth, "Accept-Crs": "EPSG:4326", **extra}


def get(url, *, params=None, client=CREDENTIALS, **extra):
    return requests.get(url, params=params, headers=headers(client, **extra), timeout=TIMEOUT)


def search(zgw, body, *, params=None, client=CREDENTIALS):
    return requests.post(
        zgw.zaken + "zaken/_zoek",
        json=body,
        params=params,
        headers=headers(client, **{"Content-Crs": "EPSG:4326"}),
        timeout=TIMEOUT,
    )


def every(url, client=CREDENTIALS, **params):
    """All results of a paginated list, following ``next``."""
    results, page = [], get(url, params=params, client=client).json()
    results += page["results"]
    while page["next"]:
        page = get(page["next"], client=client).json()
        results += page["results"]
    return results


# -- the data -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def town():
    return generate(2026)


@pytest.fixture(scope="module")
def register(town):
    return build_register(town)


def test_same_municipality_same_zaken(town, register):
    assert build_register(generate(2026)) == register
    assert build_register(generate(7)).zaken != register.zaken


def test_demo_people_have_the_zaken_the_demo_needs(town, register):
    def of(cpr):
        return register.zaken_with_party("natuurlijk_persoon", cpr)

    demo = town.demo
    assert 2 <= len(of(demo.typical)) <= 3
    assert len(of(demo.coowner)) == 1
    assert 8 <= len(of(demo.heavy)) <= 12
    assert of(demo.nothing) == [] and of(demo.hostile) == []
    handled = register.zaken_with_party("medewerker", demo.caseworker)
    assert len(handled) >= 4
    assert any(z.end is None for z in handled), "an open zaak on the caseworker's desk"
    assert len({z.initiator.identificatie for z in register.zaken}) > 30


@pytest.mark.parametrize("seed", [1, 2, 3, 2026])
def test_every_unit_has_a_zaaktype_so_any_demo_caseworker_handles_zaken(seed):
    assert {u.name for u in catalog.UNITS} <= {spec.unit for spec in ZAAKTYPEN}
    town = generate(seed)
    handled = build_register(town).zaken_with_party("medewerker", town.demo.caseworker)
    assert len(handled) >= 4


def test_zaken_are_realistic(town, register):
    units = {e.medarbejdernummer: e.unit for e in town.employees}
    for zaak in register.zaken:
        spec = zaak.zaaktype.spec
        assert town.citizen(zaak.initiator.identificatie).age >= 18
        assert units[zaak.behandelaar.identificatie] == spec.unit
        days = [s.set_at.date() for s in zaak.statussen]
        assert days == sorted(days) and zaak.start <= days[0] and days[-1] <= NOW
        assert [s.statustype for s in zaak.statussen] == list(
            zaak.zaaktype.statustypen[: len(zaak.statussen)]
        )
        assert VERTROUWELIJKHEID.index(zaak.vertrouwelijkheid) >= VERTROUWELIJKHEID.index(
            spec.vertrouwelijkheid
        )
        assert len(zaak.omschrijving) <= 80 and zaak.identificatie.startswith("ZAAK-")
    assert {z.end is None for z in register.zaken} == {True, False}


def test_no_address_for_a_person_with_name_and_address_protection(town, register):
    zaak = register.zaken[0]
    rol = dataclasses.replace(zaak.initiator, identificatie=town.demo.protected)
    body = rol_json(Urls("http://sandkasse.invalid/"), town, zaak, rol)
    assert body["betrokkeneIdentificatie"]["anpIdentificatie"] == town.demo.protected
    assert body["betrokkeneIdentificatie"]["verblijfsadres"] is None
    assert_valid("zaken", "Rol", body)


# -- auth and headers ---------------------------------------------------------------------


def test_by_default_every_call_takes_a_realistic_80_ms_and_the_tests_none(town, zgw_service):
    from borgersag.sandbox import zgw
    from borgersag.sandbox.faults import Faults
    from borgersag.sandbox.section import validate_sandbox_settings

    started = validate_sandbox_settings({}).services["zgw"].faults  # no [sandbox] keys set
    assert started.latency_ms == zgw.DEFAULT_LATENCY_MS == 80
    client = zgw.create_app(town, Faults(started)).test_client()
    begun = time.monotonic()
    assert client.get("/zaken/api/v1/zaken", headers=headers()).status_code == 200
    assert time.monotonic() - begun >= 0.075  # the sleep, not a speed figure
    assert zgw_service.faults.settings.latency_ms == 0  # the suite's sandbox: NO_LATENCY


def test_no_jwt_is_refused_as_open_zaak_does(zgw_service):
    answer = requests.get(zgw_service.zaken + "zaken", timeout=TIMEOUT)
    assert answer.status_code == 403
    assert answer.headers["Content-Type"] == "application/problem+json"
    assert answer.json()["code"] == "not_authenticated"
    assert_valid("zaken", "Fout", answer.json())
    assert requests.get(zgw_service.root + "health", timeout=TIMEOUT).json()["status"] == "ok"


@pytest.mark.parametrize(
    ("authorization", "says"),
    [
        (lambda: f"Bearer {token('wrong-secret')}", "signatur"),
        (lambda: f"Bearer {token(client_id='someone-else')}", "client_id"),
        (lambda: f"Bearer {token(iat=int(time.time()) - JWT_MAX_AGE - 60)}", "udløbet"),
        (lambda: f"Bearer {token(iat=int(time.time()) + 3600)}", "fremtiden"),
        (lambda: f"Bearer {token(iat='nu')}", "iat"),
        (lambda: f"Bearer {token(algorithm='HS512')}", "signatur"),
        (lambda: "Bearer not.a.jwt", "JWT"),
        (lambda: f"Basic {token()}", "Bearer"),
    ],
)
def test_bad_jwts_are_refused(zgw_service, authorization, says):
    answer = requests.get(
        zgw_service.catalogi + "zaaktypen",
        headers={"Authorization": authorization(), "Accept-Crs": "EPSG:4326"},
        timeout=TIMEOUT,
    )
    assert answer.status_code == 403
    assert says in answer.json()["detail"]
    assert_valid("zaken", "Fout", answer.json())


def test_zaken_endpoints_want_accept_crs_and_say_content_crs(zgw_service):
    url = zgw_service.zaken + "zaken"
    bare = requests.get(url, headers={"Authorization": f"Bearer {token()}"}, timeout=TIMEOUT)
    assert bare.status_code == 412 and bare.json()["code"] == "precondition_failed"
    assert get(url, **{"Accept-Crs": "EPSG:28992"}).status_code == 406
    answer = get(url)
    assert answer.status_code == 200 and answer.headers["Content-Crs"] == "EPSG:4326"
    assert answer.headers["API-version"] == "1.5.1"
    assert get(zgw_service.catalogi + "zaaktypen").headers["API-version"] == "1.3.1"
    no_content_crs = requests.post(
        url + "/_zoek", json={}, headers=headers(), timeout=TIMEOUT
    ).status_code
    assert no_content_crs == 412


# -- lists, filters, paging ---------------------------------------------------------------


def test_pages_link_absolutely_and_cover_everything(zgw_service, register):
    first = get(zgw_service.zaken + "zaken", params={"pageSize": 7}).json()
    assert first["count"] == len(register.zaken) and len(first["results"]) == 7
    assert first["previous"] is None and first["next"].startswith(zgw_service.zaken + "zaken?")
    second = get(first["next"]).json()
    assert second["previous"] and second["results"][0]["url"] != first["results"][0]["url"]
    everything = every(zgw_service.zaken + "zaken", pageSize=50)
    assert sorted(z["uuid"] for z in everything) == sorted(z.uuid for z in register.zaken)
    too_far = get(zgw_service.zaken + "zaken", params={"page": 99})
    assert too_far.status_code == 404 and too_far.json()["detail"] == "Ugyldig side."
    assert get(zgw_service.zaken + "zaken", params={"pageSize": "x"}).status_code == 400


def test_filters_by_person_and_by_employee(zgw_service, town, register):
    typical = town.demo.typical
    by_get = get(zgw_service.zaken + "zaken", params={PERSON: typical}).json()
    by_post = search(zgw_service, {PERSON: typical}).json()
    assert by_get == by_post and by_post["count"] == 3
    # a CPR number has ten digits; inpBsn holds nine, so no zaak keeps a CPR number there
    assert search(zgw_service, {BSN: typical}).json()["count"] == 0
    worker = town.demo.caseworker
    handled = search(zgw_service, {EMPLOYEE: worker, "rol__omschrijvingGeneriek": "behandelaar"})
    assert handled.json()["count"] == len(register.zaken_with_party("medewerker", worker)) >= 4
    nobody = search(zgw_service, {PERSON: town.demo.nothing}).json()
    assert nobody == {"count": 0, "next": None, "previous": None, "results": []}
    paged = search(zgw_service, {PERSON: town.demo.heavy}, params={"pageSize": 3}).json()
    assert paged["count"] >= 8 and "_zoek?" in paged["next"]
    assert search(zgw_service, {PERSON: 12}).status_code == 400


def test_statussen_and_rollen_of_a_zaak(zgw_service, town):
    (zaak,) = [
        z
        for z in search(zgw_service, {PERSON: town.demo.coowner}).json()["results"]
        if z["identificatie"]
    ]
    statussen = every(zgw_service.zaken + "statussen", zaak=zaak["url"])
    assert {s["zaak"] for s in statussen} == {zaak["url"]}
    assert zaak["status"] in {s["url"] for s in statussen}
    assert [s["indicatieLaatstGezetteStatus"] for s in statussen].count(True) == 1
    rollen = every(zgw_service.zaken + "rollen", zaak=zaak["url"])
    assert sorted(r["url"] for r in rollen) == sorted(zaak["rollen"])
    initiator = next(r for r in rollen if r["omschrijvingGeneriek"] == "initiator")
    assert initiator["betrokkeneIdentificatie"]["anpIdentificatie"] == town.demo.coowner
    worker = next(r for r in rollen if r["betrokkeneType"] == "medewerker")
    assert town.employee(worker["betrokkeneIdentificatie"]["identificatie"])
    assert get(zaak["url"]).json() == zaak


def test_every_url_in_a_zaak_resolves(zgw_service, town):
    zaak = search(zgw_service, {PERSON: town.demo.typical}).json()["results"][0]
    zaaktype = get(zaak["zaaktype"]).json()
    for url in [
        zaak["status"],
        *zaak["rollen"],
        zaaktype["catalogus"],
        *zaaktype["statustypen"],
        *zaaktype["roltypen"],
    ]:
        assert get(url).status_code == 200, url
    assert get(zgw_service.zaken + "zaken/" + "0" * 36).status_code == 404
    assert get(zgw_service.catalogi + "statustypen/" + zaak["uuid"]).status_code == 404


def test_unknown_parameters_and_bad_values_are_400_naming_them(zgw_service):
    unknown = get(zgw_service.zaken + "statussen", params={"zaak_id": "1"})
    assert unknown.status_code == 400
    (param,) = unknown.json()["invalidParams"]
    assert param["code"] == "unknown-parameters" and "zaak_id" in param["reason"]
    bad = get(zgw_service.zaken + "rollen", params={"zaak": "42"})
    assert bad.status_code == 400 and bad.json()["invalidParams"][0]["name"] == "zaak"
    assert get(zgw_service.zaken + "zaken", params={"page": 0}).status_code == 404


def test_an_unknown_search_filter_returns_every_zaak_the_client_may_see(zgw_service, register):
    everything = search(zgw_service, {"rol__betrokkeneIdentificatie__natuurlijkPersoon__cpr": "1"})
    assert everything.json()["count"] == len(register.zaken)
    no_body = requests.post(
        zgw_service.zaken + "zaken/_zoek",
        headers=headers(**{"Content-Crs": "EPSG:4326", "Content-Type": "application/json"}),
        timeout=TIMEOUT,
    )
    assert no_body.json()["count"] == len(register.zaken)


def test_a_client_sees_only_what_its_maximum_confidentiality_reaches(zgw_service, register):
    limited = LIMITED_CREDENTIALS
    reach = VERTROUWELIJKHEID.index("zaakvertrouwelijk")
    allowed = [z for z in register.zaken if VERTROUWELIJKHEID.index(z.vertrouwelijkheid) <= reach]
    listed = every(zgw_service.zaken + "zaken", pageSize=500, client=limited)
    assert sorted(z["uuid"] for z in listed) == sorted(z.uuid for z in allowed)
    assert 0 < len(allowed) < len(register.zaken)
    hidden = next(z for z in register.zaken if z not in allowed)
    url = f"{zgw_service.zaken}zaken/{hidden.uuid}"
    refused = get(url, client=limited)
    assert refused.status_code == 403 and refused.json()["code"] == "permission_denied"
    assert get(url).status_code == 200
    assert (
        get(zgw_service.zaken + "statussen", params={"zaak": url}, client=limited).json()["count"]
        == 0
    )


def test_documents_are_linked_to_zaken_and_downloadable(zgw_service, register):
    zaak = next(z for z in register.zaken if len(z.documenten) >= 2)
    url = f"{zgw_service.zaken}zaken/{zaak.uuid}"
    links = get(zgw_service.zaken + "zaakinformatieobjecten", params={"zaak": url}).json()
    assert isinstance(links, list) and len(links) == len(zaak.documenten)  # no paging
    assert sorted(get(url).json()["zaakinformatieobjecten"]) == sorted(
        link["url"] for link in links
    )
    document = get(links[0]["informatieobject"]).json()
    assert document["url"] == links[0]["informatieobject"]
    download = get(document["url"] + "/download")
    assert download.headers["Content-Type"] == "application/octet-stream"
    assert download.content and len(download.content) == document["bestandsomvang"]
    levels = {d.vertrouwelijkheid for z in register.zaken for d in z.documenten}
    statuses = {d.status for z in register.zaken for d in z.documenten}
    assert {"intern", "zaakvertrouwelijk"} <= levels
    assert {"", "definitief", "in_bewerking"} <= statuses


# -- the official specifications ----------------------------------------------------------


def test_responses_validate_against_the_specifications(zgw_service, town):
    z, c = zgw_service.zaken, zgw_service.catalogi
    zaken = get(z + "zaken", params={"pageSize": 500}).json()
    assert_valid("zaken", "PaginatedExpandZaakList", zaken)
    one = zaken["results"][0]
    assert_valid("zaken", "ExpandZaak", get(one["url"]).json())
    assert_valid("zaken", "Zaak", get(one["url"]).json())
    assert_valid(
        "zaken", "PaginatedExpandZaakList", search(zgw_service, {PERSON: town.demo.heavy}).json()
    )
    statussen = get(z + "statussen", params={"pageSize": 500}).json()
    assert_valid("zaken", "PaginatedStatusList", statussen)
    assert_valid("zaken", "Status", get(statussen["results"][0]["url"]).json())
    rollen = get(z + "rollen", params={"pageSize": 500}).json()
    assert_valid("zaken", "PaginatedRolList", rollen)
    kinds = {r["betrokkeneType"]: r["url"] for r in rollen["results"]}
    assert set(kinds) == {"natuurlijk_persoon", "medewerker"}
    for url in kinds.values():
        assert_valid("zaken", "Rol", get(url).json())
    zaaktypen = get(c + "zaaktypen").json()
    assert_valid("catalogi", "PaginatedZaakTypeList", zaaktypen)
    zaaktype = get(zaaktypen["results"][0]["url"]).json()
    assert_valid("catalogi", "ZaakType", zaaktype)
    assert_valid("catalogi", "Catalogus", get(zaaktype["catalogus"]).json())
    assert_valid("catalogi", "PaginatedStatusTypeList", get(c + "statustypen").json())
    assert_valid("catalogi", "StatusType", get(zaaktype["statustypen"][0]).json())
    assert_valid("catalogi", "PaginatedRolTypeList", get(c + "roltypen").json())
    assert_valid("catalogi", "RolType", get(zaaktype["roltypen"][0]).json())
    for refused in (get(z + "zaken/" + "0" * 36), get(z + "zaken", **{"Accept-Crs": "x"})):
        assert_valid("zaken", "Fout", refused.json())


def test_the_validator_is_not_vacuous(zgw_service, town):
    zaak = search(zgw_service, {PERSON: town.demo.typical}).json()["results"][0]
    assert errors("zaken", "Zaak", {**zaak, "vertrouwelijkheidaanduiding": "hemmelig"})
    assert errors("zaken", "Zaak", {k: v for k, v in zaak.items() if k != "zaaktype"})
    assert errors("zaken", "Zaak", {**zaak, "verlenging": {"reden": 1}})
    rol = get(zaak["rollen"][0]).json()
    person = {**rol["betrokkeneIdentificatie"], "inpBsn": town.demo.typical}
    assert errors("zaken", "Rol", {**rol, "betrokkeneIdentificatie": person}), "10 > 9 chars"
    assert errors("zaken", "Rol", {**rol, "betrokkeneType": "robot"})


def test_repo_copies_of_the_specifications_match_the_shared_ones():
    for name in SPEC_FILES.values():
        copy = REPO_SPECS_DIR / name
        assert copy.is_file(), f"tests/specs/{name} is missing"
        shared = SPECS_DIR / name
        if shared.is_file():
            assert copy.read_bytes() == shared.read_bytes(), f"tests/specs/{name} is outdated"
    assert (REPO_SPECS_DIR / "README.md").is_file()


# -- faults -------------------------------------------------------------------------------


def test_fault_knobs(zgw_service):
    try:
        zgw_service.faults.update(fail="500")
        assert get(zgw_service.zaken + "zaken").status_code == 500
        zgw_service.faults.update(fail="garbage")
        answer = get(zgw_service.zaken + "zaken")
        assert answer.status_code == 200 and answer.headers["Content-Type"].startswith("text/html")
    finally:
        zgw_service.faults.reset()
    assert get(zgw_service.zaken + "zaken").status_code == 200
