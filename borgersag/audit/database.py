"""Connections and the append lock: the part of the audit log that differs per database.

:func:`make_engine` builds the SQLAlchemy engine with the settings the chain relies
on, and :func:`transaction` opens one transaction, holding the append lock when asked.
Everything else in :mod:`borgersag.audit` is one code path for SQLite and PostgreSQL
(the triggers in :mod:`borgersag.audit.schema` being the other exception).

* **PostgreSQL** appends under ``pg_advisory_xact_lock`` at READ COMMITTED: the head is
  read after the lock is granted and must see the row the previous holder committed
  while we waited (REPEATABLE READ would read the snapshot from before the wait).
  Reads use REPEATABLE READ, so a verification sees one consistent state. The lock
  wait is bounded by ``lock_timeout``.
* **SQLite** appends in ``BEGIN IMMEDIATE``. pysqlite on its own would send BEGIN only
  before the first INSERT, after the head was read, so the driver's transaction
  handling is switched off and a listener sends BEGIN itself. The file is in WAL mode,
  so readers (plain ``BEGIN``) read a snapshot without waiting for writers. The lock
  wait is bounded by the busy timeout.
* **Processes.** A pooled connection inherited through ``fork`` is never used by the
  child (SQLAlchemy's recipe): each process opens its own.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import URL

from borgersag.runtime import sqlite as sqlite_settings

__all__ = ["describe", "error_reason", "make_engine", "transaction"]

# pg_advisory_xact_lock(class, object): the class is ours ("BAud"), the object the
# schema's oid, so two portals sharing a database in different schemas do not wait
# for each other.
_LOCK_CLASS = 0x42417564
_PG_LOCK = text(
    "SELECT pg_advisory_xact_lock(:lock_class, COALESCE(CAST((SELECT n.oid FROM pg_namespace n"
    " WHERE n.nspname = current_schema()) AS integer), 0))"
)
_WRITE = "borgersag_audit_write"  # execution option: this transaction appends


def make_engine(url: URL, *, lock_timeout_seconds: float, connect_timeout_seconds: int) -> Engine:
    """The engine for an audit database (``url`` already checked by ``parse_audit_url``)."""
    postgres = url.get_backend_name() == "postgresql"
    if postgres:
        args: dict[str, Any] = {}
        if "connect_timeout" not in url.query:
            args["connect_timeout"] = max(2, int(connect_timeout_seconds))
        engine = create_engine(
            url, connect_args=args, isolation_level="READ COMMITTED", pool_pre_ping=True
        )
    else:
        engine = create_engine(
            url, connect_args={"timeout": lock_timeout_seconds}, pool_pre_ping=True
        )

    @event.listens_for(engine, "connect")
    def on_connect(dbapi_connection: Any, record: Any) -> None:
        record.info["pid"] = os.getpid()
        if postgres:
            with dbapi_connection.cursor() as cursor:
                cursor.execute(f"SET lock_timeout = {int(lock_timeout_seconds * 1000)}")
            dbapi_connection.commit()
        else:
            dbapi_connection.isolation_level = None  # BEGIN is ours (on_begin)
            dbapi_connection.execute("PRAGMA journal_mode=WAL")
            dbapi_connection.execute(f"PRAGMA cache_size=-{sqlite_settings.PAGE_CACHE_KIB}")

    @event.listens_for(engine, "checkout")
    def on_checkout(dbapi_connection: Any, record: Any, proxy: Any) -> None:
        if record.info.get("pid") != os.getpid():
            record.dbapi_connection = proxy.dbapi_connection = None
            raise sa_exc.DisconnectionError("connection was opened by another process")

    if not postgres:

        @event.listens_for(engine, "begin")
        def on_begin(conn: Connection) -> None:
            immediate = conn.get_execution_options().get(_WRITE)
            conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return engine


@contextmanager
def transaction(engine: Engine, *, write: bool = False) -> Iterator[Connection]:
    """One transaction: ``write`` holds the append lock until COMMIT; a read sees one
    snapshot."""
    postgres = engine.dialect.name == "postgresql"
    with engine.connect() as conn:
        if write:
            conn.execution_options(**{_WRITE: True})
        elif postgres:
            conn.execution_options(isolation_level="REPEATABLE READ")
        with conn.begin():
            if write and postgres:
                conn.execute(_PG_LOCK, {"lock_class": _LOCK_CLASS})
            yield conn


def describe(url: URL) -> str:
    """The database for people and logs, without user or password."""
    if url.get_backend_name() == "sqlite":
        return f"SQLite file {url.database}"
    where = f"{url.host}:{url.port or 5432}" if url.host else "the local socket"
    return f"PostgreSQL at {where}/{url.database or ''}"


def error_reason(exc: BaseException) -> str:
    """What went wrong, without the statement or its parameters (they hold the event).

    Operational errors (cannot connect, locked, read-only, disk, missing table) describe
    the database, so their driver message is kept; for any other error only its type
    and SQLSTATE are, since e.g. a constraint message may quote values.
    """
    orig = getattr(exc, "orig", None)
    if orig is None:
        return type(exc).__name__
    if isinstance(exc, sa_exc.OperationalError):
        lines = str(orig).strip().splitlines()
        return (lines[0] if lines else type(orig).__name__)[:300]
    code = getattr(orig, "sqlstate", None)
    return type(orig).__name__ + (f" (SQLSTATE {code})" if code else "")
