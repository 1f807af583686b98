"""A thread-safe TTL cache of per-source answers, without a stampede for one key.

``get_or_compute`` returns a fresh value from the cache or computes it; when several
threads ask for the same key at once, one computes and the rest wait for its answer.
Answers are kept past their freshness (up to ``stale_max_age``) so the engine can show a
*stale* answer, clearly marked, when the source fails.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Hashable
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any

from cachetools import TTLCache

__all__ = ["CacheHit", "ResultCache"]


@dataclass(frozen=True, slots=True)
class CacheHit:
    """A value with its age in seconds; ``cached`` is false when it was just computed."""

    value: Any
    age: float
    cached: bool


class ResultCache:
    """Per-key cache with freshness ``ttl`` and a stale window ``stale_max_age``."""

    def __init__(
        self,
        ttl: float,
        stale_max_age: float = 0.0,
        *,
        maxsize: int = 10_000,
        clock: Callable[[], float] = time.monotonic,
    ):
        self.ttl = ttl
        self.stale_max_age = max(stale_max_age, ttl)
        self._clock = clock
        keep = max(self.stale_max_age, 0.001)
        self._entries: TTLCache = TTLCache(maxsize=maxsize, ttl=keep, timer=clock)
        self._inflight: dict[Hashable, Future] = {}
        self._lock = threading.Lock()

    def get_or_compute(self, key: Hashable, compute: Callable[[], Any]) -> CacheHit:
        """A fresh cached value, or the result of ``compute()`` (shared by concurrent callers).

        Exceptions from ``compute`` propagate to every waiting caller and are not cached.
        """
        with self._lock:
            entry = self._entries.get(key)
            now = self._clock()
            if entry is not None and now - entry[1] < self.ttl:
                return CacheHit(entry[0], now - entry[1], True)
            future = self._inflight.get(key)
            leader = future is None
            if leader:
                future = Future()
                self._inflight[key] = future
        if not leader:
            return CacheHit(future.result(), 0.0, True)
        try:
            value = compute()
        except BaseException as exc:
            future.set_exception(exc)
            raise
        else:
            future.set_result(value)
            if self.ttl > 0:
                with self._lock:
                    self._entries[key] = (value, self._clock())
            return CacheHit(value, 0.0, False)
        finally:
            with self._lock:
                self._inflight.pop(key, None)

    def stale(self, key: Hashable) -> CacheHit | None:
        """The last value for ``key`` within the stale window, fresh or not, or ``None``."""
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return None
            return CacheHit(entry[0], self._clock() - entry[1], True)

    def clear(self) -> None:
        """Forget every cached value."""
        with self._lock:
            self._entries.clear()
