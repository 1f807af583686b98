"""The generic REST connector: config validation, mapping and paging against mocked APIs,
and the sandbox's building-permit API mapped in config alone."""

from __future__ import annotations

import base64
import copy
import dataclasses
import pathlib
import tomllib

import pytest
import responses
from responses import matchers

from borgersag.config.loader import Config
from borgersag.connectors.byggesag import ByggesagConnector
from borgersag.connectors.rest import RestConnector
from borgersag.connectors.rest_paths import MISSING, Path, PathError, PathSyntaxError
from borgersag.domain.keys import BFE, KeyKind, Matrikel, parse_key
from borgersag.domain.model import Progress
from borgersag.lookup.registry import build_source
from borgersag.sdk.errors import ConfigError, FatalError, NotFound, RetriableError
from borgersag.testing import ConformanceSuite

ROOT = pathlib.Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "config" / "examples" / "rest-byggesag.toml"
BASE = "https://sager.kommune.example/api/"
CPR = parse_key(KeyKind.CPR, "010190-1234")
SETTINGS = {
    "base_url": BASE,
    "auth": "bearer",
    "token": "t0ken",
    "items": "data.sager[*]",
    "search": {
        "cpr": {
            "method": "POST",
            "path": "sager/soeg",
            "body": {"part": {"cpr": "{value}"}, "type": "alle"},
            "format": "dashed",
        },
        "bfe": {"path": "sager", "query": {"bfe": "{value}"}},
        "matrikel": {"path": "ejendomme/{ejerlav}/{matrikelnr}/sager"},
    },
    "fields": {
        "id": "id",
        "sagsnummer": "nummer",
        "title": "titel",
        "status": "status.navn",
        "status_date": "status.dato",
        "opened": "oprettet",
        "closed": "status.dato",
        "deadline": "frist",
        "kle": "kle",
        "unit": "enhed",
        "caseworker_name": "behandler.navn",
        "caseworker_number": "behandler.nr",
        "party_cpr": "parter[0].cpr",
        "bfe": "ejendom.bfe",
    },
    "status_map": {
        "Modtaget": "opstaaet",
        "Under behandling": "oplyst",
        "Afgjort": "afgjort",
        "Lukket": "afsluttet",
    },
    "area": "Affald",
    "join_key_template": "affald:{sagsnummer}",
    "deep_link_template": "https://affald.example/sag/{id}",
}


def settings(**changes):
    """SETTINGS with top-level ``changes``; a value of None removes the key."""
    raw = copy.deepcopy(SETTINGS)
    raw.update(changes)
    return {k: v for k, v in raw.items() if v is not None}


def record(**changes):
    case = {
        "id": 7,
        "nummer": "AF-2024-7",
        "titel": "Dispensation fra affaldsregulativ",
        "status": {"navn": "under  behandling", "dato": "2024-03-01"},
        "oprettet": "2024-02-01T10:00:00Z",
        "frist": "2024-06-01",
        "kle": "07.00.00",
        "enhed": "Natur og Miljø",
        "behandler": {"navn": "Mette Kjær", "nr": 4821},
        "parter": [{"cpr": "010190-1234"}],
        "ejendom": {"bfe": 123456},
    }
    case.update(changes)
    return case


def answer(*cases, **extra):
    return {"data": {"sager": list(cases), **extra}}


# -- (1) configuration is checked at start-up ------------------------------------------


def _drop(*path):
    def change(raw):
        table = raw
        for name in path[:-1]:
            table = table[name]
        del table[path[-1]]

    return change


def _set(*path, value):
    def change(raw):
        table = raw
        for name in path[:-1]:
            table = table.setdefault(name, {})
        table[path[-1]] = value

    return change


