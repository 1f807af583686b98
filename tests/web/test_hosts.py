"""The Host header chooses nothing: outside the sandbox the portal answers only to the host
names it was told, and login and logout send people back to the public address."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
import responses

from borgersag.config.loader import Config
from borgersag.sdk.errors import ConfigError
from borgersag.web import create_app

from support.actions import citizen_user, csrf_token, sign_in
from support.audit_db import shared_audit_key_settings
from support.fake_portal import CITIZEN_ISSUER, TYPICAL_CPR, FakePortal, fake_logins
from support.oidc_fake import FakeProvider

PUBLIC = "https://sager.kommune.dk"


def config_with(portal: dict | None = None, *, public_url: str = "", **tables) -> Config:
    if "sandbox" not in tables:  # outside the sandbox the audit log needs its keys named
        tables = {"audit": shared_audit_key_settings(), **tables}
    return Config.from_mapping(
        {
            "portal": {"secret_key": "test-secret", **(portal or {})},
            "auth": {**fake_logins(), "public_url": public_url},
            "sessions": {"backend": "memory"},
            **tables,
        },
        origin="portal.toml",
    )


def app_for(config: Config):
    app = create_app(config, portal=FakePortal(config=config))
    app.config["TESTING"] = True
    return app


@pytest.fixture
def provider():
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        FakeProvider(issuer=CITIZEN_ISSUER).install(mock)
        yield


def test_outside_the_sandbox_the_portal_will_not_start_without_its_host_names():
    with pytest.raises(ConfigError) as refused:
        app_for(config_with())
    assert refused.value.key == "portal.trusted_hosts"
    assert "public_url" in str(refused.value) and "portal.toml" in str(refused.value)


@pytest.mark.parametrize("host", ["https://sager.kommune.dk", "sager.kommune.dk/x", "a b", ""])
def test_a_trusted_host_must_be_a_host_name(host):
    with pytest.raises(ConfigError, match=r"portal\.trusted_hosts"):
        config_with({"trusted_hosts": [host]})


def test_another_host_gets_a_bare_400_page_and_the_api_a_json_400():
    app = app_for(config_with({"trusted_hosts": ["sager.kommune.dk", ".intern.kommune.dk"]}))
    client = app.test_client()
    for host in ("sager.kommune.dk", "sager.kommune.dk:8443", "portal.intern.kommune.dk"):
        assert client.get("/log-ind", headers={"Host": host}).status_code == 200, host
    refused = client.get("/log-ind", headers={"Host": "evil.example"})
    assert refused.status_code == 400
    page = refused.get_data(as_text=True)
    assert "Forespørgslen kunne ikke behandles" in page and "evil.example" not in page
    api = client.post("/api/v1/overviews", json={}, headers={"Host": "evil.example"})
    assert api.status_code == 400 and "error" in api.json


def test_public_url_alone_names_the_host(provider):
    app = app_for(config_with(public_url=PUBLIC))
    client = app.test_client()
    assert client.get("/log-ind", base_url=PUBLIC).status_code == 200
    assert client.get("/log-ind", base_url="https://evil.example").status_code == 400


def test_login_and_logout_return_to_the_public_address_whichever_host_was_used(provider):
    config = config_with({"trusted_hosts": ["localhost"]}, public_url=PUBLIC)
    client = app_for(config).test_client()
    started = client.get("/log-ind/borger")  # Host: localhost
    assert started.status_code == 303
    query = parse_qs(urlsplit(started.headers["Location"]).query)
    assert query["redirect_uri"] == [f"{PUBLIC}/log-ind/svar"]
    sign_in(client, citizen_user(TYPICAL_CPR))
    with client.session_transaction() as session:
        session["_login"] = "borger"
    token = csrf_token(client)
    out = client.post("/log-ud", data={"csrf_token": token})
    assert out.status_code == 303
    back = parse_qs(urlsplit(out.headers["Location"]).query)["post_logout_redirect_uri"]
    assert back == [f"{PUBLIC}/logget-ud"]


def test_a_forwarded_host_through_a_trusted_proxy_is_checked_too():
    app = app_for(config_with({"trusted_hosts": ["sager.kommune.dk"], "trusted_proxies": 1}))
    client = app.test_client()
    good = {"X-Forwarded-Host": "sager.kommune.dk", "X-Forwarded-For": "203.0.113.5"}
    assert client.get("/log-ind", headers=good).status_code == 200
    forged = {"X-Forwarded-Host": "evil.example", "X-Forwarded-For": "203.0.113.5"}
    assert client.get("/log-ind", headers=forged).status_code == 400


def test_the_sandbox_answers_to_any_host():
    app = app_for(config_with(sandbox={}))
    assert app.test_client().get("/log-ind", headers={"Host": "anything.test"}).status_code == 200
