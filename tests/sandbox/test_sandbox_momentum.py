"""The sandbox employment system: its generated courses and the Momentum-style API."""

from __future__ import annotations

import pytest
import requests

from borgersag.sandbox import momentum
from borgersag.sandbox.data import NOW
from borgersag.sandbox.generator import generate
from borgersag.sandbox.momentum_data import build_momentum

TIMEOUT = 5


@pytest.fixture(scope="module")
def town(sandbox):
    return sandbox.municipality


@pytest.fixture(scope="module")
def data(town):
    return build_momentum(town)


@pytest.fixture(scope="module")
def faults(sandbox):
    return sandbox.faults("momentum")


@pytest.fixture(scope="module")
def url(sandbox):
    return sandbox.url("momentum")


@pytest.fixture(autouse=True)
def _healthy(faults):
    yield
    faults.reset()


def token(url, **changes):
    form = {"grant_type": "client_credentials", **momentum.CREDENTIALS, **changes}
    return requests.post(url + momentum.TOKEN_PATH, data=form, timeout=TIMEOUT)


@pytest.fixture(scope="module")
def api(url):
    """``api("GET", path, ...)`` with a valid Bearer token."""
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {token(url).json()['access_token']}"

    def call(method, path, **kwargs):
        return session.request(method, url + path, timeout=TIMEOUT, **kwargs)

    yield call
    session.close()


# -- generated data -----------------------------------------------------------------------


def test_same_municipality_same_courses(town, data):
    assert build_momentum(generate(2026)) == data
    assert build_momentum(generate(7)) != data


def test_demo_identities(town, data):
    demo = town.demo
    assert [c.target_group.code for c in data.by_cpr(demo.typical).courses] == ["SDP"]
    heavy = data.by_cpr(demo.heavy).courses
    assert [c.target_group.code for c in heavy] == ["SDP", "JAF"]
    assert heavy[0].end is not None and heavy[1].end is None
    assert heavy[0].end < heavy[1].start
    for nobody in (demo.nothing, demo.coowner_partner, demo.hostile):
        assert data.by_cpr(nobody) is None


def test_demo_caseworker_is_primary_for_several_citizens(town, data):
    desk = data.citizens_of(town.demo.caseworker)
    assert len(desk) >= 4
    assert town.demo.typical in {p.cpr for p in desk}
    for person in desk:
        primary = [d for d in person.caseworkers if d.primary and d.end is None]
        assert [d.medarbejdernummer for d in primary] == [town.demo.caseworker]


def test_working_age_citizens_with_employment_cases_have_courses(town, data):
    with_15 = {c.party_cpr for c in town.cases if c.kle.startswith("15.")}
    for cpr in with_15 - {town.demo.hostile}:
        assert data.by_cpr(cpr) is not None
    for person in data.citizens:
        assert 18 <= town.citizen(person.cpr).age <= 67
    assert len(data.citizens) > len(with_15)  # plus a random share


def test_courses_are_consistent(data):
    for person in data.citizens:
        assert person.courses
        for course in person.courses:
            assert course.history[0].status == "Oprettet"
            assert course.history[0].date == course.start
            assert all(s.date <= NOW for s in course.history)
            if course.end is None:
                assert course.next_meeting and course.next_meeting.date > NOW
                assert course.status != "Afsluttet"
            else:
                assert course.status == "Afsluttet" and course.end_reason
                assert course.end <= NOW and course.next_meeting is None
        for earlier, later in zip(person.courses, person.courses[1:], strict=False):
            assert earlier.end is not None and earlier.end < later.start
        primaries = [d for d in person.caseworkers if d.primary and d.end is None]
        assert len(primaries) == 1


# -- auth ---------------------------------------------------------------------------------


def test_calls_need_a_token(url, town):
    refused = requests.get(url + "citizens/find", params={"cpr": town.demo.typical}, timeout=5)
    assert refused.status_code == 401
    assert "Bearer" in refused.json()["error"]["message"]
    wrong = requests.get(url + "targetGroups", headers={"Authorization": "Bearer x"}, timeout=5)
    assert wrong.status_code == 401
    assert requests.get(url + "health", timeout=TIMEOUT).json()["status"] == "ok"


