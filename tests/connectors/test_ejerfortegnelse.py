"""The Ejerfortegnelse connector: CPR → owned parcels and properties, as relations."""

from __future__ import annotations

import datetime as dt
import json

import pytest
import responses

from borgersag.connectors.ejerfortegnelse import EjerfortegnelseConnector
from borgersag.domain.keys import BFE, KeyKind, Matrikel, parse_key
from borgersag.domain.relations import RelationRole, Share
from borgersag.sdk.errors import ConfigError, FatalError, ForbiddenError, RetriableError
from borgersag.testing import ConformanceSuite

BASE = "https://ejer.example/"
SEARCH = BASE + "ejerfortegnelse/v1/ejerskaber/soeg"
SETTINGS = {"base_url": BASE, "api_key": "k3y"}
CPR = parse_key(KeyKind.CPR, "010190-1234")


def ownership(
    taeller=1, naevner=1, parcels=(("2000351", "12a"),), fra="2019-05-01", til=None, bfe=123456
):
    return {
        "bfeNummer": bfe,
        "ejerandel": {"taeller": taeller, "naevner": naevner},
        "virkningFra": fra,
        "virkningTil": til,
        "ejendom": {
            "bfeNummer": bfe,
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
    # Also the ownerships that have ended: a previous owner's building cases are theirs.
    assert json.loads(call.calls[0].request.body) == {"cpr": "0101901234", "historik": True}
    assert call.calls[0].request.headers["X-Api-Key"] == "k3y"
    assert [r.key for r in relations] == [
        BFE.parse("123456"),
        Matrikel.of(2000351, "12a"),
        Matrikel.of(2000351, "12b"),
    ]
    assert relations[1].reason == "ejer af matrikel 2000351-12a (BFE 123456)"
    # The address is kept apart, so it can be masked for a protected owner.
    assert {r.address for r in relations} == {"Vejnavn 12, 8260 Viby J"}
    # The facts a policy decides on: the role, and when ownership began (a building case
    # from before is the previous owner's) and that it has not ended.
    assert {(r.role, r.share, r.since, r.until) for r in relations} == {
        (RelationRole.OWNER, Share(1, 1), dt.date(2019, 5, 1), None)
    }


@responses.activate
def test_co_owners_have_their_role_and_share(register):
    responses.post(SEARCH, json={"ejerskaber": [ownership(1, 2)]})
    relations = register.relations(CPR)
    assert {(r.role, r.share) for r in relations} == {(RelationRole.CO_OWNER, Share(1, 2))}
    assert all(r.reason.startswith("medejer (1/2) af ") for r in relations)


@responses.activate
def test_an_ended_ownership_is_a_previous_owner_with_its_period(register):
    sold = ownership(1, 2, fra="2010-09-01", til="2024-02-26")
    responses.post(SEARCH, json={"ejerskaber": [sold]})
    bfe, parcel = register.relations(CPR)
    assert parcel.role is RelationRole.PREVIOUS_OWNER and parcel.share == Share(1, 2)
    assert (parcel.since, parcel.until) == (dt.date(2010, 9, 1), dt.date(2024, 2, 26))
    assert parcel.search is True  # their building cases from before the sale are theirs
    assert parcel.reason == (
        "tidligere medejer (1/2) af matrikel 2000351-12a (BFE 123456) 01.09.2010–26.02.2024"
    )
    assert bfe.reason == "tidligere medejer (1/2) af ejendom BFE 123456 01.09.2010–26.02.2024"


@responses.activate
def test_a_sale_that_has_not_taken_effect_yet_leaves_an_owner(register):
    later = (dt.date.today() + dt.timedelta(days=30)).isoformat()
    responses.post(SEARCH, json={"ejerskaber": [ownership(til=later)]})
    relations = register.relations(CPR)
    assert {(r.role, r.until) for r in relations} == {
        (RelationRole.OWNER, dt.date.fromisoformat(later))
    }


@responses.activate
def test_records_of_one_property_that_meet_become_one_relation(register):
    """Half from 2010, the whole from 2015: one owner since 2010. A gap (sold, bought
    back) keeps only the later period: never a span the person did not own."""
    half = ownership(1, 2, fra="2010-01-01", til="2015-06-01")
    whole = ownership(1, 1, fra="2015-06-01")
    responses.post(SEARCH, json={"ejerskaber": [half, whole]})
    bfe, _ = register.relations(CPR)
    assert (bfe.role, bfe.share, bfe.since, bfe.until) == (
        RelationRole.OWNER,
        Share(1, 1),
        dt.date(2010, 1, 1),
        None,
    )
    assert bfe.reason == "ejer af ejendom BFE 123456"
    first = ownership(fra="2001-01-01", til="2005-01-01")
    again = ownership(fra="2012-03-01")
    responses.replace(responses.POST, SEARCH, json={"ejerskaber": [again, first]})
    bfe, _ = register.relations(CPR)
    assert (bfe.role, bfe.since, bfe.until) == (RelationRole.OWNER, dt.date(2012, 3, 1), None)


@responses.activate
def test_a_malformed_date_loses_only_its_own_record(register, caplog):
    broken = ownership(fra="1. maj 2019", bfe=654321, parcels=(("2000351", "7"),))
    responses.post(SEARCH, json={"ejerskaber": [broken, ownership()]})
    relations = register.relations(CPR)
    assert [r.key for r in relations] == [BFE.parse("123456"), Matrikel.of(2000351, "12a")]
    assert "ejerskaber[0].virkningFra" in caplog.text
    assert "0101901234" not in caplog.text and "1. maj" not in caplog.text
    assert relations.unreadable == 1 and relations.problems[0].position == "ejerskaber[0]"
    # Nothing readable at all is not "owns nothing": the answer says a record is missing.
    responses.replace(responses.POST, SEARCH, json={"ejerskaber": [broken]})
    relations = register.relations(CPR)
    assert relations == [] and relations.unreadable == 1


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
    assert (owner.role, owner.share) == (RelationRole.CO_OWNER, Share(1, 2))
    assert owner.reason == "medejer (1/2) af ejendom BFE 123456 siden 01.05.2019"


@pytest.mark.parametrize(
    ("body", "names"),
    [
        ({}, "ejerskaber"),
        ({"ejerskaber": {"a": 1}}, "ejerskaber"),
    ],
)
@responses.activate
def test_wrong_shape_is_fatal(register, body, names):
    responses.post(SEARCH, json=body)
    with pytest.raises(FatalError) as info:
        register.relations(CPR)
    assert names in info.value.message and "Ejerfortegnelsen" in info.value.message


@pytest.mark.parametrize(
    ("bad", "field"),
    [
        ({"bfeNummer": 1}, "ejerskaber[1].ejendom"),
        (ownership(parcels=(("0", "12a"),)), "ejerskaber[1].ejendom.jordstykker[0]"),
        (ownership(0, 0), "ejerskaber[1].ejerandel"),
        (ownership(til="2018-01-01"), "ejerskaber[1].virkningTil"),
        ("x", "ejerskaber[1]"),
    ],
)
@responses.activate
def test_an_unreadable_record_is_counted_and_the_others_kept(register, bad, field):
    good = ownership(bfe=654321, parcels=(("2000351", "7"),))
    responses.post(SEARCH, json={"ejerskaber": [good, bad]})
    relations = register.relations(CPR)
    assert [r.key for r in relations] == [BFE.parse("654321"), Matrikel.of(2000351, "7")]
    assert relations.unreadable == 1 and relations.problems[0].field == field


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
    assert {(r.role, r.share, r.until) for r in relations} == {
        (RelationRole.CO_OWNER, Share(1, 2), None)
    }
    assert register.relations(parse_key(KeyKind.CPR, m.demo.nothing)) == []
    assert register.health() == "svarer"


def test_sandbox_previous_owner(sandbox, sandbox_connector):
    """The sandbox register sends ended ownerships when asked for the history."""
    register, m = sandbox_connector("ejerfortegnelse"), sandbox.municipality
    sold = next(o for o in m.ownerships if o.until is not None)
    relations = register.relations(parse_key(KeyKind.CPR, sold.cpr))
    [bfe] = [r for r in relations if r.key == BFE.parse(str(sold.bfe))]
    assert bfe.role is RelationRole.PREVIOUS_OWNER
    assert (bfe.since, bfe.until) == (sold.since, sold.until)
    # The property's owners today: the buyers, not the seller.
    owners = register.relations(BFE.parse(str(sold.bfe)))
    assert sold.cpr not in {r.key.value for r in owners}
    assert {r.since for r in owners} == {sold.until}


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
