"""The Ejerfortegnelse connector: CPR → owned parcels and properties, as relations."""

from __future__ import annotations

import datetime as dt
import json

import pytest
import responses

from borgersag.connectors.ejerfortegnelse import EjerfortegnelseConnector
from borgersag.domain.keys import BFE, KeyKind, Matrikel, parse_key
from borgersag.sdk.errors import ConfigError, FatalError, ForbiddenError, RetriableError
from borgersag.testing import ConformanceSuite

BASE = "https://ejer.example/"
SEARCH = BASE + "ejerfortegnelse/v1/ejerskaber/soeg"
SETTINGS = {"base_url": BASE, "api_key": "k3y"}
CPR = parse_key(KeyKind.CPR, "010190-1234")


def ownership(taeller=1, naevner=1, parcels=(("2000351", "12a"),)):
    return {
        "bfeNummer": 123456,
        "ejerandel": {"taeller": taeller, "naevner": naevner},
        "virkningFra": "2019-05-01",
        "ejendom": {
            "bfeNummer": 123456,
            "adresse": "Vejnavn 12, 8260 Viby J",
            "jordstykker": [
                {"ejerlavskode": int(e), "ejerlavsnavn": "Viby By, Viby", "matrikelnummer": n}
                for e, n in parcels
            ],
        },
    }


@pytest.fixture
def register(make_connector):
    return make_connector(EjerfortegnelseConnector, dict(SETTINGS), "ejerfortegnelse")


def test_declares_a_relation_source_only():
    assert EjerfortegnelseConnector.key_kinds == frozenset()
    assert EjerfortegnelseConnector.relation_kinds == {KeyKind.CPR, KeyKind.BFE}
    assert EjerfortegnelseConnector.secret_settings() == {"api_key"}
    with pytest.raises(ConfigError):
        EjerfortegnelseConnector.validate_settings({"base_url": BASE})


@responses.activate
def test_each_owned_parcel_and_property_is_a_relation(register):
    body = {"ejerskaber": [ownership(parcels=(("2000351", "12a"), ("2000351", "12b")))]}
    call = responses.post(SEARCH, json=body)
    relations = register.relations(CPR)
    assert json.loads(call.calls[0].request.body) == {"cpr": "0101901234"}
    assert call.calls[0].request.headers["X-Api-Key"] == "k3y"
    assert [r.key for r in relations] == [
        BFE.parse("123456"),
        Matrikel.of(2000351, "12a"),
        Matrikel.of(2000351, "12b"),
    ]
    assert relations[1].reason == "ejer af matrikel 2000351-12a (BFE 123456)"
    # The address is kept apart, so it can be masked for a protected owner.
    assert {r.address for r in relations} == {"Vejnavn 12, 8260 Viby J"}
    # When ownership began: a building case from before is the previous owner's.
    assert {r.since for r in relations} == {dt.date(2019, 5, 1)}


@responses.activate
def test_co_owners_see_their_share(register):
    responses.post(SEARCH, json={"ejerskaber": [ownership(1, 2)]})
    reasons = [r.reason for r in register.relations(CPR)]
    assert all(reason.startswith("medejer (1/2) af ") for reason in reasons)


@responses.activate
def test_no_property_no_relations(register):
    responses.post(SEARCH, json={"ejerskaber": []})
    assert register.relations(CPR) == []
    assert register.relations(Matrikel.of(2000351, "12a")) == []


@responses.activate
def test_a_propertys_owners_are_shown_but_not_searched(register):
    responses.get(
        BASE + "ejerfortegnelse/v1/ejendomme/123456/ejere",
        json={"ejere": [{"cpr": "0101901234", "ejerandel": {"taeller": 1, "naevner": 2},
                         "virkningFra": "2019-05-01"}]},
    )  # fmt: skip
    [owner] = register.relations(BFE.parse("123456"))
    assert owner.key.kind is KeyKind.CPR and owner.search is False
    assert owner.reason == "medejer (1/2) af ejendom BFE 123456 siden 01.05.2019"


@pytest.mark.parametrize(
    ("body", "names"),
    [
        ({}, "ejerskaber"),
        ({"ejerskaber": {"a": 1}}, "ejerskaber"),
        ({"ejerskaber": [{"bfeNummer": 1}]}, "ejendom"),
        ({"ejerskaber": [ownership(parcels=(("0", "12a"),))]}, "jordstykker"),
        ({"ejerskaber": [ownership(0, 0)]}, "ejerandel"),
    ],
)
@responses.activate
def test_wrong_shape_is_fatal(register, body, names):
    responses.post(SEARCH, json=body)
    with pytest.raises(FatalError) as info:
        register.relations(CPR)
    assert names in info.value.message and "Ejerfortegnelsen" in info.value.message


@responses.activate
def test_errors_are_classified(register):
    responses.post(SEARCH, status=500)
    with pytest.raises(RetriableError):
        register.relations(CPR)
    responses.replace(responses.POST, SEARCH, status=401)
    with pytest.raises(ForbiddenError):
        register.relations(CPR)


def test_sandbox_owners(sandbox, sandbox_connector):
    register, m = sandbox_connector("ejerfortegnelse"), sandbox.municipality
    owned = m.ownerships_of(m.demo.coowner)
    relations = register.relations(parse_key(KeyKind.CPR, m.demo.coowner))
    parcels = {p.key_text for o in owned for p in m.property(o.bfe).parcels}
    assert {r.key.value for r in relations if r.key.kind is KeyKind.MATRIKEL} == parcels
    assert all("medejer (1/2)" in r.reason for r in relations)
    assert register.relations(parse_key(KeyKind.CPR, m.demo.nothing)) == []
    assert register.health() == "svarer"


# --- the conformance suite (borgersag.testing) ---------------------------------------

SAMPLE_KEYS = {KeyKind.CPR: "010190-1234", KeyKind.BFE: "123456"}
OWNERS = {
    "bfeNummer": 123456,
    "ejere": [
        {
            "cpr": "0101901234",
            "ejerandel": {"taeller": 1, "naevner": 2},
            "virkningFra": "2019-05-01",
        }
    ],
}


class TestEjerfortegnelseConformance(ConformanceSuite):
    connector = EjerfortegnelseConnector
    settings = SETTINGS
    sample_keys = SAMPLE_KEYS
    paginates = False  # one answer holds every ownership

    def backend(self, mock, base_url):
        body = {"ejerskaber": [ownership(1, 2)]}
        mock.post(base_url + "ejerfortegnelse/v1/ejerskaber/soeg", json=body)
        mock.get(base_url + "ejerfortegnelse/v1/ejendomme/123456/ejere", json=OWNERS)