BAD_CONFIGS = [
    (
        _drop("fields", "status"),
        "fields.status",
        "missing; the path in the response that holds the case's status",
    ),
    (_drop("fields", "id"), "fields.id", "e.g. 'id'"),
    (_set("fields", "colour", value="farve"), "fields.colour", "unknown field (known: bfe,"),
    (_set("colour", value="blå"), "colour", "unknown setting (known: api_key,"),
    (_set("items", value="data..sager[*]"), "items", "a name is missing at position 6"),
    (_set("items", value="data.sager"), "items", "ends in [*] to select every case"),
    (_set("fields", "title", value="titler[*]"), "fields.title", "a path to one value"),
    (_set("fields", "kle", value="kle["), "fields.kle", "'[' at position 4 must hold"),
    (
        _set("status_map", "Afgjort", value="done"),
        "status_map.Afgjort",
        "one of opstaaet, oplyst, afgjort, afsluttet, got 'done'",
    ),
    (_set("status_map", value={}), "status_map", "or set status_default"),
    (_set("status_default", value="lukket"), "status_default", "one of opstaaet"),
    (
        _set("search", "cpr", "body", value={"cpr": "{cpr}"}),
        "search.cpr.body.cpr",
        "unknown placeholder {cpr}; use {value}",
    ),
    (
        _set("search", "bfe", "path", value="sager/{ejerlav}"),
        "search.bfe.path",
        "unknown placeholder {ejerlav}",
    ),
    (
        _set("search", "adresse", value={"path": "sager"}),
        "search.adresse",
        "a key kind this connector can search by: one of cpr, cvr, matrikel, bfe, medarbejder",
    ),
    (
        _set("search", "cpr", value={"path": "sager", "query": {"cpr": "{value}"}}),
        "search.cpr.query.cpr",
        "a CPR number must not appear in a URL",
    ),
    (
        _set("search", "cpr", value={"path": "personer/{value}/sager"}),
        "search.cpr.path",
        "allow_key_in_url = true",
    ),
    (_set("search", "cpr", "method", value="DELETE"), "search.cpr.method", '"GET" or "POST"'),
    (_set("search", "bfe", "body", value={"bfe": "{value}"}), "search.bfe.body", "only used"),
    (_set("search", "cpr", "body", value='{"cpr": {value}}'), "search.cpr.body", "valid JSON"),
    (
        _set("search", "cpr", "body", value={"type": "alle"}),
        "search.cpr",
        "the key to be sent: put {value} in path, query or body",
    ),
    (_set("search", "bfe", "format", value="dashed"), "search.bfe.format", "only for cpr"),
    (_set("search", value={}), "search", "at least one table"),
    (_drop("search"), "search", "missing; one table per key kind"),
    (_set("pagination", value="pages"), "pagination", "one of none, next_link, page_param"),
    (
        lambda raw: raw.update(pagination="page_param", page_param="side"),
        "max_pages",
        "missing; the most requests per lookup (1-100)",
    ),
    (_set("max_pages", value=5), "max_pages", 'only used with pagination = "next_link" or'),
    (
        lambda raw: raw.update(pagination="next_link", max_pages=500, next_link="next"),
        "max_pages",
        "1-100",
    ),
    (
        lambda raw: raw.update(pagination="next_link", max_pages=5),
        "next_link",
        "missing; the path in the response to the next page's URL",
    ),
    (_set("auth", value="api_key"), "token", 'only used with auth = "bearer"'),
    (
        lambda raw: raw.update(auth="basic", username="svc", token=None),
        "password",
        "missing",
    ),
    (_set("auth", value="kerberos"), "auth", "one of none, api_key, bearer"),
    (_set("date_format", value="%Y"), "date_format", "with day, month and year"),
    (_set("base_url", value="sager.kommune.example"), "base_url", "http:// or https:// URL"),
    (_set("fields", "ejerlav", value="ejendom.ejerlav"), "fields.matrikelnummer", "go together"),
    (_set("join_key_template", value="affald"), "join_key_template", "{sagsnummer} or {id}"),
    (_set("detail_record", value="data"), "detail_record", "only used together with detail_path"),
    (_set("fields", value="id"), "fields", "expected a table [sources.affald.fields]"),
]


@pytest.mark.parametrize(("change", "key", "expected"), BAD_CONFIGS)
def test_a_bad_config_names_the_key_and_what_was_expected(change, key, expected):
    raw = copy.deepcopy(SETTINGS)
    change(raw)
    raw = {k: v for k, v in raw.items() if v is not None}
    with pytest.raises(ConfigError) as info:
        RestConnector.validate_settings(raw, "config/affald.toml", "sources.affald.")
    assert info.value.key == "sources.affald." + key
    assert expected in info.value.expected
    assert "\n" not in str(info.value) and str(info.value).startswith("config/affald.toml: ")


