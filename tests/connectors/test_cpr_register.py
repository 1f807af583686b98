"""The CPR register connector: a person register, answering person facts, never cases."""

from __future__ import annotations

import json

import pytest
import responses

from borgersag.connectors.cpr_register import CprRegisterConnector
from borgersag.domain.keys import KeyKind, parse_key
from borgersag.sdk.errors import ConfigError, DataError, ForbiddenError, RetriableError
from borgersag.testing import ConformanceSuite

BASE = "https://cpr.example/"
LOOKUP = BASE + "cpr/v1/personer/opslag"
SETTINGS = {"base_url": BASE, "api_key": "k3y"}
CPR = parse_key(KeyKind.CPR, "010190-1234")
SAMPLE_KEYS = {KeyKind.CPR: "010190-1234"}


def answer(**changes) -> dict:
    person = {
        "cprNummer": "0101901234",
        "status": "01",
        "navn": {"fornavne": "Karen Holm", "efternavn": "Jensen",
                 "adresseringsnavn": "Jensen,Karen Holm"},
        "adressebeskyttelse": False,
        "adresse": {
            "vejnavn": "Møllevej",
            "husnummer": "4",
            "etage": "1. th.",
            "postnummer": "8000",
            "postdistrikt": "Aarhus C",
        },
    }  # fmt: skip
    return {"person": {**person, **changes}}


@pytest.fixture
def register(make_connector):
    return make_connector(CprRegisterConnector, dict(SETTINGS), "cpr")


def test_declares_a_person_register_only():
    assert CprRegisterConnector.key_kinds == frozenset()
    assert CprRegisterConnector.relation_kinds == frozenset()
    assert CprRegisterConnector.person_kinds == {KeyKind.CPR}
    assert CprRegisterConnector.secret_settings() == {"api_key"}
    with pytest.raises(ConfigError):
        CprRegisterConnector.validate_settings({"base_url": BASE})


@responses.activate
def test_the_person_with_name_address_and_protection(register):
    call = responses.post(LOOKUP, json=answer())
    [person] = register.person(CPR)
    # the number goes in the body, with the API key; never in the URL
    assert json.loads(call.calls[0].request.body) == {"cprNummer": "0101901234"}
    assert call.calls[0].request.headers["X-Api-Key"] == "k3y"
    assert "0101901234" not in call.calls[0].request.url
    assert (person.key, person.name, person.address, person.protected) == (
        CPR,
        "Karen Holm Jensen",
        "Møllevej 4, 1. th., 8000 Aarhus C",
        False,
    )


@responses.activate
def test_protection_is_kept_and_an_unknown_marker_counts_as_protected(register):
    responses.post(LOOKUP, json=answer(adressebeskyttelse=True))
    assert register.person(CPR)[0].protected is True
    body = answer()
    del body["person"]["adressebeskyttelse"]
    responses.replace(responses.POST, LOOKUP, json=body)
    assert register.person(CPR)[0].protected is True


@responses.activate
def test_an_unknown_number_is_nobody_and_failures_are_classified(register):
    responses.post(LOOKUP, status=404, json={"error": {"message": "Personen findes ikke"}})
    assert register.person(CPR) == []
    responses.replace(responses.POST, LOOKUP, status=503)
    with pytest.raises(RetriableError):
        register.person(CPR)
    responses.replace(responses.POST, LOOKUP, status=401)
    with pytest.raises(ForbiddenError):
        register.person(CPR)


@responses.activate
def test_an_answer_about_another_number_is_refused(register):
    responses.post(LOOKUP, json=answer(cprNummer="0202021234"))
    with pytest.raises(DataError) as caught:
        register.person(CPR)
    assert "0202021234" not in str(caught.value) and "0101901234" not in str(caught.value)


class TestCprRegisterConformance(ConformanceSuite):
    connector = CprRegisterConnector
    settings = SETTINGS
    sample_keys = SAMPLE_KEYS
    paginates = False  # one answer, one person
    not_found_is_empty = True  # 404: the register does not know the number

    def backend(self, mock, base_url):
        mock.post(base_url + "cpr/v1/personer/opslag", json=answer())
