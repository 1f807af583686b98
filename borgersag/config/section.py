"""Config sections: a table that the feature owning it declares and registers.

The loader owns ``[portal]`` and ``[sources.<name>]`` and knows no feature. Every other
top-level table is a :class:`Section`: its name, its :class:`~borgersag.sdk.settings.Setting`
schema (for the docs and their meta-test) and a ``build`` function that validates the raw
table and returns a typed, frozen value. A feature declares its section in its own module
and registers it in the entry-point group ``borgersag.config_sections`` (the built-in
ones are declared in this project's pyproject exactly as a plugin package declares its
own), so the loader finds them without importing any feature::

    [project.entry-points."borgersag.config_sections"]
    sessions = "borgersag.web.sections:SESSIONS"

Consumers read a section by attribute through :meth:`Config.section
<borgersag.config.loader.Config.section>`, e.g. ``config.section(SESSIONS).idle_minutes``.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from borgersag.sdk.errors import ConfigError
from borgersag.sdk.settings import Setting

if TYPE_CHECKING:
    from borgersag.config.portal import PortalSettings
    from borgersag.config.sources import SourceConfig

__all__ = [
    "CORE_TABLES",
    "SECTION_GROUP",
    "Section",
    "SectionContext",
    "from_table",
    "frozen_mapping",
    "registered_sections",
]

SECTION_GROUP = "borgersag.config_sections"
CORE_TABLES = ("portal", "sources")
"""The tables the loader owns itself; no section may claim them."""

T = TypeVar("T")
D = TypeVar("D")


@dataclass(frozen=True, slots=True)
class SectionContext:
    """What a section's ``build`` gets besides its raw table.

    ``file`` is the file the table came from (for :class:`ConfigError`); ``portal`` and
    ``sources`` are the loader's own, already validated tables (``[citizen]`` checks its
    source names against them).
    """

    file: str
    portal: PortalSettings
    sources: tuple[SourceConfig, ...] = ()

    @property
    def source_names(self) -> frozenset[str]:
        """The names of the configured sources."""
        return frozenset(source.name for source in self.sources)


@dataclass(frozen=True, slots=True)
class Section(Generic[T]):
    """One top-level config table owned by a feature.

    ``build(raw, context)`` gets the raw table (``None`` when the files do not have it)
    and returns the typed value, raising :class:`ConfigError` (one line: file, key,
    expected) for anything wrong. ``settings`` are the table's own keys and
    ``subtables`` the schemas of its nested tables by their name under it (``"citizen"``
    for ``[auth.citizen]``, ``"<name>"`` for ``[roles.<name>]``); both are what
    ``docs/configuration.md`` must document.
    """

    table: str
    build: Callable[[Any, SectionContext], T]
    settings: tuple[Setting, ...] = ()
    subtables: Mapping[str, tuple[Setting, ...]] = field(default_factory=dict)

    def schemas(self) -> dict[str, tuple[Setting, ...]]:
        """Every documented table of this section by its full name, e.g. ``auth.citizen``."""
        found = {self.table: self.settings} if self.settings or not self.subtables else {}
        found.update({f"{self.table}.{name}": s for name, s in self.subtables.items()})
        return found


def from_table(cls: type[D], table: Mapping[str, Any]) -> D:
    """A frozen settings dataclass from a table validated against its schema.

    Lists become tuples so the value stays immutable; every field must be in the table.
    """
    names = {f.name for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    values = {k: tuple(v) if isinstance(v, list) else v for k, v in table.items() if k in names}
    return cls(**values)


def frozen_mapping(values: Mapping[str, Any]) -> Mapping[str, Any]:
    """A read-only view of a copy of ``values``."""
    return MappingProxyType(dict(values))


@functools.cache
def registered_sections() -> tuple[Section[Any], ...]:
    """Every section registered in :data:`SECTION_GROUP`, sorted by table name.

    Loaded once per process (``registered_sections.cache_clear()`` to look again). An
    entry point that fails to import, is not a :class:`Section`, is named differently
    from its table, or claims a core table or another section's table is a
    :class:`ConfigError` naming the package.
    """
    found: dict[str, Section[Any]] = {}
    for ep in entry_points(group=SECTION_GROUP):
        where = f"package {ep.dist.name if ep.dist else '?'}"
        key = f"{SECTION_GROUP}.{ep.name}"
        try:
            section = ep.load()
        except Exception as exc:
            raise ConfigError(
                where,
                key,
                f"config section {ep.value!r} to import, but it failed:"
                f" {type(exc).__name__}: {exc}",
            ) from None
        if not isinstance(section, Section):
            raise ConfigError(where, key, f"{ep.value!r} to name a borgersag.config.Section")
        if section.table != ep.name:
            raise ConfigError(
                where, key, f"the section of table {ep.name!r}, got one for {section.table!r}"
            )
        if ep.name in CORE_TABLES:
            raise ConfigError(where, key, f"a table other than {', '.join(CORE_TABLES)}")
        if ep.name in found and found[ep.name] is not section:
            raise ConfigError(where, key, "a table that no other installed package registers")
        found[ep.name] = section
    return tuple(found[name] for name in sorted(found))
