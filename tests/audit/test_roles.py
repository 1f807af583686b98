"""The portal writes the audit log only with a role that cannot switch its guards off.

On PostgreSQL (these tests need it): the roles of docs/audit.md "PostgreSQL roles",
made by running that section's SQL (tests/support/pg_roles.py), carry the portal end to
end — lookup, case page, ``audit verify``, ``audit prune`` as the retention role — while
the portal refuses to start as a superuser, the tables' owner, a member of the owner's
role or a role granted more than it needs, with one line naming the role.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import uuid

import psycopg
import pytest
from psycopg.sql import SQL, Identifier

from borgersag.audit import AuditEvent, AuditLog
from borgersag.audit.search import AuditQuery, search
from borgersag.cli.main import main
from borgersag.sdk.errors import ConfigError
from borgersag.web import create_app

from support.actions import caseworker_user, citizen_user, csrf_token, seen_by_rows, sign_in
from support.audit_db import audit_key_settings, keyed_log
from support.fake_portal import TYPICAL_CPR, FakePortal, make_config
from support.services import POSTGRES_URL

pytestmark = pytest.mark.slow

OLD_PERSON = "cpr:0202025678"


def build(audit_url: str, audit: dict | None = None, **tables):
    audit_table = {"url": audit_url, **(audit or {})}
    portal = FakePortal(config=make_config(tables={"audit": audit_table, **tables}))
    app = create_app(portal.config, portal=portal)
    app.config["TESTING"] = True
    return app, portal


def refusal(audit_url: str) -> str:
    with pytest.raises(ConfigError) as refused:
        build(audit_url)
    message = str(refused.value)
    assert "\n" not in message and message.startswith("tests/support/fake_portal.py: audit.url:")
    assert "docs/audit.md, 'PostgreSQL roles'" in message
    return message


@pytest.fixture
def extra_role(pg_audit_roles):
    """Make a LOGIN role of this test's own with ``CREATE ROLE <name> …``; dropped after."""
    made = []

    def make(options: str = "") -> str:
        name = f"roles_helper_{uuid.uuid4().hex[:10]}"
        with psycopg.connect(POSTGRES_URL, autocommit=True) as conn:
            conn.execute(f'CREATE ROLE "{name}" LOGIN {options}')
            conn.execute(f'GRANT USAGE ON SCHEMA "{pg_audit_roles.schema}" TO "{name}"')
        made.append(name)
        return name

    yield make
    with psycopg.connect(POSTGRES_URL, autocommit=True) as conn:
        for name in made:
            conn.execute(f'DROP OWNED BY "{name}"')
            conn.execute(f'DROP ROLE "{name}"')


def admin(sql: str) -> None:
    with psycopg.connect(POSTGRES_URL, autocommit=True) as conn:
        conn.execute(sql)


# --- refused -------------------------------------------------------------------------------


def test_a_superuser_is_refused_at_start_up(pg_audit_roles):
    message = refusal(pg_audit_roles.url())  # postgres, the superuser of the test cluster
    assert 'role "postgres", which is a superuser:' in message


def test_the_owner_and_a_member_of_the_owner_are_refused(pg_audit_roles, extra_role):
    roles = pg_audit_roles
    admin(f'ALTER ROLE "{roles.owner}" LOGIN')  # the docs' owner never logs in; if it did:
    try:
        message = refusal(roles.url(roles.owner))
    finally:
        admin(f'ALTER ROLE "{roles.owner}" NOLOGIN')
    assert f'role "{roles.owner}", which owns schema {roles.schema}, table' in message
    assert "table audit_event" in message and "table audit_checkpoint" in message
    assert "trigger function audit_event_guard()" in message

    member = extra_role(f'IN ROLE "{roles.owner}"')
    message = refusal(roles.url(member))
    assert f'role "{member}", which is a member of "{roles.owner}", which owns schema' in message


def test_switching_to_the_app_role_from_a_superuser_login_is_refused(pg_audit_roles):
    message = refusal(pg_audit_roles.url(set_role=pg_audit_roles.app))
    assert f'role "{pg_audit_roles.app}", which logs in as "postgres", which is a superuser' in (
        message
    )


