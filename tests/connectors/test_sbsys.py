"""The SBSYS connector: mapping, record tolerance, classified errors, the documented search
(Limit, no offset), and against the sandbox."""

from __future__ import annotations

import json

import pytest
import responses

from borgersag.connectors.sbsys import SbsysConnector
from borgersag.domain.keys import BFE, KeyKind, Matrikel, parse_key
from borgersag.domain.model import DocumentStatus, DocumentType, Progress, Sensitivity
from borgersag.sdk.errors import ConfigError, FatalError, ForbiddenError, NotFound, RetriableError
from borgersag.testing import ConformanceSuite

BASE = "https://sbsys.example/api-root/"
SETTINGS = {
    "base_url": BASE,
    "client_id": "borgersag",
    "client_secret": "s3cret",
    "username": "svc",
    "password": "pw",
    "deep_link_template": "https://sbsys.example/klient/sag/{id}",
}
CPR = parse_key(KeyKind.CPR, "010190-1234")


def case_json(**changes):
    case = {
        "Id": 42,
        "SagIdentity": "6f1c…",
        "Nummer": "27.24.00-G01-12-24",
        "SagsTitel": "Bostøtte – psykisk sårbarhed",
        "Opstaaet": "2024-03-05T09:00:00",
        "SagsStatus": {"Navn": "Afventer", "SagsTilstand": "Aktiv", "SagsStatusKommentar": "X"},
        "SagsStatusHistorik": [
            {"Navn": "Opstået", "Dato": "2024-03-05T09:00:00", "SagsTilstand": "Aktiv"},
            {"Navn": "Opklaring", "Dato": "2024-03-10T09:00:00", "Kommentar": "Samtale"},
            {"Navn": "Afventer", "Dato": "2024-04-01T09:00:00", "SagsTilstand": "Aktiv"},
        ],
        "ErBeskyttet": False,
        "Fagomraade": {"Navn": "Social service (voksne)"},
        "Kle": {"Nummer": "27.24.00", "Titel": "Bostøtte"},
        "Facet": "G01",
        "Foelsomhed": "FOELSOMME_PERSONOPLYSNINGER",
        "PrimaryPart": {
            "Navn": "Anne Jensen",
            "CPRnummer": "010190-1234",
            "Adresse": "Birkevej 2, 8200 Aarhus N",
            "NavneOgAdressebeskyttelse": True,
        },
        "Behandler": {"LogonId": "ANJE", "Navn": "Anders Jensen", "Medarbejdernummer": "M10234"},
        "AnsvarligEnhed": {"Navn": "Socialafdelingen"},
        "Frist": "2024-06-01",
        "Afsluttet": None,
        "EksterneReferencer": [{"System": "Byggesag", "Nummer": "BYG-2024-00123"}],
        "Ejendomme": [{"BfeNummer": 123456, "Ejerlavskode": 2000351, "Matrikelnummer": "12a"}],
    }
    case.update(changes)
    return case


@pytest.fixture
def sbsys(make_connector):
    return make_connector(SbsysConnector, dict(SETTINGS), "sbsys")


@pytest.fixture
def api():
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock.post(BASE + "connect/token", json={"access_token": "t1", "expires_in": 3600})
        yield mock


def test_settings_are_declared_and_validated():
    assert SbsysConnector.secret_settings() == {"client_secret", "password"}
    settings = SbsysConnector.validate_settings(dict(SETTINGS))
    assert settings["limit"] == 2000  # the documented search's largest Limit


@pytest.mark.parametrize(
    ("change", "key"),
    [
        ({"client_secret": None}, "client_secret"),
        ({"base_url": "sbsys.example"}, "base_url"),
        ({"limit": 0}, "limit"),
        ({"limit": 2001}, "limit"),
        ({"page_size": 500}, "page_size"),  # gone: the documented search cannot page
        ({"status_map": "Visiteret=done"}, "status_map"),
        ({"colour": "blue"}, "colour"),
    ],
)
def test_invalid_settings_name_the_key(change, key):
    raw = {**SETTINGS, **change}
    raw = {k: v for k, v in raw.items() if v is not None}
    with pytest.raises(ConfigError) as info:
        SbsysConnector.validate_settings(raw, "config/sources.toml", "sources.sbsys.")
    assert info.value.key == "sources.sbsys." + key


