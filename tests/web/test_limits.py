"""Rate limits by construction: every route that fans out is limited by the one policy.

The meta-test does not trust a list of endpoints. It walks ``app.url_map``, calls every
GET and POST route as a caseworker and as a citizen, and counts the portal's lookups to
find the routes that fan out; each of those must then answer the N+1-th call in a
minute with 429, without asking the sources.
"""

from __future__ import annotations

import dataclasses
import uuid

import pytest
import responses

from borgersag.domain.keys import CPR
from borgersag.people.permissions import Permission
from borgersag.web import create_app
from borgersag.web.limits import LOGIN, LOOKUPS, POLICIES

from support.actions import caseworker_user, citizen_user, csrf_token, sign_in
from support.fake_portal import CITIZEN_ISSUER, STAFF_ISSUER, TYPICAL_CPR, FakePortal, make_config
from support.oidc_fake import FakeProvider

PER_MINUTE = 2

# A value for every URL argument the app's routes take. A new route with an argument not
# named here fails the meta-test until someone says what a real call would pass.
ARGUMENTS = {
    "token": None,  # an overview kept for the signed-in caseworker (see url_for_rule)
    "case_id": "sbsys/1002",  # in the caseworker's overview, and the citizen's own case
    "document_id": "b7",
    "doc_id": "b7",
    "audience": "borger",
    "name": "sbsys",
    "filename": "css/app.css",
    "search_id": "a" * 24,  # the officer's kept search (none here: a 404, and no fan-out)
}

# Fan-outs the probe must find, so that it cannot pass by finding none.
KNOWN_FAN_OUTS = {
    ("POST", "web.lookup_post", "caseworker"),
    ("POST", "api_v1.create_overview", "caseworker"),
    ("GET", "web.desk", "caseworker"),
    ("GET", "citizen.overview", "citizen"),
    ("GET", "citizen.case", "citizen"),
    ("GET", "citizen.document", "citizen"),
}


def build_app(lookups_per_minute: int = 0, login_per_minute: int = 0):
    limits = {"lookups_per_minute": lookups_per_minute, "login_per_minute": login_per_minute}
    config = make_config(tables={"limits": limits})
    portal = FakePortal(config=config)
    app = create_app(config, portal=portal)
    # A route the fake portal cannot serve (the operations page) may fail: a 500 page
    # tells the probe as much as any other answer whether the sources were asked.
    app.config.update(TESTING=True, PROPAGATE_EXCEPTIONS=False)
    return app, portal


def person(audience: str):
    """A signed-in person of ``audience`` with an id of their own (fresh counters)."""
    if audience == "citizen":
        user = citizen_user(TYPICAL_CPR)
    else:
        worker = caseworker_user(1)  # an administrator too: /drift is probed as well
        user = dataclasses.replace(worker, permissions=worker.permissions | set(Permission))
    return dataclasses.replace(user, id=f"{audience}-{uuid.uuid4().hex}")


def signed_in(app, audience: str):
    client = app.test_client()
    user = person(audience)
    sign_in(client, user)
    return client, user


def url_for_rule(app, rule, user) -> str:
    unknown = set(rule.arguments) - set(ARGUMENTS)
    assert not unknown, f"{rule.rule}: say in ARGUMENTS what a real call passes for {unknown}"
    values = {name: ARGUMENTS[name] for name in rule.arguments}
    if "token" in values:
        # Kept directly in the store, so making it is no fan-out of its own.
        overview = app.extensions["borgersag"].overview_for(CPR.parse(TYPICAL_CPR))
        values["token"] = app.extensions["borgersag.overviews"].put(user.id, overview)
    return rule.build(values, append_unknown=False)[1]


def call(app, client, method: str, rule, user):
    url = url_for_rule(app, rule, user)
    if method == "GET":
        return client.get(url)
    if url.startswith("/api/"):
        return client.post(url, json={"kind": "cpr", "value": TYPICAL_CPR})
    token = csrf_token(client)
    form = {"kind": "cpr", "value": TYPICAL_CPR, "purpose": "", "csrf_token": token}
    return client.post(url, data=form)


def routes(app):
    for rule in app.url_map.iter_rules():
        for method in sorted(rule.methods & {"GET", "POST"}):
            yield method, rule


@pytest.fixture
def providers():
    """Both fake identity providers, so that probing the login routes stays offline."""
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        FakeProvider(issuer=CITIZEN_ISSUER).install(mock)
        FakeProvider(issuer=STAFF_ISSUER, client_id="borgersag-staff").install(mock)
        yield


def fan_outs() -> set[tuple[str, str, str]]:
    """(method, endpoint, audience) of every route that asks every source."""
    found = set()
    template, _ = build_app()
    for method, rule in routes(template):
        for audience in ("caseworker", "citizen"):
            app, portal = build_app()  # a fresh app: a probe may log out or switch off
            client, user = signed_in(app, audience)
            call(app, client, method, rule, user).close()
            if portal.lookups:
                found.add((method, rule.endpoint, audience))
    return found


