"""The building-permit connector: search by matrikel/BFE, mapping, and the join key."""

from __future__ import annotations

import pytest
import responses
from responses import matchers

from borgersag.connectors.byggesag import ByggesagConnector
from borgersag.domain.keys import BFE, KeyKind, Matrikel, parse_key
from borgersag.domain.model import DocumentType, Progress
from borgersag.sdk.errors import ConfigError, FatalError, NotFound, RetriableError
from borgersag.testing import ConformanceSuite

BASE = "https://byg.example/"
LIST = BASE + "api/v1/byggesager"
SETTINGS = {"base_url": BASE, "api_key": "k3y", "deep_link_template": BASE + "sag/{sagsnummer}"}


def building(sagsnummer="BYG-2024-00123", **changes):
    case = {
        "sagsnummer": sagsnummer,
        "titel": "Tilbygning, Vejnavn 12",
        "sagstype": "Tilbygning",
        "kle": "02.34.03",
        "status": "Tilladelse meddelt",
        "modtaget": "2024-02-01",
        "frist": None,
        "ejendom": {"bfe": 123456, "ejerlavskode": 2000351, "matrikelnummer": "12a"},
        "statushistorik": [
            {"status": "Modtaget", "dato": "2024-02-01"},
            {"status": "Under behandling", "dato": "2024-03-01"},
            {"status": "Tilladelse meddelt", "dato": "2024-04-01"},
        ],
        "esdhReference": {"sagsnummer": "02.34.03-G01-5-24", "id": 10234},
    }
    case.update(changes)
    return case


@pytest.fixture
def byg(make_connector):
    return make_connector(ByggesagConnector, dict(SETTINGS), "byggesag")


def test_settings():
    assert ByggesagConnector.key_kinds == {KeyKind.MATRIKEL, KeyKind.BFE, KeyKind.MEDARBEJDER}
    assert ByggesagConnector.secret_settings() == {"api_key"}
    with pytest.raises(ConfigError) as info:
        ByggesagConnector.validate_settings({**SETTINGS, "page_size": 500})
    assert info.value.key == "page_size"


@responses.activate
def test_search_by_matrikel_maps_the_case(byg):
    query = {"ejerlav": "2000351", "matrikel": "12a", "side": "1", "antal_pr_side": "50"}
    responses.get(
        LIST,
        json={"sager": [building()], "antal": 1},
        match=[matchers.query_param_matcher(query), matchers.header_matcher({"X-Api-Key": "k3y"})],
    )
    (case,) = byg.search(Matrikel.of(2000351, "12a"))
    assert case.id == "byggesag/BYG-2024-00123" and case.area == "Byggeri"
    assert case.join_keys == frozenset({"byggesag:BYG-2024-00123"})
    assert case.subjects == (Matrikel.of(2000351, "12a"), BFE.parse("123456"))
    assert case.progress is Progress.AFGJORT and str(case.decided) == "2024-04-01"
    assert [s.status_text for s in case.progress_history][1] == "Under behandling"
    assert case.status_text == "Tilladelse meddelt" and case.kle == "02.34.03"
    assert case.deep_link == BASE + "sag/BYG-2024-00123"


@responses.activate
def test_search_by_bfe_pages_and_is_bounded(make_connector):
    byg = make_connector(ByggesagConnector, {**SETTINGS, "page_size": 1, "max_pages": 2})
    responses.get(LIST, json={"sager": [building()], "antal": 5})
    with pytest.raises(FatalError) as info:
        byg.search(BFE.parse("123456"))
    assert len(responses.calls) == 2 and "max_pages" in info.value.message
    assert "bfe=123456" in responses.calls[0].request.url


@responses.activate
def test_wrong_shape_is_fatal(byg):
    responses.get(LIST, json={"antal": 1})
    with pytest.raises(FatalError) as info:
        byg.search(BFE.parse("123456"))
    assert "sager" in info.value.message


