"""The portal's shared state: small facts every worker and machine must agree on.

Two things live here, each under keys of its own: the circuit breakers' counters and
flags (:class:`~borgersag.lookup.breaker.BreakerStore`), and named JSON values such as
the operations page's kill switches. Not in the session store: a session store keeps
sessions, and a magic key among them is a key nobody owns.

Three stores, picked like the sessions' (:func:`borgersag.web.session_stores.shared_state`):

* :class:`MemorySharedState` — this process only (tests, one process);
* :class:`SQLiteSharedState` — one table in a SQLite file, shared by every worker on
  the machine (each operation opens its own short connection, safe across ``fork``);
* :class:`RedisSharedState` — shared by every machine using the Redis.

Values are small and read often (the kill switches before every request): callers cache
them briefly (:class:`borgersag.web.operations.SwitchBoard`).
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, Protocol

from borgersag.lookup.breaker import BreakerStore, MemoryBreakerStore, RedisBreakerStore
from borgersag.runtime import sqlite as sqlite_settings

__all__ = [
    "MemorySharedState",
    "RedisSharedState",
    "SQLiteSharedState",
    "SharedState",
]


class SharedState(BreakerStore, Protocol):
    """Breaker counters and flags, plus named JSON values that expire."""

    def read(self, name: str) -> dict[str, Any] | None:
        """The value saved under ``name``, or ``None`` (never saved, or expired)."""

    def write(self, name: str, value: dict[str, Any], ttl_seconds: float) -> None:
        """Save ``value`` (JSON types) under ``name`` for ``ttl_seconds``."""

    def close(self) -> None:
        """Release connections."""


def _dumps(value: dict[str, Any]) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def _loads(text: str | bytes | None) -> dict[str, Any] | None:
    if text is None:
        return None
    try:
        value = json.loads(text)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


class MemorySharedState(MemoryBreakerStore):
    """Shared state in this process."""

    def __init__(self, *, clock: Callable[[], float] = time.monotonic):
        super().__init__(clock=clock)
        self._values: dict[str, tuple[float, str]] = {}

    def read(self, name: str) -> dict[str, Any] | None:
        """See :class:`SharedState`."""
        with self._lock:
            entry = self._values.get(name)
        if entry is None or entry[0] <= self._clock():
            return None
        return _loads(entry[1])

    def write(self, name: str, value: dict[str, Any], ttl_seconds: float) -> None:
        """See :class:`SharedState`."""
        with self._lock:
            self._values[name] = (self._clock() + ttl_seconds, _dumps(value))

    def close(self) -> None:
        """Nothing to release."""


class SQLiteSharedState:
    """Shared state in the table ``shared_state`` of a SQLite file (the sessions' file
    by default): every worker process on the machine sees the same.

    The breakers read it on every source call, so each thread keeps its connection (a
    new one after ``fork``: a connection never crosses processes), and a success writes
    only when there is a failure to forget: reads in WAL mode wait for no writer.
    """

    def __init__(self, path: str | Path, *, clock: Callable[[], float] = time.time):
        self.path = Path(path)
        self._clock = clock
        self._local = threading.local()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        os.close(os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600))
        with self._connect() as conn:
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute(
                "CREATE TABLE IF NOT EXISTS shared_state ("
                " key TEXT PRIMARY KEY, value TEXT NOT NULL, expires_at REAL NOT NULL)"
            )

    @contextlib.contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        local = self._local
        if getattr(local, "pid", None) != os.getpid():
            local.conn = sqlite3.connect(
                self.path, timeout=2.0, isolation_level=None, check_same_thread=False
            )
            sqlite_settings.tune(local.conn)
            local.pid = os.getpid()
        try:
            yield local.conn
        except sqlite3.Error:
            local.pid = None  # a broken connection is opened again next time
            raise

    def _get(self, key: str) -> str | None:
        with self._connect() as conn:
            row = conn.execute(
                "SELECT value FROM shared_state WHERE key = ? AND expires_at > ?",
                (key, self._clock()),
            ).fetchone()
        return row[0] if row else None

    def increment(self, key: str) -> int:
        """See :class:`~borgersag.lookup.breaker.BreakerStore` (the counter lives a day)."""
        now = self._clock()
        with self._connect() as conn:
            row = conn.execute(
                "INSERT INTO shared_state (key, value, expires_at) VALUES (?, '1', ?)"
                " ON CONFLICT (key) DO UPDATE SET"
                " value = CASE WHEN expires_at <= ? THEN 1 ELSE CAST(value AS INTEGER) + 1 END,"
                " expires_at = excluded.expires_at RETURNING value",
                ("breaker:" + key, now + 86400, now),
            ).fetchone()
        return int(row[0])

    def reset(self, *keys: str) -> None:
        """See :class:`~borgersag.lookup.breaker.BreakerStore`."""
        names = [("breaker:" + k,) for k in keys]
        with self._connect() as conn:
            present = any(
                conn.execute("SELECT 1 FROM shared_state WHERE key = ?", name).fetchone()
                for name in names
            )
            if present:  # the usual success has nothing to forget: no write lock taken
                conn.executemany("DELETE FROM shared_state WHERE key = ?", names)

    def flag(self, key: str, seconds: float, *, only_if_absent: bool = False) -> bool:
        """See :class:`~borgersag.lookup.breaker.BreakerStore`."""
        now = self._clock()
        sql = (
            "INSERT INTO shared_state (key, value, expires_at) VALUES (?, '1', ?)"
            " ON CONFLICT (key) DO UPDATE SET value = '1', expires_at = excluded.expires_at"
        )
        params: tuple[Any, ...] = ("breaker:" + key, now + seconds)
        if only_if_absent:
            sql += " WHERE shared_state.expires_at <= ?"
            params += (now,)
        with self._connect() as conn:
            return conn.execute(sql, params).rowcount > 0

    def is_set(self, key: str) -> bool:
        """See :class:`~borgersag.lookup.breaker.BreakerStore`."""
        return self._get("breaker:" + key) is not None

    def count(self, key: str) -> int:
        """See :class:`~borgersag.lookup.breaker.BreakerStore`."""
        value = self._get("breaker:" + key)
        return int(value) if value is not None else 0

    def read(self, name: str) -> dict[str, Any] | None:
        """See :class:`SharedState`."""
        return _loads(self._get("value:" + name))

    def write(self, name: str, value: dict[str, Any], ttl_seconds: float) -> None:
        """See :class:`SharedState`."""
        with self._connect() as conn:
            conn.execute(
                "INSERT INTO shared_state (key, value, expires_at) VALUES (?, ?, ?)"
                " ON CONFLICT (key) DO UPDATE SET"
                " value = excluded.value, expires_at = excluded.expires_at",
                ("value:" + name, _dumps(value), self._clock() + ttl_seconds),
            )

    def close(self) -> None:
        """Close this thread's connection (others close when their thread ends)."""
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.pid = None


class RedisSharedState(RedisBreakerStore):
    """Shared state in Redis: breaker keys under ``<prefix>breaker:``, values under
    ``<prefix>value:``. ``client`` is a ``redis.Redis`` with short timeouts."""

    def __init__(self, client: Any, prefix: str = "borgersag:state:"):
        super().__init__(client, prefix + "breaker:")
        self.values_prefix = prefix + "value:"

    def read(self, name: str) -> dict[str, Any] | None:
        """See :class:`SharedState`."""
        return _loads(self.client.get(self.values_prefix + name))

    def write(self, name: str, value: dict[str, Any], ttl_seconds: float) -> None:
        """See :class:`SharedState`."""
        self.client.setex(self.values_prefix + name, max(1, math.ceil(ttl_seconds)), _dumps(value))

    def close(self) -> None:
        """Close the connection pool."""
        self.client.close()
