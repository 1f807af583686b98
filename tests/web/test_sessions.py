"""Server-side sessions (borgersag/web/sessions.py and session_stores.py), as a browser
and an operator see them.

Most tests run against all three stores. The Redis ones use the local Redis at
``REDIS_URL`` under a key prefix of their own; they are skipped when it cannot be
reached, unless ``BORGERSAG_REQUIRE_SERVICES=1`` (then they fail).
"""

from __future__ import annotations

import base64
import json
import os
import stat
import tempfile
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
from flask import Flask, g, jsonify, render_template_string, request, session

from borgersag.sdk.errors import ConfigError
from borgersag.web import csrf
from borgersag.web.sections import SessionSettings, validate_session_settings
from borgersag.web.session_stores import (
    MemorySessionStore,
    RedisSessionStore,
    SessionStoreUnavailable,
    SQLiteSessionStore,
    build_store,
    store_key,
)
from borgersag.web.sessions import (
    EXPIRED_GRACE_SECONDS,
    end_session,
    init_sessions,
    rotate_session,
)

from support.services import REDIS_URL, require_redis

COOKIE = "borgersag_session"
CPR = "0101011234"
NAME = "Mette Kjær"


class FakeClock:
    """Wall-clock seconds that only move when a test says so."""

    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, *, seconds: float = 0, minutes: float = 0, hours: float = 0) -> None:
        self.now += seconds + 60 * minutes + 3600 * hours


class SpyStore:
    """A store that notes the keys written, so a test can see what reached the store."""

    def __init__(self, inner) -> None:
        self.inner = inner
        self.saved: list[str] = []

    def load(self, key):
        return self.inner.load(key)

    def save(self, key, data, ttl_seconds):
        self.saved.append(key)
        self.inner.save(key, data, ttl_seconds)

    def delete(self, key):
        self.inner.delete(key)

    def close(self):
        self.inner.close()


@pytest.fixture
def redis_prefix():
    """A key prefix of this test's own in the local Redis; its keys are removed after."""
    import redis

    require_redis(REDIS_URL)
    prefix = f"borgersag-test:{uuid.uuid4().hex}:"
    yield prefix
    client = redis.Redis.from_url(REDIS_URL)
    try:
        keys = list(client.scan_iter(match=prefix + "*"))
        if keys:
            client.delete(*keys)
    finally:
        client.close()


def make_store(kind: str, tmp_path, request):
    if kind == "memory":
        return MemorySessionStore()
    if kind == "sqlite":
        return SQLiteSessionStore(tmp_path / "sessions.sqlite3")
    return RedisSessionStore(REDIS_URL, prefix=request.getfixturevalue("redis_prefix"))


@pytest.fixture(params=["memory", "sqlite", "redis"])
def store(request, tmp_path):
    """Each of the three stores in turn."""
    made = make_store(request.param, tmp_path, request)
    yield made
    made.close()


@pytest.fixture
def clock():
    return FakeClock()


@pytest.fixture
def spy(store):
    return SpyStore(store)


def make_app(store, clock, **settings) -> Flask:
    """A tiny app with server-side sessions, the form-token check and a few routes."""
    app = Flask(__name__)
    app.config.update(TESTING=True, SECRET_KEY="test-secret")
    validated = validate_session_settings(settings, "config/portal.toml")
    init_sessions(app, validated, store=store, clock=clock)
    csrf.init_app(app)

    @app.get("/anonymous")
    def anonymous():
        return "hello"

    @app.get("/put")
    def put():
        for key, value in request.args.items():
            session[key] = value
        return "ok"

    @app.get("/read")
    def read():
        return jsonify(data=dict(session), expired=g.get("session_expired"))

    @app.get("/token")
    def token():
        return csrf.csrf_token()

    @app.get("/rotate")
    def rotate():
        rotate_session()
        return "ok"

    @app.get("/end")
    def end():
        end_session()
        return "ok"

    @app.get("/forget")
    def forget():
        session.clear()
        return "ok"

    @app.get("/timing")
    def timing():
        return render_template_string("{{ session_timing()|tojson }}")

    return app


@pytest.fixture
def app(spy, clock):
    return make_app(spy, clock)


@pytest.fixture
def client(app):
    return app.test_client()


