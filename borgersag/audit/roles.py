"""Whether the portal writes the audit log with a role that cannot switch its guards off.

The triggers of :mod:`borgersag.audit.schema` refuse changes to the log, but a superuser,
the tables' owner (or a member of the owner's role) and a role that may set
``session_replication_role`` can disable them, and a role granted UPDATE, DELETE or
TRUNCATE needs only that. :func:`role_problems` asks PostgreSQL what the connected role
can do beyond what the portal needs — SELECT and INSERT on ``audit_event`` and
``audit_person``, SELECT on ``audit_checkpoint`` — and says so in words an operator can
act on. The web layer refuses to start with such a role outside the sandbox
(docs/audit.md, "PostgreSQL roles").

SQLite has no roles: whoever may write the file may drop its triggers; that limit is
documented rather than checked.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, text
from sqlalchemy import exc as sa_exc

from borgersag.audit.database import error_reason, transaction
from borgersag.audit.errors import AuditUnavailable
from borgersag.audit.store import AuditLog

__all__ = ["APP_GRANTS", "RoleReport", "role_problems", "role_report"]

APP_GRANTS = (
    "SELECT, INSERT on audit_event and audit_person and SELECT on audit_checkpoint and audit_policy"
)
"""What the portal's own role needs, in the words the refusal uses."""

# Privileges beyond APP_GRANTS that would let the portal change the log or its guards.
_EXCESS = {
    "audit_event": ("UPDATE", "DELETE", "TRUNCATE", "TRIGGER"),
    "audit_checkpoint": ("INSERT", "UPDATE", "DELETE", "TRUNCATE", "TRIGGER"),
    "audit_person": ("UPDATE", "DELETE", "TRUNCATE", "TRIGGER"),
    # the retention policy the database enforces (borgersag/audit/schema.py)
    "audit_policy": ("INSERT", "UPDATE", "DELETE", "TRUNCATE", "TRIGGER"),
}

_ROLES = text(
    "SELECT r.rolname, r.rolsuper, r.rolbypassrls FROM pg_roles r"
    " WHERE r.rolname IN (current_user, session_user)"
    " ORDER BY r.rolname = current_user DESC"
)

# What the log consists of: its tables, their schema and the functions their
# triggers run (whatever they are called). Owning any of them — or being able to become
# its owner — is enough to switch the guard off or rewrite it.
_OWNED = text(
    "WITH t AS (SELECT c.oid, c.relname, c.relowner, c.relnamespace FROM pg_class c"
    "  WHERE c.oid IN (to_regclass('audit_event'), to_regclass('audit_checkpoint'),"
    "   to_regclass('audit_person')))"
    " SELECT 'table ' || t.relname AS what, t.relowner AS owner FROM t"
    " UNION ALL SELECT DISTINCT 'schema ' || n.nspname, n.nspowner"
    "  FROM pg_namespace n JOIN t ON n.oid = t.relnamespace"
    " UNION ALL SELECT DISTINCT 'trigger function ' || p.proname || '()', p.proowner"
    "  FROM pg_trigger g JOIN pg_proc p ON p.oid = g.tgfoid"
    "  WHERE g.tgrelid IN (SELECT oid FROM t) AND NOT g.tgisinternal"
    " ORDER BY what"
)

_MEMBER = text(
    "SELECT pg_has_role(:role, CAST(:owner AS oid), 'MEMBER'), pg_get_userbyid(CAST(:owner AS oid))"
)

_TABLE_PRIVILEGE = text("SELECT has_table_privilege(:role, to_regclass(:table), :privilege)")

# session_replication_role = replica stops ordinary triggers from firing. Superuser-only
# until PostgreSQL 15, which lets it be granted (GRANT SET ON PARAMETER).
_REPLICATION_ROLE = text(
    "SELECT CASE WHEN current_setting('server_version_num')::int >= 150000"
    " THEN has_parameter_privilege(:role, 'session_replication_role', 'SET')"
    " ELSE false END"
)


@dataclass(frozen=True, slots=True)
class RoleReport:
    """The connected role (``current_user``) and what it can do that it should not.

    ``problems`` is empty for a least-privilege role; each entry reads after the role's
    name, e.g. ``is a superuser`` or ``owns table audit_event``.
    """

    role: str
    problems: tuple[str, ...]

    @property
    def ok(self) -> bool:
        """Whether the role can do no more than the portal needs."""
        return not self.problems

    def sentence(self) -> str:
        """One line: which role, what is wrong with it, what to do."""
        return (
            f'the audit log is written as role "{self.role}", which {_and(self.problems)}:'
            " with it the portal could switch the log's guards off. Connect as a role that"
            f" has only {APP_GRANTS} (docs/audit.md, 'PostgreSQL roles')"
        )


def role_report(log: AuditLog) -> RoleReport | None:
    """What the role ``log`` connects as can do beyond :data:`APP_GRANTS`; ``None`` for
    SQLite, which has no roles. Raises :class:`AuditUnavailable` if it cannot be asked."""
    if not log.postgres:
        return None
    try:
        with transaction(log.engine) as conn:
            return role_problems(conn)
    except sa_exc.SQLAlchemyError as exc:
        raise AuditUnavailable(
            f"The audit log ({log.backend}) could not say what its role may do:"
            f" {error_reason(exc)}."
        ) from None


def role_problems(conn: Connection) -> RoleReport:
    """What the roles of ``conn`` (the login role and the current one, if it was set
    differently) can do to the audit tables beyond :data:`APP_GRANTS`. PostgreSQL only;
    the tables must exist."""
    roles = conn.execute(_ROLES).all()
    problems: list[str] = []
    for name, superuser, bypass_rls in roles:
        who = "" if name == roles[0].rolname else f'logs in as "{name}", which '
        if superuser:
            problems.append(f"{who}is a superuser")
            continue  # a superuser may do everything below; saying so adds nothing
        if bypass_rls:
            problems.append(f"{who}has BYPASSRLS")
        owned = _ownership(conn, name)
        # an owner holds every privilege on what it owns; listing them adds nothing
        problems.extend(who + p for p in owned or _privileges(conn, name))
    return RoleReport(roles[0].rolname if roles else "?", tuple(problems))


def _ownership(conn: Connection, role: str) -> list[str]:
    """What ``role`` owns, or may act as the owner of, grouped by owner."""
    owned: dict[str, list[str]] = {}
    for what, owner in conn.execute(_OWNED).all():
        member, owner_name = conn.execute(_MEMBER, {"role": role, "owner": owner}).one()
        if member:
            owned.setdefault(owner_name, []).append(what)
    return [
        f"owns {', '.join(things)}"
        if owner == role
        else f'is a member of "{owner}", which owns {", ".join(things)}'
        for owner, things in owned.items()
    ]


def _privileges(conn: Connection, role: str) -> list[str]:
    found = []
    for table, privileges in _EXCESS.items():
        held = [
            p
            for p in privileges
            if conn.execute(
                _TABLE_PRIVILEGE, {"role": role, "table": table, "privilege": p}
            ).scalar()
        ]
        if held:
            found.append(f"may {', '.join(held)} {table}")
    if conn.execute(_REPLICATION_ROLE, {"role": role}).scalar():
        found.append("may set session_replication_role (which stops triggers from firing)")
    return found


def _and(items: tuple[str, ...]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]
