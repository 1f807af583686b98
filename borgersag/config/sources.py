"""The ``[sources.<name>]`` tables: one configured source instance each.

Only the common keys (:data:`SOURCE_SETTINGS`) are checked here; the connector type's
own settings are checked by the type when the registry builds the connector.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from borgersag.config.portal import PortalSettings
from borgersag.sdk.errors import ConfigError
from borgersag.sdk.http import (
    DEFAULT_MAX_CONCURRENT,
    DEFAULT_MAX_DOCUMENT_BYTES,
    DEFAULT_MAX_RESPONSE_BYTES,
)
from borgersag.sdk.settings import Setting, interpolate, validate_table

__all__ = ["SOURCE_SETTINGS", "SourceConfig", "build_sources"]

SOURCE_SETTINGS: tuple[Setting, ...] = (
    Setting("type", str, "The connector type (an entry point in borgersag.connectors)."),
    Setting("title", str, "Name shown to people, e.g. 'SBSYS (ESDH)'.", default=""),
    Setting("enabled", bool, "Whether the source is asked at all.", default=True),
    Setting(
        "timeout_seconds",
        float,
        "Wall-clock limit of one HTTP request to this source, body included (0: the"
        " portal's source_timeout_seconds).",
        default=0.0,
    ),
    Setting(
        "max_response_bytes",
        int,
        "Largest answer read from this source; a bigger one is refused while reading.",
        default=DEFAULT_MAX_RESPONSE_BYTES,
    ),
    Setting(
        "max_document_bytes",
        int,
        "Largest document content downloaded from this source.",
        default=DEFAULT_MAX_DOCUMENT_BYTES,
    ),
    Setting(
        "max_concurrent",
        int,
        "Bulkhead: most requests (and lookup calls) in flight to this source at once;"
        " more are refused, so one slow source cannot take the portal's threads.",
        default=DEFAULT_MAX_CONCURRENT,
    ),
)
_AT_LEAST_ONE = ("max_response_bytes", "max_document_bytes", "max_concurrent")

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
    max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES
    max_document_bytes: int = DEFAULT_MAX_DOCUMENT_BYTES
    max_concurrent: int = DEFAULT_MAX_CONCURRENT


def build_sources(
    raw_sources: Any, origin: Callable[[str], str], portal: PortalSettings
) -> tuple[SourceConfig, ...]:
    """Every ``[sources.<name>]`` table, in config order; ``origin(key)`` names its file."""
    if raw_sources is None:
        return ()
    if not isinstance(raw_sources, dict):
        raise ConfigError(origin("sources"), "sources", "a table of named sources")
    common_names = {s.name for s in SOURCE_SETTINGS}
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
        common = validate_table(
            SOURCE_SETTINGS,
            {k: v for k, v in raw.items() if k in common_names},
            file,
            f"sources.{name}.",
        )
        for key in _AT_LEAST_ONE:
            if common[key] < 1:
                raise ConfigError(file, f"sources.{name}.{key}", "a whole number of 1 or more")
        sources.append(
            SourceConfig(
                name=name,
                type=common["type"],
                title=common["title"] or name,
                enabled=common["enabled"],
                timeout_seconds=common["timeout_seconds"] or portal.source_timeout_seconds,
                settings={k: v for k, v in raw.items() if k not in common_names},
                file=file,
                max_response_bytes=common["max_response_bytes"],
                max_document_bytes=common["max_document_bytes"],
                max_concurrent=common["max_concurrent"],
            )
        )
    return tuple(sources)
