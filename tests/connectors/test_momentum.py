"""The Momentum connector: employment courses by CPR and by medarbejdernummer."""

from __future__ import annotations

import datetime as dt
import json

import pytest
import responses
from responses import matchers

from borgersag.connectors.momentum import DEFAULT_TARGET_GROUP, MomentumConnector, _is_primary
from borgersag.domain.keys import BFE, KeyKind, parse_key
from borgersag.domain.model import Progress, Sensitivity
from borgersag.sandbox import momentum
from borgersag.sdk.errors import ConfigError, FatalError, ForbiddenError, NotFound, RetriableError
from borgersag.testing import ConformanceSuite

BASE = "https://momentum.example/api/"
TOKEN = "https://login.example/token"
SETTINGS = {
    "base_url": BASE,
    "token_url": TOKEN,
    "client_id": "borgersag",
    "client_secret": "s3cret",
    "deep_link_template": "https://momentum.example/borger/{citizen_id}/forloeb/{id}",
}
CPR = parse_key(KeyKind.CPR, "010190-1234")
CITIZEN = "c0ffee00-0000-4000-8000-000000000001"
COURSE = "c0ffee00-0000-4000-8000-0000000000aa"
WORKERS = BASE + f"responsibleCaseworkers/all/byCitizen/{CITIZEN}"


def course(**changes):
    body = {
        "id": COURSE,
        "caseNumber": "BF-2026-000042",
        "title": "Sygedagpengeforløb",
        "targetGroup": {"code": "SDP", "name": "Sygedagpengemodtager"},
        "startDate": "2026-03-02",
        "endDate": None,
        "status": "Visiteret",
        "endReason": None,
        "statusHistory": [
            {"status": "Oprettet", "date": "2026-03-02"},
            {"status": "Afklaret", "date": "2026-03-10"},
            {"status": "Visiteret", "date": "2026-03-20"},
        ],
        "meetings": [{"date": "2026-04-01", "title": "Sygeopfølgningssamtale"}],
        "nextMeeting": {"date": "2026-11-20", "title": "Sygeopfølgningssamtale"},
        "nextDeadline": {"date": "2026-11-10", "title": "Revurdering efter 22 uger"},
        "organizationUnit": {"name": "Jobcenter"},
    }
    body.update(changes)
    return body


def citizen(*courses, **changes):
    body = {
        "id": CITIZEN,
        "cpr": "0101901234",
        "name": "Karen Nielsen",
        "address": "Vejnavn 1, 8000 Aarhus C",
        "hasNameAndAddressProtection": True,
        "courses": list(courses),
    }
    body.update(changes)
    return body


def worker(number, name, role, end=None):
    return {"employeeNumber": number, "name": name, "role": role, "endDate": end}


LOGIN = {"grant_type": "client_credentials", "client_id": "borgersag", "client_secret": "s3cret"}


def mock_login():
    responses.post(
        TOKEN,
        json={"access_token": "tok", "token_type": "Bearer", "expires_in": 3600},
        match=[matchers.urlencoded_params_matcher(LOGIN)],
    )


def mock_citizen(body=None, workers=None):
    mock_login()
    responses.post(BASE + "citizens/find", json={"citizenId": CITIZEN})
    responses.get(
        BASE + f"citizens/{CITIZEN}", json=body if body is not None else citizen(course())
    )
    responses.get(
        WORKERS,
        json=workers
        if workers is not None
        else [
            worker("M1", "Tidligere Sagsbehandler", 1, end="2026-05-01"),
            worker("M2", "Ydelse Medarbejder", 0),
            worker("M3", "Mette Kjær", 1.0),
        ],
    )


@pytest.fixture
def conn(make_connector):
    return make_connector(MomentumConnector, dict(SETTINGS), "momentum")


# -- settings -----------------------------------------------------------------------------


def test_declares_kinds_and_secrets():
    assert MomentumConnector.key_kinds == {KeyKind.CPR, KeyKind.MEDARBEJDER}
    assert MomentumConnector.secret_settings() == {"client_secret"}
    assert MomentumConnector.validate_settings(SETTINGS)["cpr_lookup"] == "body"


@pytest.mark.parametrize(
    ("change", "key"),
    [
        ({"cpr_lookup": "url"}, "cpr_lookup"),
        ({"page_size": 0}, "page_size"),
        ({"max_pages": 101}, "max_pages"),
        ({"token_url": "login.example"}, "token_url"),
        ({"client_secret": 1}, "client_secret"),
        ({"unknown": 1}, "unknown"),
    ],
)
def test_invalid_settings(change, key):
    with pytest.raises(ConfigError) as info:
        MomentumConnector.validate_settings({**SETTINGS, **change})
    assert info.value.key == key


