"""The least-privilege PostgreSQL roles of docs/audit.md ("PostgreSQL roles"), made by
running that section's SQL as written — with names of this test's own — so the docs
cannot drift from what the portal accepts."""

from __future__ import annotations

import re
import textwrap
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from support.services import POSTGRES_URL

AUDIT_DOC = Path(__file__).resolve().parents[2] / "docs" / "audit.md"
# The names the docs use, and the prefix of each test's own.
DOC_NAMES = ("borgersag_audit_owner", "borgersag_audit", "borgersag_app", "borgersag_retention")


@dataclass(frozen=True)
class AuditRoles:
    """One test's roles and schema, and the URLs each logs in with."""

    owner: str
    schema: str
    app: str
    retention: str

    def url(self, role: str | None = None, *, set_role: str | None = None) -> str:
        """A URL into the schema, logging in as ``role`` (the administrator, postgres, when
        ``None``), switching to ``set_role`` for the session if given."""
        base = POSTGRES_URL if role is None else POSTGRES_URL.replace("postgres@", f"{role}@")
        options = f"-csearch_path%3D{self.schema}"
        if set_role:
            options += f"%20-crole%3D{set_role}"
        return f"{base}?options={options}"

    @property
    def owner_url(self) -> str:
        """The administrator acting as the owner: step 2, ``borgersag audit init``."""
        return self.url(set_role=self.owner)

    @property
    def app_url(self) -> str:
        return self.url(self.app)

    @property
    def retention_url(self) -> str:
        return self.url(self.retention)


def documented_sql() -> list[list[str]]:
    """The statements of each ``sql`` block of the "PostgreSQL roles" section, in order."""
    text = AUDIT_DOC.read_text(encoding="utf-8")
    section = text.split("### PostgreSQL roles", 1)[1].split("\n### ", 1)[0]
    blocks = re.findall(r"^( *)```sql\n(.*?)^\1```", section, re.S | re.M)
    return [
        [s.strip() for s in textwrap.dedent(body).split(";") if s.strip()]
        for _indent, body in blocks
    ]


def _renamed(statement: str, names: dict[str, str]) -> str:
    pattern = r"\b(" + "|".join(sorted(map(re.escape, names), key=len, reverse=True)) + r")\b"
    return re.sub(pattern, lambda m: names[m[1]], statement)


@contextmanager
def documented_roles() -> Iterator[AuditRoles]:
    """Run the docs' step 1, ``audit init`` as the owner (step 2) and step 3; drop it all
    afterwards. PostgreSQL must be reachable (``require_postgres``)."""
    import psycopg

    from borgersag.audit import AuditLog

    suffix = uuid.uuid4().hex[:12]
    names = {name: f"{name}_{suffix}" for name in DOC_NAMES}
    roles = AuditRoles(*(names[n] for n in DOC_NAMES))
    create, grant = documented_sql()
    try:
        with psycopg.connect(POSTGRES_URL, autocommit=True) as conn:
            for statement in create:
                conn.execute(_renamed(statement, names))
        with AuditLog(roles.owner_url, retention_days=30) as log:
            log.create_schema(write_policy=True)  # the database lets 30-day-old rows go
        with psycopg.connect(POSTGRES_URL, autocommit=True) as conn:
            for statement in grant:
                conn.execute(_renamed(statement, names))
        yield roles
    finally:
        with psycopg.connect(POSTGRES_URL, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA IF EXISTS "{roles.schema}" CASCADE')
            for role in (roles.app, roles.retention, roles.owner):
                exists = conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (role,))
                if exists.fetchone():
                    conn.execute(f'DROP OWNED BY "{role}"')
                    conn.execute(f'DROP ROLE "{role}"')
