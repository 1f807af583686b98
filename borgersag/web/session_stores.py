"""Session stores: where the server keeps session records, and under which key.

:mod:`borgersag.web.sessions` decides what a record holds and when a session ends; a
store only keeps records. Three stores share one small interface (:class:`SessionStore`):
SQLite by default (one file, shared by every worker process on the machine), Redis when
several machines serve the portal, and memory for tests. :func:`build_store` picks one
from the validated ``[sessions]`` settings.

* **Hashed keys.** A record is stored under ``sha256(id)`` (:func:`store_key`): someone
  who can read the store (a backup, a Redis ``KEYS``) still has no cookie to present.
* **The store expires records.** Each save says how long the record may live; an
  expired record is never loaded, and SQLite and memory remove them now and then.
* **No silent fall-back.** A store that cannot be reached raises
  :class:`SessionStoreUnavailable`, with a message that tells the operator what to check.

Records are JSON: values must be JSON types (a tuple comes back as a list).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import math
import os
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import urlsplit, urlunsplit

from borgersag.lookup.breaker import BreakerStore
from borgersag.lookup.shared_state import (
    MemorySharedState,
    RedisSharedState,
    SharedState,
    SQLiteSharedState,
)
from borgersag.runtime import sqlite as sqlite_settings
from borgersag.runtime.statedir import NotPrivate, private_state_dir
from borgersag.web.overviews import OverviewStore, SealedOverviewStore

if TYPE_CHECKING:
    from borgersag.web.sections import SessionSettings

__all__ = [
    "MemorySessionStore",
    "RedisSessionStore",
    "SQLiteSessionStore",
    "SessionStore",
    "SessionStoreUnavailable",
    "breaker_store",
    "build_store",
    "default_sqlite_path",
    "overview_store",
    "shared_state",
    "store_key",
]

DEFAULT_SQLITE_NAME = "borgersag-sessions.sqlite3"
# SQLite and memory stores remove expired records during a save at most this often.
PURGE_INTERVAL_SECONDS = 60.0


class SessionStoreUnavailable(RuntimeError):
    """The session store could not be used; nobody can sign in until it can."""


class SessionStore(Protocol):
    """Where session records live. Keys are already hashed (see :func:`store_key`)."""

    def load(self, key: str) -> dict[str, Any] | None:
        """The record under ``key``, or ``None`` if there is none or it has expired."""

    def save(self, key: str, data: dict[str, Any], ttl_seconds: float) -> None:
        """Store ``data`` (JSON types only) under ``key`` for ``ttl_seconds``."""

    def delete(self, key: str) -> None:
        """Remove the record under ``key``, if any."""

    def close(self) -> None:
        """Release connections; the store is not used afterwards."""


def store_key(session_id: str) -> str:
    """The store key for a session id: its SHA-256, so a leaked store gives no cookies."""
    return hashlib.sha256(session_id.encode("ascii")).hexdigest()


def _dumps(data: dict[str, Any]) -> str:
    return json.dumps(data, separators=(",", ":"), ensure_ascii=False)


def _loads(text: str | bytes) -> dict[str, Any] | None:
    try:
        data = json.loads(text)
    except ValueError:
        return None
    return data if isinstance(data, dict) else None


class MemorySessionStore:
    """Sessions in this process's memory: for tests and a single-process demo only."""

    def __init__(self, *, clock: Callable[[], float] = time.monotonic):
        self._clock = clock
        self._lock = threading.Lock()
        self._entries: dict[str, tuple[float, str]] = {}
        self._last_purge = clock()

    def load(self, key: str) -> dict[str, Any] | None:
        """See :class:`SessionStore`."""
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return None
            if entry[0] <= self._clock():
                del self._entries[key]
                return None
        return _loads(entry[1])

    def save(self, key: str, data: dict[str, Any], ttl_seconds: float) -> None:
        """See :class:`SessionStore`."""
        text = _dumps(data)
        now = self._clock()
        with self._lock:
            self._entries[key] = (now + ttl_seconds, text)
            if now - self._last_purge >= PURGE_INTERVAL_SECONDS:
                self._last_purge = now
                for old in [k for k, (expires, _) in self._entries.items() if expires <= now]:
                    del self._entries[old]

    def delete(self, key: str) -> None:
        """See :class:`SessionStore`."""
        with self._lock:
            self._entries.pop(key, None)

    def close(self) -> None:
        """Forget every session."""
        with self._lock:
            self._entries.clear()