# -- mapping ------------------------------------------------------------------------------


@responses.activate
def test_cpr_search_maps_a_course(conn):
    mock_citizen()
    (case,) = conn.search(CPR)
    find = responses.calls[1].request
    assert json.loads(find.body) == {"cpr": "0101901234"}
    assert "0101901234" not in find.url and find.headers["Authorization"] == "Bearer tok"
    assert case.id == f"momentum/{COURSE}" and case.sagsnummer == "BF-2026-000042"
    assert case.title == "Sygedagpengeforløb" and case.public_title == "Forløb i jobcentret"
    assert (case.kle, case.area, case.unit) == ("15.24.04", "Beskæftigelse", "Jobcenter")
    assert case.sensitivity is Sensitivity.FOELSOMME_PERSONOPLYSNINGER
    assert [s.progress for s in case.progress_history] == [
        Progress.OPSTAAET,
        Progress.OPLYST,
        Progress.AFGJORT,
    ]
    assert case.progress is Progress.AFGJORT and case.status_text == "Visiteret"
    assert case.opened == dt.date(2026, 3, 2) and case.decided == dt.date(2026, 3, 20)
    assert case.closed is None and case.deadline == dt.date(2026, 11, 10)
    assert [(e.kind, e.title) for e in case.events] == [
        ("status", "Sygeopfølgningssamtale afholdt"),
        ("deadline", "Revurdering efter 22 uger"),
        ("deadline", "Sygeopfølgningssamtale"),
    ]
    (party,) = case.parties
    assert party.key == CPR and party.name == "Karen Nielsen" and party.protected
    assert (case.caseworker.medarbejdernummer, case.caseworker.name) == ("M3", "Mette Kjær")
    assert case.deep_link == f"https://momentum.example/borger/{CITIZEN}/forloeb/{COURSE}"


@responses.activate
def test_closed_course_and_unknown_target_group(conn):
    closed = course(
        targetGroup={"code": "NY", "name": "Ny målgruppe"},
        title=None,
        endDate="2026-06-30",
        status="Afsluttet",
        endReason="Raskmeldt",
        statusHistory=[],
    )
    mock_citizen(citizen(closed), workers=[worker("M2", "Kun Øvrig", 0)])
    (case,) = conn.search(CPR)
    assert (case.kle, case.sensitivity) == DEFAULT_TARGET_GROUP
    assert case.title == "Ny målgruppe" and case.status_text == "Afsluttet – Raskmeldt"
    assert case.progress is Progress.AFSLUTTET and case.closed == dt.date(2026, 6, 30)
    assert [s.status_text for s in case.progress_history] == ["Oprettet", "Afsluttet"]
    assert case.deadline is None and {e.kind for e in case.events} == {"status"}
    assert case.caseworker.medarbejdernummer == "M2"  # no primary: the first active one


@responses.activate
def test_fortrolig_target_group_has_no_public_title(conn):
    mock_citizen(citizen(course(targetGroup={"code": "DP", "name": "Dagpengemodtager"})))
    (case,) = conn.search(CPR)
    assert case.sensitivity is Sensitivity.FORTROLIGE_PERSONOPLYSNINGER
    assert case.public_title is None and case.kle == "15.00.05"


@responses.activate
def test_query_lookup_puts_the_cpr_in_the_url(make_connector):
    conn = make_connector(MomentumConnector, {**SETTINGS, "cpr_lookup": "query"})
    mock_login()
    responses.get(
        BASE + "citizens/find",
        status=404,
        json={"error": {"status": 404}},
        match=[matchers.query_param_matcher({"cpr": "0101901234"})],
    )
    assert conn.search(CPR) == []


@responses.activate
def test_unknown_citizen_and_citizen_without_courses_are_empty(conn):
    mock_login()
    responses.post(BASE + "citizens/find", status=404, json={"error": {"status": 404}})
    assert conn.search(CPR) == []
    responses.replace(responses.POST, BASE + "citizens/find", json={"id": CITIZEN})
    responses.get(BASE + f"citizens/{CITIZEN}", json=citizen())
    assert conn.search(CPR) == []
    assert not any("byCitizen" in c.request.url for c in responses.calls)


@responses.activate
def test_worklist_reads_every_page(make_connector):
    conn = make_connector(MomentumConnector, {**SETTINGS, "page_size": 1})
    mock_citizen()
    path = BASE + "responsibleCaseworkers/M3/citizens"
    for page in (1, 2):
        responses.get(
            path,
            json={"data": [citizen(course(id=f"course-{page}"))], "totalCount": 2},
            match=[matchers.query_param_matcher({"pageNumber": str(page), "pageSize": "1"})],
        )
    cases = conn.search(parse_key(KeyKind.MEDARBEJDER, "M3"))
    assert [c.native_id for c in cases] == ["course-1", "course-2"]