def test_search_maps_a_case_faithfully(sbsys, api):
    search = api.post(BASE + "api/sag/search", json={"Results": [case_json()]})
    (case,) = sbsys.search(CPR)
    sent = search.calls[0].request
    assert b'"CprNummer": "010190-1234"' in sent.body
    assert "0101901234" not in sent.url and sent.headers["Authorization"] == "Bearer t1"
    assert case.id == "sbsys/42" and case.sagsnummer == "27.24.00-G01-12-24"
    assert case.source == "sbsys"
    assert case.progress is Progress.OPLYST
    assert [s.progress for s in case.progress_history] == [
        Progress.OPSTAAET,
        Progress.OPSTAAET,
        Progress.OPLYST,
    ]
    assert case.progress_history[1].status_text == "Opklaring: Samtale"
    assert case.status_text == "Afventer – X"
    assert (case.kle, case.facet, case.area) == ("27.24.00", "G01", "Social service (voksne)")
    assert case.sensitivity is Sensitivity.FOELSOMME_PERSONOPLYSNINGER
    assert case.public_title == "Bostøtte"
    (party,) = case.parties
    assert party.key == CPR and party.protected and party.name == "Anne Jensen"
    assert case.subjects == (Matrikel.of(2000351, "12a"), BFE.parse("123456"))
    assert case.caseworker.medarbejdernummer == "M10234" and case.unit == "Socialafdelingen"
    assert str(case.opened) == "2024-03-05" and str(case.deadline) == "2024-06-01"
    assert case.decided is None and case.closed is None
    assert case.join_keys == frozenset({"byggesag:BYG-2024-00123"})
    assert case.deep_link == "https://sbsys.example/klient/sag/42"


def test_closed_cases_and_fail_closed_defaults(sbsys, api):
    history = [
        {"Navn": "Opklaring", "Dato": "2024-01-02"},
        {"Navn": "Afgjort", "Dato": "2024-02-01"},
        {"Navn": "Lukket af system", "Dato": "2024-03-01", "SagsTilstand": "Afsluttet"},
    ]
    raw = case_json(SagsStatusHistorik=history, Foelsomhed="HEMMELIG", PrimaryPart={})
    raw["Afsluttet"] = "2024-03-01T15:00:00"
    api.post(BASE + "api/sag/search", json={"Results": [raw]})
    (case,) = sbsys.search(CPR)
    assert case.progress_history[0].progress is Progress.OPSTAAET  # every case has one
    assert case.progress is Progress.AFSLUTTET and str(case.closed) == "2024-03-01"
    assert str(case.decided) == "2024-02-01"
    assert case.sensitivity is Sensitivity.VIP  # unknown level: treat as the highest
    assert case.parties == ()


def test_status_map_setting_extends_the_defaults(make_connector, api):
    sbsys = make_connector(SbsysConnector, {**SETTINGS, "status_map": "Visiteret=afgjort"})
    history = [
        {"Navn": "Opstået", "Dato": "2024-01-02"},
        {"Navn": "Visiteret", "Dato": "2024-02-01"},
    ]
    api.post(BASE + "api/sag/search", json={"Results": [case_json(SagsStatusHistorik=history)]})
    assert sbsys.search(CPR)[0].progress is Progress.AFGJORT


@pytest.mark.parametrize(
    ("body", "names"),
    [
        ({"Results": "many"}, "Results"),
        ({"Cases": []}, "Results"),
        ([], "søgesvaret"),
    ],
)
def test_a_body_of_the_wrong_shape_is_a_fatal_error_naming_what(sbsys, api, body, names):
    api.post(BASE + "api/sag/search", json=body)
    with pytest.raises(FatalError) as info:
        sbsys.search(CPR)
    assert "sbsys" in info.value.message.lower() and names in info.value.message
    assert "010190" not in info.value.message


@pytest.mark.parametrize(
    ("bad", "field"),
    [
        (case_json(Id=2, Nummer=None), "Results[1].Nummer"),
        (case_json(Id="2"), "Results[1].Id"),
        (case_json(Id=2, Opstaaet="2024-02-30T09:00:00"), "Results[1].Opstaaet"),
        (
            case_json(Id=2, SagsStatusHistorik=[{"Navn": "Opstået"}]),
            "Results[1].SagsStatusHistorik[0].Dato",
        ),
        (case_json(Id=2, Kle=["27.24.00"]), "Results[1].Kle"),
        (None, "Results[1]"),
    ],
)
def test_one_unreadable_case_is_counted_and_the_others_kept(sbsys, api, caplog, bad, field):
    api.post(BASE + "api/sag/search", json={"Results": [case_json(Id=1), bad, case_json(Id=3)]})
    cases = sbsys.search(CPR)
    assert [c.id for c in cases] == ["sbsys/1", "sbsys/3"]
    assert cases.unreadable == 1
    assert cases.problems[0].position == "Results[1]" and cases.problems[0].field == field
    logged = " ".join(r.getMessage() for r in caplog.records if r.levelname == "WARNING")
    assert "SBSYS" in logged and "Results[1]" in logged and field in logged
    assert "010190" not in logged and "2024-02-30" not in logged


