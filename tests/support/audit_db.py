"""Audit logs for tests: key files and a witness, and tampering as an attacker.

Outside the sandbox ``[audit]`` must name its HMAC key file, its signing key file and a
witness (docs/audit.md, "Keys and the witness"); these helpers make them in a folder.
Tampering is done the way someone with full database rights would: past the triggers
(PostgreSQL ``session_replication_role = replica``; SQLite: drop them, put them back).
"""

from __future__ import annotations

import itertools
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, select, text

from borgersag.audit import AuditLog, validate_audit_settings
from borgersag.audit.keys import create_key_file
from borgersag.audit.schema import audit_event

_shared: Path | None = None
_witnesses = itertools.count(1)


def audit_key_settings(folder: Path, *, witness: str = "witness.jsonl") -> dict[str, str]:
    """``[audit]`` settings for key files in ``folder`` (created, mode 0600) and a witness
    file there."""
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    hmac_file, signing_file = folder / "audit-hmac.key", folder / "audit-signing.key"
    create_key_file(hmac_file)
    create_key_file(signing_file)
    return {
        "hmac_key_file": str(hmac_file),
        "signing_key_file": str(signing_file),
        "witness": f"file:{folder / witness}",
    }


def shared_audit_key_settings() -> dict[str, str]:
    """The session's key files, with a witness of its own for each call (each test's
    database has its own chain, so it needs its own witness)."""
    global _shared
    if _shared is None:
        _shared = Path(tempfile.mkdtemp(prefix="borgersag-test-audit-keys-"))
    return audit_key_settings(_shared, witness=f"witness-{next(_witnesses)}.jsonl")


def keyed_log(url: str, folder: Path, **settings: Any) -> AuditLog:
    """An :class:`AuditLog` at ``url`` with key files and a witness in ``folder``."""
    raw = {"url": url, **audit_key_settings(folder), **settings}
    return AuditLog.from_settings(validate_audit_settings(raw))


@contextmanager
def tampering(log: AuditLog) -> Iterator[Connection]:
    """A transaction past the append-only triggers, as someone with full rights gets."""
    with log.engine.begin() as conn:
        if log.postgres:
            conn.execute(text("SET LOCAL session_replication_role = replica"))
        else:
            names = conn.execute(text("SELECT name FROM sqlite_master WHERE type = 'trigger'"))
            for name in names.scalars().all():
                conn.execute(text(f'DROP TRIGGER "{name}"'))
        yield conn
    if not log.postgres:
        log.create_schema()  # and puts the triggers back


def rows(log: AuditLog) -> list:
    """Every stored row of ``audit_event``, in ``seq`` order (times as datetimes)."""
    with log.engine.connect() as conn:
        query = select(audit_event).order_by(audit_event.c.seq)
        return conn.execute(query).mappings().all()
