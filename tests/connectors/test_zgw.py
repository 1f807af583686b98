"""The ZGW connector: settings, the JWT, mapping of hand-built (specification-valid) bodies,
classified errors, bounded paging, and against the sandbox's Open Zaak over HTTP."""

from __future__ import annotations

import json
import re
import threading
import time
from itertools import product
from typing import ClassVar
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
import responses
from jose import jwt
from responses import matchers

from borgersag.connectors.zgw import ZgwConnector, ZgwJwtAuth
from borgersag.connectors.zgw_mapping import parse_status_map, progress_at, sensitivity_of
from borgersag.domain.keys import KeyKind, parse_key
from borgersag.domain.model import (
    DocumentStatus,
    DocumentType,
    Overview,
    PartyRole,
    Progress,
    Sensitivity,
)
from borgersag.people.citizen_policy import CitizenPolicy
from borgersag.people.citizen_view import citizen_view
from borgersag.sandbox.generator import generate
from borgersag.sandbox.zgw import CREDENTIALS, LIMITED_CREDENTIALS
from borgersag.sandbox.zgw_data import build_register
from borgersag.sandbox.zgw_hostile import MARKUP
from borgersag.sdk.errors import (
    ConfigError,
    FatalError,
    ForbiddenError,
    NotFound,
    RetriableError,
    SourceError,
)
from borgersag.sdk.http import request_id
from borgersag.testing import ConformanceSuite

from support.actions import csrf_token, sandbox_login
from support.zgw_specs import assert_valid

ROOT = "https://openzaak.example/"
BASE = ROOT + "zaken/api/v1/"
CAT = ROOT + "catalogi/api/v1/"
SETTINGS = {"base_url": BASE, "client_id": "portal", "secret": "s3cret"}
CPR = "0101701234"
WORKER = "M10775"
ZAAK = "0f3c4a2e-2b7e-4e53-9a59-3c1c9a6f0001"
ZAAKTYPE = "0f3c4a2e-2b7e-4e53-9a59-3c1c9a6f0002"
STATUSTYPEN = [f"0f3c4a2e-2b7e-4e53-9a59-3c1c9a6f001{i}" for i in range(4)]
NAMES = ["Modtaget", "Under behandling", "Afgjort", "Afsluttet"]


def zaak_json(**changes):
    body = {
        "url": f"{BASE}zaken/{ZAAK}",
        "uuid": ZAAK,
        "identificatie": "ZAAK-2026-0000000042",
        "bronorganisatie": "123456782",
        "omschrijving": "Beboerlicens – Vestergade 12",
        "zaaktype": f"{CAT}zaaktypen/{ZAAKTYPE}",
        "registratiedatum": "2026-09-01",
        "verantwoordelijkeOrganisatie": "123456782",
        "startdatum": "2026-09-01",
        "einddatum": None,
        "einddatumGepland": "2026-09-11",
        "uiterlijkeEinddatumAfdoening": "2026-10-01",
        "laatstGemuteerd": "2026-09-05T10:00:00Z",
        "vertrouwelijkheidaanduiding": "zaakvertrouwelijk",
        "betalingsindicatieWeergave": "",
        "deelzaken": [],
        "eigenschappen": [],
        "rollen": [],
        "status": f"{BASE}statussen/{status_uuid(1)}",
        "zaakinformatieobjecten": [],
        "zaakobjecten": [],
        "kenmerken": [{"bron": "SBSYS", "kenmerk": "05.13.00-G01-1-26"}],
        "resultaat": None,
    }
    body.update(changes)
    return body


def statustype_json(i):
    return {
        "url": f"{CAT}statustypen/{STATUSTYPEN[i]}",
        "omschrijving": NAMES[i],
        "statustekst": f"Tekst til borgeren: {NAMES[i].lower()}.",
        "zaaktype": f"{CAT}zaaktypen/{ZAAKTYPE}",
        "zaaktypeIdentificatie": "BEBOERLICENS",
        "volgnummer": i + 1,
        "isEindstatus": i == 3,
        "catalogus": f"{CAT}catalogussen/{ZAAKTYPE}",
        "eigenschappen": [],
        "zaakobjecttypen": [],
        "beginObject": "2019-01-01",
        "eindeObject": "2019-01-01",
    }


def zaaktype_json(**changes):
    body = {
        "url": f"{CAT}zaaktypen/{ZAAKTYPE}",
        "identificatie": "BEBOERLICENS",
        "omschrijving": "Beboerparkeringslicens",
        "vertrouwelijkheidaanduiding": "beperkt_openbaar",
        "doel": "Licens",
        "aanleiding": "Ansøgning",
        "indicatieInternOfExtern": "extern",
        "handelingInitiator": "Ansøge",
        "onderwerp": "Veje og trafik",
        "handelingBehandelaar": "Behandle",
        "doorlooptijd": "P30D",
        "opschortingEnAanhoudingMogelijk": False,
        "verlengingMogelijk": False,
        "trefwoorden": ["parkering", "KLE 05.13.00"],
        "publicatieIndicatie": False,
        "productenOfDiensten": [],
        "referentieproces": {"naam": "ansøgning"},
        "concept": False,
        "verantwoordelijke": "Borgerservice",
        "beginGeldigheid": "2019-01-01",
        "versiedatum": "2019-01-01",
        "beginObject": "2019-01-01",
        "eindeObject": "2019-01-01",
        "catalogus": f"{CAT}catalogussen/{ZAAKTYPE}",
        "statustypen": [f"{CAT}statustypen/{u}" for u in STATUSTYPEN],
        "resultaattypen": [],
        "eigenschappen": [],
        "informatieobjecttypen": [],
        "roltypen": [],
        "besluittypen": [],
        "gerelateerdeZaaktypen": [],
        "zaakobjecttypen": [],
    }
    body.update(changes)
    return body


def status_uuid(i):
    return f"{STATUSTYPEN[i][:-2]}9{i}"


def status_json(i, when, note=""):
    return {
        "url": f"{BASE}statussen/{status_uuid(i)}",
        "uuid": status_uuid(i),
        "zaak": f"{BASE}zaken/{ZAAK}",
        "statustype": f"{CAT}statustypen/{STATUSTYPEN[i]}",
        "datumStatusGezet": when,
        "statustoelichting": note,
        "indicatieLaatstGezetteStatus": False,
        "zaakinformatieobjecten": [],
    }


def rol_json(kind, generic, identification, name=""):
    return {
        "url": f"{BASE}rollen/{ZAAK[:-4]}{len(generic):04d}",
        "uuid": f"{ZAAK[:-4]}{len(generic):04d}",
        "zaak": f"{BASE}zaken/{ZAAK}",
        "betrokkeneType": kind,
        "afwijkendeNaamBetrokkene": name,
        "roltype": f"{CAT}roltypen/{ZAAKTYPE}",
        "omschrijving": generic.capitalize(),
        "omschrijvingGeneriek": generic,
        "registratiedatum": "2026-09-01T08:00:00Z",
        "statussen": [],
        "betrokkeneIdentificatie": identification,
    }


