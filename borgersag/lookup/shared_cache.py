"""The second level of the result cache: the sources' answers in Redis, for every instance.

With ``[cache] backend = "redis"`` each process keeps its own
:class:`~borgersag.lookup.cache.ResultCache` in front, and behind it
:class:`SharedResultCache` asks Redis before it asks a source, so a lookup made on one
instance is answered from the cache on every other.

* **No key in clear.** An answer is kept under an HMAC-SHA-256 of (source, operation, key)
  with a key derived from ``portal.secret_key``: someone reading Redis finds no CPR number.
* **Encrypted, expiring.** The value is the answer's JSON (:mod:`borgersag.lookup.answers`)
  sealed with AES-GCM under a key derived (HKDF) from ``portal.secret_key``, with the Redis
  key as associated data, so a value moved under another key does not open. It expires
  after the stale window (``stale_max_age_seconds``): fresh for ``cache_ttl_seconds``, then
  only shown, marked stale, when the source fails. Errors are never kept.
* **Single-flight across instances.** The instance that misses takes a short lock on the
  key (``SET NX PX``) and asks the source; the others wait for its answer (up to their
  deadline) instead of asking too. A lock whose holder died expires; a holder that failed
  lets the lock go and the next one asks.
* **Redis is a help, not a need.** When Redis does not answer, lookups ask the sources as
  if there were no shared cache (said once in the log) and Redis is left alone for
  :data:`PAUSE_SECONDS`.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import os
import secrets
import threading
import time
from collections.abc import Callable, Hashable
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from borgersag.domain.keys import Key
from borgersag.lookup.answers import NotPortable, answer_from_json, answer_to_json
from borgersag.lookup.cache import CacheHit, ResultCache
from borgersag.sdk.errors import SourceTimeout
from borgersag.sdk.http import call_deadline

__all__ = ["PAUSE_SECONDS", "Sealer", "SharedResultCache"]

log = logging.getLogger(__name__)

PAUSE_SECONDS = 10.0
DEFAULT_PREFIX = "borgersag:cache:"
_POLL_SECONDS = 0.02
# Lets the lock go only if it is still ours (it may have expired and been taken since).
_RELEASE = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end"


def _derive(secret_key: str, info: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=info).derive(
        secret_key.encode()
    )


class Sealer:
    """AES-GCM with a key derived from ``secret_key`` for the result cache; the place a
    value is kept is its associated data."""

    def __init__(self, secret_key: str):
        self._aead = AESGCM(_derive(secret_key, b"borgersag result cache"))

    def seal(self, plain: bytes, where: str) -> bytes:
        """``nonce || ciphertext`` of ``plain``, bound to ``where``."""
        nonce = os.urandom(12)
        return nonce + self._aead.encrypt(nonce, plain, where.encode())

    def open(self, sealed: bytes, where: str) -> bytes:
        """The plaintext of :meth:`seal`; :class:`InvalidTag` for another key or place."""
        return self._aead.decrypt(sealed[:12], sealed[12:], where.encode())


class SharedResultCache:
    """A :class:`ResultCache` (``local``, the first level) in front of Redis (``client``,
    a ``redis.Redis`` with short timeouts), with the same interface as ``local``.

    ``lock_seconds`` bounds how long one instance's lock on a key lasts (a little longer
    than a lookup's deadline: the holder's call ends by then).
    """

    def __init__(
        self,
        local: ResultCache,
        client: Any,
        secret_key: str,
        *,
        prefix: str = DEFAULT_PREFIX,
        lock_seconds: float = 5.0,
        clock: Callable[[], float] = time.time,
    ):
        import redis

        self.local = local
        self.client = client
        self.prefix = prefix
        self.lock_seconds = lock_seconds
        self._clock = clock
        self._sealer = Sealer(secret_key)
        self._mac_key = _derive(secret_key, b"borgersag result cache keys")
        self._errors = (redis.exceptions.RedisError, OSError)
        self._back = 0.0  # time.monotonic() when a failed Redis is tried again
        self._warned = False
        self._state_lock = threading.Lock()

    @property
    def ttl(self) -> float:
        """How long an answer is fresh."""
        return self.local.ttl

    @property
    def stale_max_age(self) -> float:
        """How long an answer is kept to be shown stale."""
        return self.local.stale_max_age

    # -- the engine's interface ----------------------------------------------------------

    def get_or_compute(self, key: Hashable, compute: Callable[[], Any]) -> CacheHit:
        """A fresh answer from this process, else from Redis, else ``compute()`` — asked
        by one caller across every instance sharing the Redis."""
        return self.local.get_or_load(key, lambda: self._load(key, compute))

    def stale(self, key: Hashable) -> CacheHit | None:
        """The last answer for ``key`` within the stale window, from here or Redis."""
        hit = self.local.stale(key)
        if hit is not None or self._where(key) is None or not self._usable():
            return hit
        try:
            found = self._read(key)
        except self._errors as exc:
            self._down(exc)
            return None
        return CacheHit(found[0], found[1], True) if found else None

    def clear(self) -> None:
        """Forget this process's answers (Redis's expire with their TTL)."""
        self.local.clear()

    def redis_key(self, key: Hashable) -> str | None:
        """Where ``key``'s answer is kept in Redis (``None``: it is not shared)."""
        return self._where(key)

    # -- the second level ----------------------------------------------------------------

    def _where(self, key: Hashable) -> str | None:
        if not (isinstance(key, tuple) and len(key) == 3 and isinstance(key[2], Key)):
            return None
        source, op, subject = key
        text = "\x1f".join((str(source), str(op), subject.kind.value, subject.value))
        digest = hmac.new(self._mac_key, text.encode(), hashlib.sha256).hexdigest()
        return f"{self.prefix}{digest}"

    def _usable(self) -> bool:
        return self.local.ttl > 0 and time.monotonic() >= self._back

    def _down(self, exc: BaseException) -> None:
        with self._state_lock:
            self._back = time.monotonic() + PAUSE_SECONDS
            warn, self._warned = not self._warned, True
        if warn:
            log.warning(
                "the shared result cache (Redis) is unavailable (%s); sources are asked"
                " directly, Redis is tried again every %.0f s",
                type(exc).__name__,
                PAUSE_SECONDS,
            )

    def _up(self) -> None:
        if self._warned:
            with self._state_lock:
                self._warned = False
            log.warning("the shared result cache (Redis) answers again")

    def _read(self, key: Hashable) -> tuple[Any, float] | None:
        """(answer, age in seconds) kept in Redis for ``key``, or ``None``."""
        where = self._where(key)
        assert where is not None
        sealed = self.client.get(where)
        if sealed is None:
            return None
        try:
            data = json.loads(self._sealer.open(bytes(sealed), where))
            value = answer_from_json(key[1], data["answer"])  # type: ignore[index]
            age = max(0.0, self._clock() - float(data["at"]))
        except (InvalidTag, ValueError, KeyError, TypeError):
            # another secret_key, a tampered value or an older shape: a miss
            log.warning("a shared cache entry could not be read; asking the source")
            return None
        return value, age

    def _write(self, key: Hashable, value: Any) -> None:
        where = self._where(key)
        assert where is not None
        try:
            answer = answer_to_json(key[1], value)  # type: ignore[index]
        except NotPortable as exc:
            log.debug("answer not shared: %s", exc)
            return
        plain = json.dumps({"at": self._clock(), "answer": answer}, separators=(",", ":"))
        keep_ms = max(1, int(self.local.stale_max_age * 1000))
        self.client.set(where, self._sealer.seal(plain.encode(), where), px=keep_ms)

    def _load(self, key: Hashable, compute: Callable[[], Any]) -> CacheHit:
        """The local cache missed: Redis, or the source under the key's lock."""
        where = self._where(key)
        if where is None or not self._usable():
            return CacheHit(compute(), 0.0, False)
        try:
            found = self._read(key)
        except self._errors as exc:
            self._down(exc)
            return CacheHit(compute(), 0.0, False)
        self._up()
        if found is not None and found[1] < self.ttl:
            return CacheHit(found[0], found[1], True)
        lock = where + ":lock"
        token = secrets.token_hex(8)
        until = call_deadline.get() or time.monotonic() + self.lock_seconds
        while True:
            try:
                leader = self.client.set(lock, token, nx=True, px=int(self.lock_seconds * 1000))
            except self._errors as exc:
                self._down(exc)
                return CacheHit(compute(), 0.0, False)
            if leader:
                return self._lead(key, lock, token, compute)
            try:
                found = self._wait(key, lock, until)
            except self._errors as exc:
                self._down(exc)
                return CacheHit(compute(), 0.0, False)
            if found is not None:
                return CacheHit(found[0], found[1], True)
            if time.monotonic() >= until:
                raise SourceTimeout("Ventede forgæves på en anden servers opslag i kilden.")
            # the holder let go without an answer (it failed): this one asks

    def _lead(self, key: Hashable, lock: str, token: str, compute: Callable[[], Any]) -> CacheHit:
        # The holder before may have answered between this one's miss and its lock.
        try:
            found = self._read(key)
        except self._errors as exc:
            self._down(exc)
            found = None
        if found is not None and found[1] < self.ttl:
            self._release(lock, token)
            return CacheHit(found[0], found[1], True)
        try:
            value = compute()
        except BaseException:
            self._release(lock, token)
            raise
        try:
            self._write(key, value)
        except self._errors as exc:
            self._down(exc)
        self._release(lock, token)
        return CacheHit(value, 0.0, False)

    def _release(self, lock: str, token: str) -> None:
        try:
            self.client.eval(_RELEASE, 1, lock, token)
        except self._errors as exc:
            self._down(exc)  # the lock expires by itself

    def _wait(self, key: Hashable, lock: str, until: float) -> tuple[Any, float] | None:
        """Poll for a fresh answer while another instance holds ``lock``; ``None`` when
        the lock went without one, or at ``until``."""
        while time.monotonic() < until:
            time.sleep(min(_POLL_SECONDS, max(0.0, until - time.monotonic())))
            found = self._read(key)
            if found is not None and found[1] < self.ttl:
                return found
            if not self.client.exists(lock):
                found = self._read(key)  # written just before the lock went
                return found if found is not None and found[1] < self.ttl else None
        return None
