"""/healthz and /readyz: what a load balancer or orchestrator sees, and what it never sees."""

from __future__ import annotations

import pytest

from borgersag.web import create_app
from borgersag.web.session_stores import SessionStoreUnavailable

from support.fake_portal import FakePortal, make_config


def build(tables: dict | None = None, **portal):
    config = make_config(tables=tables, **portal)
    app = create_app(config, portal=FakePortal(config=config))
    app.config["TESTING"] = True
    return app


class DownStore:
    """A session store whose server does not answer."""

    def load(self, key):
        raise SessionStoreUnavailable("The Redis session store at redis://:pw@10.0.0.9 ...")

    save = delete = load

    def close(self):
        pass


def test_alive_needs_nothing_not_even_the_session_store():
    app = build()
    app.extensions["borgersag.sessions"].store = DownStore()
    response = app.test_client().get("/healthz")
    assert response.status_code == 200
    assert response.json == {"status": "ok"}
    assert "Set-Cookie" not in response.headers


def test_ready_lists_each_check_when_all_answer():
    response = build().test_client().get("/readyz")
    assert response.status_code == 200
    assert response.json["status"] == "ready"
    assert response.json["checks"] == {"sessions": {"ok": True}, "audit": {"ok": True}}
    assert response.headers["Cache-Control"] == "no-store"


def test_not_ready_names_the_session_store_without_its_address():
    app = build()
    app.extensions["borgersag.sessions"].store = DownStore()
    response = app.test_client().get("/readyz")
    assert response.status_code == 503
    assert response.json["failed"] == ["sessions"]
    assert response.json["checks"]["audit"] == {"ok": True}
    assert "redis" not in response.get_data(True) and "pw" not in response.get_data(True)


def test_not_ready_names_redis_counters_that_do_not_answer():
    # Nothing listens on port 1; the password must not reach the body.
    app = build({"limits": {"storage_url": "redis://:hemmelig@127.0.0.1:1/0"}})
    response = app.test_client().get("/readyz")
    assert response.status_code == 503
    assert response.json["failed"] == ["limits"]
    body = response.get_data(True)
    assert "hemmelig" not in body and "127.0.0.1" not in body


def test_not_ready_when_the_audit_log_cannot_be_written(tmp_path):
    app = build({"audit": {"url": f"sqlite:///{tmp_path / 'audit.sqlite3'}"}})
    (tmp_path / "audit.sqlite3").unlink()  # gone under the running app
    (tmp_path / "audit.sqlite3").mkdir()  # and a folder in its place: nothing can write it
    response = app.test_client().get("/readyz")
    assert response.status_code == 503
    assert response.json["failed"] == ["audit"]
    assert str(tmp_path) not in response.get_data(True)


def test_probes_are_not_audited_rate_limited_or_guarded_by_login():
    app = build({"limits": {"login_per_minute": 1, "lookups_per_minute": 1}})
    audit = app.extensions["borgersag.audit"]
    before = len(audit.recent(1000))
    client = app.test_client()
    codes = {client.get(path).status_code for path in ("/healthz", "/readyz") * 5}
    assert codes == {200}
    assert len(audit.recent(1000)) == before


def test_the_audit_check_writes_no_row_and_sees_a_read_only_postgresql(pg_url):
    from borgersag.audit import AuditLog, AuditUnavailable

    with AuditLog(pg_url) as log:
        log.create_schema()
        log.check_writable()
        assert log.recent(10) == []
    read_only_url = pg_url + "%20-cdefault_transaction_read_only%3Don"
    with AuditLog(read_only_url) as read_only, pytest.raises(AuditUnavailable, match="read-only"):
        read_only.check_writable()


@pytest.mark.slow
def test_ready_with_redis_sessions_and_counters_and_a_postgresql_audit_log(pg_app_url):
    from support.services import require_redis

    url = "redis://127.0.0.1:6379/12"  # a database of this test's own
    require_redis(url)
    app = build(
        {
            "sessions": {"backend": "redis", "redis_url": url},
            "limits": {"storage_url": url},
            "audit": {"url": pg_app_url},
        }
    )
    response = app.test_client().get("/readyz")
    assert response.status_code == 200, response.json
    assert set(response.json["checks"]) == {"sessions", "audit", "limits"}
    app.extensions["borgersag.audit"].close()