@pytest.mark.parametrize(
    ("grant", "named"),
    [
        ("UPDATE, DELETE ON {schema}.audit_event", "may UPDATE, DELETE audit_event"),
        ("TRUNCATE, TRIGGER ON {schema}.audit_event", "may TRUNCATE, TRIGGER audit_event"),
        ("INSERT ON {schema}.audit_checkpoint", "may INSERT audit_checkpoint"),
        ("UPDATE, DELETE ON {schema}.audit_person", "may UPDATE, DELETE audit_person"),
        # the retention policy: with UPDATE the portal could let the whole log go
        ("UPDATE ON {schema}.audit_policy", "may UPDATE audit_policy"),
    ],
)
def test_a_role_granted_more_than_the_portal_needs_is_refused(pg_audit_roles, grant, named):
    admin(f"GRANT {grant.format(schema=pg_audit_roles.schema)} TO {pg_audit_roles.app}")
    assert named in refusal(pg_audit_roles.app_url)


def test_bypassrls_and_setting_session_replication_role_are_refused(pg_audit_roles, extra_role):
    bypass = extra_role("BYPASSRLS")
    assert f'role "{bypass}", which has BYPASSRLS' in refusal(pg_audit_roles.url(bypass))
    replica = extra_role()
    admin(f'GRANT SET ON PARAMETER session_replication_role TO "{replica}"')
    try:
        assert "may set session_replication_role" in refusal(pg_audit_roles.url(replica))
    finally:
        admin(f'REVOKE SET ON PARAMETER session_replication_role FROM "{replica}"')


def test_in_the_sandbox_a_superuser_is_a_warning(pg_audit_roles, caplog):
    with caplog.at_level(logging.WARNING, logger="borgersag.web.auditing"):
        app, _portal = build(pg_audit_roles.url(), sandbox={})
    app.extensions["borgersag.audit"].close()
    assert 'role "postgres", which is a superuser' in caplog.text
    assert "allowed in the sandbox only" in caplog.text


def test_serve_stops_with_one_line_before_starting_workers(pg_audit_roles, tmp_path, capsys):
    (tmp_path / "portal.toml").write_text(
        "[portal]\nsecret_key = 'x'\ntrusted_hosts = ['localhost']\n"
        "[auth.caseworker]\nissuer = 'https://login.kommune.test'\n"
        "client_id = 'c'\nclient_secret = 's'\n"
        f"[audit]\nurl = '{pg_audit_roles.url()}'\n"
        + "".join(f"{k} = '{v}'\n" for k, v in audit_key_settings(tmp_path / "keys").items())
    )
    assert main(["serve", "--config", str(tmp_path), "--bind", "127.0.0.1:1"]) == 2
    error = capsys.readouterr().err.strip()
    assert "\n" not in error
    assert error.startswith(
        f"borgersag: configuration error: {tmp_path / 'portal.toml'}: audit.url:"
    )
    assert 'role "postgres", which is a superuser' in error


# --- the documented roles, end to end -----------------------------------------------------


def write_config(folder, url: str, retention_days: int = 0, keys: dict | None = None):
    folder.mkdir(exist_ok=True)
    (folder / "audit.toml").write_text(
        f"[audit]\nurl = '{url}'\nretention_days = {retention_days}\n"
        + "".join(f"{key} = '{value}'\n" for key, value in (keys or {}).items())
    )
    return str(folder)


