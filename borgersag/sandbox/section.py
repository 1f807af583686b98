"""The ``[sandbox]`` config section: present when the sandbox municipality should run.

Kept apart from :mod:`borgersag.sandbox.runner` so that validating a config never imports
the sandbox services. Registered in the entry-point group ``borgersag.config_sections``;
``config.section(SANDBOX)`` is ``None`` when the files have no ``[sandbox]`` table.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from borgersag.config.section import Section, SectionContext, frozen_mapping
from borgersag.sandbox.faults import FaultError, FaultSettings, parse_fault_settings
from borgersag.sdk.errors import ConfigError
from borgersag.sdk.settings import Setting

__all__ = [
    "DEFAULT_LATENCY_MS",
    "DEFAULT_SEED",
    "LOOPBACK",
    "NO_LATENCY",
    "SANDBOX",
    "SANDBOX_SETTINGS",
    "SERVICE_NAMES",
    "SandboxSettings",
    "ServiceSettings",
    "validate_sandbox_settings",
]

SERVICE_NAMES = (
    "esdh",
    "ejerfortegnelse",
    "byggesag",
    "mitid",
    "medarbejderlogin",
    "zgw",
    "momentum",
    "os2mo",
    "cpr",
    "smtp",
    "nemsms",
    "digitalpost",
)
"""The sandbox services, in start order (:data:`borgersag.sandbox.runner.SERVICES`)."""
DEFAULT_LATENCY_MS = {
    "esdh": 60,
    "ejerfortegnelse": 40,
    "byggesag": 50,
    "mitid": 30,
    "medarbejderlogin": 30,
    "zgw": 80,
    "momentum": 50,
    "os2mo": 40,
    "cpr": 30,
    "smtp": 20,
    "nemsms": 90,
    "digitalpost": 100,
}
"""Each service's latency per request unless configured: tens of milliseconds, as real
systems answer (an Open Zaak call takes 40-500 ms), so N+1 patterns show in the demo and
the benchmarks. Tests that need speed set ``latency_ms = 0`` (see :data:`NO_LATENCY`)."""
NO_LATENCY = {"services": {name: {"latency_ms": 0} for name in SERVICE_NAMES}}
"""A ``[sandbox]`` table with every service at zero latency, for unit tests."""
LOOPBACK = ("127.0.0.1", "::1", "localhost")
DEFAULT_SEED = 2026

SANDBOX_SETTINGS: tuple[Setting, ...] = (
    Setting("seed", int, "Seed of the data generator.", default=DEFAULT_SEED),
    Setting("host", str, "Loopback address the services listen on.", default="127.0.0.1"),
    Setting(
        "smtp_port",
        int,
        "SMTP port of the e-mail catcher (services.smtp.port is its web page; 0: any free port).",
        default=0,
    ),
    Setting("services.<name>.port", int, "Port of the service (0: any free port).", default=0),
    Setting(
        "services.<name>.latency_ms",
        int,
        "Latency added to every request (default: 30-80 ms by service; 0 for none).",
        default=None,
    ),
    Setting("services.<name>.hang", bool, "Requests hang until released.", default=False),
    Setting("services.<name>.fail", str, "'500' or 'garbage'; none: healthy.", default=None),
    Setting("services.<name>.fail_rate", float, "Share of requests that fail.", default=1.0),
    Setting(
        "services.<name>.hostile",
        bool,
        "Serve hostile data: nulls, impossible dates, unknown statuses, markup, thousands"
        " of cases, wrong content types (esdh, zgw).",
        default=False,
    ),
)
"""The keys of ``[sandbox]`` as documented; :func:`validate_sandbox_settings` checks them."""


@dataclass(frozen=True, slots=True)
class ServiceSettings:
    """One sandbox service: its port (0: any free one) and its starting fault knobs."""

    port: int
    faults: FaultSettings


@dataclass(frozen=True, slots=True)
class SandboxSettings:
    """The validated ``[sandbox]`` table: every service of :data:`SERVICE_NAMES`."""

    seed: int
    host: str
    services: Mapping[str, ServiceSettings]
    smtp_port: int = 0


def validate_sandbox_settings(
    raw: Mapping[str, Any] | None, file: str = "<config>"
) -> SandboxSettings:
    """Check the ``[sandbox]`` table and fill in defaults (port 0 picks a free port)."""
    raw = raw or {}
    if not isinstance(raw, Mapping):
        raise ConfigError(file, "sandbox", "expected a table")
    for name in raw:
        if name not in ("seed", "host", "services", "smtp_port"):
            raise ConfigError(
                file, f"sandbox.{name}", "unknown setting (known: host, seed, services, smtp_port)"
            )
    seed = raw.get("seed", DEFAULT_SEED)
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise ConfigError(file, "sandbox.seed", "expected an integer")
    host = raw.get("host", "127.0.0.1")
    if host not in LOOPBACK:
        raise ConfigError(
            file, "sandbox.host", "expected a loopback address (127.0.0.1, ::1 or localhost)"
        )
    services_raw = raw.get("services", {})
    if not isinstance(services_raw, Mapping):
        raise ConfigError(file, "sandbox.services", "expected a table of services")
    for name in services_raw:
        if name not in SERVICE_NAMES:
            raise ConfigError(
                file,
                f"sandbox.services.{name}",
                f"unknown service (known: {', '.join(SERVICE_NAMES)})",
            )
    services = {
        name: _service_settings(
            services_raw.get(name, {}), file, f"sandbox.services.{name}", DEFAULT_LATENCY_MS[name]
        )
        for name in SERVICE_NAMES
    }
    smtp_port = raw.get("smtp_port", 0)
    if isinstance(smtp_port, bool) or not isinstance(smtp_port, int) or not 0 <= smtp_port <= 65535:
        raise ConfigError(file, "sandbox.smtp_port", "expected an integer 0-65535")
    return SandboxSettings(seed, host, frozen_mapping(services), smtp_port)


def _service_settings(raw: Any, file: str, prefix: str, latency_ms: int) -> ServiceSettings:
    if not isinstance(raw, Mapping):
        raise ConfigError(file, prefix, "expected a table")
    knobs = {k: v for k, v in raw.items() if k != "port"}
    port = raw.get("port", 0)
    if isinstance(port, bool) or not isinstance(port, int) or not 0 <= port <= 65535:
        raise ConfigError(file, f"{prefix}.port", "expected an integer 0-65535")
    try:
        faults = parse_fault_settings(knobs, FaultSettings(latency_ms=latency_ms))
    except FaultError as exc:
        raise ConfigError(file, f"{prefix}.{exc.field}", exc.expected) from None
    return ServiceSettings(port, faults)


def _build(raw: Any, context: SectionContext) -> SandboxSettings | None:
    return None if raw is None else validate_sandbox_settings(raw, context.file)


SANDBOX: Section[SandboxSettings | None] = Section("sandbox", _build, SANDBOX_SETTINGS)
