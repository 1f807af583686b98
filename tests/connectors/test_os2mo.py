"""The OS2mo connector: employee lookups with unit and KLE responsibilities by aspect."""

from __future__ import annotations

import json
from urllib.parse import parse_qs

import pytest
import responses

from borgersag.connectors.os2mo import EmployeeInfo, KleResponsibility, Os2moConnector
from borgersag.domain.keys import KeyKind, parse_key
from borgersag.sandbox import os2mo
from borgersag.sdk.errors import ConfigError, FatalError, ForbiddenError, RetriableError
from borgersag.testing import ConformanceSuite

BASE = "https://mo.example/"
TOKEN = "https://keycloak.example/auth/realms/mo/protocol/openid-connect/token"
GRAPHQL = BASE + "graphql/v22"
SETTINGS = {"base_url": BASE, "token_url": TOKEN, "client_id": "borgersag", "client_secret": "s"}
WORKER = parse_key(KeyKind.MEDARBEJDER, "M10775")


def kle(number, name, *aspects):
    return {
        "kle_number": {"user_key": number, "name": name},
        "kle_aspects": [{"user_key": a, "name": a} for a in aspects],
    }


def unit(**changes):
    body = {
        "uuid": "u-1",
        "user_key": "ENH-002",
        "name": "Jobcenter",
        "ancestors": [
            {"uuid": "u-f", "name": "Social- og Beskæftigelsesforvaltningen"},
            {"uuid": "u-r", "name": "Sandkasse Kommune"},
        ],
        "kles": [
            kle("15", "Beskæftigelse", "Ansvarlig", "Udførende"),
            kle("32", "Sociale ydelser", "Indsigt"),
            kle("15", "Beskæftigelse", "Indsigt", "Andet"),
        ],
    }
    body.update(changes)
    return body


def employee(*engagements, **changes):
    body = {"uuid": "e-1", "user_key": "M10775", "name": "Mette Kjær", "engagements": []}
    body["engagements"] = list(engagements) or [
        {
            "user_key": "M10775",
            "is_primary": True,
            "job_function": {"name": "Sagsbehandler"},
            "org_unit": [unit()],
        },
    ]
    body.update(changes)
    return {"data": {"employees": {"objects": [{"current": body}]}}}


def mock(body, status=200):
    responses.post(TOKEN, json={"access_token": "tok", "expires_in": 300})
    return responses.post(GRAPHQL, json=body, status=status)


@pytest.fixture
def mo(make_connector):
    return make_connector(Os2moConnector, dict(SETTINGS), "os2mo")


def test_declares_a_relation_source_for_employees():
    assert Os2moConnector.key_kinds == frozenset()
    assert Os2moConnector.relation_kinds == {KeyKind.MEDARBEJDER}
    assert Os2moConnector.secret_settings() == {"client_secret"}
    with pytest.raises(ConfigError) as info:
        Os2moConnector.validate_settings({**SETTINGS, "token_url": "keycloak"})
    assert info.value.key == "token_url"


@responses.activate
@pytest.mark.parametrize(("scope", "sent"), [("", None), ("mo:read", ["mo:read"])])
def test_logs_in_with_the_sdk_client_credentials_and_an_optional_scope(make_connector, scope, sent):
    connector = make_connector(Os2moConnector, {**SETTINGS, "scope": scope}, "os2mo")
    mock(employee())
    connector.employee("M10775")
    form = parse_qs(responses.calls[0].request.body)
    assert form["grant_type"] == ["client_credentials"] and form["client_id"] == ["borgersag"]
    assert form.get("scope") == sent


@responses.activate
def test_employee_maps_unit_path_and_kle_by_aspect(mo):
    call = mock(employee())
    info = mo.employee("M10775")
    sent = json.loads(call.calls[0].request.body)
    assert sent["operationName"] == "Employee" and sent["variables"] == {"user_keys": ["M10775"]}
    assert "query Employee" in sent["query"]
    assert call.calls[0].request.headers["Authorization"] == "Bearer tok"
    assert info == EmployeeInfo(
        medarbejdernummer="M10775",
        name="Mette Kjær",
        unit="Jobcenter",
        unit_path=("Sandkasse Kommune", "Social- og Beskæftigelsesforvaltningen", "Jobcenter"),
        job_function="Sagsbehandler",
        kle=(
            KleResponsibility("15", "Beskæftigelse", ("Ansvarlig", "Indsigt", "Udførende")),
            KleResponsibility("32", "Sociale ydelser", ("Indsigt",)),
        ),
    )
    by_aspect = info.kle_by_aspect()
    assert list(by_aspect) == ["Ansvarlig", "Indsigt", "Udførende"]
    assert [k.number for k in by_aspect["Indsigt"]] == ["15", "32"]
    assert info.kle_numbers("Ansvarlig") == ("15",)


@responses.activate
def test_primary_engagement_wins_and_org_unit_may_be_an_object(mo):
    other = {"user_key": "x", "is_primary": False, "org_unit": [unit(name="Andet", kles=[])]}
    primary = {"user_key": "y", "is_primary": True, "org_unit": unit(ancestors=[])}
    mock(employee(other, primary))
    info = mo.employee("M10775")
    assert info.unit == "Jobcenter" and info.unit_path == ("Jobcenter",)
    assert info.job_function is None