def test_token_endpoint_checks_client_and_grant(url):
    assert token(url, client_secret="wrong").status_code == 401
    assert token(url, client_secret="wrong").json()["error"] == "invalid_client"
    assert token(url, grant_type="password").status_code == 400
    basic = requests.post(
        url + momentum.TOKEN_PATH,
        data={"grant_type": "client_credentials"},
        auth=(momentum.CREDENTIALS["client_id"], momentum.CREDENTIALS["client_secret"]),
        timeout=TIMEOUT,
    )
    assert basic.status_code == 200 and basic.json()["token_type"] == "Bearer"


def test_revoked_tokens_are_refused(url):
    fresh = token(url).json()["access_token"]
    headers = {"Authorization": f"Bearer {fresh}"}
    assert requests.get(url + "targetGroups", headers=headers, timeout=5).status_code == 200
    assert requests.post(url + "_sandbox/revoke-tokens", timeout=TIMEOUT).json()["revoked"] >= 1
    assert requests.get(url + "targetGroups", headers=headers, timeout=5).status_code == 401


# -- the API ------------------------------------------------------------------------------


def test_find_by_query_and_by_body_agree(api, town, data):
    cpr = town.demo.typical
    by_query = api("GET", "citizens/find", params={"cpr": cpr})
    by_body = api("POST", "citizens/find", json={"cpr": cpr})
    assert by_query.status_code == by_body.status_code == 200
    assert by_query.json() == by_body.json()
    assert by_body.json()["citizenId"] == data.by_cpr(cpr).id
    assert api("POST", "citizens/find", json={"cpr": town.demo.nothing}).status_code == 404
    assert api("POST", "citizens/find", json={"cpr": "12345"}).status_code == 400
    assert api("POST", "citizens/find", data="not json").status_code == 400


def test_typical_citizen_and_caseworkers(api, town, data):
    person = data.by_cpr(town.demo.typical)
    body = api("GET", f"citizens/{person.id}").json()
    assert body["cpr"] == town.demo.typical
    assert body["name"] == town.citizen(town.demo.typical).name
    (course,) = body["courses"]
    assert course["targetGroup"] == {"code": "SDP", "name": "Sygedagpengemodtager"}
    assert course["title"] == "Sygedagpengeforløb" and course["endDate"] is None
    assert course["nextMeeting"]["date"] > NOW.isoformat()
    assert course["statusHistory"][0]["status"] == "Oprettet"
    workers = api("GET", f"responsibleCaseworkers/all/byCitizen/{person.id}").json()
    primary = [w for w in workers if w["role"] == 1 and w["endDate"] is None]
    assert [w["employeeNumber"] for w in primary] == [town.demo.caseworker]
    assert primary[0]["name"] == town.employee(town.demo.caseworker).name
    assert api("GET", "citizens/nope").status_code == 404
    assert api("GET", "responsibleCaseworkers/all/byCitizen/nope").status_code == 404


def test_worklist_pages(api, town, data):
    path = f"responsibleCaseworkers/{town.demo.caseworker}/citizens"
    first = api("GET", path, params={"pageNumber": 1, "pageSize": 2}).json()
    total = first["totalCount"]
    assert total == len(data.citizens_of(town.demo.caseworker)) >= 4
    ids = []
    for page in range(1, total // 2 + 2):
        ids += [
            c["id"]
            for c in api("GET", path, params={"pageNumber": page, "pageSize": 2}).json()["data"]
        ]
    assert ids == [p.id for p in data.citizens_of(town.demo.caseworker)]
    assert api("GET", path, params={"pageSize": 101}).status_code == 400
    assert api("GET", path, params={"pageNumber": "x"}).status_code == 400
    empty = api("GET", "responsibleCaseworkers/M0/citizens").json()
    assert empty["data"] == [] and empty["totalCount"] == 0


def test_one_course_and_target_groups(api, town, data):
    person = data.by_cpr(town.demo.heavy)
    body = api("GET", f"courses/{person.courses[0].id}").json()
    assert body["citizenId"] == person.id and body["endReason"]
    assert api("GET", "courses/00000000-0000-4000-8000-000000000000").status_code == 404
    groups = api("GET", "targetGroups").json()
    assert {"code": "SDP", "name": "Sygedagpengemodtager"} in groups


@pytest.mark.parametrize("mode", ["500", "garbage"])
def test_fault_knobs(api, faults, mode):
    faults.update(fail=mode)
    answer = api("GET", "targetGroups")
    if mode == "500":
        assert answer.status_code == 500 and "Momentum" in answer.json()["error"]["message"]
    else:
        assert answer.status_code == 200 and "json" not in answer.headers["Content-Type"]