def test_the_documented_roles_run_the_portal_verify_and_prune(pg_audit_roles, tmp_path, capsys):
    roles = pg_audit_roles
    keys = audit_key_settings(tmp_path / "keys")
    # Two rows from 40 days ago, recorded by the portal's role: due for retention, with
    # a person each (audit_person), which the retention role removes with them.
    with keyed_log(roles.app_url, tmp_path / "keys") as log:
        for _ in range(2):
            log.record(
                dataclasses.replace(
                    AuditEvent.for_user("login", caseworker_user(1), persons=(OLD_PERSON,)),
                    at=dt.datetime.now(dt.UTC) - dt.timedelta(days=40),
                )
            )

    app, _portal = build(roles.app_url, keys)  # accepted: no refusal
    try:
        client = app.test_client()
        sign_in(client, caseworker_user(0))
        lookup = client.post(
            "/",
            data={"kind": "cpr", "value": TYPICAL_CPR, "purpose": "Sagsbehandling",
                  "csrf_token": csrf_token(client)},
        )  # fmt: skip
        assert lookup.status_code == 303
        assert client.get(lookup.location + "/sag/sbsys/1001").status_code == 200
        assert client.get(lookup.location + "/sag/sbsys/424242").status_code == 404
        assert client.get("/readyz").status_code == 200
        # the lookup and the case page are on the citizen's list, read as the portal's role
        citizen = app.test_client()
        sign_in(citizen, citizen_user(TYPICAL_CPR))
        seen = [what for _when, _who, what, _purpose in seen_by_rows(citizen)]
        assert seen == ["Så en af dine sager", "Slog dig op"]
    finally:
        app.extensions["borgersag.audit"].close()

    with AuditLog(roles.app_url) as log:
        kinds = [r.event.kind.value for r in reversed(log.recent(10))]
    assert kinds == ["login", "login", "lookup", "case_view", "refused"]

    with keyed_log(roles.app_url, tmp_path / "keys") as log:
        assert search(log, AuditQuery(subject=OLD_PERSON)).total == 2
    portal_config = write_config(tmp_path / "portal", roles.app_url, 30, keys)
    retention_config = write_config(tmp_path / "retention", roles.retention_url, 30, keys)
    capsys.readouterr()
    assert main(["audit", "verify", "--config", portal_config]) == 0
    assert capsys.readouterr().out.startswith("OK: 5 rows")
    # the portal's role may not prune; the retention role may
    assert main(["audit", "prune", "--config", portal_config]) == 3
    assert "InsufficientPrivilege" in capsys.readouterr().err
    assert main(["audit", "prune", "--config", retention_config]) == 0
    assert capsys.readouterr().out.startswith("Removed 2 rows recorded before ")
    with AuditLog(roles.app_url) as log:
        assert search(log, AuditQuery(subject=OLD_PERSON)).total == 0
    assert main(["audit", "verify", "--config", portal_config]) == 0
    assert capsys.readouterr().out.startswith(
        "OK: 3 rows, chain intact from checkpoint after row 2"
    )
    # init as the portal's role changes nothing and needs no DDL rights
    assert main(["audit", "init", "--config", portal_config]) == 0


def test_the_retention_role_cannot_shadow_the_checkpoints_with_a_temporary_table(
    pg_audit_roles,
):
    """pg_temp is searched first unless named: the guard must not read a temporary
    audit_checkpoint that a role allowed to DELETE made up to let the whole log go."""
    with AuditLog(pg_audit_roles.app_url) as log:
        for _ in range(3):
            log.record(AuditEvent.for_user("login", caseworker_user(0)))
    schema = pg_audit_roles.schema
    login = POSTGRES_URL.replace("postgres@", f"{pg_audit_roles.retention}@")
    with psycopg.connect(login, autocommit=True, options=f"-csearch_path={schema}") as conn:
        conn.execute("CREATE TEMPORARY TABLE audit_checkpoint (up_to_seq bigint)")
        conn.execute("INSERT INTO pg_temp.audit_checkpoint VALUES (1000000)")
        with pytest.raises(psycopg.errors.RaiseException, match="newer than the last checkpoint"):
            conn.execute(SQL("DELETE FROM {}.audit_event").format(Identifier(schema)))
    with AuditLog(pg_audit_roles.app_url) as log:
        assert len(log.recent(10)) == 3 and log.verify().ok


def test_init_as_the_portals_role_names_a_retention_policy_it_may_not_change(
    pg_audit_roles, tmp_path
):
    from borgersag.audit import AuditUnavailable

    log = keyed_log(pg_audit_roles.app_url, tmp_path / "keys", retention_days=0)
    with log, pytest.raises(AuditUnavailable) as caught:
        log.create_schema(write_policy=True)
    message = str(caught.value)
    assert "keeps 30 days" in message and "retention_days = 0" in message
    assert "as the tables' owner" in message
    with keyed_log(pg_audit_roles.app_url, tmp_path / "keys", retention_days=30) as log:
        log.create_schema(write_policy=True)  # the same policy: nothing to change