def test_a_valid_config_is_accepted_and_secrets_are_declared():
    validated = RestConnector.validate_settings(settings())
    assert validated["pagination"] == "none" and validated["status_map"] is not SETTINGS
    assert RestConnector.secret_settings() == {"api_key", "token", "password", "client_secret"}
    allowed = {"path": "personer/{value}/sager", "allow_key_in_url": True}
    RestConnector.validate_settings(settings(search={"cpr": allowed}))
    as_json = {"method": "POST", "path": "s", "body": '{"cpr": "{value}"}'}
    RestConnector.validate_settings(settings(search={"cpr": as_json}))


def test_validated_settings_validate_again():
    once = RestConnector.validate_settings(page_params(max_pages=3))
    assert RestConnector.validate_settings(once) == once


def test_config_passes_the_nested_tables_to_the_connector_unchanged():
    config = Config.from_mapping({"sources": {"affald": {"type": "rest", **settings()}}})
    source = config.source("affald")
    assert source.settings == settings()
    validated = RestConnector.validate_settings(source.settings, source.file, "sources.affald.")
    assert validated["fields"]["status"] == "status.navn"


def test_the_example_config_is_valid():
    raw = tomllib.loads(EXAMPLE.read_text(encoding="utf-8"))
    config = Config.from_mapping(raw, str(EXAMPLE))
    source = config.source("byg-rest")
    assert source.type == "rest"
    RestConnector.validate_settings(source.settings, source.file, "sources.byg-rest.")


@pytest.mark.parametrize(
    ("path", "data", "found"),
    [
        ("a.b", {"a": {"b": 1}}, 1),
        ("$.a[0]", {"a": [1, 2]}, 1),
        ("a[-1]", {"a": [1, 2]}, 2),
        ('a["b c"].d', {"a": {"b c": {"d": 3}}}, 3),
        ("[1]", [1, 2], 2),
        ("a.b", {"a": {}}, MISSING),
        ("a.b", {"a": None}, MISSING),
        ("a[5]", {"a": [1]}, MISSING),
    ],
)
def test_path_language(path, data, found):
    assert Path.parse(path).get(data) == found


def test_path_each_names_every_place_and_refuses_the_wrong_kind():
    path = Path.parse("data.sager[*]")
    assert path.each({"data": {"sager": ["x", "y"]}}) == [
        ("x", "data.sager[0]"),
        ("y", "data.sager[1]"),
    ]
    with pytest.raises(PathError) as info:
        path.each({"data": {"sager": {"0": "x"}}})
    assert (info.value.where, info.value.problem) == (
        "data.sager",
        "skulle være en liste, men er et objekt",
    )


@pytest.mark.parametrize("text", ["", "a..b", ".a", "a.", "a b", "a[x]", "a[*", "a[]"])
def test_bad_paths_are_refused(text):
    with pytest.raises(PathSyntaxError):
        Path.parse(text)


# -- (2) against mocked APIs -----------------------------------------------------------


@pytest.fixture
def rest(make_connector):
    return make_connector(RestConnector, settings(), "affald")


@responses.activate
def test_post_search_sends_the_cpr_in_the_body_and_maps_every_field(rest):
    search = responses.post(
        BASE + "sager/soeg",
        json=answer(record()),
        match=[
            matchers.json_params_matcher({"part": {"cpr": "010190-1234"}, "type": "alle"}),
            matchers.header_matcher({"Authorization": "Bearer t0ken"}),
        ],
    )
    (case,) = rest.search(CPR)
    assert "0101901234" not in search.calls[0].request.url
    assert "010190-1234" not in search.calls[0].request.url
    assert case.id == "affald/7" and case.sagsnummer == "AF-2024-7"
    assert case.title == "Dispensation fra affaldsregulativ" and case.area == "Affald"
    assert case.progress is Progress.OPLYST and case.status_text == "under  behandling"
    assert [(s.progress, str(s.date)) for s in case.progress_history] == [
        (Progress.OPSTAAET, "2024-02-01"),
        (Progress.OPLYST, "2024-03-01"),
    ]
    assert (str(case.opened), str(case.deadline), case.closed) == ("2024-02-01", "2024-06-01", None)
    assert case.kle == "07.00.00" and case.unit == "Natur og Miljø"
    assert case.caseworker.name == "Mette Kjær" and case.caseworker.medarbejdernummer == "4821"
    (party,) = case.parties
    assert party.key == CPR
    assert case.subjects == (BFE.parse("123456"),)
    assert case.join_keys == frozenset({"affald:AF-2024-7"})
    assert case.deep_link == "https://affald.example/sag/7"