@responses.activate
def test_without_engagement_no_unit(mo):
    mock(employee({"user_key": "M10775", "org_unit": []}))
    info = mo.employee("M10775")
    assert (info.unit, info.unit_path, info.kle) == (None, (), ())


@pytest.mark.parametrize(
    "objects", [[], [{"current": None}]], ids=["unknown", "no longer employed"]
)
@responses.activate
def test_unknown_employee_is_none(mo, objects):
    mock({"data": {"employees": {"objects": objects}}})
    assert mo.employee("M0") is None


@responses.activate
def test_relations_ask_the_register_and_return_no_keys(mo):
    call = mock(employee())
    assert mo.relations(WORKER) == []
    assert len(call.calls) == 1
    assert mo.relations(parse_key(KeyKind.CPR, "010190-1234")) == []
    assert len(call.calls) == 1
    with pytest.raises(FatalError):
        mo.search(WORKER)


@pytest.mark.parametrize(
    ("body", "names"),
    [
        ({"data": None, "errors": [{"message": "Unknown field 'kles'"}]}, "Unknown field"),
        ({"errors": ["boom"]}, "afviste"),
        ({"data": {}}, "employees"),
        ({"data": {"employees": {"objects": [{"current": {"user_key": "M1"}}]}}}, "name"),
        (employee(engagements="x"), "engagements"),
        (employee({"org_unit": [unit(kles=[{"kle_aspects": []}])]}), "kle_number"),
        (employee({"org_unit": ["Jobcenter"]}), "org_unit[0]"),
        ([], "svaret"),
    ],
)
@responses.activate
def test_wrong_answers_are_clear_fatal_errors(mo, body, names):
    mock(body)
    with pytest.raises(FatalError) as info:
        mo.employee("M10775")
    assert names in info.value.message


@responses.activate
def test_errors_are_classified(mo):
    mock({}, status=502)
    with pytest.raises(RetriableError):
        mo.employee("M10775")
    responses.replace(responses.POST, GRAPHQL, body="<html>nede</html>")
    with pytest.raises(FatalError) as info:
        mo.employee("M10775")
    assert "ikke er gyldig JSON" in info.value.message


# -- against the sandbox over HTTP --------------------------------------------------------


@pytest.fixture(scope="module")
def town(sandbox):
    return sandbox.municipality


@pytest.fixture(scope="module")
def faults(sandbox):
    return sandbox.faults("os2mo")


@pytest.fixture(scope="module")
def sandbox_url(sandbox):
    return sandbox.url("os2mo")


@pytest.fixture
def live(make_connector, sandbox_url, faults):
    made = []

    def build(**changes):
        settings = {
            "base_url": sandbox_url,
            "token_url": sandbox_url + os2mo.TOKEN_PATH,
            **os2mo.CREDENTIALS,
            **changes,
        }
        made.append(make_connector(Os2moConnector, settings, "os2mo"))
        return made[-1]

    yield build
    faults.reset()
    for conn in made:
        conn.http.close()


def test_sandbox_demo_caseworker(live, town):
    conn = live()
    employee = town.employee(town.demo.caseworker)
    info = conn.employee(employee.medarbejdernummer)
    assert (info.name, info.unit) == (employee.name, employee.unit)
    assert info.unit_path[0] == "Sandkasse Kommune" and len(info.unit_path) == 3
    assert info.kle_numbers("Ansvarlig") == employee.kle_groups
    assert info.kle_numbers("Udførende") and info.kle_numbers("Indsigt")
    assert all(k.title for k in info.kle)
    assert conn.employee("M0") is None
    assert conn.relations(parse_key(KeyKind.MEDARBEJDER, employee.medarbejdernummer)) == []
    assert conn.health() == f"svarer (OS2mo {os2mo.MO_VERSION})"


def test_sandbox_faults_are_classified(live, town, faults):
    conn = live()
    faults.update(fail="500")
    with pytest.raises(RetriableError):
        conn.employee(town.demo.caseworker)
    faults.update(fail="garbage")
    with pytest.raises(FatalError):
        conn.employee(town.demo.caseworker)
    faults.reset()
    with pytest.raises(ForbiddenError):
        live(client_secret="wrong").employee(town.demo.caseworker)


# --- the conformance suite (borgersag.testing) ---------------------------------------

CONFORMANCE_SETTINGS = {
    "base_url": "https://unused/",
    "token_url": TOKEN,
    "client_id": "c",
    "client_secret": "s",
}
SAMPLE_KEYS = {KeyKind.MEDARBEJDER: "M10775"}


class TestOs2moConformance(ConformanceSuite):
    connector = Os2moConnector
    settings = CONFORMANCE_SETTINGS
    sample_keys = SAMPLE_KEYS
    paginates = False  # one GraphQL query per employee

    def backend(self, mock, base_url):
        mock.post(TOKEN, json={"access_token": "tok", "expires_in": 300})
        mock.post(base_url + "graphql/v22", json=employee())

    def test_answers_with_canonical_records(self, probe):
        pytest.skip(
            "relations() returns no keys by design (no key kind for an organisation unit);"
            " test_connectors_os2mo.py checks that it asks OS2mo and returns []"
        )
