"""Searching the audit log (borgersag/audit/search.py), on SQLite and PostgreSQL.

The data-protection officer's questions: rows about a person, by an employee, by a
unit, in a period, a page at a time, newest first; and one person's rows for an export.
"""

from __future__ import annotations

import datetime as dt

import pytest

from borgersag.audit import AuditEvent, AuditLog
from borgersag.audit.search import AuditQuery, ExportTooLarge, export_rows, head_seq, search

KAREN = "cpr:0101701234"
OLE = "cpr:0202802345"
DAY = dt.datetime(2026, 11, 2, 8, 0, tzinfo=dt.UTC)


def event(subject: str, at: dt.datetime, *, actor: str = "MK4821", unit: str = "Jobcenter",
          actor_type: str = "caseworker", kind: str = "lookup") -> AuditEvent:  # fmt: skip
    return AuditEvent(
        kind,
        actor_type,
        actor_id=actor,
        actor_name=f"Navn {actor}",
        actor_unit=unit,
        subject=subject,
        purpose="Sagsbehandling",
        at=at,
    )


@pytest.fixture
def log(audit_url):
    with AuditLog(audit_url) as log:
        log.create_schema()
        yield log


# hours after DAY, subject, actor, unit, actor type, kind: rows 1 to 8
SEED = (
    (0, KAREN, "MK4821", "Jobcenter, Ydelser", "caseworker", "lookup"),
    (1, OLE, "MK4821", "Jobcenter, Ydelser", "caseworker", "lookup"),
    (24, KAREN, "JH1177", "Byggeri og Miljø", "caseworker", "lookup"),
    (26, KAREN, "pseud-k", "", "citizen", "case_view"),
    (48, OLE, "JH1177", "Byggeri og Miljø", "caseworker", "lookup"),
    (72, KAREN, "MK4821", "Jobcenter, Ydelser", "caseworker", "case_view"),
    (73, "", "MK4821", "Jobcenter, Ydelser", "caseworker", "login"),
    (74, KAREN, "X", "100%_rabat", "caseworker", "lookup"),
)


@pytest.fixture
def seeded(log):
    """Eight rows over four days: two people, two employees in two units, a citizen."""
    for hours, subject, actor, unit, actor_type, kind in SEED:
        at = DAY + dt.timedelta(hours=hours)
        log.record(event(subject, at, actor=actor, unit=unit, actor_type=actor_type, kind=kind))
    return log


def seqs(log, query, **paging) -> list[int]:
    return [record.seq for record in search(log, query, **paging).records]


def test_each_filter_finds_its_rows_newest_first(seeded):
    assert seqs(seeded, AuditQuery(subject=KAREN)) == [8, 6, 4, 3, 1]
    assert seqs(seeded, AuditQuery(employee="mk4821")) == [7, 6, 2, 1], "any letter case"
    assert seqs(seeded, AuditQuery(unit="jobcenter")) == [7, 6, 2, 1]
    assert seqs(seeded, AuditQuery(unit="miljø")) == [5, 3]
    assert seqs(seeded, AuditQuery(unit="100%_")) == [8], "% and _ are plain text"
    assert seqs(seeded, AuditQuery(unit="0%")) == [8]
    assert seqs(seeded, AuditQuery(unit="%")) == [8]
    assert seqs(seeded, AuditQuery(subject=KAREN, employee="JH1177")) == [3], "AND"


def test_a_period_is_from_its_start_up_to_its_end(seeded):
    start, end = DAY + dt.timedelta(days=1), DAY + dt.timedelta(days=3)
    assert seqs(seeded, AuditQuery(since=start, until=end)) == [5, 4, 3]
    assert seqs(seeded, AuditQuery(since=DAY + dt.timedelta(days=3))) == [8, 7, 6]
    assert seqs(seeded, AuditQuery(until=DAY + dt.timedelta(seconds=1))) == [1]
    with pytest.raises(ValueError, match="end after it starts"):
        AuditQuery(since=end, until=start)
    with pytest.raises(ValueError, match="timezone-aware"):
        AuditQuery(since=dt.datetime(2026, 11, 2))  # naive on purpose


def test_pinned_search_and_leaving_out_the_citizens_own_visits(seeded):
    pinned = AuditQuery(subject=KAREN, up_to_seq=head_seq(seeded))
    seeded.record(event(KAREN, DAY + dt.timedelta(days=4), kind="audit_search"))
    assert seqs(seeded, pinned) == [8, 6, 4, 3, 1], "a row after the pin is not shown"
    assert seqs(seeded, AuditQuery(subject=KAREN))[0] == 9
    staff_only = AuditQuery(subject=KAREN, exclude_actor_type="citizen")
    assert 4 not in seqs(seeded, staff_only)


def test_pages_split_the_result_and_count_it(seeded):
    query = AuditQuery(subject=KAREN)
    first = search(seeded, query, page=1, per_page=2)
    assert ([r.seq for r in first.records], first.total, first.pages) == ([8, 6], 5, 3)
    assert seqs(seeded, query, page=2, per_page=2) == [4, 3]
    assert seqs(seeded, query, page=3, per_page=2) == [1]
    beyond = search(seeded, query, page=4, per_page=2)
    assert (beyond.records, beyond.total) == ([], 5)
    with pytest.raises(ValueError):
        search(seeded, query, page=0)
    assert search(seeded, AuditQuery(subject="cpr:0303903456")).pages == 1


def test_an_export_is_one_persons_rows_and_has_a_limit(seeded):
    rows = export_rows(seeded, AuditQuery(subject=KAREN, exclude_actor_type="citizen"))
    assert [r.seq for r in rows] == [8, 6, 3, 1]
    assert rows[0].event.actor_unit == "100%_rabat"
    with pytest.raises(ExportTooLarge):
        export_rows(seeded, AuditQuery(subject=KAREN), limit=4)
    assert len(export_rows(seeded, AuditQuery(subject=KAREN), limit=5)) == 5
    with pytest.raises(ValueError, match="one person's log"):
        export_rows(seeded, AuditQuery(employee="MK4821"))


def test_the_head_of_an_empty_log_is_zero(log):
    assert head_seq(log) == 0
    assert search(log, AuditQuery(subject=KAREN)).total == 0
