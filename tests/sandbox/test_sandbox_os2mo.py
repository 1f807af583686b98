"""The sandbox organisation register: units, employees and the fixed GraphQL operations."""

from __future__ import annotations

import pytest
import requests

from borgersag.sandbox import catalog, os2mo

TIMEOUT = 5
GRAPHQL = os2mo.GRAPHQL_PATH


@pytest.fixture(scope="module")
def town(sandbox):
    return sandbox.municipality


@pytest.fixture(scope="module")
def faults(sandbox):
    return sandbox.faults("os2mo")


@pytest.fixture(scope="module")
def url(sandbox):
    return sandbox.url("os2mo")


@pytest.fixture(autouse=True)
def _healthy(faults):
    yield
    faults.reset()


def token(url, **changes):
    form = {"grant_type": "client_credentials", **os2mo.CREDENTIALS, **changes}
    return requests.post(url + os2mo.TOKEN_PATH, data=form, timeout=TIMEOUT)


@pytest.fixture(scope="module")
def ask(url):
    """``ask(body)``: POST ``body`` to the GraphQL endpoint with a valid token."""
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {token(url).json()['access_token']}"

    def post(body, **kwargs):
        return session.post(url + GRAPHQL, json=body, timeout=TIMEOUT, **kwargs)

    yield post
    session.close()


def test_the_tree_holds_every_unit_and_employee(town):
    org = os2mo.build_organisation(town)
    assert os2mo.build_organisation(town).units == org.units
    names = {u.name for u in org.units.values()}
    assert {u.name for u in catalog.UNITS} <= names
    root = [u for u in org.units.values() if u.parent is None]
    assert [u.name for u in root] == [catalog.MUNICIPALITY_NAME]
    for employee in town.employees:
        unit = org.unit_for(employee)
        assert unit.name == employee.unit
        assert org.ancestors(unit)[-1] == root[0]
        own = {number for number, aspects in unit.kles if "Ansvarlig" in aspects}
        assert own == set(employee.kle_groups)
    aspects = {a for u in org.units.values() for _, kinds in u.kles for a in kinds}
    assert aspects == set(os2mo.KLE_ASPECTS)


def test_graphql_needs_a_token(url):
    refused = requests.post(url + GRAPHQL, json={"query": "query Version {}"}, timeout=5)
    assert refused.status_code == 401
    assert token(url, client_secret="wrong").status_code == 401
    assert token(url, grant_type="password").status_code == 400
    assert requests.get(url + "health", timeout=TIMEOUT).json()["service"] == "os2mo"


def test_employee_query_for_the_demo_caseworker(ask, town):
    employee = town.employee(town.demo.caseworker)
    body = {
        "query": "query Employee($user_keys: [String!]) { employees { … } }",
        "operationName": "Employee",
        "variables": {"user_keys": [employee.medarbejdernummer, "M0"]},
    }
    answer = ask(body)
    assert answer.status_code == 200
    (found,) = answer.json()["data"]["employees"]["objects"]
    current = found["current"]
    assert (current["user_key"], current["name"]) == (employee.medarbejdernummer, employee.name)
    (engagement,) = current["engagements"]
    (unit,) = engagement["org_unit"]
    assert unit["name"] == employee.unit
    assert unit["ancestors"][-1]["name"] == catalog.MUNICIPALITY_NAME
    assert unit["parent"] == unit["ancestors"][0]
    kles = {
        k["kle_number"]["user_key"]: [a["name"] for a in k["kle_aspects"]] for k in unit["kles"]
    }
    for group in employee.kle_groups:
        assert kles[group] == ["Ansvarlig", "Udførende"]
    assert any(aspects == ["Indsigt"] for aspects in kles.values())


def test_operation_name_from_the_query_text_and_org_units(ask, town):
    answer = ask(
        {
            "query": "query OrgUnit($user_keys: [String!]) { … }",
            "variables": {"user_keys": ["ROOT"]},
        }
    )
    (root,) = answer.json()["data"]["org_units"]["objects"]
    assert root["current"]["name"] == catalog.MUNICIPALITY_NAME
    assert root["current"]["parent"] is None and root["current"]["ancestors"] == []
    by_uuid = ask(
        {"query": "query OrgUnit { … }", "variables": {"uuids": [root["current"]["uuid"]]}}
    )
    assert by_uuid.json()["data"]["org_units"]["objects"] == [root]
    version = ask({"query": "query Version { version { mo_version } }"}).json()
    assert version == {"data": {"version": {"mo_version": os2mo.MO_VERSION}}}


@pytest.mark.parametrize(
    "body",
    [
        {"query": "query Something { x }"},
        {"query": "{ employees { objects { uuid } } }"},
        {"query": "query Employee { … }", "variables": {"user_keys": "M1"}},
        {"query": "query OrgUnit { … }", "variables": {}},
        {"query": "query Employee { … }", "variables": ["M1"]},
    ],
)
def test_unknown_operations_and_bad_variables_are_graphql_errors(ask, body):
    answer = ask(body)
    assert answer.status_code == 200
    assert answer.json()["data"] is None and answer.json()["errors"][0]["message"]


def test_a_body_without_a_query_is_refused(ask):
    assert ask({"operationName": "Employee"}).status_code == 400
    assert ask(None, data="nope").status_code == 400


@pytest.mark.parametrize("mode", ["500", "garbage"])
def test_fault_knobs(ask, faults, mode):
    faults.update(fail=mode)
    answer = ask({"query": "query Version { version { mo_version } }"})
    if mode == "500":
        assert answer.status_code == 500 and "OS2mo" in answer.json()["error"]["message"]
    else:
        assert answer.status_code == 200 and "json" not in answer.headers["Content-Type"]
