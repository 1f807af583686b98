"""Overviews kept server-side under an opaque token, so a key never enters a URL.

A lookup stores its :class:`~borgersag.domain.model.Overview` here and redirects to
``/oversigt/<token>``. The token is random (``secrets.token_urlsafe``), bound to the
user who made the lookup, and expires after ``overview_ttl_seconds``. The overview kept
is the one the user may see (:func:`borgersag.people.restrictions.restrict`), with the number of
cases left out and the purpose (formål) of the lookup, so later case views and
downloads under the token know both.

:class:`OverviewStore` keeps them in this process (``[sessions] backend = "memory"``:
tests, one process). :class:`SealedOverviewStore` keeps them where the sessions are —
the SQLite file every worker on the machine shares, or Redis, which every machine
shares — so an overview made on one worker opens on any other. There the overview,
personal data at rest, is encrypted (AES-GCM, with a key derived from
``portal.secret_key``), kept under a hash of the token and expires with its TTL; a value
that does not decrypt is treated as expired.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import os
import re
import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from borgersag.domain.model import Overview
from borgersag.domain.serialize import overview_from_dict, to_json
from borgersag.lookup.cache import estimate_size
from borgersag.lookup.ports import COMPLETE, StoredOverview

__all__ = ["OverviewStore", "SealedOverviewStore", "StoredOverview", "is_token"]

log = logging.getLogger(__name__)

_TOKEN_RE = re.compile(r"^[A-Za-z0-9_-]{20,64}$")


def is_token(text: str) -> bool:
    """Whether ``text`` has the shape of a token this store hands out."""
    return bool(_TOKEN_RE.match(text))


@dataclass(frozen=True, slots=True)
class _Entry:
    owner: str
    stored: StoredOverview
    expires: float
    size: int  # estimated bytes (the overview's JSON length)


class _Reads:
    """What both stores answer from :meth:`entry`."""

    def entry(self, token: str, owner: str) -> StoredOverview | None:
        """Everything kept for ``token`` if ``owner`` made it and it has not expired."""
        raise NotImplementedError

    def get(self, token: str, owner: str) -> Overview | None:
        """The overview for ``token`` if ``owner`` made it and it has not expired."""
        entry = self.entry(token, owner)
        return entry.overview if entry else None

    def purpose(self, token: str, owner: str) -> str | None:
        """The purpose given for the lookup behind ``token`` (for the audit log)."""
        entry = self.entry(token, owner)
        return entry.purpose if entry else None


class OverviewStore(_Reads):
    """A thread-safe TTL map from token to (owner, overview), bounded by entries and by
    bytes (``max_bytes``, each overview sized by ``sizeof``: its JSON length); the oldest
    go first. The use cases' :class:`~borgersag.lookup.ports.OverviewKeeper`."""

    def __init__(
        self,
        ttl_seconds: float,
        *,
        max_entries: int = 2000,
        max_bytes: int = 32 * 1024 * 1024,
        sizeof: Callable[[Any], int] = estimate_size,
        clock: Callable[[], float] = time.monotonic,
    ):
        self.ttl = ttl_seconds
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        self._sizeof = sizeof
        self._clock = clock
        self._entries: dict[str, _Entry] = {}
        self._bytes = 0
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
        return self.put_entry(owner, StoredOverview(overview, hidden_count, purpose))

    def put_entry(self, owner: str, stored: StoredOverview, *, token: str | None = None) -> str:
        """Keep ``stored`` for ``owner`` under ``token`` (a pending lookup's next state)
        or a new token; return the token."""
        token = token or secrets.token_urlsafe(24)
        size = self._sizeof(stored.overview)
        now = self._clock()
        with self._lock:
            self._purge(now)
            if token in self._entries:
                self._drop(token)
            while self._entries and (
                len(self._entries) >= self.max_entries or self._bytes + size > self.max_bytes
            ):
                # dicts keep insertion order: the first entry is the oldest one
                self._drop(next(iter(self._entries)))
            # one overview bigger than the bound is still kept, alone: its link must open
            self._entries[token] = _Entry(owner, stored, now + self.ttl, size)
            self._bytes += size
        return token

    @property
    def size_bytes(self) -> int:
        """The estimated bytes of the overviews kept now."""
        with self._lock:
            self._purge(self._clock())
            return self._bytes

    def _drop(self, token: str) -> None:
        self._bytes -= self._entries.pop(token).size

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
                self._drop(token)
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
            self._drop(token)


OPENED_BUDGET_BYTES = 4 * 1024 * 1024
"""How many bytes of sealed values :class:`_Opened` remembers the reading of, per process
(a couple of hundred typical overviews; what they read back as takes about as much again)."""