def person(cpr=CPR, generic="initiator"):
    return rol_json(
        "natuurlijk_persoon",
        generic,
        {
            "anpIdentificatie": cpr,
            "voornamen": "Karen",
            "geslachtsnaam": "Nielsen",
            "verblijfsadres": {
                "aoaIdentificatie": "a1",
                "wplWoonplaatsNaam": "Aarhus C",
                "gorOpenbareRuimteNaam": "Vestergade",
                "aoaPostcode": "8000",
                "aoaHuisnummer": 12,
                "inpLocatiebeschrijving": "1. th.",
            },
        },
    )


def employee(number=WORKER, generic="behandelaar"):
    ident = {"identificatie": number, "achternaam": "Poulsen", "voorletters": "G."}
    return rol_json("medewerker", generic, ident)


def page(results, following=None):
    return {"count": len(results), "next": following, "previous": None, "results": results}


STATUSSEN = [
    status_json(1, "2026-09-05T10:00:00Z", "Afventer dokumentation fra dig"),
    status_json(0, "2026-09-01T08:30:00Z"),
]


def serve(zaken=None, statussen=STATUSSEN, rollen=None, zaaktype=None, following=None):
    """Register a search answer and everything its zaken refer to."""
    responses.post(BASE + "zaken/_zoek", json=page(zaken or [zaak_json()], following))
    responses.get(BASE + "statussen", json=page(statussen))
    for status in statussen:
        responses.get(status["url"], json=status)
    responses.get(BASE + "rollen", json=page(rollen or [person(), employee()]))
    responses.get(BASE + "zaakinformatieobjecten", json=[])
    responses.get(f"{CAT}zaaktypen/{ZAAKTYPE}", json=zaaktype or zaaktype_json())
    for i, uuid in enumerate(STATUSTYPEN):
        responses.get(f"{CAT}statustypen/{uuid}", json=statustype_json(i))


@pytest.fixture
def zgw(make_connector):
    return make_connector(ZgwConnector, dict(SETTINGS), "zgw")


def cpr_key(value=CPR):
    return parse_key(KeyKind.CPR, value)


# -- settings and the JWT -----------------------------------------------------------------


def test_settings_are_declared_and_the_secret_is_marked():
    assert ZgwConnector.key_kinds == {KeyKind.CPR, KeyKind.MEDARBEJDER}
    assert ZgwConnector.secret_settings() == {"secret"}
    settings = ZgwConnector.validate_settings(SETTINGS)
    assert settings["cpr_field"] == "anpIdentificatie" and settings["page_size"] == 100


@pytest.mark.parametrize(
    ("change", "key"),
    [
        ({"base_url": "openzaak.example"}, "base_url"),
        ({"catalogi_url": "ftp://x"}, "catalogi_url"),
        ({"page_size": 501}, "page_size"),
        ({"max_pages": 0}, "max_pages"),
        ({"cpr_field": "bsn"}, "cpr_field"),
        ({"cpr_field": "inpBsn"}, "cpr_field"),
        ({"parallel": 0}, "parallel"),
        ({"max_confidentiality": "hemmelig"}, "max_confidentiality"),
        ({"documenten_url": "documenten"}, "documenten_url"),
        ({"status_map": "Visiteret"}, "status_map"),
        ({"secret": 42}, "secret"),
        ({"token": "x"}, "token"),
    ],
)
def test_invalid_settings_name_the_key(change, key):
    with pytest.raises(ConfigError) as info:
        ZgwConnector.validate_settings({**SETTINGS, **change}, "sources.toml", "sources.zgw.")
    assert info.value.key == f"sources.zgw.{key}"
    assert "42" not in str(info.value)  # a secret's value is never shown


def test_every_request_gets_a_fresh_zgw_jwt_and_crs_headers():
    ticks = iter([1_700_000_000, 1_700_000_007])
    auth = ZgwJwtAuth("portal", "s3cret", "borgersag", "Borgersagsportal", lambda: next(ticks))
    request = auth(requests.Request("GET", BASE + "zaken").prepare())
    claims = jwt.decode(request.headers["Authorization"][7:], "s3cret", algorithms=["HS256"])
    assert claims == {
        "iss": "portal",
        "iat": 1_700_000_000,
        "client_id": "portal",
        "user_id": "borgersag",
        "user_representation": "Borgersagsportal",
    }
    assert request.headers["Accept-Crs"] == "EPSG:4326" and "Content-Crs" not in request.headers
    search = auth(requests.Request("POST", BASE + "zaken/_zoek", json={}).prepare())
    assert search.headers["Content-Crs"] == "EPSG:4326"
    later = jwt.decode(search.headers["Authorization"][7:], "s3cret", algorithms=["HS256"])
    assert later["iat"] == 1_700_000_007


# -- mapping ------------------------------------------------------------------------------


def test_hand_built_bodies_are_valid_zgw():
    assert_valid("zaken", "Zaak", zaak_json())
    assert_valid("zaken", "PaginatedStatusList", page(STATUSSEN))
    assert_valid("zaken", "PaginatedRolList", page([person(), employee()]))
    assert_valid("catalogi", "ZaakType", zaaktype_json())
    for i in range(4):
        assert_valid("catalogi", "StatusType", statustype_json(i))


@responses.activate
def test_search_by_cpr_maps_a_zaak_faithfully(zgw):
    serve()
    (case,) = zgw.search(cpr_key())
    search = json.loads(responses.calls[0].request.body)
    assert search == {
        "rol__betrokkeneIdentificatie__natuurlijkPersoon__anpIdentificatie": CPR,
        "expand": ["rollen", "status"],
    }
    assert CPR not in responses.calls[0].request.url  # the CPR number travels in the body
    assert case.id == f"zgw/{ZAAK}" and case.sagsnummer == "ZAAK-2026-0000000042"
    assert case.title == "Beboerlicens – Vestergade 12"
    assert case.public_title == "Beboerparkeringslicens"
    assert (case.kle, case.area, case.unit) == ("05.13.00", "Veje og trafik", "Borgerservice")
    assert case.sensitivity is Sensitivity.FORTROLIGE_PERSONOPLYSNINGER
    assert case.progress is Progress.OPLYST
    # the overview reads only the current status; the case page reads the history
    assert [(s.progress, str(s.date), s.status_text) for s in case.progress_history] == [
        (Progress.OPSTAAET, "2026-09-01", None),
        (Progress.OPLYST, "2026-09-05", "Under behandling"),
    ]
    # statustoelichting is free text that can hold internal notes: a note for staff
    assert [(e.title, e.kind) for e in case.events] == [
        ("Under behandling: Afventer dokumentation fra dig", "note")
    ]
    assert case.status_text == "Tekst til borgeren: under behandling."
    (party,) = case.parties
    assert party.key == cpr_key() and party.role is PartyRole.PRIMARY
    assert party.name == "Karen Nielsen" and party.address == "Vestergade 12, 1. th., 8000 Aarhus C"
    assert case.caseworker.medarbejdernummer == WORKER and case.caseworker.name == "G. Poulsen"
    assert str(case.opened) == "2026-09-01" and case.closed is None
    assert str(case.deadline) == "2026-10-01"
    assert case.join_keys == frozenset({"sbsys:05.13.00-G01-1-26"})


