"""How model values are shown: Danish dates, badge colours and the like.

Template filters and small helpers, kept out of the templates so the templates hold only
loops and conditionals. The wording of a source's state and of ages is in
:mod:`borgersag.web.wording`; it is registered with Jinja here.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from flask import Flask

from borgersag.domain.model import (
    Case,
    Overview,
    Progress,
    ProgressStep,
    Sensitivity,
    SourceResult,
    SourceStatus,
)
from borgersag.people.case_kinds import decision_outcome
from borgersag.people.identity import Restrictions
from borgersag.people.permissions import Permission
from borgersag.web.wording import (
    age_text,
    partial_text,
    source_explanation,
    status_label,
)

__all__ = [
    "access_summary",
    "case_source_titles",
    "init_app",
    "source_titles",
    "source_variant",
]

try:
    LOCAL_TZ: dt.tzinfo = ZoneInfo("Europe/Copenhagen")
except ZoneInfoNotFoundError:  # a system without tz data: show UTC and say so
    LOCAL_TZ = dt.UTC

_SOURCE_VARIANTS = {
    SourceStatus.OK: "success",
    SourceStatus.EMPTY: "info",
    SourceStatus.STALE: "warning",
    SourceStatus.FAILED: "error",
    SourceStatus.TIMEOUT: "error",
    SourceStatus.CIRCUIT_OPEN: "warning",
    SourceStatus.FORBIDDEN: "error",
    SourceStatus.NOT_APPLICABLE: "",
    SourceStatus.DISABLED: "",
}

_PROGRESS_VARIANTS = {
    Progress.OPSTAAET: "info",
    Progress.OPLYST: "warning",
    Progress.AFGJORT: "success",
    Progress.AFSLUTTET: "",
}


def source_variant(result: SourceResult) -> str:
    """The DKFDS badge variant for a source's status (``success``, ``error``, …)."""
    return _SOURCE_VARIANTS.get(result.status, "")


def date_da(value: dt.date | None) -> str:
    """``24.12.2025``; a dash for no date."""
    if value is None:
        return "–"
    if isinstance(value, dt.datetime):
        value = _local(value).date()
    return value.strftime("%d.%m.%Y")


def datetime_da(value: dt.datetime | None) -> str:
    """``24.12.2025 kl. 14.05`` in Danish local time."""
    if value is None:
        return "–"
    return _local(value).strftime("%d.%m.%Y kl. %H.%M")


def latency_da(ms: float | None) -> str:
    """Latency as people read it: ``120 ms`` or ``2,4 s``."""
    if ms is None:
        return "–"
    if ms < 1000:
        return f"{ms:.0f} ms"
    return f"{ms / 1000:.1f} s".replace(".", ",")


SOON_DAYS = 7
"""A deadline this many days away or fewer is marked "Snart"."""


def today() -> dt.date:
    """Today in the municipality's time zone (the server may run on UTC)."""
    return dt.datetime.now(LOCAL_TZ).date()


def deadline_state(deadline: dt.date | None, running: bool, on: dt.date | None = None) -> str:
    """``"overdue"`` for a deadline past that still runs (the case awaits its decision),
    ``"soon"`` within :data:`SOON_DAYS`, else ``""`` — one rule on every page."""
    if deadline is None or not running:
        return ""
    days = (deadline - (on or today())).days
    if days < 0:
        return "overdue"
    return "soon" if days <= SOON_DAYS else ""


def progress_variant(progress: Progress, status_text: str | None = None) -> str:
    """The DKFDS badge variant for a progress stage; a decision the system words as a
    refusal is not shown in the green of a granted one."""
    if progress is Progress.AFGJORT and decision_outcome([status_text]):
        return ""
    return _PROGRESS_VARIANTS.get(progress, "")


def sensitivity_variant(sensitivity: Sensitivity) -> str:
    """Warn visibly about sensitive cases."""
    return "warning" if sensitivity >= Sensitivity.FOELSOMME_PERSONOPLYSNINGER else ""