class _Opened:
    """Kept overviews this process has already decrypted and read, by record key and
    sealed value, least recently used first out, bounded by the values' bytes.

    A kept overview never changes, and reading one back (decrypting, parsing, rebuilding
    thousands of model values) was most of what showing it again cost. An entry is only
    found by presenting the value the store holds *now* under the same key, so an
    overview that expired or was removed there is never answered from here, and a value
    moved under another key still has to decrypt.
    """

    def __init__(self, budget_bytes: int) -> None:
        self.budget = budget_bytes
        self._lock = threading.Lock()
        self._entries: OrderedDict[tuple[str, str], tuple[str, StoredOverview]] = OrderedDict()
        self._bytes = 0

    def get(self, key: str, sealed: str) -> tuple[str, StoredOverview] | None:
        """The owner and entry read from ``sealed`` under ``key`` before, if remembered."""
        with self._lock:
            found = self._entries.get((key, sealed))
            if found is not None:
                self._entries.move_to_end((key, sealed))
            return found

    def put(self, key: str, sealed: str, owner: str, stored: StoredOverview) -> None:
        """Remember what ``sealed`` under ``key`` reads as (values over budget are not)."""
        size = len(key) + len(sealed)
        if size > self.budget:
            return
        with self._lock:
            if (key, sealed) in self._entries:
                return
            self._entries[(key, sealed)] = (owner, stored)
            self._bytes += size
            while self._bytes > self.budget:
                (old_key, old_sealed), _ = self._entries.popitem(last=False)
                self._bytes -= len(old_key) + len(old_sealed)


class SealedOverviewStore(_Reads):
    """The same store over a session store's records (SQLite or Redis), shared by every
    worker — and, with Redis, every machine — that uses it.

    ``records`` is a :class:`~borgersag.web.session_stores.SessionStore` (keys, JSON
    records, a TTL each). A record is ``{"sealed": base64(nonce || AES-GCM(json))}`` with
    the record's key as associated data, so a value copied under another token does not
    decrypt; the JSON holds the owner, the hidden count, the purpose and the overview
    (:func:`~borgersag.domain.serialize.to_json`). What this process has read back is
    remembered (:class:`_Opened`), so showing the same overview again costs one store read.
    """

    def __init__(
        self,
        records: Any,
        secret_key: str,
        ttl_seconds: float,
        *,
        opened_budget_bytes: int = OPENED_BUDGET_BYTES,
    ):
        self.records = records
        self.ttl = ttl_seconds
        self._opened = _Opened(opened_budget_bytes)
        key = HKDF(
            algorithm=hashes.SHA256(), length=32, salt=None, info=b"borgersag overview store"
        ).derive(secret_key.encode())
        self._aead = AESGCM(key)

    @staticmethod
    def record_key(token: str) -> str:
        """Where the overview of ``token`` is kept: a hash, so the store holds no token."""
        return "overview:" + hashlib.sha256(token.encode()).hexdigest()

    def put(
        self,
        owner: str,
        overview: Overview,
        *,
        hidden_count: int = 0,
        purpose: str | None = None,
    ) -> str:
        """Keep ``overview`` for ``owner``, encrypted, for the TTL; return the token."""
        return self.put_entry(owner, StoredOverview(overview, hidden_count, purpose))

    def put_entry(self, owner: str, stored: StoredOverview, *, token: str | None = None) -> str:
        """Keep ``stored`` for ``owner``, encrypted, for the TTL, under ``token`` (a
        pending lookup's next state replaces the last) or a new token; return the token."""
        token = token or secrets.token_urlsafe(24)
        key = self.record_key(token)
        data: dict[str, Any] = {
            "owner": owner,
            "hidden_count": stored.hidden_count,
            "purpose": stored.purpose,
            "overview": to_json(stored.overview),
        }
        if stored.state != COMPLETE:  # a complete entry keeps the shape it always had
            data.update(
                state=stored.state,
                waiting=[list(w) for w in stored.waiting],
                started=stored.started,
            )
        plain = json.dumps(data, separators=(",", ":")).encode()
        nonce = os.urandom(12)
        sealed = nonce + self._aead.encrypt(nonce, plain, key.encode())
        text = base64.b64encode(sealed).decode()
        self.records.save(key, {"sealed": text}, self.ttl)
        # the redirect that follows usually shows it here: no need to read it back
        self._opened.put(key, text, owner, stored)
        return token

    def entry(self, token: str, owner: str) -> StoredOverview | None:
        """Everything kept for ``token`` if ``owner`` made it and it has not expired."""
        if not is_token(token):
            return None
        key = self.record_key(token)
        record = self.records.load(key)
        if record is None:
            return None
        text = record.get("sealed")
        remembered = self._opened.get(key, text) if isinstance(text, str) else None
        if remembered is None:
            remembered = self._open(key, record)
            if remembered is None:
                return None
            self._opened.put(key, text, *remembered)
        made_by, stored = remembered
        return stored if secrets.compare_digest(made_by, owner) else None

    def _open(self, key: str, record: dict[str, Any]) -> tuple[str, StoredOverview] | None:
        try:
            sealed = base64.b64decode(record["sealed"], validate=True)
            plain = self._aead.decrypt(sealed[:12], sealed[12:], key.encode())
            data = json.loads(plain)
            stored = StoredOverview(
                overview_from_dict(data["overview"]),
                int(data["hidden_count"]),
                data["purpose"],
                str(data.get("state", COMPLETE)),
                tuple((str(n), str(t)) for n, t in data.get("waiting", ())),
                data.get("started"),
            )
            return str(data["owner"]), stored
        except (InvalidTag, ValueError, KeyError, TypeError):
            # another key (secret_key changed), a tampered value or an older shape
            log.warning("a kept overview could not be read; treated as expired")
            return None
