"""A full lookup against the sandbox, end to end, and where the CPR number must NOT be.

The caseworker signs in, looks up a sandbox citizen, opens the overview, every case page,
a document, the JSON API, and meets error pages. Everything the portal sends (URLs,
redirects, outgoing requests to the sources, log lines at DEBUG from every logger,
cookies, error pages) is collected and searched for the CPR number in any notation.
"""

from __future__ import annotations

import json
import logging
import re
import time

import pytest
import requests.adapters

from borgersag.config.loader import Config
from borgersag.lookup.portal import Portal
from borgersag.runtime import logmask
from borgersag.web import create_app

from support.actions import csrf_token, login_as_caseworker, sandbox_login


@pytest.fixture(autouse=True)
def unmasked_logs():
    """The log mask (borgersag.runtime.logmask) would hide a leak; these tests prove there is
    none."""
    with logmask.suspended():
        yield


@pytest.fixture
def live_client(live_app, sandbox):
    """Logged in for real through the sandbox's municipal identity provider."""
    client = live_app.test_client()
    assert sandbox_login(client, sandbox, "medarbejder", "caseworker").status_code == 303
    return client


@pytest.fixture
def outgoing(monkeypatch):
    """Every URL the portal's connectors request from the sources."""
    urls: list[str] = []
    original = requests.adapters.HTTPAdapter.send

    def recording_send(self, request, *args, **kwargs):
        urls.append(request.url)
        return original(self, request, *args, **kwargs)

    monkeypatch.setattr(requests.adapters.HTTPAdapter, "send", recording_send)
    return urls


def cpr_forms(cpr: str) -> list[str]:
    """The notations a CPR number can leak in: 0102031234, 010203-1234, 010203 1234."""
    return [cpr, f"{cpr[:6]}-{cpr[6:]}", f"{cpr[:6]} {cpr[6:]}"]


def assert_absent(cpr: str, where: str, text: str) -> None:
    for form in cpr_forms(cpr):
        assert form not in text, f"CPR number found in {where}"


def session_cookie_value(client) -> str:
    """The session cookie: it must be nothing but an opaque id."""
    cookie = client.get_cookie("borgersag_session")
    assert cookie is not None, "signed in, so there is a session"
    assert re.fullmatch(r"[A-Za-z0-9_-]{40,}", cookie.value), "an opaque id, no data"
    return cookie.value


def test_full_lookup_leaks_the_cpr_nowhere(sandbox, live_client, outgoing, caplog):
    caplog.set_level(logging.DEBUG)
    cpr = sandbox.municipality.demo.typical
    visited: list[str] = []

    def get(path: str, expect: int = 200):
        visited.append(path)
        response = live_client.get(path)
        assert response.status_code == expect, (path, response.status_code)
        if response.location:
            visited.append(response.location)
        return response

    response = live_client.post(
        "/", data={"kind": "cpr", "value": f"{cpr[:6]}-{cpr[6:]}", "csrf_token": csrf(live_client)}
    )
    assert response.status_code == 303
    overview_path = response.location
    visited.append(overview_path)
    assert re.fullmatch(r"/oversigt/[A-Za-z0-9_-]{20,}", overview_path)

    page = get(overview_path).get_data(as_text=True)
    assert "sager" in page
    # the subject is shown masked on the page; the full number only inside the reveal
    case_links = sorted(set(re.findall(r'href="(/oversigt/[^"]+/sag/[^"]+)"', page)))
    assert len(case_links) >= 3, "the typical citizen has cases in several systems"
    document_links: list[str] = []
    for link in case_links:
        case_page = get(link.replace("&amp;", "&")).get_data(as_text=True)
        document_links += re.findall(r'href="(/oversigt/[^"]+/dokument/[^"]+)"', case_page)
    assert document_links, "some case has documents"
    get(document_links[0].replace("&amp;", "&"))

    api = live_client.post("/api/v1/overviews", json={"kind": "cpr", "value": cpr})
    assert api.status_code == 201
    visited.append(api.headers.get("Location", ""))
    get(f"/api/v1/overviews/{api.get_json()['id']}")

    # error pages: unknown overview, unknown case, malformed token, wrong method
    error_pages = [
        get("/oversigt/" + "x" * 32, 404),
        get(overview_path + "/sag/nosuch/123", 404),
        get("/oversigt/%00%ff", 404),
    ]
    error_pages.append(live_client.put(overview_path))
    for response in error_pages:
        assert response.status_code in (404, 405)
        assert_absent(cpr, "an error page", response.get_data(as_text=True))

    for url in visited:
        assert_absent(cpr, f"the portal URL {url}", url)
    assert outgoing, "the connectors made HTTP calls"
    for url in outgoing:
        assert_absent(cpr, f"an outgoing URL {url}", url)
    records = "\n".join(f"{r.name}: {r.getMessage()} {r.exc_text or ''}" for r in caplog.records)
    assert records, "logging was captured"
    assert_absent(cpr, "a log line", records)
    assert_absent(cpr, "the session cookie", session_cookie_value(live_client))


