"""The ZGW connector: settings, the JWT, mapping of hand-built (specification-valid) bodies,
classified errors, bounded paging, and against the sandbox's Open Zaak over HTTP."""

from __future__ import annotations

import json
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
from borgersag.domain.model import PartyRole, Progress, Sensitivity
from borgersag.sandbox.zgw import CREDENTIALS
from borgersag.sdk.errors import ConfigError, FatalError, ForbiddenError, NotFound, RetriableError
from borgersag.testing import ConformanceSuite

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
        "status": f"{BASE}statussen/{STATUSTYPEN[1]}",
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


def status_json(i, when, note=""):
    return {
        "url": f"{BASE}statussen/{STATUSTYPEN[i][:-1]}9",
        "uuid": f"{STATUSTYPEN[i][:-1]}9",
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
    responses.get(BASE + "rollen", json=page(rollen or [person(), employee()]))
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
    assert search == {"rol__betrokkeneIdentificatie__natuurlijkPersoon__anpIdentificatie": CPR}
    assert CPR not in responses.calls[0].request.url  # the CPR number travels in the body
    assert case.id == f"zgw/{ZAAK}" and case.sagsnummer == "ZAAK-2026-0000000042"
    assert case.title == "Beboerlicens – Vestergade 12"
    assert case.public_title == "Beboerparkeringslicens"
    assert (case.kle, case.area, case.unit) == ("05.13.00", "Veje og trafik", "Borgerservice")
    assert case.sensitivity is Sensitivity.FORTROLIGE_PERSONOPLYSNINGER
    assert case.progress is Progress.OPLYST
    assert [(s.progress, str(s.date), s.status_text) for s in case.progress_history] == [
        (Progress.OPSTAAET, "2026-09-01", "Modtaget"),
        (Progress.OPLYST, "2026-09-05", "Under behandling: Afventer dokumentation fra dig"),
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
    responses.get(BASE + "statussen", json=page(STATUSSEN))
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
    responses.post(
        BASE + "zaken/_zoek", json=page([zaak_json(zaaktype=f"{internal}zaaktypen/{ZAAKTYPE}")])
    )
    responses.get(BASE + "statussen", json=page([]))
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


@pytest.mark.parametrize(
    ("body", "names"),
    [
        ({"count": 1}, "results"),
        (page([zaak_json(url=None)]), "url"),
        (page([zaak_json(uuid="not-a-uuid")]), "uuid"),
        (page([zaak_json(startdatum="1. september")]), "startdatum"),
        (page(["zaak"]), "results[0]"),
    ],
)
@responses.activate
def test_a_body_of_the_wrong_shape_is_a_fatal_error_naming_what(zgw, body, names):
    serve()
    responses.replace(responses.POST, BASE + "zaken/_zoek", json=body)
    with pytest.raises(FatalError) as info:
        zgw.search(cpr_key())
    assert names in info.value.message


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
        ("Resultat: Verleend", "status"),
        ("Gælder et år", "note"),
    ]
    assert str(case.decided) == "2026-09-20" and case.progress is Progress.AFSLUTTET
    with pytest.raises(NotFound):
        zgw.get_case("../../zaken")


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
    assert sandbox_zgw().get_case(one.native_id).progress_history == one.progress_history
    assert sandbox_zgw().search(cpr_key(m.demo.nothing)) == []
    assert sandbox_zgw().health().startswith("svarer (")


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

    @pytest.mark.xfail(
        strict=True,
        reason="issue 10: the zgw connector adopts Reader.each in slice C (zgw); remove then",
    )
    def test_one_unreadable_record_is_counted_and_the_rest_kept(self, probe):
        super().test_one_unreadable_record_is_counted_and_the_rest_kept(probe)

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
        catalogi = moved(CAT, base_url)
        mock.get(f"{catalogi}zaaktypen/{ZAAKTYPE}", json=moved(zaaktype_json(), base_url))
        for i, uuid in enumerate(STATUSTYPEN):
            mock.get(f"{catalogi}statustypen/{uuid}", json=moved(statustype_json(i), base_url))

    def endless_backend(self, mock, base_url):
        self.backend(mock, base_url, endless=True)
