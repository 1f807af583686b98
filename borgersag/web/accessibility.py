"""The ``[accessibility]`` table: the facts of the municipality's accessibility statement.

A Danish public body must publish its statement through Digitaliseringsstyrelsen's
WAS-Tool, at a standard address on was.digst.dk, built on the EU model statement
(implementing decision 2018/1523). The portal shows the same facts on its own page,
``/tilgaengelighed``: how far the site complies, when the statement was prepared and last
reviewed and how, a telephone and a written contact, and the way to complain. When
``statement_url`` is set, the footer links to the official statement and the page points
there too. Without a config, the page says plainly that the facts are not filled in.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from borgersag.config.section import Section, SectionContext, from_table
from borgersag.sdk.errors import ConfigError
from borgersag.sdk.settings import Setting, validate_table

__all__ = ["ACCESSIBILITY", "STATUS_TEXT", "AccessibilitySettings", "validate_accessibility"]

STATUS_TEXT = {
    "fuldt": "fuldt i overensstemmelse",
    "delvist": "delvist i overensstemmelse",
    "ikke": "ikke i overensstemmelse",
}
"""The three compliance statuses of the EU model statement, as the page words them."""

METHOD_TEXT = {
    "selvevaluering": "en selvevaluering foretaget af kommunen",
    "tredjepart": "en vurdering foretaget af en uafhængig tredjepart",
}

ACCESSIBILITY_SETTINGS: tuple[Setting, ...] = (
    Setting(
        "statement_url",
        str,
        "The official statement made in WAS-Tool, e.g. 'https://www.was.digst.dk/borgersag-"
        "kommune-dk'. Set: the footer links there. Must be https.",
        default="",
    ),
    Setting(
        "status",
        str,
        "How far the portal complies with WCAG 2.1 AA: 'fuldt', 'delvist' or 'ikke'.",
        default="delvist",
    ),
    Setting("prepared", str, "The date the statement was prepared (YYYY-MM-DD).", default=""),
    Setting("reviewed", str, "The date it was last reviewed (YYYY-MM-DD).", default=""),
    Setting(
        "method",
        str,
        "How compliance was assessed: 'selvevaluering' or 'tredjepart'.",
        default="selvevaluering",
    ),
    Setting("contact_email", str, "The written contact for accessibility problems.", default=""),
    Setting("contact_phone", str, "The telephone contact (WAS-Tool asks for both).", default=""),
)


@dataclass(frozen=True, slots=True)
class AccessibilitySettings:
    """The validated ``[accessibility]`` table (see :data:`ACCESSIBILITY_SETTINGS`)."""

    statement_url: str = ""
    status: str = "delvist"
    prepared: dt.date | None = None
    reviewed: dt.date | None = None
    method: str = "selvevaluering"
    contact_email: str = ""
    contact_phone: str = ""

    @property
    def status_text(self) -> str:
        """The compliance status in the page's words."""
        return STATUS_TEXT[self.status]

    @property
    def method_text(self) -> str:
        """How compliance was assessed, in the page's words."""
        return METHOD_TEXT[self.method]

    def overdue(self, today: dt.date | None = None) -> bool:
        """True when the statement has not been reviewed within the last year (the rule)."""
        if self.reviewed is None:
            return True
        today = today or dt.datetime.now(dt.UTC).date()
        return (today - self.reviewed).days > 366


def _date(value: str, file: str, key: str) -> dt.date | None:
    if not value:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise ConfigError(file, key, f"a date like '2026-11-30', got {value!r}") from None


def validate_accessibility(raw: Any, file: str) -> AccessibilitySettings:
    """Validate the ``[accessibility]`` table; raise :class:`ConfigError` naming the bad key."""
    table = validate_table(ACCESSIBILITY_SETTINGS, raw, file, "accessibility.")
    for key, allowed in (("status", STATUS_TEXT), ("method", METHOD_TEXT)):
        if table[key] not in allowed:
            raise ConfigError(file, f"accessibility.{key}", "one of " + ", ".join(allowed))
    url = table["statement_url"]
    if url and (urlsplit(url).scheme != "https" or not urlsplit(url).netloc):
        raise ConfigError(file, "accessibility.statement_url", "an https:// address")
    for key in ("prepared", "reviewed"):
        table[key] = _date(table[key], file, f"accessibility.{key}")
    if table["prepared"] and table["reviewed"] and table["reviewed"] < table["prepared"]:
        raise ConfigError(file, "accessibility.reviewed", "a date on or after 'prepared'")
    return from_table(AccessibilitySettings, table)


def _build(raw: Any, context: SectionContext) -> AccessibilitySettings:
    return validate_accessibility({} if raw is None else raw, context.file)


ACCESSIBILITY: Section[AccessibilitySettings] = Section(
    "accessibility", _build, ACCESSIBILITY_SETTINGS
)