@responses.activate
def test_a_closed_zaak_and_an_einddatum_without_a_final_status(zgw):
    serve(zaken=[zaak_json(einddatum="2026-10-02", vertrouwelijkheidaanduiding="openbaar")])
    (case,) = zgw.search(cpr_key())
    assert case.progress is Progress.AFSLUTTET and str(case.closed) == "2026-10-02"
    assert case.progress_history[-1].status_text == "Afsluttet"
    assert case.deadline is None and case.public_title is None


@responses.activate
def test_the_catalogue_is_cached_per_instance(zgw):
    serve()
    zgw.search(cpr_key())
    zgw.search(cpr_key())
    catalogue = [c for c in responses.calls if c.request.url.startswith(CAT)]
    assert len(catalogue) == 5  # the zaaktype and its four statustypen, once


@responses.activate
def test_status_map_overrides_the_position(make_connector):
    zgw = make_connector(ZgwConnector, {**SETTINGS, "status_map": "Under behandling=afgjort"})
    serve()
    (case,) = zgw.search(cpr_key())
    assert case.progress is Progress.AFGJORT and str(case.decided) == "2026-09-05"


@responses.activate
def test_search_by_medarbejdernummer_keeps_zaken_they_handle(zgw):
    other = zaak_json(uuid=ZAAK[:-1] + "9", url=f"{BASE}zaken/{ZAAK[:-1]}9")
    responses.post(BASE + "zaken/_zoek", json=page([zaak_json(), other]))
    responses.get(
        BASE + "rollen",
        json=page([person(), employee()]),
        match=[matchers.query_param_matcher({"zaak": f"{BASE}zaken/{ZAAK}"}, strict_match=False)],
    )
    responses.get(BASE + "rollen", json=page([person(), employee(generic="adviseur")]))
    responses.get(STATUSSEN[0]["url"], json=STATUSSEN[0])
    responses.get(f"{CAT}zaaktypen/{ZAAKTYPE}", json=zaaktype_json())
    for i, uuid in enumerate(STATUSTYPEN):
        responses.get(f"{CAT}statustypen/{uuid}", json=statustype_json(i))
    cases = zgw.search(parse_key(KeyKind.MEDARBEJDER, WORKER))
    assert [c.native_id for c in cases] == [ZAAK]  # an adviseur's zaak is not their case
    search = json.loads(responses.calls[0].request.body)
    assert search["rol__omschrijvingGeneriek"] == "behandelaar"


@responses.activate
def test_a_server_that_ignores_the_filter_shows_nothing(zgw):
    serve(rollen=[person("0202801234"), employee()])
    with pytest.raises(FatalError) as info:
        zgw.search(cpr_key())
    assert "ignorere søgefilteret" in info.value.message and CPR not in info.value.message


@pytest.mark.parametrize(
    ("count", "expected"),
    [
        (2, "opstaaet afsluttet"),
        (3, "opstaaet oplyst afsluttet"),
        (4, "opstaaet oplyst afgjort afsluttet"),
        (5, "opstaaet oplyst oplyst afgjort afsluttet"),
        (6, "opstaaet oplyst oplyst afgjort afgjort afsluttet"),
    ],
)
def test_progress_from_the_position_among_statustypen(count, expected):
    assert " ".join(progress_at(i, count).value for i in range(count)) == expected


@pytest.mark.parametrize(
    ("level", "expected"),
    [
        ("openbaar", Sensitivity.IKKE_FORTROLIG),
        ("intern", Sensitivity.IKKE_FORTROLIG),
        ("zaakvertrouwelijk", Sensitivity.FORTROLIGE_PERSONOPLYSNINGER),
        ("vertrouwelijk", Sensitivity.FORTROLIGE_PERSONOPLYSNINGER),
        ("confidentieel", Sensitivity.FOELSOMME_PERSONOPLYSNINGER),
        ("zeer_geheim", Sensitivity.VIP),
        ("ukendt", Sensitivity.VIP),
        (None, Sensitivity.FORTROLIGE_PERSONOPLYSNINGER),
    ],
)
def test_sensitivity_from_vertrouwelijkheidaanduiding(level, expected):
    assert sensitivity_of(level) is expected


def test_status_map_is_parsed_or_refused_naming_the_part():
    assert parse_status_map("Visiteret=afgjort; ") == {"visiteret": Progress.AFGJORT}
    with pytest.raises(ValueError, match="'Visiteret=klar'"):
        parse_status_map("Visiteret=klar")


# -- URLs, errors, paging -----------------------------------------------------------------


@responses.activate
def test_catalogi_url_rebases_catalogue_links(make_connector):
    public = "https://catalogi.example/api/v1/"
    zgw = make_connector(ZgwConnector, {**SETTINGS, "catalogi_url": public})
    internal = "http://openzaak.internal:8000/catalogi/api/v1/"
    zaaktype = zaaktype_json(statustypen=[f"{internal}statustypen/{u}" for u in STATUSTYPEN])
    zaak = zaak_json(zaaktype=f"{internal}zaaktypen/{ZAAKTYPE}", status=None)
    responses.post(BASE + "zaken/_zoek", json=page([zaak]))
    responses.get(BASE + "rollen", json=page([person(), employee()]))
    responses.get(f"{public}zaaktypen/{ZAAKTYPE}", json=zaaktype)
    for i, uuid in enumerate(STATUSTYPEN):
        responses.get(f"{public}statustypen/{uuid}", json=statustype_json(i))
    (case,) = zgw.search(cpr_key())
    assert case.progress is Progress.OPSTAAET and len(case.progress_history) == 1


@responses.activate
def test_a_catalogue_on_another_server_is_refused_without_catalogi_url(zgw):
    serve(zaken=[zaak_json(zaaktype=f"https://elsewhere.example/zaaktypen/{ZAAKTYPE}")])
    with pytest.raises(FatalError, match="catalogi_url"):
        zgw.search(cpr_key())
    assert not any("elsewhere" in c.request.url for c in responses.calls)  # no JWT sent there


