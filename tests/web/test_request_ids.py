"""The request id is the server's own: in the audit row, the log lines, the response and
the error page. A client's ``X-Request-ID`` is kept beside it, never instead of it."""

from __future__ import annotations

import logging

import pytest

from borgersag.audit import AuditLog
from borgersag.web import create_app

from support.actions import caseworker_user, csrf_token, sign_in
from support.fake_portal import TYPICAL_CPR, FakePortal, make_config


@pytest.fixture
def audited(tmp_path):
    url = f"sqlite:///{tmp_path / 'audit.sqlite3'}"
    portal = FakePortal(config=make_config(tables={"audit": {"url": url}}))
    app = create_app(portal.config, portal=portal)
    app.config["TESTING"] = True
    log = AuditLog(url)
    yield app, log
    log.close()
    app.extensions["borgersag.audit"].close()


def test_a_clients_request_id_never_becomes_the_audit_rows(audited, caplog):
    app, log = audited
    client = app.test_client()
    sign_in(client, caseworker_user(0))
    with caplog.at_level(logging.INFO, logger="borgersag.web"):
        response = client.post(
            "/",
            data={"kind": "cpr", "value": TYPICAL_CPR, "csrf_token": csrf_token(client)},
            headers={"X-Request-ID": "proxy-0000-1111"},
        )
    assert response.status_code == 303
    [row] = log.recent(10)
    ours = response.headers["X-Request-ID"]
    assert row.event.request_id == ours != "proxy-0000-1111"
    assert response.headers["X-Client-Request-ID"] == "proxy-0000-1111"
    # one log line pairs the two, so a proxy's log can be matched with ours
    assert f"request {ours}: the client's X-Request-ID is proxy-0000-1111" in caplog.text


def test_a_replayed_client_id_still_gives_each_request_its_own(audited):
    app, log = audited
    client = app.test_client()
    sign_in(client, caseworker_user(0))
    same = {"X-Request-ID": "support-1234"}
    for _ in range(2):
        client.post("/api/v1/overviews", json={"kind": "cpr", "value": TYPICAL_CPR}, headers=same)
    first, second = (r.event.request_id for r in log.recent(10))
    assert first != second and "support-1234" not in (first, second)


@pytest.mark.parametrize(
    "incoming",
    ["kort", "mellemrum er ikke tilladt", "x" * 65, "<script>alert(1)</script>", TYPICAL_CPR],
)
def test_a_malformed_or_cpr_shaped_client_id_is_not_echoed(audited, incoming):
    app, _log = audited
    response = app.test_client().get("/findes-ikke", headers={"X-Request-ID": incoming})
    assert response.status_code == 404
    assert "X-Client-Request-ID" not in response.headers
    assert response.headers["X-Request-ID"] in response.get_data(as_text=True)