def test_garbage_is_a_fatal_error(sbsys, api):
    api.post(BASE + "api/sag/search", body="<html>oops</html>", content_type="text/html")
    with pytest.raises(FatalError):
        sbsys.search(CPR)


def test_5xx_is_retriable(sbsys, api):
    api.post(BASE + "api/sag/search", status=503, json={})
    with pytest.raises(RetriableError):
        sbsys.search(CPR)


def test_401_renews_the_token_once_then_gives_up(sbsys, api):
    search = api.post(BASE + "api/sag/search", status=401, json={})
    with pytest.raises(ForbiddenError):
        sbsys.search(CPR)
    assert len(api.calls) == 4  # token, search, renewed token, search again
    assert len(search.calls) == 2


def test_a_refused_login_is_forbidden(sbsys):
    with responses.RequestsMock() as mock:
        mock.post(BASE + "connect/token", status=400, json={"error": "invalid_grant"})
        with pytest.raises(ForbiddenError):
            sbsys.search(CPR)


def test_one_search_with_limit_and_no_invented_offset(make_connector, api):
    sbsys = make_connector(SbsysConnector, {**SETTINGS, "limit": 3}, "sbsys")
    search = api.post(BASE + "api/sag/search", json={"Results": [case_json(Id=i) for i in (1, 2)]})
    cases = sbsys.search(CPR)
    assert [c.id for c in cases] == ["sbsys/1", "sbsys/2"] and not cases.truncated
    assert len(search.calls) == 1
    body = json.loads(search.calls[0].request.body)
    assert body == {"PrimaerPerson": {"CprNummer": "010190-1234"}, "Limit": 3}


def test_exactly_limit_cases_say_there_may_be_more(make_connector, api):
    sbsys = make_connector(SbsysConnector, {**SETTINGS, "limit": 2}, "sbsys")
    search = api.post(BASE + "api/sag/search", json={"Results": [case_json(Id=i) for i in (1, 2)]})
    cases = sbsys.search(CPR)
    assert len(cases) == 2 and cases.truncated and cases.at_least == 2
    assert len(search.calls) == 1  # asking again with an Offset would get the first page again


def test_get_case_maps_documents(sbsys, api):
    api.get(BASE + "api/sag/42", json=case_json())
    documents = [
        {
            "Id": 7,
            "DokumentNavn": "Ansøgning",
            "RegistreringsDato": "2024-03-05T10:00:00",
            "DokumentArt": "Brev indgående",
            "Status": "Modtaget",
            "Foelsomhed": "FORTROLIGE_PERSONOPLYSNINGER",
            "PartMaaSe": True,
            "FilId": 900,
        },
        {"Id": 8, "DokumentNavn": "Notat", "DokumentArt": "Internt notat", "Status": "Kladde?"},
    ]
    api.get(BASE + "api/sag/42/dokumenter", json=documents)
    case = sbsys.get_case("42")
    first, second = case.documents
    assert first.id == "7" and first.type is DocumentType.BREV_INDGAAENDE
    assert first.status is DocumentStatus.MODTAGET and first.party_may_see
    assert first.sensitivity is Sensitivity.FORTROLIGE_PERSONOPLYSNINGER
    assert second.type is DocumentType.INTERNT_NOTAT
    assert second.status is DocumentStatus.UNDER_UDARBEJDELSE  # unknown: treat as a draft
    assert not second.party_may_see and first.source == "sbsys"


def test_get_document_fetches_the_file_of_a_document_on_the_case(sbsys, api):
    api.get(BASE + "api/sag/42/dokumenter", json=[{"Id": 7, "DokumentNavn": "A", "FilId": 900}])
    api.get(
        BASE + "api/fil/900",
        body=b"hej",
        content_type="text/plain; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="a.txt"'},
    )
    content = sbsys.get_document("42", "7")
    assert (content.filename, content.media_type, content.content) == (
        "a.txt",
        "text/plain",
        b"hej",
    )
    with pytest.raises(NotFound):
        sbsys.get_document("42", "8")
    with pytest.raises(NotFound):
        sbsys.get_document("../42", "7")