def cookie_of(client) -> str | None:
    cookie = client.get_cookie(COOKIE)
    return cookie.value if cookie else None


def set_cookies(response) -> list[str]:
    return response.headers.getlist("Set-Cookie")


def visit_with_cookie(app, value: str):
    """A new browser that presents ``value`` as its session cookie."""
    other = app.test_client()
    other.set_cookie(COOKIE, value)
    return other.get("/read").get_json()


# --- what the cookie holds ------------------------------------------------------------------


def test_anonymous_visits_get_no_cookie_and_store_nothing(client, spy):
    for path in ("/anonymous", "/read", "/session/status", "/timing"):
        response = client.get(path)
        assert response.status_code == 200
        assert set_cookies(response) == [], path
    assert spy.saved == []


def test_the_cookie_is_only_a_random_id_and_the_store_key_is_its_hash(app, client, spy):
    headers = set_cookies(client.get("/put", query_string={"cpr": CPR, "name": NAME}))
    headers += set_cookies(client.get("/read"))
    assert len(headers) == 1
    assert CPR not in headers[0] and "Mette" not in headers[0]
    sid = cookie_of(client)
    assert len(base64.urlsafe_b64decode(sid + "=")) == 32  # 256 bits
    assert client.get("/read").get_json()["data"] == {"cpr": CPR, "name": NAME}
    # Whoever reads the store cannot present its keys as cookies.
    assert set(spy.saved) == {store_key(sid)}
    assert visit_with_cookie(app, spy.saved[0][:43])["data"] == {}
    # Another browser gets another id.
    other = app.test_client()
    other.get("/put", query_string={"cpr": CPR})
    assert cookie_of(other) != sid


@pytest.mark.parametrize(
    ("base_url", "cookie_secure", "secure"),
    [
        ("http://localhost", "auto", False),
        ("https://localhost", "auto", True),
        ("http://localhost", "always", True),
        ("https://localhost", "never", False),
    ],
)
def test_cookie_is_httponly_lax_and_secure_on_https(clock, base_url, cookie_secure, secure):
    client = make_app(MemorySessionStore(), clock, cookie_secure=cookie_secure).test_client()
    for path in ("/put?user=x", "/end"):  # set, then delete: both with the same flags
        (header,) = set_cookies(client.get(path, base_url=base_url))
        attributes = [a.strip() for a in header.split(";")]
        assert "HttpOnly" in attributes
        assert "SameSite=Lax" in attributes
        assert ("Secure" in attributes) is secure


def test_a_forged_or_unknown_id_is_never_adopted(app, client):
    forged = "A" * 43  # e.g. planted by someone who wants to share the victim's session
    client.set_cookie(COOKIE, forged)
    client.get("/put?user=victim")
    assert cookie_of(client) not in (None, forged)
    assert visit_with_cookie(app, forged)["data"] == {}


@pytest.mark.parametrize(
    "value",
    [
        "",
        "abc",
        "A" * 42,
        "A" * 44,
        "A" * 42 + "=",
        "ø" * 43,
        "../../../etc/passwd",
        '"' + "A" * 41 + '"',
        "%C3%B8" * 10,
        "A" * 4000,
    ],
)
def test_malformed_cookies_are_no_session_not_an_error(app, value):
    browser = app.test_client(use_cookies=False)  # sends the Cookie header as given
    response = browser.get("/read", headers={"Cookie": f"{COOKIE}={value}"})
    assert response.status_code == 200
    assert response.get_json()["data"] == {}


# --- rotation, sign-out -----------------------------------------------------------------------


def test_rotation_gives_a_new_id_and_the_old_one_stops_working(app, client):
    client.get("/put?user=mette")
    old = cookie_of(client)
    response = client.get("/rotate")
    new = cookie_of(client)
    assert new != old and new in set_cookies(response)[0]
    assert client.get("/read").get_json()["data"] == {"user": "mette"}
    assert visit_with_cookie(app, old)["data"] == {}


def test_end_session_deletes_the_record_and_the_cookie(app, client, store):
    client.get("/put?user=mette")
    sid = cookie_of(client)
    (header,) = set_cookies(client.get("/end"))
    assert header.startswith(f"{COOKIE}=;") and "Expires=Thu, 01 Jan 1970" in header
    assert cookie_of(client) is None
    assert store.load(store_key(sid)) is None
    assert visit_with_cookie(app, sid)["data"] == {}