@pytest.mark.parametrize(
    ("bad", "field"),
    [
        (building(sagsnummer=None), "sager[1].sagsnummer"),
        (building(ejendom={}), "sager[1].ejendom"),
        (building(statushistorik=[{"status": "Modtaget"}]), "sager[1].statushistorik[0].dato"),
        (building(ejendom={"bfe": "x"}), "sager[1].ejendom"),
    ],
)
@responses.activate
def test_an_unreadable_case_is_counted_and_the_others_kept(byg, bad, field):
    responses.get(LIST, json={"sager": [building(), bad]})
    cases = byg.search(BFE.parse("123456"))
    assert len(cases) == 1 and cases.unreadable == 1
    assert cases.problems[0].position == "sager[1]"
    assert cases.problems[0].field.startswith(field)


@responses.activate
def test_5xx_is_retriable(byg):
    responses.get(LIST, status=502)
    with pytest.raises(RetriableError):
        byg.search(BFE.parse("1"))


@responses.activate
def test_get_case_with_documents(byg):
    detail = building(
        sagsbehandler={"initialer": "ANJE", "navn": "Anders", "medarbejdernummer": "M1"},
        dokumenter=[
            {
                "id": 5,
                "titel": "Ansøgning",
                "type": "Ansøgning",
                "dato": "2024-02-01",
                "offentlig": True,
            },
            {"id": 6, "titel": "Notat", "type": "Notat", "dato": "2024-03-01", "offentlig": False},
        ],
    )
    responses.get(LIST + "/BYG-2024-00123", json=detail)
    case = byg.get_case("BYG-2024-00123")
    assert [d.type for d in case.documents] == [
        DocumentType.BREV_INDGAAENDE,
        DocumentType.INTERNT_NOTAT,
    ]
    assert [d.party_may_see for d in case.documents] == [True, False]
    assert case.caseworker.name == "Anders"
    with pytest.raises(NotFound):
        byg.get_case("../../etc")


def test_sandbox_building_case_joins_the_esdh_case(sandbox, sandbox_connector):
    m = sandbox.municipality
    cpr = parse_key(KeyKind.CPR, m.demo.typical)
    esdh_keys = set().union(*(c.join_keys for c in sandbox_connector("sbsys").search(cpr)))
    byg = sandbox_connector("byggesag")
    found = {}
    for relation in sandbox_connector("ejerfortegnelse").relations(cpr):
        for case in byg.search(relation.key):
            found[case.id] = case
    assert found
    building_keys = set().union(*(c.join_keys for c in found.values()))
    assert esdh_keys and esdh_keys <= building_keys
    one = next(iter(found.values()))
    detail = byg.get_case(one.native_id)
    assert detail.documents and detail.caseworker.medarbejdernummer
    content = byg.get_document(one.native_id, detail.documents[0].id)
    assert content.content
    assert byg.health() == "svarer"


def test_sandbox_unknown_property_is_empty(sandbox_connector):
    assert sandbox_connector("byggesag").search(BFE.parse("1")) == []


# --- the conformance suite (borgersag.testing) ---------------------------------------

SAMPLE_KEYS = {
    KeyKind.MATRIKEL: "2000351-12a",
    KeyKind.BFE: "123456",
    KeyKind.MEDARBEJDER: "M10234",
}
ONE_CASE_PER_PAGE = {"page_size": 1}


class TestByggesagConformance(ConformanceSuite):
    connector = ByggesagConnector
    settings = SETTINGS
    sample_keys = SAMPLE_KEYS
    endless_settings = ONE_CASE_PER_PAGE

    def backend(self, mock, base_url):
        mock.get(base_url + "api/v1/byggesager", json={"sager": [building()], "antal": 1})


@responses.activate
def test_a_blank_title_is_named_by_the_case_type(byg):
    responses.get(LIST, json={"sager": [building(titel="  ")], "antal": 1})
    (case,) = byg.search(BFE.parse("123456"))
    assert case.title == "Tilbygning"