def endless_search(request):
    """A search answer that always links a next page, on another host."""
    number = int(parse_qs(urlsplit(request.url).query)["page"][0])
    following = f"http://openzaak.internal/zaken/api/v1/zaken/_zoek?page={number + 1}"
    return 200, {}, json.dumps(page([zaak_json()], following))


@responses.activate
def test_paging_follows_next_on_the_configured_server_and_is_bounded(make_connector):
    zgw = make_connector(ZgwConnector, {**SETTINGS, "max_pages": 2})
    serve()
    responses.remove(responses.POST, BASE + "zaken/_zoek")
    responses.add_callback(responses.POST, BASE + "zaken/_zoek", callback=endless_search)
    with pytest.raises(FatalError) as info:
        zgw.search(cpr_key())
    searches = [c.request.url for c in responses.calls if "_zoek" in c.request.url]
    assert searches == [f"{BASE}zaken/_zoek?page=1&pageSize=100", f"{BASE}zaken/_zoek?page=2"]
    assert "max_pages" in info.value.message


@responses.activate
def test_a_next_link_that_does_not_move_on_is_an_error(zgw):
    serve(following=f"{BASE}zaken/_zoek?page=1")
    with pytest.raises(FatalError, match="senere side"):
        zgw.search(cpr_key())


@responses.activate
def test_a_search_answer_of_the_wrong_shape_is_a_fatal_error_naming_what(zgw):
    serve()
    responses.replace(responses.POST, BASE + "zaken/_zoek", json={"count": 1})
    with pytest.raises(FatalError) as info:
        zgw.search(cpr_key())
    assert "results" in info.value.message


@responses.activate
def test_unreadable_zaken_are_counted_with_their_position_across_pages(zgw):
    zaken, statussen = many(4)
    first = [zaken[0], zaak_json(**{**zaken[1], "startdatum": "2024-02-30"}), zaken[2]]
    second = [zaak_json(url=None), "zaak", zaak_json(**{**zaken[3], "uuid": "not-a-uuid"})]
    serve(zaken=zaken, statussen=statussen)
    responses.remove(responses.POST, BASE + "zaken/_zoek")
    for number, body in [(1, page(first, f"{BASE}zaken/_zoek?page=2")), (2, page(second))]:
        at = matchers.query_param_matcher({"page": str(number)}, strict_match=False)
        responses.post(BASE + "zaken/_zoek", json=body, match=[at])
    cases = zgw.search(cpr_key())
    assert [c.native_id for c in cases] == [zaken[0]["uuid"], zaken[2]["uuid"]]
    assert cases.unreadable == 4
    assert [(u.position, u.field) for u in cases.problems] == [
        ("results[1]", "results[1].startdatum"),
        ("results[3]", "results[3].url"),
        ("results[4]", "results[4]"),
        ("results[5]", "results[5].uuid"),
    ]
    assert all(CPR not in f"{u.field} {u.problem}" for u in cases.problems)


@pytest.mark.parametrize("zaaktype", [[], 7, None, "https://openzaak.example/nope"])
@responses.activate
def test_a_zaak_without_a_readable_zaaktype_is_counted_the_others_kept(zgw, zaaktype):
    zaken, statussen = many(2)
    serve(zaken=[zaken[0], {**zaken[1], "zaaktype": zaaktype}], statussen=statussen)
    cases = zgw.search(cpr_key())
    assert [c.native_id for c in cases] == [zaken[0]["uuid"]]
    assert [(u.position, u.field) for u in cases.problems] == [
        ("results[1]", "results[1].zaaktype")
    ]


@responses.activate
def test_a_zaak_with_unreadable_rollen_or_status_is_counted_the_others_kept(zgw):
    zaken, statussen = many(3)
    serve(zaken=zaken, statussen=statussen)
    bad_rol = {**person(), "betrokkeneType": None}

    def rollen(request):
        (zaak,) = parse_qs(urlsplit(request.url).query)["zaak"]
        first = bad_rol if zaak == zaken[1]["url"] else person()
        return 200, {}, json.dumps(page([first, employee()]))

    responses.remove(responses.GET, BASE + "rollen")
    responses.add_callback(responses.GET, BASE + "rollen", callback=rollen)
    bad_status = {**statussen[2], "datumStatusGezet": "2024-02-30T10:00:00Z"}
    responses.replace(responses.GET, statussen[2]["url"], json=bad_status)
    cases = zgw.search(cpr_key())
    assert [c.native_id for c in cases] == [zaken[0]["uuid"]]
    assert [(u.position, u.field) for u in cases.problems] == [
        ("results[1]", "results[1].rollen[0].betrokkeneType"),
        ("results[2]", "results[2].statussen[0].datumStatusGezet"),
    ]


@responses.activate
def test_a_per_zaak_request_that_fails_still_fails_the_search(zgw):
    zaken, statussen = many(3)
    serve(zaken=zaken, statussen=statussen)
    responses.replace(responses.GET, statussen[1]["url"], status=503)
    with pytest.raises(RetriableError):
        zgw.search(cpr_key())
    # an endpoint that answers something else than a status is broken, not one zaak
    responses.replace(responses.GET, statussen[1]["url"], json=["ikke en status"])
    with pytest.raises(FatalError, match="sagens status"):
        zgw.search(cpr_key())


@responses.activate
def test_errors_are_classified(zgw):
    responses.post(BASE + "zaken/_zoek", status=503)
    with pytest.raises(RetriableError):
        zgw.search(cpr_key())
    responses.replace(responses.POST, BASE + "zaken/_zoek", body="<html>nej</html>")
    with pytest.raises(FatalError, match="ikke er gyldig JSON"):
        zgw.search(cpr_key())
    responses.replace(responses.POST, BASE + "zaken/_zoek", status=403, json={"code": "x"})
    with pytest.raises(ForbiddenError) as info:
        zgw.search(cpr_key())
    assert not info.value.retriable and "secret" in info.value.message


