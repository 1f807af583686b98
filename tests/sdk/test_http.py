"""SourceSession against real loopback servers: every request is bounded in wall-clock
time, in size and in concurrency, however the source behaves."""

import contextvars
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import responses

from borgersag.sdk.credentials import OAuth2ClientCredentials
from borgersag.sdk.errors import FatalError, RetriableError, SourceTimeout
from borgersag.sdk.http import SourceSession, deadline_in, document_download, size_text

from support.misbehaving import MB, Misbehaving, timed

SLACK = 0.25  # a bounded request may end this much after its limit


def session(server, **kwargs):
    return SourceSession(server.url, source="Testkilde", **kwargs)


def test_a_healthy_answer_reads_as_usual():
    with Misbehaving("ok", body={"sager": [1, 2]}) as server:
        http = session(server)
        assert http.get_json("sager") == {"sager": [1, 2]}
        assert http.call("GET", "sager").content == b'{"sager": [1, 2]}'


@pytest.mark.parametrize("mode", ["trickle", "trickle_headers", "trickle_close", "hang"])
def test_a_source_that_trickles_or_hangs_is_cut_at_its_time_limit(mode):
    with Misbehaving(mode, interval=0.1) as server:
        error, took = timed(lambda: session(server, timeout=0.6).get_json("sager"))
    assert isinstance(error, SourceTimeout)
    assert "Testkilde svarede ikke inden for tidsgrænsen på 0,6 s" in error.message
    assert 0.55 <= took < 0.6 + SLACK


def test_a_redirect_to_another_host_is_not_followed_and_takes_no_credentials():
    with Misbehaving("ok") as other, Misbehaving("redirect", location=other.url + "x") as api:
        http = session(api)
        http.headers["X-Api-Key"] = "hemmelig"
        error, _ = timed(lambda: http.get_json("sager"))
    assert other.requests == 0  # neither the key nor a client certificate went there
    assert isinstance(error, FatalError)
    assert "HTTP 302" in error.message and "følges ikke" in error.message


def test_the_deadline_shortens_the_limit_when_it_comes_first():
    with Misbehaving("trickle", interval=0.1) as server:
        http = session(server, timeout=5.0)
        with deadline_in(0.4):
            error, took = timed(lambda: http.get_json("sager"))
    assert isinstance(error, SourceTimeout)
    assert took < 0.4 + SLACK


def test_a_deadline_already_passed_sends_nothing():
    with Misbehaving("ok") as server:
        http = session(server)
        with deadline_in(0.0):
            error, _ = timed(lambda: http.get_json("sager"))
        assert isinstance(error, SourceTimeout)
        assert server.requests == 0


def test_a_timed_out_connection_is_not_reused():
    with Misbehaving("ok", delay=0.5) as server:
        http = session(server, timeout=0.2)
        assert isinstance(timed(lambda: http.get_json("x"))[0], SourceTimeout)
        http.timeout = (1.0, 2.0)
        assert http.get_json("x") == {"ok": True}


def test_a_huge_answer_is_refused_while_reading_with_the_cap_in_the_message():
    with Misbehaving("huge", size=50 * MB) as server:
        error, took = timed(lambda: session(server).get_json("sager"))
    assert isinstance(error, FatalError) and not isinstance(error, RetriableError)
    assert error.message == "Testkilde svarede med mere end 10 MB; svaret er ikke læst."
    assert took < 2.0


def test_a_declared_length_over_the_cap_is_refused_before_reading():
    with Misbehaving("huge_declared", size=50 * MB) as server:
        error, _ = timed(lambda: session(server, max_response_bytes=MB).get_json("x"))
    assert isinstance(error, FatalError)
    assert "mere end 1 MB" in error.message


def test_the_cap_is_per_source():
    with Misbehaving("huge", size=3 * MB) as server:
        assert isinstance(
            timed(lambda: session(server, max_response_bytes=MB).call("GET", "x"))[0], FatalError
        )
        response = session(server, max_response_bytes=4 * MB).call("GET", "x")
    assert len(response.content) >= 3 * MB


def test_a_document_download_may_be_larger_than_an_answer():
    with Misbehaving("huge", size=3 * MB) as server:
        http = session(server, max_response_bytes=MB, max_document_bytes=4 * MB)
        with document_download():
            assert len(http.call("GET", "fil").content) >= 3 * MB
        assert isinstance(timed(lambda: http.call("GET", "fil"))[0], FatalError)


def test_the_bulkhead_refuses_a_request_that_gets_no_slot_in_time():
    with Misbehaving("hang") as server:
        http = session(server, timeout=1.0, max_concurrent=2)
        with ThreadPoolExecutor(2) as pool:
            busy = [pool.submit(timed, lambda: http.get_json("x")) for _ in range(2)]
            time.sleep(0.2)
            with deadline_in(0.3):
                error, took = timed(lambda: http.get_json("x"))
            assert isinstance(error, RetriableError) and not isinstance(error, SourceTimeout)
            assert "Testkilde er optaget" in error.message
            assert took < 0.3 + SLACK
            assert all(isinstance(f.result()[0], SourceTimeout) for f in busy)
        assert server.requests == 2


