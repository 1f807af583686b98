"""Circuit breakers: a source that keeps failing is paused instead of asked in vain.

After ``threshold`` failed calls in a row (timeouts and errors worth retrying — not a
404 or a record the connector could not read) a source's breaker *opens*: for
``open_seconds`` the engine does not ask it and reports ``circuit_open`` at once. Then it
is *half-open*: one trial call goes through (the others are still refused); its success
closes the breaker, its failure opens it again.

:class:`Breakers` is that rule over a tiny store of counters and keys that expire:
:class:`MemoryBreakerStore` for one process, :class:`RedisBreakerStore` when the session
store is Redis, so every worker and machine agrees (the web layer wires that one). A store
that fails lets calls through: a broken breaker must not stop lookups (and it is left
alone for ``STORE_PAUSE_SECONDS``, so a Redis that hangs is not waited for on every call).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any, Protocol

__all__ = ["BreakerStore", "Breakers", "MemoryBreakerStore", "RedisBreakerStore"]

log = logging.getLogger(__name__)

STORE_PAUSE_SECONDS = 10.0


class BreakerStore(Protocol):
    """Counters and flags that expire; keys are short strings."""

    def increment(self, key: str) -> int:
        """Add one to the counter ``key`` (created at 0) and return it."""

    def reset(self, *keys: str) -> None:
        """Forget ``keys``."""

    def flag(self, key: str, seconds: float, *, only_if_absent: bool = False) -> bool:
        """Set ``key`` for ``seconds``; with ``only_if_absent`` only when it is not set
        (the return says whether it was set)."""

    def is_set(self, key: str) -> bool:
        """Whether the flag ``key`` is set and has not expired."""

    def count(self, key: str) -> int:
        """The counter ``key`` (0 when absent)."""


class Breakers:
    """One breaker per source name, all kept in ``store``; ``threshold`` 0 turns them off."""

    def __init__(
        self,
        store: BreakerStore | None = None,
        *,
        threshold: int = 5,
        open_seconds: float = 30.0,
        trial_seconds: float = 10.0,
    ):
        self.store = store if store is not None else MemoryBreakerStore()
        self.threshold = threshold
        self.open_seconds = open_seconds
        self.trial_seconds = trial_seconds  # a trial call that never reports frees its turn
        self._store_back = 0.0  # time.monotonic() when a failed store is tried again

    def _usable(self) -> bool:
        return self.threshold > 0 and time.monotonic() >= self._store_back

    def _store_failed(self, exc: Exception) -> None:
        if time.monotonic() >= self._store_back:
            log.warning(
                "circuit breaker store unavailable (%s); calls go through for %.0f s",
                type(exc).__name__,
                STORE_PAUSE_SECONDS,
            )
        self._store_back = time.monotonic() + STORE_PAUSE_SECONDS

    def allow(self, source: str) -> bool:
        """Whether to call ``source`` now: closed, or half-open and this is the trial."""
        if not self._usable():
            return True
        try:
            if self.store.is_set(f"{source}:open"):
                return False
            if self.store.count(f"{source}:failures") < self.threshold:
                return True
            return self.store.flag(f"{source}:trial", self.trial_seconds, only_if_absent=True)
        except Exception as exc:
            self._store_failed(exc)
            return True

    def is_open(self, source: str) -> bool:
        """Whether ``source`` is paused now (for the operations page)."""
        if not self._usable():
            return False
        try:
            return self.store.is_set(f"{source}:open")
        except Exception as exc:
            self._store_failed(exc)
            return False

    def succeeded(self, source: str) -> None:
        """A call answered: the breaker closes."""
        if not self._usable():
            return
        try:
            self.store.reset(f"{source}:failures", f"{source}:trial")
        except Exception as exc:
            self._store_failed(exc)

    def failed(self, source: str) -> None:
        """A call failed in a way that counts: the breaker opens at the threshold."""
        if not self._usable():
            return
        try:
            failures = self.store.increment(f"{source}:failures")
            if failures >= self.threshold:
                self.store.flag(f"{source}:open", self.open_seconds)
                self.store.reset(f"{source}:trial")
                if failures == self.threshold:
                    log.warning(
                        "circuit breaker for %s opened after %d failures in a row",
                        source,
                        failures,
                    )
        except Exception as exc:
            self._store_failed(exc)


class MemoryBreakerStore:
    """Breaker state in this process."""

    def __init__(self, *, clock: Callable[[], float] = time.monotonic):
        self._clock = clock
        self._lock = threading.Lock()
        self._counts: dict[str, int] = {}
        self._flags: dict[str, float] = {}

    def increment(self, key: str) -> int:
        """See :class:`BreakerStore`."""
        with self._lock:
            self._counts[key] = self._counts.get(key, 0) + 1
            return self._counts[key]

    def reset(self, *keys: str) -> None:
        """See :class:`BreakerStore`."""
        with self._lock:
            for key in keys:
                self._counts.pop(key, None)
                self._flags.pop(key, None)

    def flag(self, key: str, seconds: float, *, only_if_absent: bool = False) -> bool:
        """See :class:`BreakerStore`."""
        with self._lock:
            now = self._clock()
            if only_if_absent and self._flags.get(key, now) > now:
                return False
            self._flags[key] = now + seconds
            return True

    def is_set(self, key: str) -> bool:
        """See :class:`BreakerStore`."""
        with self._lock:
            return self._flags.get(key, 0.0) > self._clock()

    def count(self, key: str) -> int:
        """See :class:`BreakerStore`."""
        with self._lock:
            return self._counts.get(key, 0)


class RedisBreakerStore:
    """Breaker state in Redis, shared by every worker and machine using it.

    ``client`` is a ``redis.Redis`` (give it short socket timeouts: the store is read on
    every call). The failure counter expires after a day, so a source that fails now and
    then over months is not paused for it.
    """

    def __init__(self, client: Any, prefix: str = "borgersag:breaker:"):
        self.client = client
        self.prefix = prefix

    def increment(self, key: str) -> int:
        """See :class:`BreakerStore`."""
        pipe = self.client.pipeline()
        pipe.incr(self.prefix + key)
        pipe.expire(self.prefix + key, 86400)
        return int(pipe.execute()[0])

    def reset(self, *keys: str) -> None:
        """See :class:`BreakerStore`."""
        self.client.delete(*(self.prefix + k for k in keys))

    def flag(self, key: str, seconds: float, *, only_if_absent: bool = False) -> bool:
        """See :class:`BreakerStore`."""
        done = self.client.set(
            self.prefix + key, "1", px=max(1, int(seconds * 1000)), nx=only_if_absent
        )
        return bool(done)

    def is_set(self, key: str) -> bool:
        """See :class:`BreakerStore`."""
        return bool(self.client.exists(self.prefix + key))

    def count(self, key: str) -> int:
        """See :class:`BreakerStore`."""
        value = self.client.get(self.prefix + key)
        return int(value) if value is not None else 0