@responses.activate
def test_get_case_reads_the_resultaat(zgw):
    result = f"{BASE}resultaten/{ZAAK[:-1]}7"
    closed = zaak_json(einddatum="2026-10-02", resultaat=result)
    serve(statussen=[*STATUSSEN, status_json(2, "2026-09-20T09:00:00Z", "Licens udstedt")])
    responses.get(BASE + f"zaken/{ZAAK}", json=closed)
    responses.get(
        result,
        json={
            "url": result,
            "uuid": ZAAK[:-1] + "7",
            "zaak": closed["url"],
            "resultaattype": f"{CAT}resultaattypen/{ZAAKTYPE}",
            "toelichting": "Gælder et år",
        },
    )
    responses.get(f"{CAT}resultaattypen/{ZAAKTYPE}", json={"omschrijving": "Verleend"})
    case = zgw.get_case(ZAAK)
    assert [(e.title, e.kind) for e in case.events] == [
        ("Under behandling: Afventer dokumentation fra dig", "note"),
        ("Afgjort: Licens udstedt", "note"),
        ("Resultat: Verleend", "status"),
        ("Gælder et år", "note"),
    ]
    assert [s.status_text for s in case.progress_history] == [
        "Modtaget",
        "Under behandling",
        "Afgjort",
        "Afsluttet",
    ]
    assert str(case.decided) == "2026-09-20" and case.progress is Progress.AFSLUTTET
    with pytest.raises(NotFound):
        zgw.get_case("../../zaken")


def test_inp_bsn_is_refused_at_start_up_with_the_reason():
    with pytest.raises(ConfigError) as info:
        ZgwConnector.validate_settings({**SETTINGS, "cpr_field": "inpBsn"}, "sources.toml", "z.")
    assert "9 digits" in info.value.expected and "anpIdentificatie" in info.value.expected


def many(count):
    """``count`` zaken with their own uuid, URL and current status."""
    zaken, statussen = [], []
    for n in range(count):
        uuid = f"{ZAAK[:-4]}{n + 100:04d}"
        status = {**STATUSSEN[0], "uuid": f"{uuid[:-4]}9{n:03d}"}
        status["url"] = f"{BASE}statussen/{status['uuid']}"
        zaken.append(zaak_json(uuid=uuid, url=f"{BASE}zaken/{uuid}", status=status["url"]))
        statussen.append(status)
    return zaken, statussen


def paths(calls):
    return [urlsplit(c.request.url).path.removeprefix("/") for c in calls]


@responses.activate
def test_an_overview_asks_rollen_and_the_current_status_once_per_zaak(zgw):
    zaken, statussen = many(5)
    serve(zaken=zaken, statussen=statussen)
    assert len(zgw.search(cpr_key())) == 5
    asked = paths(responses.calls)
    assert asked.count("zaken/api/v1/zaken/_zoek") == 1
    assert asked.count("zaken/api/v1/rollen") == 5
    assert sorted(p for p in asked if "/statussen/" in p) == sorted(
        urlsplit(s["url"]).path[1:] for s in statussen
    )
    assert "zaken/api/v1/statussen" not in asked  # no history for an overview
    assert len([p for p in asked if p.startswith("catalogi/")]) == 5  # zaaktype + 4 statustypen
    responses.calls.reset()
    zgw.search(cpr_key())
    assert len(responses.calls) == 1 + 5 + 5  # the search and one round per zaak


@responses.activate
def test_with_expand_the_search_alone_answers_the_overview(zgw, make_connector):
    zaken, statussen = many(4)
    for zaak, status in zip(zaken, statussen, strict=True):
        zaak["_expand"] = {"rollen": [person(), employee()], "status": status}
    zaken[3]["_expand"] = {"rollen": [person(), employee()]}  # a server that left one out
    assert_valid("zaken", "ExpandZaak", zaken[0])
    serve(zaken=zaken, statussen=statussen)
    zgw.search(cpr_key())  # the catalogue is cached from here on
    responses.calls.reset()
    cases = zgw.search(cpr_key())
    assert [c.progress for c in cases] == [Progress.OPLYST] * 4
    assert {c.caseworker.medarbejdernummer for c in cases} == {WORKER}
    asked = paths(responses.calls)
    assert asked.count("zaken/api/v1/zaken/_zoek") == 1
    assert len(asked) == 3  # only the zaak without _expand: its rollen and its status
    plain = make_connector(ZgwConnector, {**SETTINGS, "use_expand": False})
    plain.search(cpr_key())
    responses.calls.reset()
    plain.search(cpr_key())
    assert "expand" not in json.loads(responses.calls[0].request.body)


@responses.activate
def test_per_zaak_calls_run_in_parallel_with_the_lookups_request_id(make_connector):
    zgw = make_connector(ZgwConnector, {**SETTINGS, "parallel": 3})
    zaken, statussen = many(6)
    serve(zaken=zaken, statussen=statussen)
    lock, state, seen_ids = threading.Lock(), {"now": 0, "most": 0}, set()

    def slow_rollen(request):
        with lock:
            state["now"] += 1
            state["most"] = max(state["most"], state["now"])
            seen_ids.add(request.headers.get("X-Request-ID"))
        time.sleep(0.05)
        with lock:
            state["now"] -= 1
        return 200, {}, json.dumps(page([person(), employee()]))

    responses.remove(responses.GET, BASE + "rollen")
    responses.add_callback(responses.GET, BASE + "rollen", callback=slow_rollen)
    token = request_id.set("opslag-42")
    try:
        assert len(zgw.search(cpr_key())) == 6
    finally:
        request_id.reset(token)
    assert state["most"] == 3  # side by side, never more than the setting
    assert seen_ids == {"opslag-42"}


def document_json(uuid, **changes):
    body = {
        "url": f"{ROOT}documenten/api/v1/enkelvoudiginformatieobjecten/{uuid}",
        "identificatie": "DOK-1",
        "bronorganisatie": "123456782",
        "creatiedatum": "2026-09-02",
        "titel": "Afgørelse om beboerlicens",
        "vertrouwelijkheidaanduiding": "zaakvertrouwelijk",
        "auteur": "Kommunen",
        "status": "definitief",
        "formaat": "application/pdf",
        "taal": "dan",
        "versie": 1,
        "beginRegistratie": "2026-09-02T10:00:00Z",
        "bestandsnaam": "afgoerelse.pdf",
        "verzenddatum": "2026-09-02",
        "informatieobjecttype": f"{CAT}informatieobjecttypen/{ZAAKTYPE}",
        "locked": False,
        "bestandsdelen": [],
    }
    body.update(changes)
    return body


DOCS = [f"0f3c4a2e-2b7e-4e53-9a59-3c1c9a6f0d0{i}" for i in range(5)]


def serve_documents(*bodies, forbidden=()):
    links = [
        {
            "url": f"{BASE}zaakinformatieobjecten/{uuid[:-1]}f",
            "uuid": uuid[:-1] + "f",
            "informatieobject": f"{ROOT}documenten/api/v1/enkelvoudiginformatieobjecten/{uuid}",
            "zaak": f"{BASE}zaken/{ZAAK}",
            "aardRelatieWeergave": "Hoort bij, omgekeerd: kent",
            "registratiedatum": "2026-09-02T10:00:00Z",
        }
        for uuid in [*(b["url"].rsplit("/", 1)[1] for b in bodies), *forbidden]
    ]
    responses.replace(responses.GET, BASE + "zaakinformatieobjecten", json=links)
    for body in bodies:
        responses.get(body["url"], json=body)
    for uuid in forbidden:
        url = f"{ROOT}documenten/api/v1/enkelvoudiginformatieobjecten/{uuid}"
        responses.get(url, status=403, json={"code": "permission_denied"})
    return links


