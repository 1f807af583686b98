"""Overviews kept in Redis: a link made on one instance opens on another, and what Redis
holds is encrypted, bound to its token and gone after the overview's TTL."""

from __future__ import annotations

import base64
import json
import re

import pytest

from borgersag.web import create_app
from borgersag.web.overviews import SealedOverviewStore

from support.actions import caseworker_user, csrf_token, sign_in
from support.fake_portal import TYPICAL_CPR, FakePortal, make_config
from support.services import REDIS_URL, require_redis

pytestmark = pytest.mark.slow  # a real Redis

COOKIE = "borgersag_session"
TTL = 60


@pytest.fixture
def instances():
    """Two app instances sharing one Redis for sessions and overviews, as two workers or
    machines behind a load balancer do."""
    import redis

    require_redis(REDIS_URL)
    config = make_config(
        overview_ttl_seconds=TTL,
        tables={"sessions": {"backend": "redis", "redis_url": REDIS_URL}},
    )
    apps = []
    for _ in range(2):
        app = create_app(config, portal=FakePortal(config=config))
        app.config["TESTING"] = True
        apps.append(app)
    client = redis.Redis.from_url(REDIS_URL)
    yield apps, client
    client.close()


def _lookup_on(app):
    client = app.test_client()
    sign_in(client, caseworker_user())
    made = client.post(
        "/", data={"kind": "cpr", "value": TYPICAL_CPR, "csrf_token": csrf_token(client)}
    )
    assert made.status_code == 303
    return client, made.location


def _other_instance(app, first):
    second = app.test_client()
    second.set_cookie(COOKIE, first.get_cookie(COOKIE).value)
    return second


def _redis_key(location: str) -> str:
    token = re.search(r"/oversigt/([^/]+)", location)[1]
    return "borgersag:session:" + SealedOverviewStore.record_key(token)


def test_an_overview_made_on_one_instance_opens_on_the_other(instances):
    (first_app, second_app), _ = instances
    first, location = _lookup_on(first_app)
    second = _other_instance(second_app, first)
    page = second.get(location)
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "Sagsoverblik for CPR-nummer 010385-xxxx" in text
    assert "Ansøgning om personlig tillæg" in text  # a case of the stored overview
    case = re.search(r'href="(/oversigt/[^"]+/sag/sbsys/1001)"', text)[1]
    assert second.get(case).status_code == 200  # the case page under the token too


def test_redis_holds_the_overview_encrypted_with_its_ttl(instances):
    (first_app, _), redis_client = instances
    _, location = _lookup_on(first_app)
    key = _redis_key(location)
    raw = redis_client.get(key)
    assert raw is not None
    for plain in (TYPICAL_CPR.encode(), "Ansøgning".encode(), b"Karen"):
        assert plain not in raw
    assert 0 < redis_client.pttl(key) <= TTL * 1000


def test_a_tampered_or_moved_value_is_an_expired_overview_not_an_error(instances):
    (first_app, second_app), redis_client = instances
    first, location = _lookup_on(first_app)
    _, other_location = _lookup_on(first_app)
    key, other = _redis_key(location), _redis_key(other_location)
    sealed = bytearray(base64.b64decode(json.loads(redis_client.get(key))["sealed"]))
    sealed[-1] ^= 1
    tampered = json.dumps({"sealed": base64.b64encode(bytes(sealed)).decode()})
    redis_client.set(key, tampered, px=TTL * 1000)
    second = _other_instance(second_app, first)
    for address, value in ((location, None), (location, redis_client.get(other))):
        if value is not None:  # another token's value under this token's key
            redis_client.set(key, value, px=TTL * 1000)
        page = second.get(address)
        assert page.status_code in (404, 410)
        assert "udløbet" in page.get_data(as_text=True)


def test_another_user_cannot_open_the_overview_on_any_instance(instances):
    (first_app, second_app), _ = instances
    _, location = _lookup_on(first_app)
    stranger = second_app.test_client()
    sign_in(stranger, caseworker_user(1))
    page = stranger.get(location)
    assert page.status_code in (404, 410)
