"""Configuration: TOML files in a directory, declared, validated at start-up.

A config directory holds ``*.toml`` files, read in name order and merged by top-level
table (the same table in two files is an error). The tables:

``[portal]``
    the municipality's name and the engine's limits (see :data:`PORTAL_SETTINGS`).
``[auth]``
    ``mode``: how people sign in (see :data:`AUTH_SETTINGS`).
``[sandbox]``
    present when the sandbox municipality should run in-process (demo, tests).
``[sources.<name>]``
    one named source instance: ``type`` (a connector type), the common keys in
    :data:`SOURCE_SETTINGS` and the connector type's own settings.

String values may be ``"${ENV_VAR}"`` so secrets stay out of files. Every error is a
:class:`~borgersag.errors.ConfigError` whose message is one line: file, key, expected.
"""

from __future__ import annotations

import re
import secrets
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from .errors import ConfigError
from .settings import Setting, interpolate, validate_table

__all__ = [
    "AUTH_SETTINGS",
    "PORTAL_SETTINGS",
    "SOURCE_SETTINGS",
    "Config",
    "SourceConfig",
    "default_config_dir",
    "load_config",
]

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
    Setting("max_workers", int, "Threads for the fan-out to sources.", default=32),
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
)

AUTH_SETTINGS: tuple[Setting, ...] = (
    Setting(
        "mode",
        str,
        "How people sign in: 'sandbox' (demo sign-in; needs [sandbox]).",
        default="sandbox",
    ),
)

SOURCE_SETTINGS: tuple[Setting, ...] = (
    Setting("type", str, "The connector type (an entry point in borgersag.connectors)."),
    Setting("title", str, "Name shown to people, e.g. 'SBSYS (ESDH)'.", default=""),
    Setting("enabled", bool, "Whether the source is asked at all.", default=True),
    Setting("timeout_seconds", float, "HTTP timeout for this source.", default=0.0),
)

AUTH_MODES = ("sandbox",)
_NAME_RE = re.compile(r"^[a-z][a-z0-9_-]{0,39}$")


@dataclass(frozen=True, slots=True)
class SourceConfig:
    """One configured source instance; ``settings`` are the connector's own, unvalidated."""

    name: str
    type: str
    title: str
    enabled: bool
    timeout_seconds: float
    settings: Mapping[str, Any]
    file: str


@dataclass(frozen=True, slots=True)
class Config:
    """The validated configuration of one portal."""

    portal: Mapping[str, Any]
    auth: Mapping[str, Any]
    sources: tuple[SourceConfig, ...]
    sandbox: Mapping[str, Any] | None = None
    files: tuple[str, ...] = ()
    origins: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any], origin: str = "<config>") -> Config:
        """Validate an already-merged mapping (tests build config this way)."""
        return _build(dict(data), {name: origin for name in data}, (origin,))

    def source(self, name: str) -> SourceConfig:
        """The configured source called ``name``."""
        for source in self.sources:
            if source.name == name:
                return source
        raise KeyError(name)


def default_config_dir() -> Path:
    """The config shipped with the package (demo defaults)."""
    installed = resources.files("borgersag") / "default_config"
    if installed.is_dir():
        return Path(str(installed))
    return Path(__file__).resolve().parent.parent / "config"


def load_config(directory: str | Path | None = None) -> Config:
    """Read and validate every ``*.toml`` in ``directory`` (default: the shipped config)."""
    directory = Path(directory) if directory else default_config_dir()
    if not directory.is_dir():
        raise ConfigError(str(directory), "-", "expected a directory of *.toml files")
    files = sorted(directory.glob("*.toml"))
    if not files:
        raise ConfigError(str(directory), "-", "expected at least one *.toml file")
    merged: dict[str, Any] = {}
    origins: dict[str, str] = {}
    for path in files:
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(str(path), "-", f"valid TOML ({exc})") from None
        for table, value in data.items():
            if table == "sources" and isinstance(value, dict):
                for name, source in value.items():
                    key = f"sources.{name}"
                    if key in origins:
                        raise ConfigError(
                            str(path), key, f"defined only once (also in {origins[key]})"
                        )
                    origins[key] = str(path)
                    merged.setdefault("sources", {})[name] = source
                continue
            if table in origins:
                raise ConfigError(str(path), table, f"defined only once (also in {origins[table]})")
            origins[table] = str(path)
            merged[table] = value
    return _build(merged, origins, tuple(str(p) for p in files))


def _build(data: dict[str, Any], origins: dict[str, str], files: tuple[str, ...]) -> Config:
    def origin(key: str) -> str:
        return origins.get(key) or origins.get(key.split(".")[0]) or files[0]

    known = {"portal", "auth", "sandbox", "sources"}
    for table in data:
        if table not in known:
            raise ConfigError(
                origin(table), table, f"unknown table (known: {', '.join(sorted(known))})"
            )
    portal = validate_table(PORTAL_SETTINGS, data.get("portal", {}), origin("portal"), "portal.")
    if not portal["secret_key"]:
        portal["secret_key"] = secrets.token_hex(32)
    auth = validate_table(AUTH_SETTINGS, data.get("auth", {}), origin("auth"), "auth.")
    if auth["mode"] not in AUTH_MODES:
        raise ConfigError(origin("auth"), "auth.mode", f"one of {', '.join(AUTH_MODES)}")
    sandbox = data.get("sandbox")
    if sandbox is not None:
        from .sandbox.runner import validate_sandbox_settings

        sandbox = validate_sandbox_settings(sandbox, origin("sandbox"))
    if auth["mode"] == "sandbox" and sandbox is None:
        raise ConfigError(
            origin("auth"),
            "auth.mode",
            "'sandbox' sign-in is only allowed when the [sandbox] municipality is configured",
        )
    raw_sources = data.get("sources", {})
    if not isinstance(raw_sources, dict):
        raise ConfigError(origin("sources"), "sources", "a table of named sources")
    sources = []
    for name, raw in raw_sources.items():
        file = origin(f"sources.{name}")
        if not _NAME_RE.match(name):
            raise ConfigError(
                file,
                f"sources.{name}",
                "a name of lowercase letters, digits, - or _ (max 40) starting with a letter",
            )
        if not isinstance(raw, dict):
            raise ConfigError(file, f"sources.{name}", "a table")
        raw = {k: interpolate(v, file, f"sources.{name}.{k}") for k, v in raw.items()}
        common_names = {s.name for s in SOURCE_SETTINGS}
        common = validate_table(
            SOURCE_SETTINGS,
            {k: v for k, v in raw.items() if k in common_names},
            file,
            f"sources.{name}.",
        )
        sources.append(
            SourceConfig(
                name=name,
                type=common["type"],
                title=common["title"] or name,
                enabled=common["enabled"],
                timeout_seconds=common["timeout_seconds"] or portal["source_timeout_seconds"],
                settings={k: v for k, v in raw.items() if k not in common_names},
                file=file,
            )
        )
    return Config(portal, auth, tuple(sources), sandbox, files, origins)
