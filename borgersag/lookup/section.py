"""The ``[cache]`` config table: where source answers are cached, and how much of them."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from borgersag.config.section import Section, SectionContext, from_table
from borgersag.sdk.errors import ConfigError
from borgersag.sdk.settings import Setting, validate_table

__all__ = ["CACHE", "CACHE_SETTINGS", "CacheSettings", "validate_cache_settings"]

CACHE_BACKENDS = ("memory", "redis")

CACHE_SETTINGS: tuple[Setting, ...] = (
    Setting(
        "backend",
        str,
        "Where the sources' answers are cached: 'memory' (each process its own) or"
        " 'redis' (a second level shared by every worker and machine, encrypted, in front"
        " of which each process keeps its own; a burst of one lookup on several instances"
        " asks each source once).",
        default="memory",
    ),
    Setting(
        "redis_url",
        str,
        "The Redis server for the shared cache with backend = 'redis', e.g."
        " redis://127.0.0.1:6379/0. May hold a password: use ${ENV_VAR}.",
        default="redis://127.0.0.1:6379/0",
        secret=True,
    ),
    Setting(
        "max_bytes",
        int,
        "The most bytes of answers each process keeps in its own cache (estimated as"
        " their JSON size); the least recently used go first.",
        default=64 * 1024 * 1024,
    ),
    Setting(
        "max_entries",
        int,
        "The most answers (one source, one key) each process keeps in its own cache.",
        default=10_000,
    ),
    Setting(
        "overview_max_bytes",
        int,
        "With [sessions] backend = 'memory': the most bytes of overviews the process"
        " keeps (estimated as their JSON size); the oldest go first. Kept overviews in"
        " SQLite or Redis are bounded by their TTL instead.",
        default=32 * 1024 * 1024,
    ),
)


@dataclass(frozen=True, slots=True)
class CacheSettings:
    """The validated ``[cache]`` table (see :data:`CACHE_SETTINGS`)."""

    backend: str = "memory"
    redis_url: str = field(default="redis://127.0.0.1:6379/0", repr=False)
    max_bytes: int = 64 * 1024 * 1024
    max_entries: int = 10_000
    overview_max_bytes: int = 32 * 1024 * 1024


def validate_cache_settings(raw: Any, file: str) -> CacheSettings:
    """Validate the ``[cache]`` table; raise :class:`ConfigError` naming the bad key."""
    settings = validate_table(CACHE_SETTINGS, raw, file, "cache.")
    if settings["backend"] not in CACHE_BACKENDS:
        raise ConfigError(
            file,
            "cache.backend",
            f"one of {', '.join(CACHE_BACKENDS)}, got {settings['backend']!r}",
        )
    if settings["backend"] == "redis" and urlsplit(settings["redis_url"]).scheme not in (
        "redis",
        "rediss",
        "unix",
    ):
        raise ConfigError(
            file, "cache.redis_url", "a URL starting with redis://, rediss:// or unix://"
        )
    for name in ("max_bytes", "max_entries", "overview_max_bytes"):
        if settings[name] < 1:
            raise ConfigError(file, f"cache.{name}", "a whole number greater than 0")
    return from_table(CacheSettings, settings)


def _cache(raw: Any, context: SectionContext) -> CacheSettings:
    return validate_cache_settings({} if raw is None else raw, context.file)


CACHE: Section[CacheSettings] = Section("cache", _cache, CACHE_SETTINGS)