class SQLiteSessionStore:
    """Sessions in one SQLite file, shared by every worker process on the machine.

    Each thread keeps one connection and reuses it (opening one costs more than the
    query: every request reads the session, the kill switches and often an overview), so
    the store is safe across threads; a process started by ``fork`` opens its own. The
    file is in WAL mode so readers do not wait for writers. The file is created readable
    by its owner only.
    """

    def __init__(self, path: str | Path, *, clock: Callable[[], float] = time.time):
        self.path = Path(path)
        self._clock = clock
        self._last_purge = clock()
        self._local = threading.local()  # a thread's connection goes with the thread
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            os.close(os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600))
            with self._connect() as conn:
                conn.execute("PRAGMA journal_mode=WAL")
                conn.execute(
                    "CREATE TABLE IF NOT EXISTS sessions ("
                    " key TEXT PRIMARY KEY, data TEXT NOT NULL, expires_at REAL NOT NULL)"
                )
                conn.execute(
                    "CREATE INDEX IF NOT EXISTS sessions_expires_at ON sessions (expires_at)"
                )
        except (OSError, sqlite3.Error) as exc:
            raise self._unavailable(exc) from exc

    @contextlib.contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        """This thread's connection; one that failed is closed and the next opens anew."""
        conn = getattr(self._local, "conn", None)
        if conn is None or self._local.pid != os.getpid():
            conn = sqlite3.connect(self.path, timeout=5.0, isolation_level=None)
            sqlite_settings.tune(conn)
            self._local.conn, self._local.pid = conn, os.getpid()
        try:
            yield conn
        except sqlite3.Error:
            self._local.conn = None
            with contextlib.suppress(sqlite3.Error):
                conn.close()
            raise

    def _unavailable(self, exc: BaseException) -> SessionStoreUnavailable:
        return SessionStoreUnavailable(
            f"The SQLite session store {self.path} cannot be used ({exc}). Nobody can sign"
            " in until it can: check that its folder exists and is writable for the portal,"
            " or set [sessions] path."
        )

    def load(self, key: str) -> dict[str, Any] | None:
        """See :class:`SessionStore`."""
        try:
            with self._connect() as conn:
                row = conn.execute(
                    "SELECT data FROM sessions WHERE key = ? AND expires_at > ?",
                    (key, self._clock()),
                ).fetchone()
        except sqlite3.Error as exc:
            raise self._unavailable(exc) from exc
        return _loads(row[0]) if row else None

    def save(self, key: str, data: dict[str, Any], ttl_seconds: float) -> None:
        """See :class:`SessionStore`."""
        now = self._clock()
        purge = now - self._last_purge >= PURGE_INTERVAL_SECONDS
        if purge:
            self._last_purge = now
        try:
            with self._connect() as conn:
                conn.execute(
                    "INSERT INTO sessions (key, data, expires_at) VALUES (?, ?, ?)"
                    " ON CONFLICT (key) DO UPDATE SET"
                    " data = excluded.data, expires_at = excluded.expires_at",
                    (key, _dumps(data), now + ttl_seconds),
                )
                if purge:
                    conn.execute("DELETE FROM sessions WHERE expires_at <= ?", (now,))
        except sqlite3.Error as exc:
            raise self._unavailable(exc) from exc

    def delete(self, key: str) -> None:
        """See :class:`SessionStore`."""
        try:
            with self._connect() as conn:
                conn.execute("DELETE FROM sessions WHERE key = ?", (key,))
        except sqlite3.Error as exc:
            raise self._unavailable(exc) from exc

    def close(self) -> None:
        """Close this thread's connection; other threads' close when their thread ends."""
        conn = getattr(self._local, "conn", None)
        mine = getattr(self._local, "pid", None) == os.getpid()
        self._local = threading.local()
        if conn is not None and mine:  # never one inherited across fork (SQLite's rule)
            conn.close()