def test_a_session_emptied_by_the_app_is_deleted_with_its_cookie(client, store):
    client.get("/put?user=mette")
    sid = cookie_of(client)
    client.get("/forget")
    assert cookie_of(client) is None
    assert store.load(store_key(sid)) is None


@pytest.mark.parametrize("late_change", [False, True])
def test_a_slow_request_cannot_bring_back_a_signed_out_session(app, client, clock, late_change):
    client.get("/put?user=mette")
    sid = cookie_of(client)
    interface = app.session_interface
    with app.test_request_context("/read", headers={"Cookie": f"{COOKIE}={sid}"}):
        slow = interface.open_session(app, request)
    assert slow["user"] == "mette"
    client.get("/end")  # signed out while the slow request is still running
    clock.advance(minutes=1)
    if late_change:
        slow["note"] = "written late"
    with app.test_request_context("/read"):
        interface.save_session(app, slow, app.response_class())
    assert visit_with_cookie(app, sid)["data"] == {}


def test_a_request_that_only_reads_does_not_undo_another_requests_change(app, client, clock):
    client.get("/put?user=mette")
    sid = cookie_of(client)
    interface = app.session_interface
    with app.test_request_context("/read", headers={"Cookie": f"{COOKIE}={sid}"}):
        slow = interface.open_session(app, request)
    assert slow["user"] == "mette"
    client.get("/put?user=jonas")  # a change made while the slow request runs
    clock.advance(minutes=1)
    with app.test_request_context("/read"):
        interface.save_session(app, slow, app.response_class())
    assert client.get("/read").get_json()["data"] == {"user": "jonas"}
    clock.advance(minutes=14, seconds=30)  # the slow request still counted as activity
    assert client.get("/read").get_json()["data"] == {"user": "jonas"}


# --- idle and absolute lifetime ---------------------------------------------------------------


def test_activity_keeps_the_session_and_idleness_ends_it(app, client, clock, store):
    client.get("/put?user=mette")
    sid = cookie_of(client)
    for _ in range(3):  # 45 minutes in all, never 15 without a request
        clock.advance(minutes=14, seconds=59)
        assert client.get("/read").get_json()["data"] == {"user": "mette"}
    clock.advance(minutes=15, seconds=1)
    response = client.get("/read")
    assert response.get_json() == {"data": {}, "expired": "idle"}
    assert store.load(store_key(sid)) is None
    assert cookie_of(client) is None  # the dead cookie is removed too
    assert visit_with_cookie(app, sid) == {"data": {}, "expired": None}


def test_the_absolute_lifetime_ends_even_an_active_session(spy, clock):
    client = make_app(spy, clock, absolute_hours=1).test_client()
    client.get("/put?user=mette")
    for _ in range(6):  # active every 10 minutes for exactly one hour
        clock.advance(minutes=10)
        assert client.get("/read").get_json()["data"] == {"user": "mette"}
    clock.advance(seconds=1)
    assert client.get("/read").get_json() == {"data": {}, "expired": "absolute"}


def test_status_tells_the_time_left_without_extending_it(client, clock):
    client.get("/put?user=mette")
    clock.advance(minutes=10)
    response = client.get("/session/status")
    assert response.get_json() == {
        "active": True,
        "idle_remaining_seconds": 300,
        "absolute_remaining_seconds": 8 * 3600 - 600,
        "warning_seconds": 120,
    }
    assert response.headers["Cache-Control"] == "no-store"
    assert set_cookies(response) == []
    clock.advance(minutes=4)
    assert client.get("/session/status").get_json()["idle_remaining_seconds"] == 60
    clock.advance(minutes=1, seconds=1)
    assert client.get("/read").get_json()["expired"] == "idle"
    assert client.get("/session/status").get_json()["active"] is False


def test_forny_extends_the_session(client, clock):
    token = client.get("/token").text
    clock.advance(minutes=10)
    response = client.post(
        "/session/forny", headers={"X-CSRF-Token": token}, data={"csrf_token": token}
    )
    assert response.status_code == 200
    assert response.get_json()["idle_remaining_seconds"] == 900
    assert response.headers["Cache-Control"] == "no-store"
    clock.advance(minutes=14)
    assert client.get("/session/status").get_json()["idle_remaining_seconds"] == 60
    assert set(client.get("/read").get_json()["data"]) == {"csrf_token"}  # Flask-WTF's raw token


