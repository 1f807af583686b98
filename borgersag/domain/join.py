"""Join: one matter held by several systems is shown once, with every source.

Connectors put references to the matter into ``Case.join_keys`` (for example the
permit system's case number ``"byggesag:BYG-2024-00123"``, which the ESDH also records
on the journalised case). Cases that share a join key — directly or through a chain —
are merged into one :class:`~borgersag.domain.model.Case`.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterable

from borgersag.domain.model import Case, Event

__all__ = ["join_cases", "merge"]


def join_cases(cases: Iterable[Case]) -> list[Case]:
    """Merge cases that share a join key; keep the order of first appearance."""
    cases = list(cases)
    parent = list(range(len(cases)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    owner: dict[str, int] = {}
    for index, case in enumerate(cases):
        for join_key in case.join_keys:
            if join_key in owner:
                a, b = find(owner[join_key]), find(index)
                if a != b:
                    parent[max(a, b)] = min(a, b)
            else:
                owner[join_key] = index
    groups: dict[int, list[Case]] = {}
    for index, case in enumerate(cases):
        groups.setdefault(find(index), []).append(case)
    return [merge(group) if len(group) > 1 else group[0] for _, group in sorted(groups.items())]


def _last_change(case: Case) -> dt.date:
    dates = [step.date for step in case.progress_history]
    return max(dates, default=case.opened or dt.date.min)


def merge(group: list[Case]) -> Case:
    """One case from several views of the same matter.

    The view whose status changed most recently leads (it knows the current state);
    documents, events, parties and subjects are the union of all views; the earliest
    opening date and the earliest open deadline win. The most sensitive view sets the
    sensitivity, so joining never makes a matter look less sensitive than one system says.
    """
    lead = max(group, key=lambda c: (_last_change(c), c.progress.step, -group.index(c)))
    others = [c for c in group if c is not lead]

    def union(attr: str, ident=lambda x: x) -> tuple:
        seen, items = set(), []
        for case in [lead, *others]:
            for item in getattr(case, attr):
                if ident(item) not in seen:
                    seen.add(ident(item))
                    items.append(item)
        return tuple(items)

    # The lead's progress history is the timeline's spine; the other systems' status
    # changes become events, so the timeline shows what every system recorded.
    history_events = tuple(
        Event(step.date, step.status_text or step.progress.label, "status", c.source)
        for c in others
        for step in c.progress_history
    )
    opened = [c.opened for c in group if c.opened]
    deadlines = [c.deadline for c in group if c.deadline and c.is_open]
    return dataclasses.replace(
        lead,
        documents=union("documents", lambda d: (d.source, d.id)),
        documents_withheld=sum(c.documents_withheld for c in group),
        events=union("events") + history_events,
        parties=union("parties", lambda p: (p.key, p.role)),
        subjects=union("subjects"),
        related=union("related"),
        join_keys=frozenset().union(*(c.join_keys for c in group)),
        sources=tuple(p for c in [lead, *others] for p in c.all_sources),
        also_known_as=tuple(c.id for c in others),
        opened=min(opened) if opened else None,
        deadline=min(deadlines) if deadlines else lead.deadline,
        reason=lead.reason or next((c.reason for c in others if c.reason), None),
        kle=lead.kle or next((c.kle for c in others if c.kle), None),
        area=lead.area or next((c.area for c in others if c.area), None),
        unit=lead.unit or next((c.unit for c in others if c.unit), None),
        sensitivity=max(c.sensitivity for c in group),
    )