@responses.activate
def test_get_search_puts_the_key_in_query_or_path_and_the_key_becomes_a_subject(rest):
    responses.get(
        BASE + "sager",
        json=answer(record(ejendom=None)),
        match=[matchers.query_param_matcher({"bfe": "987654"})],
    )
    (case,) = rest.search(BFE.parse("987654"))
    assert case.subjects == (BFE.parse("987654"),)
    responses.get(BASE + "ejendomme/2000351/12a/sager", json=answer(record(ejendom=None)))
    (case,) = rest.search(Matrikel.of(2000351, "12a"))
    assert case.subjects == (Matrikel.of(2000351, "12a"),)


@responses.activate
def test_a_json_string_body_and_a_number_format(make_connector):
    search = {"bfe": {"method": "POST", "path": "soeg", "body": '{"bfe": "{value}", "n": 1}'}}
    search["bfe"]["format"] = "number"
    rest = make_connector(RestConnector, settings(search=search))
    responses.post(
        BASE + "soeg", json=answer(), match=[matchers.json_params_matcher({"bfe": 42, "n": 1})]
    )
    assert rest.search(BFE.parse("42")) == []


def test_a_key_kind_without_a_search_is_not_served(rest):
    assert rest.key_kinds == {KeyKind.CPR, KeyKind.BFE, KeyKind.MATRIKEL}
    assert not rest.serves(KeyKind.MEDARBEJDER)
    with pytest.raises(FatalError):
        rest.search(parse_key(KeyKind.MEDARBEJDER, "M1"))


@responses.activate
def test_status_mapping_closed_date_history_and_default(make_connector):
    fields = {**SETTINGS["fields"], "history": "historik[*]", "history_status": "s"}
    fields["history_date"] = "d"
    rest = make_connector(RestConnector, settings(fields=fields))
    history = [
        {"s": "Modtaget", "d": "2024-01-02"},
        {"s": "Afgjort", "d": "2024-02-03"},
        {"s": "LUKKET", "d": "2024-03-04"},
    ]
    closed = record(status={"navn": "Lukket", "dato": "2024-03-04"}, historik=history)
    responses.get(BASE + "sager", json=answer(closed, record(id=8, historik=None)))
    first, second = rest.search(BFE.parse("1"))
    assert first.progress is Progress.AFSLUTTET and str(first.closed) == "2024-03-04"
    assert str(first.decided) == "2024-02-03"
    assert [s.status_text for s in first.progress_history] == ["Modtaget", "Afgjort", "LUKKET"]
    assert second.progress_history == () and second.closed is None


@responses.activate
def test_an_unknown_status_is_a_clear_error_or_the_default(make_connector):
    responses.get(BASE + "sager", json=answer(record(), record(status={"navn": "Henlagt"})))
    with pytest.raises(FatalError) as info:
        make_connector(RestConnector, settings(), "affald").search(BFE.parse("1"))
    message = info.value.message
    assert "'Henlagt'" in message and "data.sager[1].status.navn" in message
    assert "[sources.affald.status_map]" in message and "status_default" in message
    responses.get(BASE + "sager", json=answer(record(status={"navn": "010190-1234"})))
    with pytest.raises(FatalError) as info:  # a wrong path must not show a CPR number
        make_connector(RestConnector, settings()).search(BFE.parse("1"))
    assert "'xxxxxx-xxxx'" in info.value.message and "1234" not in info.value.message
    responses.replace(responses.GET, BASE + "sager", json=answer(record(), record()))
    fallback = make_connector(RestConnector, settings(status_default="oplyst"))
    assert [c.progress for c in fallback.search(BFE.parse("1"))] == [Progress.OPLYST] * 2