@pytest.mark.parametrize(
    ("form_token", "header"),
    [(True, None), (True, "wrong"), (True, "ø" * 10), (False, None), (False, "wrong")],
)
def test_forny_without_the_token_header_is_refused(client, clock, form_token, header):
    token = client.get("/token").text
    clock.advance(minutes=10)
    response = client.post(
        "/session/forny",
        headers={"X-CSRF-Token": header} if header is not None else {},
        data={"csrf_token": token} if form_token else {},
    )
    assert response.status_code == 400
    assert client.get("/session/status").get_json()["idle_remaining_seconds"] == 300


def test_session_timing_for_templates(clock):
    client = make_app(MemorySessionStore(), clock, absolute_hours=1).test_client()
    assert json.loads(client.get("/timing").text) == {
        "idle_seconds": 900,
        "warning_seconds": 120,
        "active": False,
    }
    client.get("/put?user=mette")
    assert json.loads(client.get("/timing").text)["active"] is True
    for _ in range(5):  # active every 10 minutes
        clock.advance(minutes=10)
        client.get("/read")
    # Ten minutes of the absolute lifetime are left: less than the idle time.
    assert json.loads(client.get("/timing").text)["idle_seconds"] == 600


def test_test_clients_can_read_the_session(client):
    client.get("/token")
    with client.session_transaction() as sess:
        raw = sess["csrf_token"]
        sess["user"] = "mette"
    assert client.get("/read").get_json()["data"] == {"csrf_token": raw, "user": "mette"}


# --- several workers, and the stores themselves -----------------------------------------------


@pytest.mark.parametrize("kind", ["sqlite", "redis"])
def test_two_app_instances_sharing_a_store_see_the_same_session(tmp_path, clock, request, kind):
    first_store = make_store(kind, tmp_path, request)
    second_store = make_store(kind, tmp_path, request)
    try:
        first = make_app(first_store, clock).test_client()
        second_app = make_app(second_store, clock)
        first.get("/put?user=mette")
        second = second_app.test_client()
        second.set_cookie(COOKIE, cookie_of(first))
        assert second.get("/read").get_json()["data"] == {"user": "mette"}
        old = cookie_of(second)
        second.get("/rotate")
        first.set_cookie(COOKIE, cookie_of(second))
        assert first.get("/read").get_json()["data"] == {"user": "mette"}
        first.set_cookie(COOKIE, old)
        assert first.get("/read").get_json()["data"] == {}
    finally:
        first_store.close()
        second_store.close()


@pytest.mark.parametrize("kind", ["memory", "sqlite"])
def test_stores_forget_records_after_their_ttl(tmp_path, kind):
    clock = FakeClock()
    made = (
        MemorySessionStore(clock=clock)
        if kind == "memory"
        else SQLiteSessionStore(tmp_path / "s.sqlite3", clock=clock)
    )
    made.save("k", {"data": {"user": "mette"}}, ttl_seconds=60)
    clock.advance(seconds=59)
    assert made.load("k") == {"data": {"user": "mette"}}
    clock.advance(seconds=2)
    assert made.load("k") is None


def test_redis_records_expire_on_their_own(redis_prefix, clock):
    import redis

    made = RedisSessionStore(REDIS_URL, prefix=redis_prefix)
    raw = redis.Redis.from_url(REDIS_URL)
    try:
        client = make_app(made, clock).test_client()
        client.get("/put?user=mette")
        ttl = raw.ttl(redis_prefix + store_key(cookie_of(client)))
        assert 900 < ttl <= 900 + EXPIRED_GRACE_SECONDS
    finally:
        raw.close()
        made.close()


@pytest.mark.parametrize("kind", ["memory", "sqlite"])
def test_stores_are_safe_for_many_threads(tmp_path, kind):
    made = MemorySessionStore() if kind == "memory" else SQLiteSessionStore(tmp_path / "s.db")

    def work(worker: int) -> bool:
        for i in range(25):
            key = f"{worker}-{i}"
            made.save(key, {"n": i}, ttl_seconds=60)
            if made.load(key) != {"n": i}:
                return False
            made.delete(key)
        return made.load(f"{worker}-0") is None

    with ThreadPoolExecutor(max_workers=8) as pool:
        assert all(pool.map(work, range(8)))