def test_every_route_that_fans_out_is_limited_by_the_lookup_policy(providers):
    found = fan_outs()
    assert found >= KNOWN_FAN_OUTS, KNOWN_FAN_OUTS - found
    rules = {rule.endpoint: rule for rule in build_app()[0].url_map.iter_rules()}
    for method, endpoint, audience in sorted(found):
        app, portal = build_app(PER_MINUTE)
        client, user = signed_in(app, audience)
        for n in range(PER_MINUTE):
            response = call(app, client, method, rules[endpoint], user)
            assert response.status_code != 429, (endpoint, n)
        asked = len(portal.lookups)
        assert asked == PER_MINUTE, endpoint
        refused = call(app, client, method, rules[endpoint], user)
        assert refused.status_code == 429, endpoint
        assert refused.headers["Retry-After"] == "60"
        assert len(portal.lookups) == asked, f"{endpoint} asked the sources over the limit"
        text = refused.json["error"]["message"] if refused.is_json else refused.get_data(True)
        assert LOOKUPS.text in text
        assert TYPICAL_CPR not in text and TYPICAL_CPR[:6] not in text


def test_every_fan_out_of_a_person_counts_against_one_quota():
    app, portal = build_app(3)
    caseworker, _ = signed_in(app, "caseworker")
    token = csrf_token(caseworker)
    form = {"kind": "cpr", "value": TYPICAL_CPR, "csrf_token": token}
    codes = [
        caseworker.post("/", data=form).status_code,
        caseworker.post(
            "/api/v1/overviews", json={"kind": "cpr", "value": TYPICAL_CPR}
        ).status_code,
        caseworker.get("/mit-skrivebord").status_code,
        caseworker.get("/mit-skrivebord").status_code,
    ]
    assert codes == [303, 201, 200, 429]
    citizen, _ = signed_in(app, "citizen")  # someone else counts on their own
    codes = [citizen.get(p).status_code for p in ("/mine-sager", "/mine-sager/sag/sbsys/1002")]
    assert codes == [200, 200]
    assert citizen.get("/mine-sager/sag/sbsys/1002/dokument/b7").status_code == 200
    assert citizen.get("/mine-sager").status_code == 429
    assert len(portal.lookups) == 6


def test_pages_that_do_not_fan_out_are_not_charged():
    app, portal = build_app(1)
    client, _user = signed_in(app, "caseworker")
    token = csrf_token(client)
    made = client.post("/", data={"kind": "cpr", "value": TYPICAL_CPR, "csrf_token": token})
    assert made.status_code == 303  # the one fan-out this minute allows
    overview = made.headers["Location"]
    pages = [overview, f"{overview}/sag/sbsys/1002", "/", "/tilgaengelighed"]
    assert [client.get(page).status_code for page in pages] == [200, 200, 200, 200]
    # A key that is refused asks nobody, so it is not charged (400, not 429).
    refused = client.post("/", data={"kind": "cpr", "value": "310299-1234", "csrf_token": token})
    assert refused.status_code == 400 and len(portal.lookups) == 1


def test_login_routes_carry_the_login_policy_and_only_declared_policies_exist():
    app, _ = build_app()
    limited = {
        endpoint: view.rate_limit
        for endpoint, view in app.view_functions.items()
        if hasattr(view, "rate_limit")
    }
    assert limited == {"auth.start": LOGIN, "auth.callback": LOGIN}
    assert set(POLICIES.values()) == {LOGIN, LOOKUPS}


def test_starting_and_completing_a_login_count_apart_per_address(providers):
    app, _ = build_app(login_per_minute=1)
    client = app.test_client()
    assert client.get("/log-ind/borger").status_code == 303
    assert client.get("/log-ind/svar?state=forkert").status_code == 400  # refused, not 429
    assert client.get("/log-ind/borger").status_code == 429
    elsewhere = client.get("/log-ind/borger", environ_base={"REMOTE_ADDR": "192.0.2.7"})
    assert elsewhere.status_code == 303


@pytest.mark.slow
def test_with_redis_counters_two_instances_share_one_budget_per_user():
    from support.services import require_redis

    url = "redis://127.0.0.1:6379/11"  # a database of this test's own
    require_redis(url)
    limits = {"lookups_per_minute": 3, "login_per_minute": 0, "storage_url": url}
    config = make_config(tables={"limits": limits})
    apps = [create_app(config, portal=FakePortal(config=config)) for _ in range(2)]
    user = person("caseworker")  # a fresh id: fresh counters
    clients = []
    for app in apps:
        app.config["TESTING"] = True
        client = app.test_client()
        sign_in(client, user)
        clients.append(client)
    body = {"kind": "cpr", "value": TYPICAL_CPR}
    codes = [clients[n % 2].post("/api/v1/overviews", json=body).status_code for n in range(4)]
    assert codes == [201, 201, 201, 429]  # alternating instances, one budget
    other, _ = signed_in(apps[1], "caseworker")  # someone else still has theirs
    assert other.post("/api/v1/overviews", json=body).status_code == 201