# -- against the sandbox ------------------------------------------------------------------


def test_sandbox_typical_citizen(sandbox, sandbox_connector):
    sbsys, m = sandbox_connector("sbsys"), sandbox.municipality
    cases = sbsys.search(parse_key(KeyKind.CPR, m.demo.typical))
    assert len(cases) == len(m.cases_for(m.demo.typical))
    assert any(c.join_keys for c in cases)
    assert all(c.parties[0].key.value == m.demo.typical for c in cases)
    full = sbsys.get_case(cases[0].native_id)
    assert len(full.documents) == len(m.case(int(cases[0].native_id)).documents)
    content = sbsys.get_document(full.native_id, full.documents[0].id)
    assert content.media_type == "text/plain" and content.content
    assert sbsys.health().startswith("svarer")


def test_sandbox_heavy_citizen_comes_in_one_search(sandbox, sandbox_connector):
    m = sandbox.municipality
    cases = sandbox_connector("sbsys").search(parse_key(KeyKind.CPR, m.demo.heavy))
    assert len(cases) == len(m.cases_for(m.demo.heavy)) >= 500
    assert len({c.id for c in cases}) == len(cases)
    assert not cases.truncated and not cases.unreadable  # 520 < Limit 2000: the whole answer


def test_sandbox_hostile_data_keeps_every_readable_case_and_says_the_rest(
    fault_sandbox, sandbox_connector
):
    m, sbsys = fault_sandbox.municipality, sandbox_connector("sbsys")
    key = parse_key(KeyKind.CPR, m.demo.heavy)
    fault_sandbox.faults("esdh").update(hostile=True)
    cases = sbsys.search(key)
    assert cases.truncated and cases.at_least == 2000  # more than one search returns
    assert 0 < cases.unreadable < 1000 and len(cases) + cases.unreadable == 2000
    assert {p.field.rsplit(".", 1)[-1] for p in cases.problems} >= {"Nummer", "Opstaaet"}
    assert any("<script>" in c.title for c in cases)  # kept as text; the pages escape it
    full = sbsys.get_case(cases[0].native_id)  # documents even under a wrong content type
    assert full.documents


def test_sandbox_protected_and_nothing(sandbox, sandbox_connector):
    sbsys, m = sandbox_connector("sbsys"), sandbox.municipality
    protected = sbsys.search(parse_key(KeyKind.CPR, m.demo.protected))
    assert protected and all(c.parties[0].protected for c in protected)
    assert sbsys.search(parse_key(KeyKind.CPR, m.demo.nothing)) == []


def test_sandbox_caseworker_search(sandbox, sandbox_connector):
    m = sandbox.municipality
    key = parse_key(KeyKind.MEDARBEJDER, m.demo.caseworker)
    cases = sandbox_connector("sbsys").search(key)
    assert len(cases) == len(m.cases_handled_by(m.demo.caseworker))
    assert {c.caseworker.medarbejdernummer for c in cases} == {m.demo.caseworker}


def test_sandbox_token_is_renewed_after_revocation(sandbox, sandbox_connector):
    import requests

    sbsys, m = sandbox_connector("sbsys"), sandbox.municipality
    key = parse_key(KeyKind.CPR, m.demo.typical)
    assert sbsys.search(key)
    requests.post(sandbox.url("esdh") + "_sandbox/revoke-tokens", timeout=5)
    assert sbsys.search(key)


def test_sandbox_faults_are_classified(fault_sandbox, sandbox_connector):
    sbsys = sandbox_connector("sbsys")
    key = parse_key(KeyKind.CPR, fault_sandbox.municipality.demo.typical)
    fault_sandbox.faults("esdh").update(fail="500")
    with pytest.raises(RetriableError):
        sbsys.search(key)
    fault_sandbox.faults("esdh").update(fail="garbage")
    with pytest.raises(FatalError):
        sbsys.search(key)


# --- the conformance suite (borgersag.testing) ---------------------------------------

SAMPLE_KEYS = {KeyKind.CPR: "010190-1234", KeyKind.MEDARBEJDER: "M10234"}


class TestSbsysConformance(ConformanceSuite):
    connector = SbsysConnector
    settings = SETTINGS
    sample_keys = SAMPLE_KEYS
    paginates = False  # the documented search has Limit only

    def backend(self, mock, base_url):
        mock.post(base_url + "connect/token", json={"access_token": "t1", "expires_in": 3600})
        mock.post(base_url + "api/sag/search", json={"Results": [case_json()]})
