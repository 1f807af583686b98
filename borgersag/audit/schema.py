"""The audit tables and the database's own guard against changing them.

Two tables, declared once with SQLAlchemy Core for SQLite and PostgreSQL alike:

``audit_event``
    one row per event: ``seq`` (the chain order, assigned under a lock), the event's
    fields (lists as JSON text), ``prev_hash`` and ``hash``.
``audit_checkpoint``
    one row per retention run: the last removed ``up_to_seq``, that row's hash (the
    anchor verification starts from), when, and how many rows went.

Triggers make both append-only in the database itself, not just in this code: UPDATE
is always refused, DELETE of an event only when its ``seq`` is at or behind the newest
checkpoint, and a checkpoint must name an existing row by its true hash and move
forward. PostgreSQL gets PL/pgSQL trigger functions (plus a TRUNCATE guard); SQLite,
the development default, gets the same rules as ``RAISE(ABORT)`` triggers.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from sqlalchemy import (
    BigInteger,
    Column,
    Connection,
    DateTime,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    inspect,
    select,
    text,
)
from sqlalchemy.types import TypeDecorator

__all__ = [
    "audit_checkpoint",
    "audit_event",
    "audit_policy",
    "install_schema",
    "metadata",
    "read_retention_policy",
    "write_retention_policy",
]


class UTCDateTime(TypeDecorator[dt.datetime]):
    """A timezone-aware UTC datetime on both backends.

    PostgreSQL stores ``timestamptz``; SQLite has no zones, so UTC is stored without an
    offset and put back on when read. Microseconds survive both ways, which the hash
    chain relies on.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("audit times must be timezone-aware")
        value = value.astimezone(dt.UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=dt.UTC)
        return value.astimezone(dt.UTC)


_Seq = BigInteger().with_variant(Integer(), "sqlite")  # INTEGER PRIMARY KEY in SQLite

metadata = MetaData()

