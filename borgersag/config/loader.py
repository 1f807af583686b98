"""Configuration: TOML files in a directory, declared, validated at start-up.

A config directory holds ``*.toml`` files, read in name order and merged by top-level
table (the same table in two files is an error). The loader knows no feature. It owns
two tables:

``[portal]``
    the municipality's name and the engine's limits (:mod:`borgersag.config.portal`);
``[sources.<name>]``
    one named source instance: ``type`` (a connector type), the common keys in
    :data:`~borgersag.config.sources.SOURCE_SETTINGS` and the connector type's own
    settings (:mod:`borgersag.config.sources`).

Every other table is a :class:`~borgersag.config.section.Section` that the feature owning
it registers in the entry-point group ``borgersag.config_sections`` (``[auth]``,
``[roles]`` and ``[citizen]`` by :mod:`borgersag.people.sections`, ``[sessions]`` and
``[limits]`` by :mod:`borgersag.web.sections`, ``[cache]`` by :mod:`borgersag.lookup.section`,
``[audit]`` by :mod:`borgersag.audit.section`, ``[sandbox]`` by
:mod:`borgersag.sandbox.section`); a table nobody registered is an error.

String values may be ``"${ENV_VAR}"`` so secrets stay out of files. Every error is a
:class:`~borgersag.sdk.errors.ConfigError` whose message is one line: file, key, expected.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from types import MappingProxyType
from typing import Any, TypeVar

from borgersag.config.portal import PortalSettings, build_portal
from borgersag.config.section import (
    CORE_TABLES,
    SECTION_GROUP,
    Section,
    SectionContext,
    registered_sections,
)
from borgersag.config.sources import SourceConfig, build_sources
from borgersag.sdk.errors import ConfigError

__all__ = ["Config", "SourceConfig", "default_config_dir", "load_config"]

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Config:
    """The validated configuration of one portal.

    ``portal`` and ``sources`` are the loader's own tables; every other table is read,
    typed, through :meth:`section`. ``sections`` holds the built values by table name.
    """

    portal: PortalSettings
    sources: tuple[SourceConfig, ...]
    sections: Mapping[str, Any] = field(default_factory=dict)
    files: tuple[str, ...] = ()
    origins: Mapping[str, str] = field(default_factory=dict)
    tables: frozenset[str] = frozenset()

    @classmethod
    def from_mapping(
        cls,
        data: Mapping[str, Any],
        origin: str = "<config>",
        *,
        sections: Iterable[Section[Any]] | None = None,
    ) -> Config:
        """Validate an already-merged mapping (tests build config this way).

        ``sections`` replaces the registered sections (default: every one registered).
        """
        return _build(dict(data), {name: origin for name in data}, (origin,), sections)

    def section(self, section: Section[T]) -> T:
        """The built value of ``section``'s table, e.g. ``config.section(SESSIONS)``."""
        try:
            return self.sections[section.table]
        except KeyError:
            raise KeyError(
                f"no config section [{section.table}] was built: it is not registered in"
                f" the entry-point group {SECTION_GROUP} (reinstall the package declaring it)"
            ) from None

    def has_table(self, table: str) -> bool:
        """Whether the configuration files have the top-level table ``table`` at all."""
        return table in self.tables

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
    return Path(__file__).resolve().parent.parent.parent / "config"


def load_config(
    directory: str | Path | None = None, *, sections: Iterable[Section[Any]] | None = None
) -> Config:
    """Read and validate every ``*.toml`` in ``directory`` (default: the shipped config).

    ``sections`` replaces the registered sections (default: every one registered).
    """
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
    return _build(merged, origins, tuple(str(p) for p in files), sections)


def _build(
    data: dict[str, Any],
    origins: dict[str, str],
    files: tuple[str, ...],
    sections: Iterable[Section[Any]] | None,
) -> Config:
    def origin(key: str) -> str:
        return origins.get(key) or origins.get(key.split(".")[0]) or files[0]

    chosen = registered_sections() if sections is None else tuple(sections)
    by_table = {section.table: section for section in chosen}
    known = {*CORE_TABLES, *by_table}
    for table in data:
        if table not in known:
            raise ConfigError(
                origin(table), table, f"unknown table (known: {', '.join(sorted(known))})"
            )
    portal = build_portal(data.get("portal"), origin("portal"))
    sources = build_sources(data.get("sources"), origin, portal)
    built = {
        table: section.build(data.get(table), SectionContext(origin(table), portal, sources))
        for table, section in sorted(by_table.items())
    }
    return Config(
        portal,
        sources,
        sections=MappingProxyType(built),
        files=files,
        origins=MappingProxyType(origins),
        tables=frozenset(data),
    )
