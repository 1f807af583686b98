"""The web layer's config sections: ``[sessions]`` and ``[limits]``.

Registered in the entry-point group ``borgersag.config_sections`` (see
:mod:`borgersag.config.section`); read back with ``config.section(SESSIONS)`` and
``config.section(LIMITS)``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from borgersag.config.section import Section, SectionContext, from_table
from borgersag.web.limits import LIMIT_SETTINGS, validate_limit_settings
from borgersag.web.sessions import SESSION_SETTINGS, SessionSettings, validate_session_settings

__all__ = ["LIMITS", "SESSIONS", "LimitSettings", "SessionSettings"]


@dataclass(frozen=True, slots=True)
class LimitSettings:
    """The validated ``[limits]`` table (see :data:`~borgersag.web.limits.LIMIT_SETTINGS`)."""

    login_per_minute: int
    lookups_per_minute: int
    storage_url: str = field(repr=False)


def _sessions(raw: Any, context: SectionContext) -> SessionSettings:
    return validate_session_settings({} if raw is None else raw, context.file)


def _limits(raw: Any, context: SectionContext) -> LimitSettings:
    return from_table(
        LimitSettings, validate_limit_settings({} if raw is None else raw, context.file)
    )


SESSIONS: Section[SessionSettings] = Section("sessions", _sessions, SESSION_SETTINGS)
LIMITS: Section[LimitSettings] = Section("limits", _limits, LIMIT_SETTINGS)