def test_citizen_login_and_mine_sager_leak_the_cpr_nowhere(sandbox, live_app, outgoing, caplog):
    """A citizen's whole path: MitID login, Mine sager, every case page, a document."""
    caplog.set_level(logging.DEBUG)
    cpr = sandbox.municipality.demo.typical
    client = live_app.test_client()
    visited: list[str] = []
    started = client.get("/log-ind/borger")
    visited.append(started.location)
    callback = sandbox_login(client, sandbox, "borger", "typical")
    assert callback.status_code == 303
    visited.append(callback.location)

    page = client.get("/mine-sager")
    assert page.status_code == 200
    body = page.get_data(as_text=True)
    pages = [body]
    case_links = sorted(set(re.findall(r'href="(/mine-sager/sag/[^"]+)"', body)))
    assert case_links, "the typical citizen has cases"
    for link in case_links:
        visited.append(link)
        response = client.get(link.replace("&amp;", "&"))
        assert response.status_code == 200, link
        pages.append(response.get_data(as_text=True))
    documents = [
        d for p in pages for d in re.findall(r'href="(/mine-sager/[^"]+/dokument/[^"]+)"', p)
    ]
    if documents:
        visited.append(documents[0])
        assert client.get(documents[0].replace("&amp;", "&")).status_code == 200

    for url in visited + outgoing:
        assert_absent(cpr, f"the URL {url}", url)
    for text in pages:
        assert_absent(cpr, "a citizen page", text)
    records = "\n".join(f"{r.name}: {r.getMessage()} {r.exc_text or ''}" for r in caplog.records)
    assert_absent(cpr, "a log line", records)
    assert_absent(cpr, "the session cookie", session_cookie_value(client))


def test_server_error_page_and_log_carry_no_cpr(sandbox, live_portal, caplog, monkeypatch):
    """A bug whose message contains a CPR number: the 500 page and the log stay clean."""
    caplog.set_level(logging.DEBUG)
    cpr = sandbox.municipality.demo.typical

    def broken_lookup(key):
        raise RuntimeError(f"bug while looking up {key.value}")

    monkeypatch.setattr(live_portal, "lookup", broken_lookup)
    app = create_app(live_portal.config, portal=live_portal)
    client = app.test_client()
    login_as_caseworker(client)
    response = client.post("/", data={"kind": "cpr", "value": cpr, "csrf_token": csrf(client)})
    assert response.status_code == 500
    body = response.get_data(as_text=True)
    assert_absent(cpr, "the 500 page", body)
    assert "Traceback" not in body and "RuntimeError" not in body
    records = "\n".join(f"{r.getMessage()} {r.exc_text or ''}" for r in caplog.records)
    assert "RuntimeError" in records, "the failure is logged"
    assert_absent(cpr, "the error log", records)


