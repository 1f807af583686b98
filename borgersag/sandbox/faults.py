"""Fault knobs for one sandbox service: latency, hanging, failing with 500 or garbage,
and hostile data.

``hostile`` does not change the transport but the data: a service that honours it
serves what real systems send on a bad day — nulls, impossible dates, unknown status
names, markup in titles, thousands of cases, a wrong content type on some endpoints
(:mod:`borgersag.sandbox.esdh`; the ZGW service reads the same knob).

A :class:`Faults` object is shared by a service's request threads and changed at run
time (tests, the demo, ``PUT /_sandbox/faults``), so every read and write holds a lock.
A hung request waits on a :class:`threading.Event`, which :meth:`Faults.release` and
:meth:`Faults.close` set, so neither a test nor shutdown ever waits out a hang.
"""

from __future__ import annotations

import random
import threading
from collections.abc import Mapping
from dataclasses import asdict, dataclass, replace
from typing import Any

__all__ = ["FAIL_MODES", "FaultError", "FaultSettings", "Faults", "parse_fault_settings"]

FAIL_MODES = (None, "500", "garbage")
HANG_LIMIT_SECONDS = 600.0
MAX_LATENCY_MS = 600_000


class FaultError(ValueError):
    """A fault setting is invalid; ``field`` names it and ``str()`` says what was expected."""

    def __init__(self, field: str, expected: str):
        super().__init__(f"{field}: {expected}")
        self.field = field
        self.expected = expected


@dataclass(frozen=True, slots=True)
class FaultSettings:
    """The knob values. ``fail_rate`` is the share of requests that fail when ``fail`` is set."""

    latency_ms: int = 0
    hang: bool = False
    fail: str | None = None
    fail_rate: float = 1.0
    hostile: bool = False

    def as_dict(self) -> dict[str, Any]:
        """The settings as JSON-ready values."""
        return asdict(self)


FIELDS = tuple(FaultSettings.__dataclass_fields__)


def parse_fault_settings(
    raw: Mapping[str, Any], base: FaultSettings | None = None
) -> FaultSettings:
    """Validate ``raw`` (all keys optional) on top of ``base``; raise :class:`FaultError`."""
    if not isinstance(raw, Mapping):
        raise FaultError("faults", "expected an object with " + ", ".join(FIELDS))
    values = (base or FaultSettings()).as_dict()
    for name, value in raw.items():
        if name not in values:
            raise FaultError(str(name), f"unknown fault setting (known: {', '.join(FIELDS)})")
        values[name] = _check(name, value)
    return FaultSettings(**values)


def _check(name: str, value: Any) -> Any:
    if name == "latency_ms":
        if (
            isinstance(value, bool)
            or not isinstance(value, int)
            or not 0 <= value <= MAX_LATENCY_MS
        ):
            raise FaultError(name, f"expected an integer 0-{MAX_LATENCY_MS} (milliseconds)")
        return value
    if name in ("hang", "hostile"):
        if not isinstance(value, bool):
            raise FaultError(name, "expected true or false")
        return value
    if name == "fail":
        if value not in FAIL_MODES or isinstance(value, bool):
            raise FaultError(name, 'expected null, "500" or "garbage"')
        return value
    # fail_rate
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
        raise FaultError(name, "expected a number from 0 to 1")
    return float(value)


class Faults:
    """The live knobs of one service.

    The service calls :meth:`before_request` at the start of each request (except
    ``/_sandbox/*``); it sleeps, hangs or returns the failure to send instead of the
    real answer.
    """

    def __init__(self, settings: Mapping[str, Any] | FaultSettings | None = None, *, seed=None):
        if isinstance(settings, FaultSettings):
            self._settings = settings
        else:
            self._settings = parse_fault_settings(settings or {})
        # A reset makes the service healthy, at the latency it started with.
        self._healthy = FaultSettings(latency_ms=self._settings.latency_ms)
        self._lock = threading.Lock()
        self._released = threading.Event()
        self._closed = threading.Event()
        self._rng = random.Random(seed)
        self.hang_limit = HANG_LIMIT_SECONDS

    @property
    def settings(self) -> FaultSettings:
        """The current settings."""
        with self._lock:
            return self._settings

    def as_dict(self) -> dict[str, Any]:
        """The current settings as JSON-ready values."""
        return self.settings.as_dict()

    def update(self, raw: Mapping[str, Any] | None = None, **changes: Any) -> FaultSettings:
        """Change some knobs (validated; raises :class:`FaultError`). Turning ``hang`` off
        releases the requests that are hanging."""
        merged = {**(raw or {}), **changes}
        with self._lock:
            new = parse_fault_settings(merged, self._settings)
            if new.hang and not self._settings.hang:
                self._released = threading.Event()
            elif not new.hang:
                self._released.set()
            self._settings = new
            return new

    @property
    def hostile(self) -> bool:
        """Whether the service should serve hostile data now."""
        return self.settings.hostile

    def reset(self) -> FaultSettings:
        """Back to a healthy service with honest data, at the latency it started with;
        releases hanging requests."""
        with self._lock:
            self._released.set()
            self._settings = self._healthy
            return self._settings

    def release(self) -> None:
        """Let every request hanging now continue, and stop hanging new ones."""
        with self._lock:
            self._released.set()
            if self._settings.hang:
                self._settings = replace(self._settings, hang=False)

    def close(self) -> None:
        """The service is stopping: end hangs and sleeps at once."""
        self._closed.set()
        with self._lock:
            self._released.set()

    @property
    def closed(self) -> bool:
        """Whether :meth:`close` was called."""
        return self._closed.is_set()

    def before_request(self) -> tuple[str, int] | None:
        """Apply latency and hang, then decide whether to fail.

        Returns ``None`` to serve normally, ``("500", status)`` for a server error,
        ``("garbage", 200)`` for a non-JSON body, or ``("stopped", 503)`` when the
        service stopped while the request waited.
        """
        with self._lock:
            settings = self._settings
            released = self._released
        if settings.latency_ms and self._closed.wait(settings.latency_ms / 1000):
            return ("stopped", 503)
        if settings.hang:
            released.wait(self.hang_limit)
            if self._closed.is_set():
                return ("stopped", 503)
            settings = self.settings
        if settings.fail:
            with self._lock:
                hit = self._rng.random() < settings.fail_rate
            if hit:
                return (settings.fail, 500 if settings.fail == "500" else 200)
        return None