@responses.activate
def test_the_case_page_has_the_documents_mapped_for_the_citizen_policy(zgw):
    serve()
    responses.get(BASE + f"zaken/{ZAAK}", json=zaak_json())
    links = serve_documents(
        document_json(DOCS[0]),
        document_json(DOCS[1], titel="Udkast", status="in_bewerking", verzenddatum=None),
        document_json(DOCS[2], titel="Sagsnotat", vertrouwelijkheidaanduiding="intern"),
        document_json(
            DOCS[3], titel="Ansøgning", status="", verzenddatum=None, ontvangstdatum="2026-09-01"
        ),
        forbidden=[DOCS[4]],
    )
    assert_valid("zaken", "ZaakInformatieObject", links[0])
    assert_valid("documenten", "EnkelvoudigInformatieObject", document_json(DOCS[0]))
    case = zgw.get_case(ZAAK)
    found = {d.title: d for d in case.documents}
    assert list(found) == ["Afgørelse om beboerlicens", "Udkast", "Sagsnotat", "Ansøgning"]
    final = found["Afgørelse om beboerlicens"]
    assert (final.id, final.status, final.type) == (
        DOCS[0],
        DocumentStatus.ENDELIGT,
        DocumentType.BREV_UDGAAENDE,
    )
    assert final.party_may_see and str(final.date) == "2026-09-02" and final.source == "zgw"
    assert found["Udkast"].status is DocumentStatus.UNDER_UDARBEJDELSE
    assert not found["Sagsnotat"].party_may_see
    assert found["Sagsnotat"].sensitivity is Sensitivity.IKKE_FORTROLIG
    assert found["Ansøgning"].type is DocumentType.BREV_INDGAAENDE
    # what a citizen who is the zaak's initiator gets to see of it
    overview = Overview(cpr_key(), (case,), (), case.provenance.fetched_at)
    (shown,) = citizen_view(overview, cpr_key(), CitizenPolicy()).cases
    assert [d.title for d in shown.documents] == ["Afgørelse om beboerlicens"]


@responses.activate
def test_a_document_is_fetched_only_when_it_is_on_the_zaak(zgw):
    serve()
    serve_documents(document_json(DOCS[0]))
    url = f"{ROOT}documenten/api/v1/enkelvoudiginformatieobjecten/{DOCS[0]}/download"
    responses.get(url, body=b"%PDF-1.7 ...", content_type="application/octet-stream")
    content = zgw.get_document(ZAAK, DOCS[0])
    assert (content.filename, content.media_type, content.content) == (
        "afgoerelse.pdf",
        "application/pdf",
        b"%PDF-1.7 ...",
    )
    download = next(c for c in responses.calls if c.request.url == url)
    assert download.request.headers["Accept"] == "*/*"
    zio = next(c for c in responses.calls if "zaakinformatieobjecten" in c.request.url)
    assert parse_qs(urlsplit(zio.request.url).query)["zaak"] == [f"{BASE}zaken/{ZAAK}"]
    with pytest.raises(NotFound, match="hører ikke til sagen"):
        zgw.get_document(ZAAK, DOCS[1])
    with pytest.raises(NotFound):
        zgw.get_document(ZAAK, "../../zaken")


@responses.activate
def test_a_400s_invalid_params_are_in_the_message_without_a_cpr_number(zgw):
    problem = {
        "type": "https://openzaak.example/ref/fouten/ValidationError/",
        "code": "invalid",
        "title": "Invalid input.",
        "status": 400,
        "detail": "",
        "instance": "urn:uuid:1",
        "invalidParams": [
            {
                "name": "rol__betrokkeneIdentificatie__natuurlijkPersoon__inpBsn",
                "code": "max_length",
                "reason": f"De waarde {CPR} is te lang",
            }
        ],
    }
    assert_valid("zaken", "ValidatieFout", problem)
    responses.post(
        BASE + "zaken/_zoek", status=400, json=problem, content_type="application/problem+json"
    )
    with pytest.raises(FatalError) as info:
        zgw.search(cpr_key())
    message = info.value.message
    assert "HTTP 400" in message and "natuurlijkPersoon__inpBsn: De waarde" in message
    assert "te lang" in message and CPR not in message


@responses.activate
def test_status_notes_are_for_staff_unless_the_municipality_shows_them(make_connector):
    zgw = make_connector(ZgwConnector, {**SETTINGS, "show_status_notes_to_citizens": True})
    serve()
    (case,) = zgw.search(cpr_key())
    assert case.progress_history[-1].status_text == (
        "Under behandling: Afventer dokumentation fra dig"
    )
    assert case.events == ()


def test_the_source_panel_says_when_authorisations_may_hide_zaken(make_connector):
    def caveat(**changes):
        return make_connector(ZgwConnector, {**SETTINGS, **changes}, "zgw").caveat()

    assert "usynlige" in caveat() and "autorisationer" in caveat()
    assert "'vertrouwelijk'" in caveat(max_confidentiality="vertrouwelijk")
    assert caveat(max_confidentiality="zeer_geheim") is None


# -- against the sandbox ------------------------------------------------------------------


@pytest.fixture
def sandbox_zgw(zgw_service, make_connector):
    def build(**changes):
        settings = {"base_url": zgw_service.zaken, **CREDENTIALS, **changes}
        return make_connector(ZgwConnector, settings, "zgw")

    return build


def test_sandbox_typical_citizen_sees_zaken_with_progress_and_texts(zgw_service, sandbox_zgw):
    m = zgw_service.municipality
    cases = sandbox_zgw().search(cpr_key(m.demo.typical))
    assert 2 <= len(cases) <= 3
    for case in cases:
        assert case.parties[0].key.value == m.demo.typical
        assert case.parties[0].role is PartyRole.PRIMARY
        assert case.status_text and case.kle and case.area and case.caseworker.name
        assert case.progress is case.progress_history[-1].progress
        assert case.progress_history[0].progress is Progress.OPSTAAET
    assert any(c.is_open for c in cases)
    one = cases[0]
    full = sandbox_zgw().get_case(one.native_id)
    assert full.progress is one.progress and full.status_text == one.status_text
    assert [s.progress for s in full.progress_history][-1] is one.progress
    assert len(full.progress_history) >= len(one.progress_history)
    assert sandbox_zgw().search(cpr_key(m.demo.nothing)) == []
    assert sandbox_zgw().health().startswith("svarer (")