def test_hung_source_page_returns_within_deadline_and_names_it(fault_sandbox, live_client):
    cpr = fault_sandbox.municipality.demo.typical
    fault_sandbox.faults("esdh").update(hang=True)
    started = time.monotonic()
    response = live_client.post(
        "/", data={"kind": "cpr", "value": cpr, "csrf_token": csrf(live_client)}
    )
    page = live_client.get(response.location).get_data(as_text=True)
    elapsed = time.monotonic() - started
    assert elapsed < 10, "bounded by the 3 s deadline, with room for a noisy machine"
    assert "SBSYS (sandkasse)" in page
    assert "Svarede ikke i tide" in page or "svarede ikke" in page.lower()
    assert "Byggesager (sandkasse)" in page  # the other sources' cases are still shown


def test_stopped_source_is_named_unavailable(sandbox):
    """A source whose server is gone (connection refused) is 'could not answer'."""
    sources = dict(sandbox.source_config())
    sources["sbsys"] = {**sources["sbsys"], "base_url": "http://127.0.0.1:9/",
                        "token_url": "http://127.0.0.1:9/connect/token"}  # fmt: skip
    config = Config.from_mapping({"sandbox": {}, "sources": sources})  # no web: no login
    portal = Portal.from_config(config)
    try:
        from borgersag.domain.keys import parse_key

        overview = portal.lookup(parse_key("cpr", sandbox.municipality.demo.typical))
    finally:
        portal.close()
    sbsys = next(r for r in overview.sources if r.source == "sbsys")
    assert sbsys.status.value == "failed"
    assert "kunne ikke kontaktes" in sbsys.message
    assert any(c.source == "byggesag" for c in overview.cases)


def csrf(client) -> str:
    return csrf_token(client)


def test_api_body_is_json_with_masked_and_full_subject(sandbox, live_client):
    cpr = sandbox.municipality.demo.nothing
    response = live_client.post("/api/v1/overviews", json={"kind": "cpr", "value": cpr})
    body = response.get_json()
    assert response.status_code == 201
    assert cpr not in response.headers.get("Location", "")
    assert json.dumps(body["overview"]["subject"]).count("xxxx") == 1
    statuses = {s["source"]: s["status"] for s in body["overview"]["sources"]}
    assert statuses["sbsys"] == "empty"


def test_key_kind_no_source_serves_says_nothing_was_searched(live_client):
    """A CVR lookup when no system searches by CVR must not read as 'no cases found'."""
    response = live_client.post(
        "/", data={"kind": "cvr", "value": "13585628", "csrf_token": csrf(live_client)}
    )
    page = live_client.get(response.location).get_data(as_text=True)
    assert "kan søge på CVR-nummer, så der er ikke søgt nogen steder" in page
    assert "Ingen sager fundet i de kilder, der svarede" not in page


def test_property_lookup_lists_the_owners_masked_without_searching_them(sandbox, live_client):
    """A BFE lookup shows who owns the property (CPR masked) but not the owners' cases."""
    demo = sandbox.municipality.demo
    owned = [o for o in sandbox.municipality.ownerships if o.cpr == demo.coowner]
    bfe = str(owned[0].bfe)
    response = live_client.post(
        "/", data={"kind": "bfe", "value": bfe, "csrf_token": csrf(live_client)}
    )
    page = live_client.get(response.location).get_data(as_text=True)
    assert '<h3 id="ejere">Ejere</h3>' in page and "Åbn ejerens oversigt" in page
    assert f"{demo.coowner[:6]}-xxxx" in page and f"{demo.coowner_partner[:6]}-xxxx" in page
    assert_absent(demo.coowner, "the property page", page)
    personal = [c for c in sandbox.municipality.cases if c.party_cpr == demo.coowner]
    assert personal and not any(c.title in page for c in personal if "Byg" not in c.title)
