"""A thread-safe TTL cache of per-source answers, without a stampede for one key.

``get_or_compute`` returns a fresh value from the cache or computes it; when several
threads ask for the same key at once, one computes and the rest wait for its answer.
Answers are kept past their freshness (up to ``stale_max_age``) so the engine can show a
*stale* answer, clearly marked, when the source fails.

The cache is bounded twice: by entries and by bytes (``max_bytes``, each value's size
estimated by ``sizeof`` — by default the length of its JSON form), so a few huge answers
cannot grow a worker's memory past the bound; the least recently used answers go first.
A second level shared by every instance (Redis) is
:class:`borgersag.lookup.shared_cache.SharedResultCache`, which keeps this one in front.
"""

from __future__ import annotations

import json
import sys
import threading
import time
from collections.abc import Callable, Hashable
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any

from cachetools import TTLCache

from borgersag.domain.serialize import to_json

__all__ = ["DEFAULT_MAX_BYTES", "CacheHit", "ResultCache", "estimate_size"]

DEFAULT_MAX_BYTES = 64 * 1024 * 1024
_ENTRY_OVERHEAD = 200  # bytes for the key, the tuple and the timestamp around a value


@dataclass(frozen=True, slots=True)
class CacheHit:
    """A value with its age in seconds; ``cached`` is false when it was just computed."""

    value: Any
    age: float
    cached: bool


def estimate_size(value: Any) -> int:
    """Roughly how many bytes ``value`` holds: the length of its JSON form (a model value,
    a list of them, plain JSON types), else what :func:`sys.getsizeof` says."""
    try:
        return len(json.dumps(to_json(value), separators=(",", ":"), default=str))
    except (TypeError, ValueError, RecursionError):
        return sys.getsizeof(value)


class ResultCache:
    """Per-key cache with freshness ``ttl`` and a stale window ``stale_max_age``, bounded
    by ``maxsize`` entries and ``max_bytes`` bytes."""

    def __init__(
        self,
        ttl: float,
        stale_max_age: float = 0.0,
        *,
        maxsize: int = 10_000,
        max_bytes: int = DEFAULT_MAX_BYTES,
        sizeof: Callable[[Any], int] = estimate_size,
        clock: Callable[[], float] = time.monotonic,
    ):
        self.ttl = ttl
        self.stale_max_age = max(stale_max_age, ttl)
        self.maxsize = max(1, maxsize)
        self.max_bytes = max(1, max_bytes)
        self._sizeof = sizeof
        self._clock = clock
        keep = max(self.stale_max_age, 0.001)
        self._entries: TTLCache = TTLCache(
            maxsize=self.max_bytes, ttl=keep, timer=clock, getsizeof=lambda entry: entry[2]
        )
        self._inflight: dict[Hashable, Future] = {}
        self._lock = threading.Lock()

    def get_or_compute(self, key: Hashable, compute: Callable[[], Any]) -> CacheHit:
        """A fresh cached value, or the result of ``compute()`` (shared by concurrent callers).

        Exceptions from ``compute`` propagate to every waiting caller and are not cached.
        """
        return self.get_or_load(key, lambda: CacheHit(compute(), 0.0, False))

    def get_or_load(self, key: Hashable, load: Callable[[], CacheHit]) -> CacheHit:
        """Like :meth:`get_or_compute`, but ``load`` says how old its value already is (a
        second cache level answering with a value fetched on another instance): the value
        is kept with that age, so it is not fresh here for longer than it is there."""
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
            hit = future.result()
            return CacheHit(hit.value, hit.age, True)
        try:
            hit = load()
        except BaseException as exc:
            future.set_exception(exc)
            raise
        else:
            future.set_result(hit)
            if self.ttl > 0 and hit.age < self.stale_max_age:
                self._keep(key, hit)
            return hit
        finally:
            with self._lock:
                self._inflight.pop(key, None)

    def _keep(self, key: Hashable, hit: CacheHit) -> None:
        size = self._sizeof(hit.value) + _ENTRY_OVERHEAD
        if size > self.max_bytes:
            return  # bigger than the whole cache: not kept, asked again next time
        with self._lock:
            self._entries.pop(key, None)
            while len(self._entries) >= self.maxsize:
                self._entries.popitem()  # the least recently used
            self._entries[key] = (hit.value, self._clock() - hit.age, size)

    def stale(self, key: Hashable) -> CacheHit | None:
        """The last value for ``key`` within the stale window, fresh or not, or ``None``."""
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return None
            return CacheHit(entry[0], self._clock() - entry[1], True)

    @property
    def size_bytes(self) -> int:
        """The estimated bytes of the values kept now."""
        with self._lock:
            self._entries.expire()
            return int(self._entries.currsize)

    @property
    def entry_count(self) -> int:
        """How many answers are kept now (not ``__len__``: an empty cache is still a
        cache, and ``cache or default`` must keep it)."""
        with self._lock:
            self._entries.expire()
            return len(self._entries)

    def clear(self) -> None:
        """Forget every cached value."""
        with self._lock:
            self._entries.clear()
