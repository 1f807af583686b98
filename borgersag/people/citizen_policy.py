"""The ``[citizen]`` config: what the municipality lets citizens see in "Mine sager".

:data:`CITIZEN_SETTINGS` declares the table; :func:`validate_citizen_settings` checks it
at start-up (a mistake stops the app with one line naming the file and the key) and
returns a :class:`CitizenPolicy`. The defaults are borger.dk's "Mit Overblik": all KLE
subjects, all sources, no start date, final documents shown, caseworker names hidden, the
department shown.

Plain Python, no Flask. The policy only answers questions (may this source, this KLE
number, this opening date be shown?); :func:`borgersag.people.citizen_view.citizen_view` applies it.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any

from borgersag.sdk.errors import ConfigError
from borgersag.sdk.settings import Setting, validate_table

__all__ = ["CITIZEN_SETTINGS", "CitizenPolicy", "validate_citizen_settings"]

CITIZEN_SETTINGS: tuple[Setting, ...] = (
    Setting(
        "kle_subjects",
        list,
        "KLE prefixes whose cases citizens see, e.g. ['02', '27.35']; empty: all subjects.",
        default=[],
    ),
    Setting(
        "sources",
        list,
        "Names of the sources (as in [sources.<name>]) whose cases citizens see,"
        " including the ownership register for building cases; empty: all sources.",
        default=[],
    ),
    Setting(
        "from_date",
        str,
        "Cases opened before this date (YYYY-MM-DD) are not shown; empty: no limit.",
        default="",
    ),
    Setting(
        "show_documents",
        bool,
        "Show titles and downloads of final documents the party may see.",
        default=True,
    ),
    Setting(
        "show_caseworker_names",
        bool,
        "Show the responsible caseworker's name (Mit Overblik never does).",
        default=False,
    ),
    Setting("show_unit", bool, "Show the responsible department.", default=True),
    Setting(
        "show_deadlines",
        bool,
        "Show an open case's deadline ('Kommunens frist for at svare dig') and mark it"
        " when it has passed.",
        default=True,
    ),
)

_KLE_PREFIX = re.compile(r"^\d{2}(?:\.\d{2}){0,2}$")
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


@dataclass(frozen=True, slots=True)
class CitizenPolicy:
    """The municipality's choices for "Mine sager" (``[citizen]``); defaults = Mit Overblik.

    Empty ``kle_subjects`` / ``sources`` and ``from_date = None`` mean no limit.
    """

    kle_subjects: tuple[str, ...] = ()
    sources: tuple[str, ...] = ()
    from_date: dt.date | None = None
    show_documents: bool = True
    show_caseworker_names: bool = False
    show_unit: bool = True
    show_deadlines: bool = True

    @classmethod
    def from_settings(cls, validated: Mapping[str, Any]) -> CitizenPolicy:
        """Build from a table already checked by :func:`validate_citizen_settings`."""
        from_date = validated.get("from_date") or ""
        return cls(
            kle_subjects=tuple(dict.fromkeys(validated.get("kle_subjects", ()))),
            sources=tuple(dict.fromkeys(validated.get("sources", ()))),
            from_date=dt.date.fromisoformat(from_date) if from_date else None,
            show_documents=bool(validated.get("show_documents", True)),
            show_caseworker_names=bool(validated.get("show_caseworker_names", False)),
            show_unit=bool(validated.get("show_unit", True)),
            show_deadlines=bool(validated.get("show_deadlines", True)),
        )

    def allows_source(self, name: str | None) -> bool:
        """Whether records from source ``name`` may be shown."""
        return not self.sources or name in self.sources

    def allows_kle(self, kle: str | None) -> bool:
        """Whether a case with KLE number ``kle`` may be shown (no KLE: only without a limit)."""
        if not self.kle_subjects:
            return True
        if not kle:
            return False
        return any(kle == p or kle.startswith(p + ".") for p in self.kle_subjects)

    def allows_start(self, opened: dt.date | None) -> bool:
        """Whether a case opened on ``opened`` may be shown (unknown: only without a limit)."""
        if self.from_date is None:
            return True
        return opened is not None and opened >= self.from_date


def validate_citizen_settings(
    raw: Any, file: str = "<config>", *, known_sources: Collection[str] | None = None
) -> CitizenPolicy:
    """Check a raw ``[citizen]`` table; :class:`~borgersag.sdk.errors.ConfigError` names the key.

    ``known_sources``, when given, are the configured source names: a name in
    ``sources`` that is not among them is an error rather than a silently empty page.
    """
    if isinstance(raw, Mapping) and isinstance(raw.get("from_date"), dt.date):
        # TOML has dates: from_date = 2020-01-01 (unquoted) is as good as the string.
        if isinstance(raw["from_date"], dt.datetime):
            raise ConfigError(
                file, "citizen.from_date", "a date as YYYY-MM-DD without a time of day"
            )
        raw = {**raw, "from_date": raw["from_date"].isoformat()}
    table = validate_table(CITIZEN_SETTINGS, raw, file, "citizen.")
    for name in ("kle_subjects", "sources"):
        _check_strings(table[name], file, f"citizen.{name}")
    for prefix in table["kle_subjects"]:
        if not _KLE_PREFIX.match(prefix):
            raise ConfigError(
                file,
                "citizen.kle_subjects",
                f"KLE prefixes like '02', '02.34' or '02.34.02', got {prefix!r}",
            )
    if known_sources is not None:
        unknown = [s for s in table["sources"] if s not in known_sources]
        if unknown:
            known = ", ".join(sorted(known_sources)) or "none"
            raise ConfigError(
                file,
                "citizen.sources",
                f"names of configured sources (known: {known}), got {unknown[0]!r}",
            )
    from_date = table["from_date"].strip()
    if from_date:
        if not _ISO_DATE.match(from_date):
            raise ConfigError(
                file,
                "citizen.from_date",
                f"a date as YYYY-MM-DD, e.g. '2020-01-01', got {from_date!r}",
            )
        try:
            dt.date.fromisoformat(from_date)
        except ValueError:
            raise ConfigError(
                file, "citizen.from_date", f"a real date as YYYY-MM-DD, got {from_date!r}"
            ) from None
    return CitizenPolicy.from_settings({**table, "from_date": from_date})


def _check_strings(values: Any, file: str, key: str) -> None:
    if not isinstance(values, list | tuple):
        raise ConfigError(file, key, f"a list of strings, got {values!r}")
    for position, value in enumerate(values, start=1):
        if not isinstance(value, str) or not value.strip():
            raise ConfigError(
                file, key, f"a list of non-empty strings; item {position} is {value!r}"
            )