def paged(**extra):
    return settings(pagination="next_link", next_link="data.links.next", **extra)


@responses.activate
def test_next_link_pagination_follows_links_and_is_bounded(make_connector):
    responses.get(
        BASE + "sager",
        json=answer(record(id=1), links={"next": "sager?cursor=b"}),
        match=[matchers.query_param_matcher({"bfe": "1"})],
    )
    responses.get(
        BASE + "sager",
        json=answer(record(id=2), links={"next": BASE + "sager?cursor=c"}),
        match=[matchers.query_param_matcher({"cursor": "b"})],
    )
    responses.get(
        BASE + "sager",
        json=answer(record(id=3), links={"next": None}),
        match=[matchers.query_param_matcher({"cursor": "c"})],
    )
    cases = make_connector(RestConnector, paged(max_pages=3)).search(BFE.parse("1"))
    assert [c.native_id for c in cases] == ["1", "2", "3"]
    responses.calls.reset()
    with pytest.raises(FatalError) as info:
        make_connector(RestConnector, paged(max_pages=2)).search(BFE.parse("1"))
    assert len(responses.calls) == 2 and "max_pages" in info.value.message


@responses.activate
def test_a_next_link_path_that_does_not_fit_is_an_error_not_the_last_page(make_connector):
    responses.get(BASE + "sager", json=answer(record(), paging={"next": "sager?side=2"}))
    with pytest.raises(FatalError) as info:
        make_connector(RestConnector, paged(max_pages=5)).search(BFE.parse("1"))
    assert "data.links mangler (indstillingen next_link)" in info.value.message


@responses.activate
def test_a_next_link_to_another_server_is_not_followed(make_connector):
    responses.get(BASE + "sager", json=answer(links={"next": "https://evil.example/x"}))
    with pytest.raises(FatalError) as info:
        make_connector(RestConnector, paged(max_pages=5)).search(BFE.parse("1"))
    assert "anden server" in info.value.message and len(responses.calls) == 1


def page_params(**extra):
    return settings(
        pagination="page_param", page_param="side", page_size_param="antal", page_size=2, **extra
    )


@responses.activate
def test_page_param_pagination_stops_on_a_short_page_and_is_bounded(make_connector):
    for side, ids in (("1", [1, 2]), ("2", [3, 4]), ("3", [5])):
        responses.get(
            BASE + "sager",
            json=answer(*(record(id=i) for i in ids)),
            match=[matchers.query_param_matcher({"bfe": "1", "side": side, "antal": "2"})],
        )
    cases = make_connector(RestConnector, page_params(max_pages=5)).search(BFE.parse("1"))
    assert [c.native_id for c in cases] == ["1", "2", "3", "4", "5"]
    responses.calls.reset()
    with pytest.raises(FatalError) as info:
        make_connector(RestConnector, page_params(max_pages=2)).search(BFE.parse("1"))
    assert len(responses.calls) == 2 and "max_pages" in info.value.message


@responses.activate
def test_page_param_with_post_pages_in_the_body_and_total_stops_early(make_connector):
    rest = make_connector(RestConnector, page_params(max_pages=5, total="data.antal"))
    search = responses.post(BASE + "sager/soeg", json=answer(record(id=1), record(id=2), antal=2))
    assert len(rest.search(CPR)) == 2 and len(search.calls) == 1
    assert b'"side": 1' in search.calls[0].request.body
    assert b'"antal": 2' in search.calls[0].request.body


AUTH = [
    ({"auth": "none"}, {}),
    ({"auth": "api_key", "api_key": "k3y", "api_key_header": "X-Nøgle"}, {"X-Nøgle": "k3y"}),
    ({"auth": "bearer", "token": "t0ken"}, {"Authorization": "Bearer t0ken"}),
    (
        {"auth": "basic", "username": "svc", "password": "pw"},
        {"Authorization": "Basic " + base64.b64encode(b"svc:pw").decode()},
    ),
    (
        {
            "auth": "oauth2_client_credentials",
            "token_url": "https://login.example/token",
            "client_id": "borgersag",
            "client_secret": "s3cret",
            "scope": "sager.read",
        },
        {"Authorization": "Bearer from-login"},
    ),
]


