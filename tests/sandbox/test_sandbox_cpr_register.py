"""The sandbox person register: refuses like a register, answers person facts only, and
the built-in connector reads it."""

from __future__ import annotations

import pytest
import requests

from borgersag.domain.keys import CPR
from borgersag.sandbox.service import API_KEY, API_KEY_HEADER

TIMEOUT = 5
PATH = "cpr/v1/personer/opslag"


@pytest.fixture(scope="module")
def ask(sandbox):
    """``ask(body, key=API_KEY)``: POST ``body`` to the person lookup."""
    session = requests.Session()

    def post(body, key=API_KEY):
        headers = {API_KEY_HEADER: key} if key else {}
        return session.post(sandbox.url("cpr") + PATH, json=body, headers=headers, timeout=TIMEOUT)

    yield post
    session.close()


def test_a_person_has_name_address_status_and_the_protection_marker(sandbox, ask):
    demo = sandbox.municipality.demo
    typical = ask({"cprNummer": demo.typical})
    assert typical.status_code == 200
    person = typical.json()["person"]
    citizen = sandbox.municipality.citizen(demo.typical)
    assert person["cprNummer"] == demo.typical and person["status"] == "01"
    assert (person["navn"]["fornavne"], person["navn"]["efternavn"]) == (
        citizen.first_name,
        citizen.last_name,
    )
    assert person["adresse"]["vejnavn"] == citizen.address.street
    assert person["adressebeskyttelse"] is False
    assert ask({"cprNummer": demo.protected}).json()["person"]["adressebeskyttelse"] is True
    assert "cases" not in typical.text.lower() and "sager" not in typical.text.lower()


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"cprNummer": "311299-9995"}, 400),  # with a dash
        ({"cprNummer": 101901234}, 400),
        ({"cpr": "0101901234"}, 400),
        ({"cprNummer": "0101901234", "historik": True}, 400),
        ([], 400),
        ({"cprNummer": "3112999995"}, 404),  # a valid number the register does not know
    ],
)
def test_it_refuses_what_a_register_refuses(ask, body, status):
    response = ask(body)
    assert response.status_code == status
    assert response.json()["error"]["message"]


def test_without_the_api_key_nothing_is_told(sandbox, ask):
    assert ask({"cprNummer": sandbox.municipality.demo.typical}, key=None).status_code == 401
    assert ask({"cprNummer": sandbox.municipality.demo.typical}, key="wrong").status_code == 401


def test_the_connector_reads_the_sandbox(sandbox, sandbox_connector):
    register = sandbox_connector("cpr")
    demo = sandbox.municipality.demo
    [person] = register.person(CPR.parse(demo.protected))
    citizen = sandbox.municipality.citizen(demo.protected)
    assert person.name == citizen.name and person.protected
    assert person.address == str(citizen.address)
    assert register.person(CPR.parse("3112999995")) == []
    assert register.health() == "svarer"