def test_sandbox_with_and_without_expand_the_same_cases(zgw_service, sandbox_zgw):
    heavy = cpr_key(zgw_service.municipality.demo.heavy)
    expanded, plain = sandbox_zgw().search(heavy), sandbox_zgw(use_expand=False).search(heavy)

    def facts(cases):
        return sorted((c.id, c.progress, c.status_text, c.parties, c.events) for c in cases)

    assert len(expanded) >= 8 and facts(expanded) == facts(plain)


def test_sandbox_caseworker_desk(zgw_service, sandbox_zgw):
    worker = zgw_service.municipality.demo.caseworker
    cases = sandbox_zgw().search(parse_key(KeyKind.MEDARBEJDER, worker))
    assert len(cases) >= 4
    assert {c.caseworker.medarbejdernummer for c in cases} == {worker}


def test_sandbox_paging_is_bounded_by_max_pages(zgw_service, sandbox_zgw):
    heavy = cpr_key(zgw_service.municipality.demo.heavy)
    assert len(sandbox_zgw(page_size=3).search(heavy)) >= 8
    with pytest.raises(FatalError, match="max_pages"):
        sandbox_zgw(page_size=3, max_pages=2).search(heavy)


def test_sandbox_wrong_secret_is_a_clear_fatal_error(zgw_service, sandbox_zgw):
    with pytest.raises(ForbiddenError) as info:
        sandbox_zgw(secret="not-the-secret").search(cpr_key(zgw_service.municipality.demo.typical))
    assert not info.value.retriable and "client_id og secret" in info.value.message


def test_sandbox_faults_are_classified(zgw_service, sandbox_zgw):
    key = cpr_key(zgw_service.municipality.demo.typical)
    try:
        zgw_service.faults.update(fail="500")
        with pytest.raises(RetriableError):
            sandbox_zgw().search(key)
        zgw_service.faults.update(fail="garbage")
        with pytest.raises(FatalError, match="ikke er gyldig JSON"):
            sandbox_zgw().search(key)
    finally:
        zgw_service.faults.reset()


def test_sandbox_case_page_documents_for_caseworker_and_citizen(zgw_service, sandbox_zgw):
    m = zgw_service.municipality
    key = cpr_key(m.demo.typical)
    zgw = sandbox_zgw(documenten_url=zgw_service.root + "documenten/api/v1/")
    cases = zgw.search(key)
    details = [zgw.get_case(c.native_id) for c in cases]
    documents = [d for case in details for d in case.documents]
    assert documents, "the demo citizen's zaken have documents"
    assert {d.status for d in documents} >= {DocumentStatus.MODTAGET, DocumentStatus.ENDELIGT}
    overview = Overview(key, tuple(details), (), details[0].provenance.fetched_at)
    shown = citizen_view(overview, key, CitizenPolicy())
    visible = [d for case in shown.cases for d in case.documents]
    assert visible and len(visible) < len(documents)
    finals = {d.id for d in documents if d.status is DocumentStatus.ENDELIGT and d.party_may_see}
    assert {d.id for d in visible} == finals
    case = next(c for c in details if c.documents)
    content = zgw.get_document(case.native_id, case.documents[0].id)
    assert content.content and content.filename.endswith(".txt")
    other = next(c for c in details if c.native_id != case.native_id)
    with pytest.raises(NotFound):
        zgw.get_document(other.native_id, case.documents[0].id)


def test_sandbox_a_client_with_limited_authorisations_sees_less(zgw_service, sandbox_zgw):
    heavy = cpr_key(zgw_service.municipality.demo.heavy)
    everything = sandbox_zgw().search(heavy)
    limited = sandbox_zgw(**LIMITED_CREDENTIALS, max_confidentiality="zaakvertrouwelijk")
    fewer = limited.search(heavy)
    assert 0 < len(fewer) < len(everything)
    assert all(c.sensitivity <= Sensitivity.FORTROLIGE_PERSONOPLYSNINGER for c in fewer)
    hidden = next(c for c in everything if c.id not in {f.id for f in fewer})
    with pytest.raises(ForbiddenError):
        limited.get_case(hidden.native_id)
    assert "'zaakvertrouwelijk'" in limited.caveat()


def test_sandbox_documents_the_client_may_not_read_are_counted_not_dropped(
    zgw_service, sandbox_zgw
):
    heavy = cpr_key(zgw_service.municipality.demo.heavy)
    full = sandbox_zgw()
    limited = sandbox_zgw(**LIMITED_CREDENTIALS, max_confidentiality="zaakvertrouwelijk")
    pairs = [
        (full.get_case(c.native_id), limited.get_case(c.native_id)) for c in limited.search(heavy)
    ]
    withheld = [(a, b) for a, b in pairs if b.documents_withheld]
    assert withheld, "some zaak the limited client sees has a document above its level"
    for everything, fewer in pairs:
        assert len(fewer.documents) + fewer.documents_withheld == len(everything.documents)
        assert everything.documents_withheld == 0


# --- the conformance suite (borgersag.testing) ---------------------------------------


def moved(body, base_url):
    """``body`` with the recorded server's addresses replaced by the fake's."""
    scheme, _, host = base_url.split("/", 3)[:3]
    catalogi = f"{scheme}//{host}/catalogi/api/v1/"
    return json.loads(json.dumps(body).replace(BASE, base_url).replace(CAT, catalogi))


class TestZgwConformance(ConformanceSuite):
    connector = ZgwConnector
    settings: ClassVar = {"base_url": BASE, "client_id": "portal", "secret": "s3cret"}
    sample_keys: ClassVar = {KeyKind.CPR: CPR, KeyKind.MEDARBEJDER: WORKER}
    endless_settings: ClassVar = {"page_size": 1}

    def backend(self, mock, base_url, *, endless=False):
        if endless:  # ZGW pages by page number: every next link leads one page on

            def search(request):
                number = int(parse_qs(urlsplit(request.url).query)["page"][0])
                following = f"{base_url}zaken/_zoek?page={number + 1}&pageSize=1"
                return 200, {}, json.dumps(moved(page([zaak_json()], following), base_url))

            mock.add_callback("POST", base_url + "zaken/_zoek", callback=search)
        else:
            mock.post(base_url + "zaken/_zoek", json=moved(page([zaak_json()]), base_url))
        mock.get(base_url + "rollen", json=moved(page([person(), employee()]), base_url))
        mock.get(base_url + "statussen", json=moved(page(STATUSSEN), base_url))
        for status in STATUSSEN:
            mock.get(moved(status["url"], base_url), json=moved(status, base_url))
        catalogi = moved(CAT, base_url)
        mock.get(f"{catalogi}zaaktypen/{ZAAKTYPE}", json=moved(zaaktype_json(), base_url))
        for i, uuid in enumerate(STATUSTYPEN):
            mock.get(f"{catalogi}statustypen/{uuid}", json=moved(statustype_json(i), base_url))

    def endless_backend(self, mock, base_url):
        self.backend(mock, base_url, endless=True)


