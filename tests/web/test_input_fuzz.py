"""No input gives a 500: hostile requests answer 4xx with a clear message.

The named cases are the ones a probe found (a body nested 2,000 deep, a non-ASCII login
state, a Host label over 63 characters, a CPR number typed as a BFE number). The
property-based part sends generated paths, queries, forms, JSON bodies and Host headers to
every route of the app, as an anonymous visitor, a caseworker, an administrator, the
data-protection officer and a citizen, and counts the answers: not one may be a 5xx.
"""

from __future__ import annotations

from collections import Counter
from urllib.parse import quote, urlencode

import pytest
import responses
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from borgersag.web import create_app

from support.actions import caseworker_user, citizen_user, csrf_token, sign_in
from support.fake_portal import CITIZEN_ISSUER, TYPICAL_CPR, FakePortal, make_config
from support.oidc_fake import FakeProvider

FUZZ_EXAMPLES = 1500


def _app():
    config = make_config(tables={"limits": {"lookups_per_minute": 0, "login_per_minute": 0}})
    portal = FakePortal(config=config)
    app = create_app(config, portal=portal)
    # Answer as production does: an exception becomes a 500 page, which the test counts.
    app.config.update(TESTING=False, PROPAGATE_EXCEPTIONS=False)
    return app, portal


@pytest.fixture(scope="module")
def fuzz_app():
    """The real portal (no sources configured), so every route, the operations page
    included, runs the code production runs."""
    config = make_config(tables={"limits": {"lookups_per_minute": 0, "login_per_minute": 0}})
    app = create_app(config)
    app.config.update(TESTING=False, PROPAGATE_EXCEPTIONS=False)
    yield app
    app.extensions["borgersag"].close()


@pytest.fixture
def fresh():
    return _app()


# -- the cases a probe found -----------------------------------------------------------------


def test_json_nested_thousands_deep_is_refused_with_a_reason(fresh):
    app, portal = fresh
    client = app.test_client()
    sign_in(client, caseworker_user())
    deep = "[" * 2000 + "]" * 2000
    answer = client.post("/api/v1/overviews", data=deep, content_type="application/json")
    assert answer.status_code == 400
    assert "indlejret for dybt" in answer.json["error"]["message"]
    inner = '{"kind": "cpr", "value": ' + "[" * 3000 + "]" * 3000 + "}"
    answer = client.post("/api/v1/overviews", data=inner, content_type="application/json")
    assert answer.status_code == 400
    assert portal.lookups == []


def test_json_that_is_not_utf8_or_not_json_is_refused(fresh):
    app, _ = fresh
    client = app.test_client()
    sign_in(client, caseworker_user())
    for body, words in ((b"\xff\xfe{", "UTF-8"), (b'{"kind": ', "ikke gyldig JSON")):
        answer = client.post("/api/v1/overviews", data=body, content_type="application/json")
        assert answer.status_code == 400
        assert words in answer.json["error"]["message"]


def test_a_value_that_is_not_text_is_refused_naming_the_field(fresh):
    app, portal = fresh
    client = app.test_client()
    sign_in(client, caseworker_user())
    for value in (1234567890, ["0103854321"], {"cpr": "0103854321"}, True):
        answer = client.post("/api/v1/overviews", json={"kind": "cpr", "value": value})
        assert answer.status_code == 400, value
        assert answer.json["error"]["field"] == "value"
        assert "tekst" in answer.json["error"]["message"]
    assert portal.lookups == []


def test_a_login_answer_with_a_non_ascii_state_is_refused_not_a_crash(fresh):
    app, _ = fresh
    client = app.test_client()
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        FakeProvider(issuer=CITIZEN_ISSUER).install(mock)
        assert client.get("/log-ind/borger").status_code == 303
        for query in ("state=%C3%A6", "state=%C3%A6&code=%00", "state=%FF%FE", "state="):
            answer = client.get(f"/log-ind/svar?{query}")
            assert answer.status_code == 400, query
            assert "passede ikke til et login" in answer.get_data(as_text=True)


@pytest.mark.parametrize("host", ["a" * 64 + ".example", "x" * 300, "kommune..dk"])
def test_a_host_header_that_is_no_host_name_gets_a_400_page(fresh, host):
    app, _ = fresh
    answer = app.test_client().get("/", headers={"Host": host})
    assert answer.status_code == 400
    page = answer.get_data(as_text=True)
    assert "Forespørgslen kunne ikke behandles" in page
    assert answer.headers["X-Content-Type-Options"] == "nosniff"