@pytest.mark.parametrize(("auth", "headers"), AUTH, ids=[a["auth"] for a, _ in AUTH])
@responses.activate
def test_auth_variants_send_their_header(make_connector, auth, headers):
    form = {
        "grant_type": "client_credentials",
        "client_id": "borgersag",
        "client_secret": "s3cret",
        "scope": "sager.read",
    }
    responses.post(
        "https://login.example/token",
        json={"access_token": "from-login", "expires_in": 600},
        match=[matchers.urlencoded_params_matcher(form)],
    )
    raw = {k: v for k, v in settings(token=None).items() if k != "auth"}
    rest = make_connector(RestConnector, {**raw, **auth})
    search = responses.get(BASE + "sager", json=answer(), match=[matchers.header_matcher(headers)])
    assert rest.search(BFE.parse("1")) == []
    sent = search.calls[0].request.headers
    if not headers:
        assert "Authorization" not in sent


@pytest.mark.parametrize(
    ("status", "error"), [(500, RetriableError), (503, RetriableError), (400, FatalError)]
)
@responses.activate
def test_errors_are_classified(rest, status, error):
    responses.get(BASE + "sager", status=status, json={"error": "x"})
    with pytest.raises(error):
        rest.search(BFE.parse("1"))


@responses.activate
def test_garbage_is_fatal_and_names_the_request_not_the_key(make_connector):
    rest = make_connector(RestConnector, settings(search={"bfe": {"path": "bfe/{value}/sager"}}))
    responses.get(BASE + "bfe/424242/sager", body="<html>Vedligeholdelse</html>")
    with pytest.raises(FatalError) as info:
        rest.search(BFE.parse("424242"))
    assert "JSON" in info.value.message and "bfe/{value}/sager" in info.value.message
    assert "424242" not in info.value.message


@pytest.mark.parametrize(
    ("body", "named"),
    [
        ({"data": {}}, "data.sager mangler (indstillingen items)"),
        ({"data": []}, "data skulle være et objekt"),
    ],
)
@responses.activate
def test_an_answer_that_does_not_fit_the_paths_is_fatal_and_names_the_path(rest, body, named):
    responses.get(BASE + "sager", json=body)
    with pytest.raises(FatalError) as info:
        rest.search(BFE.parse("1"))
    assert named in info.value.message


@pytest.mark.parametrize(
    ("bad", "named"),
    [
        ("x", "data.sager[1] skulle være et objekt"),
        (record(id="2", titel=None), "data.sager[1].titel er null (indstillingen fields.title)"),
        (record(id="2", status={"dato": "2024-01-01"}), "data.sager[1].status.navn mangler"),
        ({}, "data.sager[1].id mangler (indstillingen fields.id)"),
        (record(id="2", status="Afgjort"), "data.sager[1].status skulle være et objekt"),
        (record(id="2", oprettet="1/2"), "data.sager[1].oprettet er ikke en dato"),
        (record(id="2", parter=[{"cpr": "3102901234"}]), "parter[0].cpr er ikke et gyldigt CPR"),
    ],
)
@responses.activate
def test_a_record_that_does_not_fit_the_paths_is_counted_and_named(rest, caplog, bad, named):
    responses.get(BASE + "sager", json=answer(record(), bad))
    cases = rest.search(BFE.parse("1"))
    assert len(cases) == 1 and cases.unreadable == 1
    problem = cases.problems[0]
    assert problem.position == "data.sager[1]" and named in f"{problem.field} {problem.problem}"
    assert "3102901234" not in caplog.text and named in caplog.text


@responses.activate
def test_get_case_reads_detail_path_and_quotes_the_id(make_connector):
    rest = make_connector(
        RestConnector, settings(detail_path="sager/{id}", detail_record="data", health_path="ok")
    )
    responses.get(BASE + "sager/AF%2F7%20b", json={"data": record(id="AF/7 b")})
    case = rest.get_case("AF/7 b")
    assert case.id == "test/AF/7 b" and case.caseworker.name == "Mette Kjær"
    responses.get(BASE + "ok", status=502)
    with pytest.raises(RetriableError):
        rest.health()


