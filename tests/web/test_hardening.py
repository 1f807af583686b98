"""Hardening: rate limits, HSTS, CSRF on every form, and config for the limits."""

from __future__ import annotations

import pytest
import responses

from borgersag.config.loader import Config
from borgersag.sdk.errors import ConfigError
from borgersag.web import create_app

from support.actions import csrf_token, login_as_caseworker
from support.fake_portal import CITIZEN_ISSUER, TYPICAL_CPR, FakePortal, make_config
from support.oidc_fake import FakeProvider


def app_with(**limits):
    config = make_config(tables={"limits": limits})
    portal = FakePortal(config=config)
    app = create_app(config, portal=portal)
    app.config["TESTING"] = True
    return app, portal


def test_lookups_per_user_are_limited_with_a_clear_page():
    app, portal = app_with(lookups_per_minute=3)
    client = app.test_client()
    login_as_caseworker(client)
    token = csrf_token(client)
    codes = [
        client.post(
            "/", data={"kind": "cpr", "value": TYPICAL_CPR, "csrf_token": token}
        ).status_code
        for _ in range(4)
    ]
    assert codes == [303, 303, 303, 429]
    assert len(portal.lookups) == 3  # the fourth never reached the sources
    page = client.post("/", data={"kind": "cpr", "value": TYPICAL_CPR, "csrf_token": token})
    assert page.headers["Retry-After"] == "60"
    assert "mange opslag på kort tid" in page.get_data(as_text=True)
    # Another caseworker is counted separately.
    other = app.test_client()
    login_as_caseworker(other, 1)
    response = other.post(
        "/", data={"kind": "cpr", "value": TYPICAL_CPR, "csrf_token": csrf_token(other)}
    )
    assert response.status_code == 303


def test_api_lookups_share_the_users_limit_and_answer_json():
    app, _ = app_with(lookups_per_minute=2)
    client = app.test_client()
    login_as_caseworker(client)
    body = {"kind": "cpr", "value": TYPICAL_CPR}
    assert client.post("/api/v1/overviews", json=body).status_code == 201
    assert client.post("/api/v1/overviews", json=body).status_code == 201
    refused = client.post("/api/v1/overviews", json=body)
    assert refused.status_code == 429 and refused.is_json
    assert "Vent et minut" in refused.json["error"]["message"]


def test_login_starts_per_address_are_limited():
    app, _ = app_with(login_per_minute=2)
    client = app.test_client()
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        FakeProvider(issuer=CITIZEN_ISSUER).install(mock)
        codes = [client.get("/log-ind/borger").status_code for _ in range(3)]
        assert codes == [303, 303, 429]
        again = client.get("/log-ind/borger")
    assert "prøvet for mange gange" in again.get_data(as_text=True)


def test_zero_turns_a_limit_off():
    app, portal = app_with(lookups_per_minute=0)
    client = app.test_client()
    login_as_caseworker(client)
    token = csrf_token(client)
    for _ in range(5):
        client.post("/", data={"kind": "cpr", "value": TYPICAL_CPR, "csrf_token": token})
    assert len(portal.lookups) == 5


@pytest.mark.parametrize(
    ("limits", "key"),
    [
        ({"storage_url": "memcached://x"}, "limits.storage_url"),
        ({"lookups_per_minute": -1}, "limits.lookups_per_minute"),
        ({"per_hour": 5}, "limits.per_hour"),
    ],
)
def test_bad_limit_settings_name_the_key(limits, key):
    with pytest.raises(ConfigError) as caught:
        Config.from_mapping({"limits": limits})
    assert caught.value.key == key


def test_hsts_only_over_https(app):
    assert "Strict-Transport-Security" not in app.test_client().get("/log-ind").headers
    secure = app.test_client().get("/log-ind", base_url="https://localhost")
    assert secure.headers["Strict-Transport-Security"].startswith("max-age=31536000")


def test_every_html_response_has_the_security_headers(app):
    response = app.test_client().get("/log-ind")
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert "'unsafe-inline'" not in csp
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Cache-Control"] == "no-store"


def test_forged_form_token_is_refused_for_a_signed_in_user(caseworker_client, fake_portal):
    response = caseworker_client.post(
        "/", data={"kind": "cpr", "value": TYPICAL_CPR, "csrf_token": "forged"}
    )
    assert response.status_code == 400
    assert "Formularen er udløbet" in response.get_data(as_text=True)
    assert fake_portal.lookups == []


def test_logout_needs_the_form_token(caseworker_client):
    assert caseworker_client.post("/log-ud").status_code == 400
    assert caseworker_client.get("/").status_code == 200  # still signed in


@pytest.mark.slow
def test_redis_counts_are_shared_by_every_instance():
    """Two app instances (two machines) count one user's lookups together through Redis."""
    import dataclasses
    import uuid

    from support.actions import caseworker_user, sign_in
    from support.services import REDIS_URL, require_redis

    require_redis(REDIS_URL)
    # A user id of this run's own, so counters left in Redis by earlier runs do not count.
    user = dataclasses.replace(caseworker_user(0), id=f"cw-{uuid.uuid4().hex}")
    first, portal_one = app_with(lookups_per_minute=3, storage_url=REDIS_URL)
    second, portal_two = app_with(lookups_per_minute=3, storage_url=REDIS_URL)
    codes = []
    for app in (first, second, first, second):
        client = app.test_client()
        sign_in(client, user)
        response = client.post(
            "/", data={"kind": "cpr", "value": TYPICAL_CPR, "csrf_token": csrf_token(client)}
        )
        codes.append(response.status_code)
    assert codes == [303, 303, 303, 429]
    assert len(portal_one.lookups) + len(portal_two.lookups) == 3


def _login_starts(app, forwarded_for: str, times: int) -> list[int]:
    client = app.test_client()
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        FakeProvider(issuer=CITIZEN_ISSUER).install(mock)
        return [
            client.get("/log-ind/borger", headers={"X-Forwarded-For": forwarded_for}).status_code
            for _ in range(times)
        ]


def _app_behind(proxies: int):
    config = make_config(tables={"limits": {"login_per_minute": 2}}, trusted_proxies=proxies)
    app = create_app(config, portal=FakePortal(config=config))
    app.config["TESTING"] = True
    return app


def test_behind_a_trusted_proxy_each_client_has_its_own_login_budget():
    app = _app_behind(1)
    assert _login_starts(app, "203.0.113.5", 3) == [303, 303, 429]
    assert _login_starts(app, "198.51.100.7", 2) == [303, 303]  # another citizen
    # a client cannot buy a new budget by writing its own entry before the proxy's
    assert _login_starts(app, "192.0.2.1, 203.0.113.5", 1) == [429]


def test_without_a_trusted_proxy_the_forwarded_header_is_ignored():
    app = _app_behind(0)
    assert _login_starts(app, "203.0.113.5", 2) == [303, 303]
    assert _login_starts(app, "198.51.100.7", 1) == [429]  # the same peer, whatever it says


def test_trusted_proxies_must_be_a_small_count():
    with pytest.raises(ConfigError, match=r"portal\.trusted_proxies"):
        Config.from_mapping({"portal": {"trusted_proxies": 9}})
