"""The web tests' databases: on PostgreSQL the app logs in as the portal's own role."""

from __future__ import annotations

import pytest

from borgersag.audit import AUDIT, AuditLog

from support.fake_portal import build_app


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.slow)])
def audit_url(request, tmp_path):
    """An empty audit database, once on SQLite (a file) and once on PostgreSQL — there
    initialised by its owner and used as the least-privilege role of docs/audit.md, since
    outside the sandbox the app refuses to start as a superuser or the tables' owner."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'audit.sqlite3'}"
    return request.getfixturevalue("pg_app_url")


@pytest.fixture
def audited(audit_url):
    """(app, fake portal, a reader of its audit log), closed afterwards."""
    app, portal = build_app(audit_url)
    log = AuditLog.from_settings(portal.config.section(AUDIT))  # with the app's keys
    yield app, portal, log
    log.close()
    app.extensions["borgersag.audit"].close()
