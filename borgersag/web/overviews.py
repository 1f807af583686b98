"""Overviews kept server-side under an opaque token, so a key never enters a URL.

A lookup stores its :class:`~borgersag.domain.model.Overview` here and redirects to
``/oversigt/<token>``. The token is random (``secrets.token_urlsafe``), bound to the
user who made the lookup, and expires after ``overview_ttl_seconds``. The overview kept
is the one the user may see (:func:`borgersag.people.restrictions.restrict`), with the number of
cases left out and the purpose (formål) of the lookup, so later case views and
downloads under the token know both. This in-memory store suits one process (the demo,
a laptop); several instances need a shared store with the same methods.
"""

from __future__ import annotations

import re
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from borgersag.domain.model import Overview
from borgersag.lookup.ports import StoredOverview

__all__ = ["OverviewStore", "StoredOverview", "is_token"]

_TOKEN_RE = re.compile(r"^[A-Za-z0-9_-]{20,64}$")


def is_token(text: str) -> bool:
    """Whether ``text`` has the shape of a token this store hands out."""
    return bool(_TOKEN_RE.match(text))


@dataclass(frozen=True, slots=True)
class _Entry:
    owner: str
    stored: StoredOverview
    expires: float


class OverviewStore:
    """A thread-safe, size-bounded TTL map from token to (owner, overview); the use
    cases' :class:`~borgersag.lookup.ports.OverviewKeeper`."""

    def __init__(
        self,
        ttl_seconds: float,
        *,
        max_entries: int = 2000,
        clock: Callable[[], float] = time.monotonic,
    ):
        self.ttl = ttl_seconds
        self.max_entries = max_entries
        self._clock = clock
        self._entries: dict[str, _Entry] = {}
        self._lock = threading.Lock()

    def put(
        self,
        owner: str,
        overview: Overview,
        *,
        hidden_count: int = 0,
        purpose: str | None = None,
    ) -> str:
        """Keep ``overview`` for ``owner``; return the new opaque token."""
        stored = StoredOverview(overview, hidden_count, purpose)
        token = secrets.token_urlsafe(24)
        now = self._clock()
        with self._lock:
            self._purge(now)
            while len(self._entries) >= self.max_entries:
                # dicts keep insertion order: the first entry is the oldest one
                self._entries.pop(next(iter(self._entries)))
            self._entries[token] = _Entry(owner, stored, now + self.ttl)
        return token

    def get(self, token: str, owner: str) -> Overview | None:
        """The overview for ``token`` if ``owner`` made it and it has not expired."""
        entry = self.entry(token, owner)
        return entry.overview if entry else None

    def purpose(self, token: str, owner: str) -> str | None:
        """The purpose given for the lookup behind ``token`` (for the audit log)."""
        entry = self.entry(token, owner)
        return entry.purpose if entry else None

    def entry(self, token: str, owner: str) -> StoredOverview | None:
        """Everything kept for ``token`` if ``owner`` made it and it has not expired."""
        if not is_token(token):
            return None
        now = self._clock()
        with self._lock:
            entry = self._entries.get(token)
            if entry is None:
                return None
            if entry.expires <= now:
                del self._entries[token]
                return None
        if not secrets.compare_digest(entry.owner, owner):
            return None
        return entry.stored

    def __len__(self) -> int:
        with self._lock:
            self._purge(self._clock())
            return len(self._entries)

    def _purge(self, now: float) -> None:
        expired = [t for t, e in self._entries.items() if e.expires <= now]
        for token in expired:
            del self._entries[token]
