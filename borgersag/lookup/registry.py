"""Connector types from entry points, connector instances from config.

Types are found in the entry-point group ``borgersag.connectors`` — the built-in ones
are declared in this project's own pyproject exactly as a third-party package declares
its own, so both load the same way.
"""

from __future__ import annotations

from collections.abc import Mapping
from importlib.metadata import entry_points
from typing import Any

from borgersag.config.loader import Config, SourceConfig
from borgersag.sdk.connector import Connector
from borgersag.sdk.credentials import TokenAuth
from borgersag.sdk.errors import ConfigError
from borgersag.sdk.http import (
    DEFAULT_MAX_CONCURRENT,
    DEFAULT_MAX_DOCUMENT_BYTES,
    DEFAULT_MAX_RESPONSE_BYTES,
    SourceSession,
)

__all__ = [
    "ENTRY_POINT_GROUP",
    "build_connector",
    "build_source",
    "build_sources",
    "connector_types",
]

ENTRY_POINT_GROUP = "borgersag.connectors"


def connector_types() -> dict[str, type[Connector]]:
    """Every installed connector type by name.

    A type whose entry point fails to import is left out here and reported when a
    configured source asks for it (see :func:`build_source`).
    """
    types: dict[str, type[Connector]] = {}
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        try:
            cls = ep.load()
        except Exception:  # noqa: S112 - reported by build_source with the real cause
            continue
        if isinstance(cls, type) and issubclass(cls, Connector):
            types[ep.name] = cls
    return types


def _load_type(source: SourceConfig) -> type[Connector]:
    matches = [ep for ep in entry_points(group=ENTRY_POINT_GROUP) if ep.name == source.type]
    key = f"sources.{source.name}.type"
    if not matches:
        installed = ", ".join(sorted(ep.name for ep in entry_points(group=ENTRY_POINT_GROUP)))
        raise ConfigError(
            source.file,
            key,
            f"an installed connector type (got {source.type!r}; installed: {installed or 'none'})",
        )
    try:
        cls = matches[0].load()
    except Exception as exc:
        raise ConfigError(
            source.file,
            key,
            f"connector {source.type!r} to import, but it failed: {type(exc).__name__}: {exc}",
        ) from None
    if not (isinstance(cls, type) and issubclass(cls, Connector)):
        raise ConfigError(source.file, key, f"{source.type!r} to name a Connector subclass")
    return cls


def build_source(source: SourceConfig) -> Connector:
    """Create one configured connector instance (see :func:`build_connector`)."""
    return build_connector(
        _load_type(source),
        source.name,
        source.settings,
        title=source.title,
        file=source.file,
        timeout=source.timeout_seconds,
        max_response_bytes=source.max_response_bytes,
        max_document_bytes=source.max_document_bytes,
        max_concurrent=source.max_concurrent,
    )


def build_connector(
    cls: type[Connector],
    name: str,
    raw_settings: Mapping[str, Any],
    *,
    title: str | None = None,
    file: str = "<config>",
    timeout: float = 3.0,
    max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES,
    max_document_bytes: int = DEFAULT_MAX_DOCUMENT_BYTES,
    max_concurrent: int = DEFAULT_MAX_CONCURRENT,
) -> Connector:
    """Create a connector instance: validate its settings, give it its HTTP session (base
    URL, time limit, size caps, bulkhead and a connection pool of that size, auth from
    ``make_auth``, client certificate) and its title.

    The conformance suite builds connectors with this too, so they meet it as in production.
    """
    settings = cls.validate_settings(raw_settings, file, f"sources.{name}.")
    title = title or name
    session = SourceSession(
        settings.get("base_url") or "http://invalid.localhost/",
        source=title,
        timeout=timeout,
        max_response_bytes=max_response_bytes,
        max_document_bytes=max_document_bytes,
        max_concurrent=max_concurrent,
    )
    try:
        session.auth = cls.make_auth(settings)
        session.cert = cls.client_certificate(settings)
        if isinstance(session.auth, TokenAuth):
            session.auth.source = title  # login errors name the source as configured
    except (KeyError, ValueError, TypeError) as exc:
        raise ConfigError(file, f"sources.{name}", f"valid auth settings ({exc})") from None
    connector = cls(name, settings, session)
    connector.display_name = title
    return connector


def build_sources(config: Config) -> dict[str, Connector]:
    """Every configured source instance (enabled or not), in config order."""
    return {source.name: build_source(source) for source in config.sources}
