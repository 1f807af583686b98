"""The OpenAPI 3.1 document of /api/v1: valid, public, and what the running API does.

schemathesis generates requests from the document — valid and invalid bodies, unknown
ids, no session, other methods — sends them to the app as a signed-in caseworker and
checks every answer against the document (status codes, content types, headers, bodies).
"""

from __future__ import annotations

import json
import time
from collections import Counter
from importlib import resources

import schemathesis
from hypothesis import HealthCheck, given, settings
from openapi_spec_validator import validate
from schemathesis.checks import positive_data_acceptance

from borgersag.web import create_app

from support.actions import login_as_caseworker
from support.fake_portal import TYPICAL_CPR, FakePortal, make_config

COOKIE = "borgersag_session"
EXAMPLES = 40  # per operation


def _app():
    config = make_config(tables={"limits": {"lookups_per_minute": 0}})
    app = create_app(config, portal=FakePortal(config=config))
    app.config["TESTING"] = True
    return app


def test_the_shipped_document_is_valid_openapi_3_1():
    document = json.loads((resources.files("borgersag.web") / "openapi.json").read_text())
    validate(document)
    assert document["openapi"].startswith("3.1")


def test_the_document_is_served_without_a_login(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    assert response.is_json and response.json["openapi"] == "3.1.0"
    assert set(response.json["paths"]) == {"/overviews", "/overviews/{id}", "/openapi.json"}


def signed_in_app():
    """The app, its schemathesis schema and the cookie of a signed-in caseworker."""
    app = _app()
    client = app.test_client()
    login_as_caseworker(client)
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    return schema, {COOKIE: client.get_cookie(COOKIE).value}


def test_generated_requests_get_the_answers_the_document_describes():
    # Every check but "schema-valid data is accepted": whether a value is a real CPR
    # number (its date, the century digit) or a key the caller may look up cannot be
    # said in JSON Schema, so a schema-valid body may rightly get the documented 400/403.
    schema, cookies = signed_in_app()
    operations = [result.ok() for result in schema.get_all_operations()]
    assert {"POST /overviews", "GET /overviews/{id}"} <= {op.label for op in operations}
    answered: Counter[tuple[str, int]] = Counter()
    for operation in operations:

        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            derandomize=True,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        @given(case=operation.as_strategy())
        def call(case):
            case.cookies = {**(case.cookies or {}), **cookies}
            answer = case.call_and_validate(excluded_checks=[positive_data_acceptance])
            answered[case.operation.label, answer.status_code] += 1

        call()
    # Refusals are checked too: invalid keys, keys not allowed, unknown ids.
    assert {code for (_, code) in answered} >= {400, 404}, answered


def test_a_real_lookup_and_reading_it_back_match_the_document():
    schema, cookies = signed_in_app()
    post = schema["/overviews"]["POST"]
    made = post.Case(body={"kind": "cpr", "value": TYPICAL_CPR}, cookies=cookies)
    created = made.call_and_validate()
    assert created.status_code == 201
    assert created.json()["overview"]["cases"]  # the whole case shape was checked
    token = created.json()["id"]
    get = schema["/overviews/{id}"]["GET"]
    again = get.Case(path_parameters={"id": token}, cookies=cookies).call_and_validate()
    assert again.status_code == 200 and again.json()["id"] == token
    anonymous = get.Case(path_parameters={"id": token}).call_and_validate()
    assert anonymous.status_code == 401


def test_a_lookup_that_answers_at_once_matches_the_document_while_pending_and_after():
    schema, cookies = signed_in_app()
    post = schema["/overviews"]["POST"]
    body = {"kind": "cpr", "value": TYPICAL_CPR, "wait": False}
    started = post.Case(body=body, cookies=cookies).call_and_validate()
    assert started.status_code == 202
    assert started.json()["state"] in ("pending", "complete")
    get = schema["/overviews/{id}"]["GET"]
    token = started.json()["id"]
    state = started.json()["state"]
    until = time.monotonic() + 10
    while state == "pending" and time.monotonic() < until:
        time.sleep(0.05)
        answer = get.Case(path_parameters={"id": token}, cookies=cookies).call_and_validate()
        state = answer.json()["state"]
    assert state == "complete"
