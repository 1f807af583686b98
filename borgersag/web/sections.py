"""The web layer's config sections: ``[sessions]``, ``[limits]``, ``[metrics]`` and their checks.

Registered in the entry-point group ``borgersag.config_sections`` (see
:mod:`borgersag.config.section`); read back with ``config.section(SESSIONS)`` and
``config.section(LIMITS)``. Kept apart from the session machinery and the limiter so
that validating a config imports neither.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from borgersag.config.section import Section, SectionContext, from_table
from borgersag.sdk.errors import ConfigError
from borgersag.sdk.settings import Setting, validate_table

__all__ = [
    "LIMITS",
    "LIMIT_SETTINGS",
    "METRICS",
    "METRICS_SETTINGS",
    "SESSIONS",
    "SESSION_SETTINGS",
    "LimitSettings",
    "MetricsSettings",
    "SessionSettings",
    "validate_limit_settings",
    "validate_metrics_settings",
    "validate_session_settings",
]

BACKENDS = ("sqlite", "redis", "memory")
COOKIE_SECURE_MODES = ("auto", "always", "never")

SESSION_SETTINGS: tuple[Setting, ...] = (
    Setting(
        "backend",
        str,
        "Where sessions are kept: 'sqlite' (a file on this machine; fine for one server"
        " with several workers), 'redis' (needed when several servers share the load) or"
        " 'memory' (tests only: lost on restart, not shared between workers).",
        default="sqlite",
    ),
    Setting(
        "path",
        str,
        "The SQLite file for sessions. Empty: borgersag-sessions.sqlite3 in a private"
        " folder under the system's temporary directory (sessions end when it is"
        " cleaned, e.g. at reboot).",
        default="",
    ),
    Setting(
        "redis_url",
        str,
        "The Redis server for sessions, e.g. redis://127.0.0.1:6379/0 (rediss:// for TLS)."
        " May hold a password: use ${ENV_VAR}.",
        default="redis://127.0.0.1:6379/0",
        secret=True,
    ),
    Setting(
        "idle_minutes",
        float,
        "Sign a person out after this many minutes without any request.",
        default=15.0,
    ),
    Setting(
        "warning_minutes",
        float,
        "Show the 'Du bliver snart logget ud' warning this many minutes before the idle"
        " sign-out. Must be less than idle_minutes; 0 shows no warning.",
        default=2.0,
    ),
    Setting(
        "absolute_hours",
        float,
        "Sign a person out this many hours after they signed in, even if they are active.",
        default=8.0,
    ),
    Setting(
        "cookie_name",
        str,
        "Name of the session cookie (letters, digits, - and _).",
        default="borgersag_session",
    ),
    Setting(
        "cookie_secure",
        str,
        "When the cookie is marked Secure (sent over HTTPS only): 'auto' (when the request"
        " came over HTTPS; behind a proxy that terminates TLS the proxy must say so),"
        " 'always' or 'never'.",
        default="auto",
    ),
)

_COOKIE_NAME_RE = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_REDIS_SCHEMES = ("redis", "rediss", "unix")


@dataclass(frozen=True, slots=True)
class SessionSettings:
    """The validated ``[sessions]`` table (see :data:`SESSION_SETTINGS`)."""

    backend: str
    path: str
    redis_url: str = field(repr=False)
    idle_minutes: float
    warning_minutes: float
    absolute_hours: float
    cookie_name: str
    cookie_secure: str


def validate_session_settings(raw: Any, file: str) -> SessionSettings:
    """Validate the ``[sessions]`` table; raise :class:`ConfigError` naming the bad key."""
    settings = validate_table(SESSION_SETTINGS, raw, file, "sessions.")
    if settings["backend"] not in BACKENDS:
        raise ConfigError(
            file, "sessions.backend", f"one of {', '.join(BACKENDS)}, got {settings['backend']!r}"
        )
    if settings["idle_minutes"] == 0:
        raise ConfigError(file, "sessions.idle_minutes", "a number of minutes greater than 0")
    if settings["absolute_hours"] == 0:
        raise ConfigError(file, "sessions.absolute_hours", "a number of hours greater than 0")
    if settings["warning_minutes"] >= settings["idle_minutes"]:
        raise ConfigError(
            file,
            "sessions.warning_minutes",
            f"less than sessions.idle_minutes ({settings['idle_minutes']:g})",
        )
    if settings["cookie_secure"] not in COOKIE_SECURE_MODES:
        raise ConfigError(
            file,
            "sessions.cookie_secure",
            f"one of {', '.join(COOKIE_SECURE_MODES)}, got {settings['cookie_secure']!r}",
        )
    if not _COOKIE_NAME_RE.fullmatch(settings["cookie_name"]):
        raise ConfigError(
            file, "sessions.cookie_name", "1 to 64 letters, digits, - or _ (a cookie name)"
        )
    if settings["backend"] == "redis" and urlsplit(settings["redis_url"]).scheme not in (
        _REDIS_SCHEMES
    ):
        raise ConfigError(
            file, "sessions.redis_url", "a URL starting with redis://, rediss:// or unix://"
        )
    return SessionSettings(**settings)


LIMIT_SETTINGS: tuple[Setting, ...] = (
    Setting(
        "login_per_minute",
        int,
        "Logins a client address may start (and complete) per minute. 0 turns the limit off.",
        default=20,
    ),
    Setting(
        "lookups_per_minute",
        int,
        "Fan-outs (requests that ask every source: lookups by form and API, Mit skrivebord,"
        " Mine sager and its pages) one signed-in user may make per minute. 0 turns it off.",
        default=30,
    ),
    Setting(
        "storage_url",
        str,
        "Where the counters live: 'memory://' (this process) or a Redis URL such as"
        " 'redis://127.0.0.1:6379/0' (shared by every worker and machine; use ${ENV_VAR}"
        " for a password).",
        default="memory://",
        secret=True,
    ),
)


@dataclass(frozen=True, slots=True)
class LimitSettings:
    """The validated ``[limits]`` table (see :data:`LIMIT_SETTINGS`)."""

    login_per_minute: int
    lookups_per_minute: int
    storage_url: str = field(repr=False)


def validate_limit_settings(raw: Any, file: str) -> LimitSettings:
    """Validate the ``[limits]`` table; raise :class:`ConfigError` naming the bad key."""
    limits = validate_table(LIMIT_SETTINGS, raw, file, "limits.")
    url = limits["storage_url"]
    if not url.startswith(("memory://", "redis://", "rediss://")):
        raise ConfigError(file, "limits.storage_url", "'memory://' or a redis:// or rediss:// URL")
    return from_table(LimitSettings, limits)


def _sessions(raw: Any, context: SectionContext) -> SessionSettings:
    return validate_session_settings({} if raw is None else raw, context.file)


def _limits(raw: Any, context: SectionContext) -> LimitSettings:
    return validate_limit_settings({} if raw is None else raw, context.file)


SESSIONS: Section[SessionSettings] = Section("sessions", _sessions, SESSION_SETTINGS)
LIMITS: Section[LimitSettings] = Section("limits", _limits, LIMIT_SETTINGS)


METRICS_SETTINGS: tuple[Setting, ...] = (
    Setting(
        "enabled",
        bool,
        "Serve Prometheus metrics at /metrics. Off: /metrics is 404.",
        default=False,
    ),
    Setting(
        "allow_from",
        list,
        "The client addresses or networks (CIDR) that may read /metrics. The address is"
        " the one portal.trusted_proxies yields: behind a proxy on the same machine, set"
        " trusted_proxies, or every client looks like 127.0.0.1.",
        default=["127.0.0.1/32", "::1/128"],
    ),
    Setting(
        "token",
        str,
        "When set, a scrape must also send 'Authorization: Bearer <token>'; use ${ENV_VAR}.",
        default="",
        secret=True,
    ),
)


@dataclass(frozen=True, slots=True)
class MetricsSettings:
    """The validated ``[metrics]`` table (see :data:`METRICS_SETTINGS`)."""

    enabled: bool
    allow_from: tuple[str, ...]
    token: str = field(repr=False)


def validate_metrics_settings(raw: Any, file: str) -> MetricsSettings:
    """Validate the ``[metrics]`` table; raise :class:`ConfigError` naming the bad key."""
    import ipaddress

    metrics = validate_table(METRICS_SETTINGS, raw, file, "metrics.")
    for entry in metrics["allow_from"]:
        try:
            ipaddress.ip_network(entry, strict=False)
        except (TypeError, ValueError):
            raise ConfigError(
                file, "metrics.allow_from", "addresses or networks like '10.0.0.0/8'"
            ) from None
    return from_table(MetricsSettings, metrics)


def _metrics(raw: Any, context: SectionContext) -> MetricsSettings:
    return validate_metrics_settings({} if raw is None else raw, context.file)


METRICS: Section[MetricsSettings] = Section("metrics", _metrics, METRICS_SETTINGS)