def test_an_unreachable_redis_is_a_clear_error_without_the_password(clock):
    made = RedisSessionStore("redis://:hunter2@127.0.0.1:1/0")
    try:
        client = make_app(made, clock).test_client()
        assert client.get("/anonymous").status_code == 200  # no session, no store needed
        with pytest.raises(SessionStoreUnavailable) as excinfo:
            client.get("/put?user=mette")
    finally:
        made.close()
    message = str(excinfo.value)
    assert "Redis" in message and "127.0.0.1:1" in message
    assert "hunter2" not in message


def test_an_unusable_sqlite_path_is_a_clear_error(tmp_path):
    (tmp_path / "a-file").write_text("not a folder")
    path = tmp_path / "a-file" / "sessions.sqlite3"
    with pytest.raises(SessionStoreUnavailable, match="SQLite") as excinfo:
        SQLiteSessionStore(path)
    assert str(path) in str(excinfo.value)


def test_the_default_sqlite_file_is_private(tmp_path, monkeypatch):
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    monkeypatch.delenv("BORGERSAG_STATE_DIR")
    made = build_store(validate_session_settings({}, "config/portal.toml"))
    assert made.path.name == "borgersag-sessions.sqlite3"
    assert stat.S_IMODE(made.path.parent.stat().st_mode) == 0o700
    assert stat.S_IMODE(made.path.stat().st_mode) == 0o600


def test_a_default_folder_open_to_others_is_refused(tmp_path, monkeypatch):
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    monkeypatch.delenv("BORGERSAG_STATE_DIR")
    planted = tmp_path / f"borgersag-{os.getuid()}"
    planted.mkdir()
    planted.chmod(0o777)
    with pytest.raises(SessionStoreUnavailable, match="not a private folder"):
        build_store(validate_session_settings({}, "config/portal.toml"))


@pytest.mark.parametrize(
    ("env", "outcome"), [("1", pytest.fail.Exception), ("", pytest.skip.Exception)]
)
def test_redis_tests_fail_rather_than_skip_when_services_are_required(monkeypatch, env, outcome):
    monkeypatch.setenv("BORGERSAG_REQUIRE_SERVICES", env)
    with pytest.raises(outcome, match="unreachable"):
        require_redis("redis://127.0.0.1:1/0")


# --- configuration ----------------------------------------------------------------------------


def test_defaults():
    settings = validate_session_settings({}, "config/portal.toml")
    assert settings == SessionSettings(
        backend="sqlite",
        path="",
        redis_url="redis://127.0.0.1:6379/0",
        idle_minutes=15.0,
        warning_minutes=2.0,
        absolute_hours=8.0,
        cookie_name="borgersag_session",
        cookie_secure="auto",
    )


@pytest.mark.parametrize(
    ("raw", "key", "expected"),
    [
        ({"backend": "postgres"}, "sessions.backend", "one of sqlite, redis, memory"),
        ({"idle_minutes": 0}, "sessions.idle_minutes", "greater than 0"),
        ({"idle_minutes": "15"}, "sessions.idle_minutes", "expected a number"),
        ({"idle_minutes": -5}, "sessions.idle_minutes", "0 or more"),
        ({"idle_minutes": 5, "warning_minutes": 5}, "sessions.warning_minutes", "less than"),
        ({"warning_minutes": 20}, "sessions.warning_minutes", "idle_minutes (15)"),
        ({"absolute_hours": 0}, "sessions.absolute_hours", "greater than 0"),
        ({"cookie_secure": "yes"}, "sessions.cookie_secure", "one of auto, always, never"),
        ({"cookie_name": "my session"}, "sessions.cookie_name", "cookie name"),
        ({"backend": "redis", "redis_url": "http://x"}, "sessions.redis_url", "redis://"),
        ({"lifetime_hours": 8}, "sessions.lifetime_hours", "unknown setting"),
    ],
)
def test_config_errors_name_the_key(raw, key, expected):
    with pytest.raises(ConfigError) as excinfo:
        validate_session_settings(raw, "config/portal.toml")
    assert excinfo.value.key == key
    assert expected in excinfo.value.expected
    assert str(excinfo.value).startswith(f"config/portal.toml: {key}: ")