@responses.activate
def test_worklist_is_bounded(make_connector):
    conn = make_connector(MomentumConnector, {**SETTINGS, "page_size": 1, "max_pages": 2})
    mock_citizen()
    path = BASE + "responsibleCaseworkers/M3/citizens"
    responses.get(path, json={"data": [citizen(course())], "totalCount": 5})
    with pytest.raises(FatalError) as info:
        conn.search(parse_key(KeyKind.MEDARBEJDER, "M3"))
    assert "max_pages" in info.value.message
    assert sum(1 for c in responses.calls if "/citizens?" in c.request.url) == 2


@pytest.mark.parametrize(
    ("find", "body", "workers", "names"),
    [
        ({"name": "x"}, citizen(course()), [], "borgeropslaget.id"),
        ({"id": CITIZEN}, citizen(courses={"x": 1}), [], "courses"),
        ({"id": CITIZEN}, citizen(course()), {"data": []}, "sagsbehandlerlisten"),
        ({"id": CITIZEN}, citizen(course()), [{"endDate": 5}], "endDate"),
    ],
)
@responses.activate
def test_wrong_shape_is_a_clear_fatal_error(conn, find, body, workers, names):
    mock_login()
    responses.post(BASE + "citizens/find", json=find)
    responses.get(BASE + f"citizens/{CITIZEN}", json=body)
    responses.get(WORKERS, json=workers)
    with pytest.raises(FatalError) as info:
        conn.search(CPR)
    assert names in info.value.message and "uventet format" in info.value.message
    assert "0101901234" not in info.value.message


@pytest.mark.parametrize(
    ("bad", "field"),
    [
        (course(id=None), "borgeren.courses[1].id"),
        (course(id="c-2", startDate="2. marts"), "borgeren.courses[1].startDate"),
        (
            course(id="c-2", statusHistory=[{"status": "Oprettet"}]),
            "borgeren.courses[1].statusHistory[0].date",
        ),
    ],
)
@responses.activate
def test_an_unreadable_course_is_counted_and_the_others_kept(conn, bad, field):
    mock_login()
    responses.post(BASE + "citizens/find", json={"id": CITIZEN})
    responses.get(BASE + f"citizens/{CITIZEN}", json=citizen(course(), bad))
    responses.get(WORKERS, json=[])
    cases = conn.search(CPR)
    assert len(cases) == 1 and cases.unreadable == 1
    assert cases.problems[0].position == "borgeren.courses[1]"
    assert cases.problems[0].field == field


@responses.activate
def test_errors_are_classified(conn):
    mock_login()
    responses.post(BASE + "citizens/find", status=503)
    with pytest.raises(RetriableError):
        conn.search(CPR)
    responses.replace(
        responses.POST, BASE + "citizens/find", body="<html>Vedligeholdelse</html>", status=200
    )
    with pytest.raises(FatalError) as info:
        conn.search(CPR)
    assert "ikke er gyldig JSON" in info.value.message
    with pytest.raises(FatalError):
        conn.search(BFE.parse("123456"))


@responses.activate
def test_refused_login_is_forbidden(conn):
    responses.post(TOKEN, status=401, json={"error": "invalid_client"})
    with pytest.raises(ForbiddenError):
        conn.search(CPR)


@responses.activate
def test_get_case(conn):
    mock_citizen()
    responses.get(BASE + f"courses/{COURSE}", json={"citizenId": CITIZEN, **course()})
    case = conn.get_case(COURSE)
    assert case.id == f"momentum/{COURSE}" and case.caseworker.medarbejdernummer == "M3"
    assert case.parties[0].key == CPR
    with pytest.raises(NotFound):
        conn.get_case("../../etc/passwd")


@pytest.mark.parametrize(
    ("role", "primary"), [(1, True), (1.0, True), ("1", True), (0, False), (True, False)]
)
def test_role_one_is_primary(role, primary):
    assert _is_primary(role) is primary


# -- against the sandbox over HTTP --------------------------------------------------------


@pytest.fixture(scope="module")
def town(sandbox):
    return sandbox.municipality


@pytest.fixture(scope="module")
def faults(sandbox):
    return sandbox.faults("momentum")


@pytest.fixture(scope="module")
def sandbox_url(sandbox):
    return sandbox.url("momentum")