# --- through the portal: what staff and citizens see ------------------------------------


def zgw_pages(client, page_path, pattern):
    """The HTML of every ZGW case page linked from the page at ``page_path``."""
    body = client.get(page_path).get_data(as_text=True)
    links = sorted(set(re.findall(pattern, body)))
    pages = [client.get(link.replace("&amp;", "&")) for link in links]
    assert all(p.status_code == 200 for p in pages)
    return [p.get_data(as_text=True) for p in pages]


def test_through_the_portal_staff_see_notes_and_every_document_citizens_neither(sandbox, live_app):
    m = sandbox.municipality
    zaken = build_register(m).zaken_with_party("natuurlijk_persoon", m.demo.typical)
    notes = {s.toelichting for z in zaken for s in z.statussen if s.toelichting}
    staff = live_app.test_client()
    assert sandbox_login(staff, sandbox, "medarbejder", "caseworker").status_code == 303
    cpr = m.demo.typical
    looked_up = staff.post("/", data={"kind": "cpr", "value": cpr, "csrf_token": csrf_token(staff)})
    staff_text = "".join(
        zgw_pages(staff, looked_up.location, r'href="(/oversigt/[^"]+/sag/zgw/[^"]+)"')
    )
    citizen = live_app.test_client()
    assert sandbox_login(citizen, sandbox, "borger", "typical").status_code == 303
    citizen_pages = zgw_pages(citizen, "/mine-sager", r'href="(/mine-sager/sag/zgw/[^"/]+)"')
    assert len(citizen_pages) == len(zaken)
    citizen_text = "".join(citizen_pages)
    shown_to_staff = {n for n in notes if n in staff_text}
    assert shown_to_staff, "staff see the statustoelichtingen of the zaken they may see"
    assert not any(note in citizen_text for note in notes)
    assert "Sagsnotat" in staff_text and "Sagsnotat" not in citizen_text  # intern
    assert "Henvendelse: " in staff_text and "Henvendelse: " not in citizen_text  # received
    finals = {d.titel for z in zaken for d in z.documenten if d.status == "definitief"}
    finals -= {"Sagsnotat", "Lægeerklæring"}  # intern; vertrouwelijk and received
    assert finals and all(title in citizen_text for title in finals)
    if any(d.titel == "Lægeerklæring" for z in zaken for d in z.documenten):
        assert "Lægeerklæring" in staff_text and "Lægeerklæring" not in citizen_text


# --- hostile data ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def hostile_zgw():
    """A ZGW service of its own in hostile-data mode, on a free loopback port."""
    from werkzeug.serving import make_server

    from borgersag.sandbox import zgw

    town = generate(2026)
    app = zgw.create_app(town, hostile=lambda: True)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    yield town, f"http://127.0.0.1:{server.port}/"
    server.shutdown()
    thread.join(5)


def test_hostile_zaken_are_counted_as_unreadable_and_the_rest_shown_never_a_crash(
    hostile_zgw, make_connector
):
    town, root = hostile_zgw
    zgw = make_connector(
        ZgwConnector,
        {
            "base_url": root + "zaken/api/v1/",
            "documenten_url": root + "documenten/api/v1/",
            **CREDENTIALS,
        },
        "zgw",
    )
    register = build_register(town)
    plain = make_connector(ZgwConnector, {**zgw.settings, "use_expand": False}, "zgw")
    shown, problems = 0, []
    for source, cpr in product(
        (zgw, plain), [town.demo.typical, town.demo.heavy, town.demo.coowner]
    ):
        answer = source.search(cpr_key(cpr))  # hostile zaken cost themselves, not the answer
        on_zaken = register.zaken_with_party("natuurlijk_persoon", cpr)
        assert len(answer) + answer.unreadable == len(on_zaken)
        assert all(cpr not in f"{u.position} {u.field} {u.problem}" for u in answer.problems)
        shown += len(answer)
        problems += answer.problems
    assert shown and problems  # the readable ones come through, the others are counted
    assert all(re.fullmatch(r"results\[\d+\]", u.position) for u in problems)
    fields = {u.field.split(".", 1)[1] for u in problems}
    assert "startdatum" in fields  # the impossible date 2024-02-30
    assert "statussen[0].datumStatusGezet" in fields  # the current status, asked per zaak
    known = {d.uuid: d for z in register.zaken for d in z.documenten}
    documents = []
    for zaak in register.zaken[:60]:
        try:
            documents += zgw.get_case(zaak.uuid).documents
        except SourceError:
            continue
    assert documents
    # an unknown status counts as a draft, a missing level as not for the party: less shown
    unknown_status = [
        d for d in documents if known[d.id].status == "definitief" and d.status.value != "endeligt"
    ]
    assert unknown_status
    assert {d.status for d in unknown_status} == {DocumentStatus.UNDER_UDARBEJDELSE}
    no_level = [
        d
        for d in documents
        if known[d.id].vertrouwelijkheid == "zaakvertrouwelijk" and not d.party_may_see
    ]
    assert no_level and all(
        d.sensitivity is Sensitivity.FORTROLIGE_PERSONOPLYSNINGER for d in no_level
    )
    assert any(MARKUP in d.title for d in documents)  # kept as text; the pages escape it


@pytest.mark.parametrize(
    ("integriteit", "expected"),
    [
        (
            {"algoritme": "sha_256", "waarde": "AB" * 32, "datum": "2025-01-02"},
            "sha_256:" + "ab" * 32,
        ),
        ({"algoritme": "md5", "waarde": " " + "0f" * 16 + " ", "datum": None}, "md5:" + "0f" * 16),
        ({"algoritme": "", "waarde": "", "datum": None}, None),  # Open Zaak without one
        (None, None),
        ({"algoritme": "crc_32", "waarde": "1c291ca3", "datum": "2025-01-02"}, None),  # collides
        ({"algoritme": "hmac", "waarde": "ab" * 32, "datum": "2025-01-02"}, None),  # keyed
        ({"algoritme": "sha_256", "waarde": "<script>", "datum": "2025-01-02"}, None),
        ({"algoritme": "sha_256", "waarde": 42, "datum": "2025-01-02"}, None),
        ({"algoritme": ["sha_256"], "waarde": "ab" * 32}, None),
        ("sha_256:abc", None),
    ],
)
def test_a_documents_digest_is_taken_only_when_it_can_be_compared(integriteit, expected):
    from borgersag.connectors.zgw_documents import content_hash_of

    assert content_hash_of(integriteit) == expected
