"""Searching the audit log: the data-protection officer's questions, as one query.

"Which rows concern this person?", "what did this employee do?", "what did this unit do
in November?" are one :class:`AuditQuery` each (the filters combine with AND), answered a
page at a time, newest first, by :func:`search`, or all at once for an export by
:func:`export_rows`. Plain SQLAlchemy Core over :data:`~borgersag.audit.schema.audit_event`,
the same on SQLite and PostgreSQL.

Which rows *concern* a person is decided in one place, :func:`concerns`: a row whose
``subject`` is the person's key, or that showed the person's data (one of its persons in
``audit_person``, :mod:`borgersag.audit.persons`) — a property lookup naming them as
owner, a case view or desk view of a case they are party to.

A search may be pinned to the log as it was (``up_to_seq``): the officer's own search
rows, and everyone else's new rows, then do not shift the pages while they page through.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, func, select
from sqlalchemy import exc as sa_exc

from borgersag.audit.event import utc
from borgersag.audit.persons import concerns as _concerns
from borgersag.audit.schema import audit_event
from borgersag.audit.store import AuditLog, AuditRecord

__all__ = [
    "EXPORT_LIMIT",
    "AuditPage",
    "AuditQuery",
    "ExportTooLarge",
    "concerns",
    "export_rows",
    "head_seq",
    "search",
]

EXPORT_LIMIT = 20_000
"""The most rows one export holds; a larger one is refused (narrow the period)."""


class ExportTooLarge(Exception):
    """More rows than :data:`EXPORT_LIMIT` match; the period must be narrowed."""


def concerns(subject: str) -> ColumnElement[bool]:
    """The rows that concern the person (or other key) ``subject``, e.g. ``"cpr:…"``:
    their subject, or one of the persons they showed."""
    return _concerns(subject)


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


@dataclass(frozen=True, slots=True)
class AuditQuery:
    """What to look for; every field that is set must hold (empty: any).

    ``subject``: rows concerning this key (``"cpr:0101011234"``, see :func:`concerns`);
    ``employee``: rows by the caseworker with this medarbejdernummer (any letter case);
    ``unit``: rows by someone whose unit contains this text (any letter case);
    ``since`` (inclusive) and ``until`` (exclusive): when, timezone-aware;
    ``up_to_seq``: only rows up to this one (a search pinned to the log as it was);
    ``exclude_actor_type``: leave out rows by this kind of actor (an export for a citizen
    leaves out the citizen's own visits).
    """

    subject: str = ""
    employee: str = ""
    unit: str = ""
    since: dt.datetime | None = None
    until: dt.datetime | None = None
    up_to_seq: int | None = None
    exclude_actor_type: str | None = None

    def __post_init__(self) -> None:
        for name in ("since", "until"):
            moment = getattr(self, name)
            if moment is not None:
                object.__setattr__(self, name, utc(moment))  # a naive time is refused
        if self.since and self.until and self.until <= self.since:
            raise ValueError("the period must end after it starts")

    @property
    def empty(self) -> bool:
        """True when no filter is set: the query would match every row."""
        return not (self.subject or self.employee or self.unit or self.since or self.until)

    def conditions(self) -> list[ColumnElement[bool]]:
        """The WHERE clauses of this query (combined with AND)."""
        column = audit_event.c
        where: list[ColumnElement[bool]] = []
        if self.subject:
            where.append(concerns(self.subject))
        if self.employee:
            where.append(column.actor_type == "caseworker")
            where.append(func.lower(column.actor_id) == self.employee.strip().lower())
        if self.unit:
            pattern = f"%{_escape_like(self.unit.strip().lower())}%"
            where.append(func.lower(column.actor_unit).like(pattern, escape="\\"))
        if self.since is not None:
            where.append(column.at >= self.since)
        if self.until is not None:
            where.append(column.at < self.until)
        if self.up_to_seq is not None:
            where.append(column.seq <= self.up_to_seq)
        if self.exclude_actor_type:
            where.append(column.actor_type != self.exclude_actor_type)
        return where


@dataclass(frozen=True, slots=True)
class AuditPage:
    """One page of a search: its rows (newest first), which page, and how many in all."""

    records: list[AuditRecord]
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        """How many pages the whole result has (at least 1)."""
        return max(1, -(-self.total // self.per_page))


# These functions belong to the log's reading side; they use its connection helpers
# (same package) so that errors read exactly like the log's own.


def _read(log: AuditLog, work: Any) -> Any:
    try:
        with log._transaction() as conn:
            return work(conn)
    except sa_exc.SQLAlchemyError as exc:
        raise log._unavailable("could not be searched", exc) from None


def head_seq(log: AuditLog) -> int:
    """The newest row's ``seq`` now (0 for an empty log): where to pin a search."""
    return _read(log, lambda conn: conn.execute(select(func.max(audit_event.c.seq))).scalar() or 0)


def search(log: AuditLog, query: AuditQuery, *, page: int = 1, per_page: int = 50) -> AuditPage:
    """One page of the rows ``query`` matches, newest first, and how many match in all.

    Raises :class:`~borgersag.audit.AuditUnavailable` when the log cannot be read.
    """
    if page < 1 or not 1 <= per_page <= 1000:
        raise ValueError("page must be 1 or more and per_page between 1 and 1000")
    where = query.conditions()

    def work(conn: Any) -> AuditPage:
        total = conn.execute(
            select(func.count()).select_from(audit_event).where(*where)
        ).scalar_one()
        rows = conn.execute(
            select(audit_event)
            .where(*where)
            .order_by(audit_event.c.seq.desc())
            .limit(per_page)
            .offset((page - 1) * per_page)
        )
        records = [log._record_from_row(row) for row in rows.mappings()]
        return AuditPage(records, total, page, per_page)

    return _read(log, work)


def export_rows(
    log: AuditLog, query: AuditQuery, *, limit: int = EXPORT_LIMIT
) -> list[AuditRecord]:
    """Every row ``query`` matches, newest first; :class:`ExportTooLarge` past ``limit``.

    The query must name a person (``subject``): an export is one person's log.
    """
    if not query.subject:
        raise ValueError("an export is one person's log: the query must name a subject")
    where = query.conditions()

    def work(conn: Any) -> list[AuditRecord]:
        rows = conn.execute(
            select(audit_event).where(*where).order_by(audit_event.c.seq.desc()).limit(limit + 1)
        ).mappings()
        return [log._record_from_row(row) for row in rows]

    records = _read(log, work)
    if len(records) > limit:
        raise ExportTooLarge(f"more than {limit} rows match; narrow the period")
    return records