audit_event = Table(
    "audit_event",
    metadata,
    # Assigned as previous seq + 1 inside the append lock, never by a sequence: the
    # chain order must be exactly the commit order.
    Column("seq", _Seq, primary_key=True, autoincrement=False),
    Column("at", UTCDateTime(), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("actor_type", String(16), nullable=False),
    Column("actor_id", Text, nullable=False),
    Column("actor_name", Text, nullable=False),
    Column("actor_unit", Text, nullable=False),
    Column("actor_roles", Text, nullable=False),  # JSON array of strings
    Column("subject", Text, nullable=False),
    Column("purpose", Text, nullable=False),
    Column("sources", Text, nullable=False),  # JSON array of [name, outcome]
    Column("case_ids", Text, nullable=False),  # JSON array of strings
    Column("request_id", Text, nullable=False),
    Column("detail", Text, nullable=False),
    Column("prev_hash", String(64), nullable=False),
    Column("hash", String(64), nullable=False),
)
Index("ix_audit_event_subject_seq", audit_event.c.subject, audit_event.c.seq)
Index("ix_audit_event_at", audit_event.c.at)

audit_checkpoint = Table(
    "audit_checkpoint",
    metadata,
    Column("up_to_seq", _Seq, primary_key=True, autoincrement=False),
    Column("anchor_hash", String(64), nullable=False),
    Column("at", UTCDateTime(), nullable=False),
    Column("removed", BigInteger, nullable=False),
    # Ed25519 over (up_to_seq, anchor_hash, at): see borgersag/audit/keys.py. NULL only
    # in checkpoints made before signed checkpoints; verify names those.
    Column("signature", String(128), nullable=True),
)

# --- retention policy and signed checkpoints -------------------------------------------------

audit_policy = Table(
    "audit_policy",
    metadata,
    # one row (id 1), written by 'borgersag audit init' as the owner; no row: 0 days
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("retention_days", Integer, nullable=False),
)

CHECKPOINT_CLOCK_SECONDS = 300
"""How far a new checkpoint's time may be from the database's own clock (the triggers
below spell it out as 300)."""

# The database cannot check an Ed25519 signature; it checks what it can with its own
# clock and policy: a checkpoint carries a signature-shaped value, is made now, and names
# a row older than the retention policy's days; and a row may be deleted only when it is
# that old. retention_days = 0 (or no policy row) refuses every checkpoint and delete.
_PG_RETENTION_FUNCTIONS = {
    "audit_retention_guard": """
DECLARE
  keep integer;
  named timestamptz;
BEGIN
  SELECT retention_days INTO keep FROM audit_policy WHERE id = 1;
  IF COALESCE(keep, 0) <= 0 THEN
    RAISE EXCEPTION '% is append-only here: the retention policy (audit_policy) keeps every'
      ' row, nothing may be pruned', TG_TABLE_NAME;
  END IF;
  IF TG_TABLE_NAME = 'audit_event' THEN
    IF OLD.at > now() - make_interval(days => keep) THEN
      RAISE EXCEPTION 'audit_event is append-only: row % is younger than % days', OLD.seq, keep;
    END IF;
    RETURN OLD;
  END IF;
  IF NEW.signature IS NULL OR NEW.signature !~ '^[0-9a-f]{128}$' THEN
    RAISE EXCEPTION 'audit_checkpoint: a checkpoint must carry its signature';
  END IF;
  IF abs(extract(epoch FROM NEW.at - now())) > 300 THEN
    RAISE EXCEPTION 'audit_checkpoint: its time must be the database''s current time';
  END IF;
  SELECT at INTO named FROM audit_event WHERE seq = NEW.up_to_seq;
  IF named IS NULL OR named > now() - make_interval(days => keep) THEN
    RAISE EXCEPTION 'audit_checkpoint: row % is younger than the % days of the retention'
      ' policy', NEW.up_to_seq, keep;
  END IF;
  RETURN NEW;
END
""",
}

_PG_RETENTION_TRIGGERS = {
    "audit_event_retention_guard": (
        "BEFORE DELETE",
        "audit_event",
        "ROW",
        "audit_retention_guard",
    ),
    "audit_checkpoint_retention_guard": (
        "BEFORE INSERT",
        "audit_checkpoint",
        "ROW",
        "audit_retention_guard",
    ),
}

_SQLITE_RETENTION_TRIGGERS = {
    "audit_event_retention_guard": (
        "CREATE TRIGGER audit_event_retention_guard BEFORE DELETE ON audit_event"
        " WHEN COALESCE((SELECT retention_days FROM audit_policy WHERE id = 1), 0) <= 0"
        " OR julianday(OLD.at) > julianday('now')"
        " - (SELECT retention_days FROM audit_policy WHERE id = 1) BEGIN"
        " SELECT RAISE(ABORT, 'audit_event is append-only: a row younger than the retention"
        " policy''s days cannot be deleted (retention_days = 0: none can)'); END"
    ),
    "audit_checkpoint_retention_guard": (
        "CREATE TRIGGER audit_checkpoint_retention_guard BEFORE INSERT ON audit_checkpoint"
        " WHEN NEW.signature IS NULL OR length(NEW.signature) != 128"
        " OR NEW.signature GLOB '*[^0-9a-f]*'"
        " OR abs(julianday(NEW.at) - julianday('now')) * 86400 > 300"
        " OR COALESCE((SELECT retention_days FROM audit_policy WHERE id = 1), 0) <= 0"
        " OR COALESCE((SELECT julianday(at) FROM audit_event WHERE seq = NEW.up_to_seq),"
        " julianday('now')) > julianday('now')"
        " - (SELECT retention_days FROM audit_policy WHERE id = 1) BEGIN"
        " SELECT RAISE(ABORT, 'audit_checkpoint: a checkpoint must carry its signature, be"
        " made now and name a row older than the retention policy''s days (retention_days ="
        " 0: no checkpoint)'); END"
    ),
}


def _add_checkpoint_signature(conn: Connection) -> None:
    """Give a log made before signed checkpoints its ``signature`` column."""
    columns = {column["name"] for column in inspect(conn).get_columns("audit_checkpoint")}
    if "signature" not in columns:
        conn.exec_driver_sql("ALTER TABLE audit_checkpoint ADD COLUMN signature VARCHAR(128)")


def read_retention_policy(conn: Connection) -> int:
    """The retention days the database enforces (0 when none was set)."""
    days = conn.execute(
        select(audit_policy.c.retention_days).where(audit_policy.c.id == 1)
    ).scalar()
    return max(0, days or 0)


def write_retention_policy(conn: Connection, days: int) -> None:
    """Set the retention days the database enforces (the owner's job: ``audit init``)."""
    if read_retention_policy(conn) == days:
        return
    conn.execute(audit_policy.delete().where(audit_policy.c.id == 1))
    conn.execute(audit_policy.insert().values(id=1, retention_days=days))


# --- PostgreSQL ----------------------------------------------------------------------------

# Function bodies are compared with pg_proc.prosrc to decide whether anything must be
# (re)installed, so a start-up with everything in place needs no DDL and no owner rights.
_PG_FUNCTIONS = {
    "audit_event_guard": """
BEGIN
  IF TG_OP = 'DELETE' THEN
    IF OLD.seq <= (SELECT COALESCE(MAX(up_to_seq), 0) FROM audit_checkpoint) THEN
      RETURN OLD;
    END IF;
    RAISE EXCEPTION 'audit_event is append-only: row % is newer than the last checkpoint'
      ' and cannot be deleted', OLD.seq;
  END IF;
  RAISE EXCEPTION 'audit_event is append-only: % is not allowed', TG_OP;
END
""",
    "audit_checkpoint_guard": """
DECLARE
  anchor text;
  newest bigint;
BEGIN
  IF TG_OP = 'INSERT' THEN
    SELECT hash INTO anchor FROM audit_event WHERE seq = NEW.up_to_seq;
    IF anchor IS DISTINCT FROM NEW.anchor_hash THEN
      RAISE EXCEPTION 'audit_checkpoint: up_to_seq % must name an existing audit_event row'
        ' with its hash', NEW.up_to_seq;
    END IF;
    SELECT MAX(up_to_seq) INTO newest FROM audit_checkpoint;
    IF newest IS NOT NULL AND NEW.up_to_seq <= newest THEN
      RAISE EXCEPTION 'audit_checkpoint: checkpoints only move forward (newest is %)', newest;
    END IF;
    RETURN NEW;
  END IF;
  RAISE EXCEPTION 'audit_checkpoint is append-only: % is not allowed', TG_OP;
END
""",
}

_PG_TRIGGERS = {
    # name: (when, table, level, function)
    "audit_event_no_update": ("BEFORE UPDATE", "audit_event", "ROW", "audit_event_guard"),
    "audit_event_delete_guard": ("BEFORE DELETE", "audit_event", "ROW", "audit_event_guard"),
    "audit_event_no_truncate": ("BEFORE TRUNCATE", "audit_event", "STATEMENT", "audit_event_guard"),
    "audit_checkpoint_insert_guard": (
        "BEFORE INSERT",
        "audit_checkpoint",
        "ROW",
        "audit_checkpoint_guard",
    ),
    "audit_checkpoint_no_change": (
        "BEFORE UPDATE OR DELETE",
        "audit_checkpoint",
        "ROW",
        "audit_checkpoint_guard",
    ),
    "audit_checkpoint_no_truncate": (
        "BEFORE TRUNCATE",
        "audit_checkpoint",
        "STATEMENT",
        "audit_checkpoint_guard",
    ),
}


def _pg_current(conn: Connection) -> bool:
    """Whether PostgreSQL already has our trigger functions and enabled triggers."""
    rows = conn.execute(
        text(
            "SELECT p.proname, p.prosrc, p.proconfig FROM pg_proc p"
            " WHERE p.pronamespace ="
            " (SELECT n.oid FROM pg_namespace n WHERE n.nspname = current_schema())"
            " AND p.proname IN ('audit_event_guard', 'audit_checkpoint_guard',"
            " 'audit_retention_guard')"
        )
    ).all()
    if {name: body for name, body, _config in rows} != {**_PG_FUNCTIONS, **_PG_RETENTION_FUNCTIONS}:
        return False
    if not all(_PG_SEARCH_PATH.fullmatch(",".join(config or ())) for _n, _b, config in rows):
        return False
    triggers = dict(
        conn.execute(
            text(
                "SELECT t.tgname, t.tgenabled FROM pg_trigger t"
                " WHERE t.tgrelid IN (to_regclass('audit_event'), to_regclass('audit_checkpoint'))"
                " AND NOT t.tgisinternal"
            )
        ).all()
    )
    return all(triggers.get(name) == "O" for name in {**_PG_TRIGGERS, **_PG_RETENTION_TRIGGERS})


# search_path is pinned to the schema the tables were created in, so the functions never
# resolve audit_checkpoint through a caller's search_path — and pg_temp is named last:
# left out, it is searched *first*, and a role allowed to DELETE could create a
# temporary audit_checkpoint naming any row and delete the whole log.
_PG_SEARCH_PATH = re.compile(r'search_path=(?:"(?:[^"]|"")+"|[a-z_][a-z0-9_$]*), pg_temp')


def _pg_install(conn: Connection) -> None:
    schema = conn.execute(text("SELECT quote_ident(current_schema())")).scalar_one()
    for name, body in {**_PG_FUNCTIONS, **_PG_RETENTION_FUNCTIONS}.items():
        # psycopg reads % as a placeholder even without parameters: double it.
        conn.exec_driver_sql(
            f"CREATE OR REPLACE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql"
            f" SET search_path = {schema}, pg_temp AS $body${body.replace('%', '%%')}$body$"
        )
    for name, (when, table, level, function) in {**_PG_TRIGGERS, **_PG_RETENTION_TRIGGERS}.items():
        conn.exec_driver_sql(f"DROP TRIGGER IF EXISTS {name} ON {table}")
        conn.exec_driver_sql(
            f"CREATE TRIGGER {name} {when} ON {table} FOR EACH {level}"
            f" EXECUTE FUNCTION {function}()"
        )


# --- SQLite --------------------------------------------------------------------------------

_SQLITE_TRIGGERS = {
    "audit_event_no_update": (
        "CREATE TRIGGER audit_event_no_update BEFORE UPDATE ON audit_event BEGIN"
        " SELECT RAISE(ABORT, 'audit_event is append-only: UPDATE is not allowed'); END"
    ),
    "audit_event_delete_guard": (
        "CREATE TRIGGER audit_event_delete_guard BEFORE DELETE ON audit_event"
        " WHEN OLD.seq > (SELECT COALESCE(MAX(up_to_seq), 0) FROM audit_checkpoint) BEGIN"
        " SELECT RAISE(ABORT, 'audit_event is append-only: rows newer than the last"
        " checkpoint cannot be deleted'); END"
    ),
    "audit_checkpoint_insert_guard": (
        "CREATE TRIGGER audit_checkpoint_insert_guard BEFORE INSERT ON audit_checkpoint"
        " WHEN NOT EXISTS (SELECT 1 FROM audit_event"
        " WHERE seq = NEW.up_to_seq AND hash = NEW.anchor_hash)"
        " OR NEW.up_to_seq <= (SELECT COALESCE(MAX(up_to_seq), 0) FROM audit_checkpoint) BEGIN"
        " SELECT RAISE(ABORT, 'audit_checkpoint: up_to_seq must name an existing audit_event"
        " row with its hash, and checkpoints only move forward'); END"
    ),
    "audit_checkpoint_no_update": (
        "CREATE TRIGGER audit_checkpoint_no_update BEFORE UPDATE ON audit_checkpoint BEGIN"
        " SELECT RAISE(ABORT, 'audit_checkpoint is append-only: UPDATE is not allowed'); END"
    ),
    "audit_checkpoint_no_delete": (
        "CREATE TRIGGER audit_checkpoint_no_delete BEFORE DELETE ON audit_checkpoint BEGIN"
        " SELECT RAISE(ABORT, 'audit_checkpoint is append-only: DELETE is not allowed'); END"
    ),
}


def _squeeze(sql: str) -> str:
    return re.sub(r"\s+", " ", sql).strip()


def _sqlite_current(conn: Connection) -> bool:
    existing = dict(
        conn.exec_driver_sql("SELECT name, sql FROM sqlite_master WHERE type = 'trigger'").all()
    )
    return all(
        _squeeze(existing.get(name) or "") == _squeeze(sql)
        for name, sql in {**_SQLITE_TRIGGERS, **_SQLITE_RETENTION_TRIGGERS}.items()
    )


def _sqlite_install(conn: Connection) -> None:
    for name, sql in {**_SQLITE_TRIGGERS, **_SQLITE_RETENTION_TRIGGERS}.items():
        conn.exec_driver_sql(f"DROP TRIGGER IF EXISTS {name}")
        conn.exec_driver_sql(sql)


def install_schema(conn: Connection) -> None:
    """Create what is missing: tables, indexes and the append-only triggers.

    Runs inside the caller's transaction, which must hold the append lock (concurrent
    ``CREATE TABLE`` from several starting workers would otherwise collide).
    """
    metadata.create_all(conn, checkfirst=True)
    _add_checkpoint_signature(conn)
    if conn.dialect.name == "postgresql":
        if not _pg_current(conn):
            _pg_install(conn)
    elif not _sqlite_current(conn):
        _sqlite_install(conn)