def test_the_bulkhead_bounds_a_connectors_own_parallel_calls():
    """A connector asking per-case details in parallel threads (contextvars copied)
    still has at most max_concurrent requests at the source, all within the deadline."""
    with Misbehaving("ok", delay=0.2) as server:
        http = session(server, max_concurrent=3)
        with deadline_in(0.5), ThreadPoolExecutor(9) as pool:
            futures = [
                pool.submit(contextvars.copy_context().run, timed, lambda: http.get_json("x"))
                for _ in range(9)
            ]
            outcomes = [f.result() for f in futures]
    assert server.peak == 3
    answered = sum(isinstance(value, dict) for value, _ in outcomes)
    assert 3 <= answered <= 6  # rounds of 3 (two fit in the deadline on an idle machine)
    assert all(isinstance(v, dict | SourceTimeout | RetriableError) for v, _ in outcomes)
    assert all(took < 0.5 + SLACK for _, took in outcomes)


@pytest.mark.parametrize(
    ("size", "text"), [(10 * MB, "10 MB"), (int(1.5 * 1024), "1,5 kB"), (512, "512 bytes")]
)
def test_size_text(size, text):
    assert size_text(size) == text


def test_a_login_service_that_trickles_is_cut_too():
    with Misbehaving("trickle", interval=0.1) as login, Misbehaving("ok") as api:
        auth = OAuth2ClientCredentials(login.url, "id", "secret", source="Testkilde", timeout=0.5)
        http = session(api, timeout=2.0, auth=auth)
        error, took = timed(lambda: http.get_json("sager"))
    assert isinstance(error, SourceTimeout)
    assert "login-tjenesten svarede ikke" in error.message
    assert took < 0.5 + SLACK


def test_a_request_sent_after_fetching_a_token_is_still_guarded():
    token = {"access_token": "t", "expires_in": 300}
    with Misbehaving("ok", body=token) as login, Misbehaving("trickle", interval=0.1) as api:
        auth = OAuth2ClientCredentials(login.url, "id", "secret", source="Testkilde")
        http = session(api, timeout=0.5, auth=auth)
        error, took = timed(lambda: http.get_json("sager"))
    assert isinstance(error, SourceTimeout)
    assert took < 0.5 + SLACK


def test_a_callers_own_timeout_is_still_bounded_by_the_wall_clock():
    with Misbehaving("trickle", interval=0.1) as server:
        http = session(server, timeout=0.5)
        error, took = timed(lambda: http.call("GET", "x", timeout=30))
    assert isinstance(error, SourceTimeout)
    assert took < 0.5 + SLACK


def test_an_operators_proxy_from_the_environment_is_still_used(monkeypatch):
    """The session reads HTTP(S)_PROXY and NO_PROXY once per host, not per request: an
    outbound proxy set in the portal's environment is used, and bypassed where told."""
    with Misbehaving("ok", body={"via": "proxy"}) as proxy, Misbehaving("ok") as direct:
        monkeypatch.setenv("HTTP_PROXY", proxy.url)
        monkeypatch.setenv("NO_PROXY", "direct.invalid")
        http = SourceSession("http://backend.invalid/", source="Testkilde")
        assert http.get_json("sager") == {"via": "proxy"}
        assert http.get_json("sager") == {"via": "proxy"}
        assert proxy.requests == 2
        monkeypatch.setenv("NO_PROXY", "127.0.0.1")
        assert session(direct).get_json("sager") == {"ok": True}
        assert (proxy.requests, direct.requests) == (2, 1)


def test_a_cookie_the_source_sets_is_sent_back():
    with responses.RequestsMock() as mock:
        mock.get("http://kilde.test/login", json={}, headers={"Set-Cookie": "sid=abc; Path=/"})
        mock.get("http://kilde.test/sager", json=[1])
        http = SourceSession("http://kilde.test/", source="Testkilde")
        http.get_json("login")
        assert http.get_json("sager") == [1]
        assert mock.calls[1].request.headers["Cookie"] == "sid=abc"


@pytest.mark.parametrize(
    ("body", "content_type", "expected"),
    [
        ('{"titel": "Byggetilladelse, Ærø"}'.encode(), "application/json", "Byggetilladelse, Ærø"),
        ('{"titel": "Ærø"}'.encode("latin-1"), "application/json; charset=iso-8859-1", "Ærø"),
        (b'{"titel": NaN}', "application/json", None),  # what the standard decoder accepts
    ],
)
def test_json_bodies_decode_as_their_charset_says(body, content_type, expected):
    with responses.RequestsMock() as mock:
        mock.get("http://kilde.test/sag", body=body, content_type=content_type)
        answer = SourceSession("http://kilde.test/", source="Testkilde").get_json("sag")
    if expected is None:
        assert answer["titel"] != answer["titel"]  # NaN
    else:
        assert answer == {"titel": expected}