@pytest.fixture
def live(make_connector, sandbox_url, faults):
    """``live(**settings)``: a connector pointed at the sandbox Momentum."""
    made = []

    def build(**changes):
        settings = {
            "base_url": sandbox_url,
            "token_url": sandbox_url + momentum.TOKEN_PATH,
            **momentum.CREDENTIALS,
            **changes,
        }
        made.append(make_connector(MomentumConnector, settings, "momentum"))
        return made[-1]

    yield build
    faults.reset()
    for conn in made:
        conn.http.close()


@pytest.mark.parametrize("lookup", ["body", "query"])
def test_sandbox_typical_citizen(live, town, lookup):
    conn = live(cpr_lookup=lookup)
    (case,) = conn.search(parse_key(KeyKind.CPR, town.demo.typical))
    assert case.title == "Sygedagpengeforløb" and case.is_open and case.deadline
    assert case.parties[0].key.value == town.demo.typical
    assert case.caseworker.medarbejdernummer == town.demo.caseworker
    assert conn.get_case(case.native_id).sagsnummer == case.sagsnummer
    assert conn.health() == "svarer (7 målgrupper)"


def test_sandbox_heavy_nothing_and_the_desk(live, town):
    conn = live()
    heavy = conn.search(parse_key(KeyKind.CPR, town.demo.heavy))
    assert [c.progress is Progress.AFSLUTTET for c in heavy] == [True, False]
    assert conn.search(parse_key(KeyKind.CPR, town.demo.nothing)) == []
    desk = conn.search(parse_key(KeyKind.MEDARBEJDER, town.demo.caseworker))
    assert len({c.parties[0].key for c in desk}) >= 4
    assert town.demo.typical in {c.parties[0].key.value for c in desk}


def test_sandbox_faults_are_classified(live, town, faults):
    conn = live()
    key = parse_key(KeyKind.CPR, town.demo.typical)
    faults.update(fail="500")
    with pytest.raises(RetriableError):
        conn.search(key)
    faults.update(fail="garbage")
    with pytest.raises(FatalError) as info:
        conn.search(key)
    assert "ikke er gyldig JSON" in info.value.message
    faults.reset()
    with pytest.raises(ForbiddenError):
        live(client_secret="wrong").search(key)


# --- the conformance suite (borgersag.testing) ---------------------------------------

CONFORMANCE_SETTINGS = {
    "base_url": "https://unused/",
    "token_url": TOKEN,
    "client_id": "c",
    "client_secret": "s",
}
SAMPLE_KEYS = {KeyKind.CPR: "010190-1234", KeyKind.MEDARBEJDER: "M3"}
ONE_CITIZEN_PER_PAGE = {"page_size": 1}


class TestMomentumConformance(ConformanceSuite):
    connector = MomentumConnector
    settings = CONFORMANCE_SETTINGS
    sample_keys = SAMPLE_KEYS
    endless_settings = ONE_CITIZEN_PER_PAGE
    not_found_is_empty = True  # Momentum answers 404 for a CPR number it does not know

    def backend(self, mock, base_url):
        mock.post(TOKEN, json={"access_token": "tok", "expires_in": 300})
        mock.post(base_url + "citizens/find", json={"citizenId": CITIZEN})
        mock.get(base_url + f"citizens/{CITIZEN}", json=citizen(course()))
        mock.get(
            base_url + f"responsibleCaseworkers/all/byCitizen/{CITIZEN}",
            json=[worker("M3", "Mette Kjær", 1)],
        )
        mock.get(
            base_url + "responsibleCaseworkers/M3/citizens",
            json={"data": [citizen(course())], "totalCount": 1},
        )

    def test_pagination_is_bounded(self, probe):
        """Only the worklist (medarbejdernummer) pages; a CPR lookup is three calls."""
        self.paginates = probe.kind is KeyKind.MEDARBEJDER
        super().test_pagination_is_bounded(probe)


def test_sandbox_a_cpr_number_in_momentums_url_is_masked_in_every_log(live, town, caplog):
    """``cpr_lookup = "query"`` puts the CPR number in Momentum's URL (the API leaves no
    other way for such installations): the HTTP library's own log line of that URL is
    masked."""
    from borgersag.runtime import logmask

    logmask.install()
    conn = live(cpr_lookup="query")
    cpr = town.demo.typical
    with caplog.at_level("DEBUG", logger="urllib3"):
        conn.search(parse_key(KeyKind.CPR, cpr))
    urls = [r.getMessage() for r in caplog.records if "citizens/find" in r.getMessage()]
    assert urls, "urllib3 logs the request line at DEBUG"
    assert all(cpr not in line and f"{cpr[:6]}-xxxx" in line for line in urls)