def source_titles(overview: Overview) -> dict[str, str]:
    """Source instance name → the title people know it by, from the source panel."""
    return {r.source: r.title or r.source for r in overview.sources}


def case_source_titles(case: Case, titles: dict[str, str]) -> list[str]:
    """The titles of every source holding ``case``, without repeats, in order."""
    return _unique(titles.get(p.source, p.source) for p in case.all_sources)


def join_da(items: Iterable[str], last: str = "og") -> str:
    """``"A, B og C"`` (or ``"A, B eller C"`` with ``last="eller"``)."""
    items = [str(i) for i in items]
    if len(items) <= 1:
        return "".join(items)
    return f"{', '.join(items[:-1])} {last} {items[-1]}"


def safe_url(url: str | None) -> str | None:
    """``url`` if it is http(s); ``None`` otherwise (a back end's ``javascript:`` link)."""
    if url and urlsplit(url.strip()).scheme.lower() in ("http", "https"):
        return url.strip()
    return None


@dataclass(frozen=True, slots=True)
class Stage:
    """One of the four progress stages of a case, as shown on the case page."""

    progress: Progress
    reached: bool
    current: bool
    date: dt.date | None
    status_text: str | None


def progress_stages(case: Case) -> list[Stage]:
    """Opstået → Oplyst → Afgjort → Afsluttet, each with whether and when it was reached."""
    first: dict[Progress, ProgressStep] = {}
    for step in sorted(case.progress_history, key=lambda s: s.date):
        first.setdefault(step.progress, step)
    stages = []
    for progress in Progress:
        step = first.get(progress)
        stages.append(
            Stage(
                progress=progress,
                reached=progress.step <= case.progress.step,
                current=progress is case.progress,
                date=step.date if step else None,
                status_text=step.status_text if step else None,
            )
        )
    return stages


def access_summary(restrictions: Restrictions) -> str:
    """What a caseworker's data restrictions let them see, as one Danish sentence."""
    if restrictions.unrestricted:
        return "Din adgang omfatter alle sager."
    parts = []
    if restrictions.kle_prefixes:
        parts.append(f"under KLE-emne {join_da(restrictions.kle_prefixes, 'eller')}")
    if restrictions.units:
        noun = "enheden" if len(restrictions.units) == 1 else "enhederne"
        units = join_da((f"»{unit}«" for unit in restrictions.units), "eller")
        parts.append(f"fra {noun} {units}")
    if restrictions.max_sensitivity < Sensitivity.VIP:
        parts.append(f"med følsomhed højst »{restrictions.max_sensitivity.label}«")
    return f"Din adgang omfatter sager {join_da(parts)}."


def plural(count: int, one: str, many: str) -> str:
    """``"1 sag"`` / ``"3 sager"``."""
    return f"{count} {one if count == 1 else many}"


def _unique(items: Iterable[str]) -> list[str]:
    seen: dict[str, None] = {}
    for item in items:
        seen.setdefault(item, None)
    return list(seen)


def _local(value: dt.datetime) -> dt.datetime:
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return value.astimezone(LOCAL_TZ)


def init_app(app: Flask) -> None:
    """Register the filters and helpers with Jinja."""
    app.jinja_env.filters.update(
        date_da=date_da,
        datetime_da=datetime_da,
        latency_da=latency_da,
        age_text=age_text,
        join_da=join_da,
    )
    app.jinja_env.globals.update(
        source_variant=source_variant,
        status_label=status_label,
        source_explanation=source_explanation,
        partial_text=partial_text,
        progress_variant=progress_variant,
        sensitivity_variant=sensitivity_variant,
        case_source_titles=case_source_titles,
        plural=plural,
        progress_stages=progress_stages,
        deadline_state=deadline_state,
        today=today,
        safe_url=safe_url,
        Progress=Progress,
        Permission=Permission,
    )