def test_get_case_without_detail_path_and_documents_are_not_found(rest):
    with pytest.raises(NotFound):
        rest.get_case("7")
    with pytest.raises(NotFound):
        rest.get_document("7", "1")


# -- (3) the sandbox's building-permit API, mapped in config alone ---------------------


@pytest.fixture(scope="module")
def byggesag_service(sandbox):
    """The session sandbox's building-permit service, with its municipality."""
    return sandbox.municipality, sandbox.url("byggesag")


@pytest.fixture
def both(byggesag_service):
    """The example ``rest`` mapping and the built-in connector on the same service, built
    by the registry from config exactly as the portal builds them."""
    from borgersag.sandbox.service import API_KEY

    municipality, url = byggesag_service
    example = tomllib.loads(EXAMPLE.read_text(encoding="utf-8"))["sources"]["byg-rest"]
    sources = {
        "byg-rest": {**example, "base_url": url, "api_key": API_KEY},
        "byggesag": {"type": "byggesag", "base_url": url, "api_key": API_KEY},
    }
    config = Config.from_mapping({"sandbox": {}, "sources": sources})
    rest, builtin = (build_source(config.source(name)) for name in sources)
    assert isinstance(rest, RestConnector) and isinstance(builtin, ByggesagConnector)
    return municipality, rest, builtin


def _ids_aside(case, **changes):
    return dataclasses.replace(case, id=case.native_id, provenance=None, **changes)


def test_the_sandbox_mapped_in_config_gives_the_builtin_connectors_cases(both):
    municipality, rest, builtin = both
    (owned, *_) = municipality.ownerships_of(municipality.demo.typical)
    parcel = municipality.building_cases_on_property(owned.bfe)[0].parcel
    keys = [BFE.parse(str(owned.bfe)), Matrikel.of(parcel.ejerlavskode, parcel.matrikelnummer)]
    for key in keys:
        expected = [_ids_aside(c) for c in builtin.search(key)]
        assert expected
        assert [_ids_aside(c) for c in rest.search(key)] == expected
    detail = builtin.get_case(expected[0].id)
    assert detail.caseworker and detail.unit
    assert _ids_aside(rest.get_case(expected[0].id)) == _ids_aside(detail, documents=())


def test_the_documented_example_is_the_example_file():
    doc = (ROOT / "docs" / "configuration.md").read_text(encoding="utf-8")
    section = doc.split("#### Example: the sandbox building-permit API", 1)[1]
    block = section.split("```toml\n", 1)[1].split("```", 1)[0]
    assert tomllib.loads(block) == tomllib.loads(EXAMPLE.read_text(encoding="utf-8"))


# --- the conformance suite (borgersag.testing) ---------------------------------------

SEARCHES = {
    **page_params()["search"],
    "cvr": {"method": "POST", "path": "virksomheder/soeg", "body": {"cvr": "{value}"}},
    "medarbejder": {"path": "sager", "query": {"behandler": "{value}"}},
}

SAMPLE_KEYS = {
    KeyKind.CPR: "010190-1234",
    KeyKind.CVR: "13585628",
    KeyKind.BFE: "123456",
    KeyKind.MATRIKEL: "2000351-12a",
    KeyKind.MEDARBEJDER: "M10234",
}
ONE_CASE_PER_PAGE = {"page_size": 1}  # one recorded case is then a full page
ROOM_FOR_ONE_MORE = {"page_size": 10}  # a recorded page with one more case is still the last


class TestRestConformance(ConformanceSuite):
    connector = RestConnector
    settings = page_params(max_pages=5, search=SEARCHES)
    sample_keys = SAMPLE_KEYS
    endless_settings = ONE_CASE_PER_PAGE
    unreadable_settings = ROOM_FOR_ONE_MORE

    def backend(self, mock, base_url):
        mock.post(base_url + "sager/soeg", json=answer(record()))
        mock.post(base_url + "virksomheder/soeg", json=answer(record()))
        mock.get(base_url + "sager", json=answer(record()))
        mock.get(base_url + "ejendomme/2000351/12a/sager", json=answer(record()))