@pytest.mark.parametrize(
    ("kind", "typed"),
    [
        ("bfe", "0103854321"),
        ("bfe", "010385-4321"),
        ("matrikel", "010385-4321"),
        ("medarbejder", "0103854321"),
        ("medarbejder", "010385 4321"),
    ],
)
def test_a_cpr_number_typed_as_another_kind_never_reaches_a_source(fresh, kind, typed):
    app, portal = fresh
    client = app.test_client()
    sign_in(client, caseworker_user(1))  # may look up colleagues' numbers too
    answer = client.post("/api/v1/overviews", json={"kind": kind, "value": typed})
    assert answer.status_code == 400
    assert "ligner et CPR-nummer" in answer.json["error"]["message"]
    form = client.post("/", data={"kind": kind, "value": typed, "csrf_token": csrf_token(client)})
    assert form.status_code == 400
    assert "ligner et CPR-nummer" in form.get_data(as_text=True)
    assert portal.lookups == []


# -- generated input to every route ------------------------------------------------------------

_text = st.text(st.characters(exclude_categories=("Cs",)), max_size=60)
_ascii = st.text(st.characters(min_codepoint=0, max_codepoint=127), max_size=60)
_field_names = st.sampled_from(
    [
        *("kind", "value", "purpose", "csrf_token", "handling", "state", "code", "error", "side"),
        *("cpr", "medarbejder", "enhed", "fra", "til", "formaal"),  # the officer's search form
    ]
)
_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | _text,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(_text | _field_names, inner),
    max_leaves=12,
)
_who = st.sampled_from(["anonymous", "caseworker", "administrator", "dpo", "citizen"])


def _segment(text: str, *, slashes: bool) -> str:
    return quote(text, safe="/" if slashes else "") or "x"


@st.composite
def _requests(draw, rules):
    rule = draw(st.sampled_from(rules))
    path = rule.rule
    for arg in rule.arguments:
        is_path = f"<path:{arg}>" in path
        value = _segment(draw(st.one_of(_text, _ascii)), slashes=is_path)
        path = path.replace(f"<path:{arg}>", value).replace(f"<{arg}>", value)
    query = draw(st.dictionaries(_field_names | _ascii, _text, max_size=4))
    if query:
        path += "?" + urlencode(query)
    method = draw(st.sampled_from(sorted(rule.methods - {"HEAD", "OPTIONS"})))
    request: dict = {"method": method, "path": path, "who": draw(_who)}
    if method == "POST":
        shape = draw(st.sampled_from(["form", "json", "raw"]))
        if shape == "form":
            request["data"] = draw(st.dictionaries(_field_names, _text, max_size=5))
            request["csrf"] = draw(st.booleans())
        elif shape == "json":
            request["json"] = draw(_json)
        else:
            request["raw"] = draw(st.binary(max_size=200))
            request["content_type"] = draw(
                st.sampled_from(["application/json", "text/plain", "multipart/form-data"])
            )
    if draw(st.integers(0, 9)) == 0:
        request["host"] = draw(_ascii | _text).replace("\n", "").replace("\r", "")
    return request


def _clients(app):
    clients = {"anonymous": app.test_client()}
    for who, user in (
        ("caseworker", caseworker_user(0)),
        ("administrator", caseworker_user(1)),
        ("dpo", caseworker_user(2)),
        ("citizen", citizen_user(TYPICAL_CPR)),
    ):
        clients[who] = app.test_client()
        sign_in(clients[who], user)
    tokens = {who: csrf_token(c) for who, c in clients.items() if who != "anonymous"}
    return clients, tokens


def test_no_generated_request_to_any_route_gets_a_server_error(fuzz_app):
    app = fuzz_app
    rules = [r for r in app.url_map.iter_rules() if r.endpoint != "static"]
    clients, tokens = _clients(app)
    answered: Counter[int] = Counter()
    failures: list[tuple[int, str, str]] = []

    @settings(
        max_examples=FUZZ_EXAMPLES,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(_requests(rules))
    def send(request):
        client = clients[request["who"]]
        kwargs: dict = {}
        if "host" in request:
            kwargs["headers"] = {"Host": request["host"]}
        if "data" in request:
            data = dict(request["data"])
            if request["csrf"] and request["who"] in tokens:
                data["csrf_token"] = tokens[request["who"]]
            kwargs["data"] = data
        elif "json" in request:
            kwargs["json"] = request["json"]
        elif "raw" in request:
            kwargs["data"] = request["raw"]
            kwargs["content_type"] = request["content_type"]
        try:
            answer = client.open(request["path"], method=request["method"], **kwargs)
        except UnicodeError:
            return  # the test client itself cannot send this path; a browser could not either
        answered[answer.status_code] += 1
        if answer.status_code >= 500:
            failures.append((answer.status_code, request["method"], request["path"][:120]))

    send()
    total = sum(answered.values())
    print(f"\ninput fuzz: {total} requests, answers by status {dict(sorted(answered.items()))}")
    assert total >= FUZZ_EXAMPLES * 0.9
    assert failures == []