class RedisSessionStore:
    """Sessions in Redis (``SETEX``), shared by every server that uses the same Redis."""

    def __init__(self, url: str, prefix: str = "borgersag:session:"):
        import redis

        self.url = url
        self.prefix = prefix
        self._errors = redis.exceptions.RedisError
        self._client = redis.Redis.from_url(
            url, socket_connect_timeout=2.0, socket_timeout=2.0, health_check_interval=30
        )

    def _unavailable(self, exc: BaseException) -> SessionStoreUnavailable:
        return SessionStoreUnavailable(
            f"The Redis session store at {_without_password(self.url)} did not answer"
            f" ({type(exc).__name__}: {exc}). Nobody can sign in until it does: check that"
            " Redis is running and reachable, and [sessions] redis_url."
        )

    def load(self, key: str) -> dict[str, Any] | None:
        """See :class:`SessionStore`."""
        try:
            text = self._client.get(self.prefix + key)
        except self._errors as exc:
            raise self._unavailable(exc) from exc
        return _loads(text) if text is not None else None

    def save(self, key: str, data: dict[str, Any], ttl_seconds: float) -> None:
        """See :class:`SessionStore`."""
        try:
            self._client.setex(self.prefix + key, max(1, math.ceil(ttl_seconds)), _dumps(data))
        except self._errors as exc:
            raise self._unavailable(exc) from exc

    def delete(self, key: str) -> None:
        """See :class:`SessionStore`."""
        try:
            self._client.delete(self.prefix + key)
        except self._errors as exc:
            raise self._unavailable(exc) from exc

    def close(self) -> None:
        """Close the connection pool."""
        self._client.close()


def _without_password(url: str) -> str:
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    if parts.port is not None:
        host = f"{host}:{parts.port}"
    user = f"{parts.username}:" if parts.username else ":"
    return urlunsplit(parts._replace(netloc=f"{user}***@{host}"))


def default_sqlite_path() -> Path:
    """``<tempdir>/borgersag-<uid>/borgersag-sessions.sqlite3`` in a private folder
    (:func:`borgersag.runtime.statedir.private_state_dir`)."""
    try:
        return private_state_dir() / DEFAULT_SQLITE_NAME
    except NotPrivate as exc:
        raise SessionStoreUnavailable(f"{exc}; or set [sessions] path.") from None


def shared_state(settings: SessionSettings) -> SharedState:
    """The shared state store (kill switches, circuit breakers) where the sessions are:
    a table of the sessions' SQLite file (every worker of the machine), the sessions'
    Redis under keys of its own (every machine), or this process for ``memory``. Short
    Redis timeouts: breaker state is read on every source call, and a Redis that does not
    answer lets calls through."""
    if settings.backend == "memory":
        return MemorySharedState()
    if settings.backend == "redis":
        import redis

        client = redis.Redis.from_url(
            settings.redis_url, socket_connect_timeout=0.25, socket_timeout=0.25
        )
        return RedisSharedState(client)
    path = settings.path or default_sqlite_path()
    try:
        return SQLiteSharedState(path)
    except (OSError, sqlite3.Error) as exc:
        raise SessionStoreUnavailable(
            f"The shared state in {path} cannot be used ({exc}): check that its folder"
            " exists and is writable for the portal, or set [sessions] path."
        ) from exc


def breaker_store(settings: SessionSettings) -> BreakerStore:
    """Where the circuit breakers keep their state: the shared state store
    (:func:`shared_state`)."""
    return shared_state(settings)


def overview_store(
    settings: SessionSettings,
    secret_key: str,
    ttl_seconds: float,
    *,
    max_bytes: int = 32 * 1024 * 1024,
) -> OverviewStore | SealedOverviewStore:
    """Where overviews are kept under their tokens: where the sessions are (the SQLite
    file every worker shares, or Redis, which every machine shares), encrypted, so an
    overview link made on one worker opens on any other; in memory for ``memory``
    (bounded by ``max_bytes``)."""
    if settings.backend == "memory":
        return OverviewStore(ttl_seconds, max_bytes=max_bytes)
    return SealedOverviewStore(build_store(settings), secret_key, ttl_seconds)


def build_store(settings: SessionSettings) -> SessionStore:
    """The store the validated ``[sessions]`` settings ask for."""
    if settings.backend == "memory":
        return MemorySessionStore()
    if settings.backend == "redis":
        return RedisSessionStore(settings.redis_url)
    return SQLiteSessionStore(settings.path or default_sqlite_path())
