"""The ``[portal]`` table: the app's own core settings (the municipality, the engine's limits)."""

from __future__ import annotations

import ipaddress
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from borgersag.config.section import from_table
from borgersag.sdk.errors import ConfigError
from borgersag.sdk.settings import Setting, validate_table

__all__ = ["PORTAL_SETTINGS", "PortalSettings", "build_portal"]

PORTAL_SETTINGS: tuple[Setting, ...] = (
    Setting(
        "municipality",
        str,
        "Name of the municipality shown in the header.",
        default="Sandkasse Kommune",
    ),
    Setting(
        "deadline_seconds",
        float,
        "Overall deadline for one overview: sources that have not answered by then"
        " are shown as 'svarede ikke i tide'.",
        default=4.0,
    ),
    Setting(
        "source_timeout_seconds",
        float,
        "Default per-source HTTP timeout (a source may set its own timeout_seconds).",
        default=3.0,
    ),
    Setting(
        "cache_ttl_seconds",
        float,
        "How long a source's answer for a key is reused without asking again.",
        default=60.0,
    ),
    Setting(
        "stale_max_age_seconds",
        float,
        "How old a cached answer may be to be shown (marked stale) when the source"
        " fails. 0 turns stale answers off.",
        default=3600.0,
    ),
    Setting(
        "max_workers",
        int,
        "Ignored (kept so older configs load): the fan-out's threads are the sum of the"
        " sources' max_concurrent, so one source can never take them all.",
        default=32,
    ),
    Setting(
        "trusted_proxies",
        int,
        "How many reverse proxies in front of the portal add X-Forwarded-For, -Proto and"
        " -Host: the client's address (for the login limits), scheme and host are read"
        " through that many; 0 (no proxy) trusts none of those headers.",
        default=0,
    ),
    Setting(
        "trusted_hosts",
        list,
        'The host names the portal answers to (e.g. ["sager.kommune.dk"]; ".kommune.dk"'
        " also takes its subdomains). A request with any other Host header gets a 400"
        " page, so no link or redirect is ever built from a host a client chose. Outside"
        " the sandbox this or [auth] public_url (whose host is always trusted) is"
        " required. Empty in the sandbox: any host.",
        default=[],
    ),
    Setting(
        "log_format",
        str,
        "How log lines are written: 'text' (for people) or 'json' (one JSON object per"
        " line with time, level, logger, message and request_id, for log collectors).",
        default="text",
    ),
    Setting(
        "breaker_failures",
        int,
        "Circuit breaker: after this many failed calls in a row (timeouts, errors worth"
        " retrying) a source is paused; 0 turns the breaker off.",
        default=5,
    ),
    Setting(
        "breaker_open_seconds",
        float,
        "How long a paused source is not asked; then one trial call decides whether it"
        " is asked again.",
        default=30.0,
    ),
    Setting(
        "document_deadline_seconds",
        float,
        "Deadline for one document download (the case page and the operations page have"
        " deadline_seconds).",
        default=20.0,
    ),
    Setting(
        "secret_key",
        str,
        "Flask secret key; use ${ENV_VAR}. Empty: a random key per start (sessions"
        " end on restart).",
        default="",
        secret=True,
    ),
    Setting(
        "overview_ttl_seconds",
        float,
        "How long an overview's opaque address stays valid.",
        default=1800.0,
    ),
    Setting(
        "purposes",
        list,
        "The purposes (formål) a caseworker can choose on the lookup form; they are kept"
        " with the overview for the audit log. Empty: the form asks for none.",
        default=[
            "Sagsbehandling",
            "Borgerhenvendelse",
            "Partshøring eller aktindsigt",
            "Kontrol og opfølgning",
        ],
    ),
    Setting(
        "purpose_required",
        bool,
        "Whether a lookup must name one of the purposes.",
        default=False,
    ),
)


@dataclass(frozen=True, slots=True)
class PortalSettings:
    """The validated ``[portal]`` table (see :data:`PORTAL_SETTINGS`)."""

    municipality: str
    deadline_seconds: float
    source_timeout_seconds: float
    cache_ttl_seconds: float
    stale_max_age_seconds: float
    max_workers: int
    trusted_proxies: int
    trusted_hosts: tuple[str, ...]
    log_format: str
    breaker_failures: int
    breaker_open_seconds: float
    document_deadline_seconds: float
    secret_key: str = field(repr=False)
    overview_ttl_seconds: float
    purposes: tuple[str, ...]
    purpose_required: bool

    def as_table(self) -> dict[str, Any]:
        """The settings as a ``[portal]`` table that validates again to the same value."""
        table = {s.name: getattr(self, s.name) for s in PORTAL_SETTINGS}
        return {
            **table,
            "purposes": list(self.purposes),
            "trusted_hosts": list(self.trusted_hosts),
        }


def build_portal(raw: Any, file: str) -> PortalSettings:
    """Validate ``[portal]`` (``None``: absent); an empty ``secret_key`` becomes a random one."""
    portal = validate_table(PORTAL_SETTINGS, {} if raw is None else raw, file, "portal.")
    if not portal["secret_key"]:
        portal["secret_key"] = secrets.token_hex(32)
    portal["purposes"] = _purposes(portal, file)
    portal["trusted_hosts"] = _trusted_hosts(portal, file)
    if portal["log_format"] not in ("text", "json"):
        raise ConfigError(file, "portal.log_format", "'text' or 'json'")
    if not 0 <= portal["trusted_proxies"] <= 5:
        raise ConfigError(file, "portal.trusted_proxies", "an integer 0-5 (the proxies in front)")
    return from_table(PortalSettings, portal)


_HOST_RE = re.compile(
    r"^\.?[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$"
)


def _trusted_hosts(portal: Mapping[str, Any], file: str) -> tuple[str, ...]:
    """``portal.trusted_hosts`` as lower-case host names (a leading ``.``: subdomains too)."""
    hosts = []
    for host in portal["trusted_hosts"]:
        name = host.strip().lower() if isinstance(host, str) else ""
        if not _HOST_RE.fullmatch(name) and not _is_address(name):
            raise ConfigError(
                file,
                "portal.trusted_hosts",
                "host names like 'sager.kommune.dk' (no scheme, port or path)",
            )
        hosts.append(name)
    return tuple(hosts)


def _is_address(name: str) -> bool:
    try:
        ipaddress.ip_address(name.strip("[]"))
    except ValueError:
        return False
    return True


def _purposes(portal: Mapping[str, Any], file: str) -> list[str]:
    """``portal.purposes`` trimmed and checked: no blanks, no repeats, one when required."""
    purposes = [p.strip() for p in portal["purposes"]]
    if any(not p for p in purposes):
        raise ConfigError(file, "portal.purposes", "purposes that are not empty")
    if len(set(purposes)) != len(purposes):
        raise ConfigError(file, "portal.purposes", "each purpose only once")
    if portal["purpose_required"] and not purposes:
        raise ConfigError(
            file, "portal.purposes", "at least one purpose when purpose_required is true"
        )
    return purposes
