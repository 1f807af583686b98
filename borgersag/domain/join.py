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

from borgersag.domain.model import Case, Document, Event

__all__ = ["join_cases", "merge", "one_document_once", "same_document"]


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


def _title_words(title: str) -> str:
    return " ".join(title.casefold().split())


def same_document(a: Document, b: Document) -> bool:
    """Whether two systems' documents are one: the same content digest when both give
    one by the same algorithm; otherwise, from different systems, the same title (case
    and spacing aside) and the same date. Two documents of one system are never taken
    for one by their titles: a system may well hold two letters of one name on a day."""
    if a.content_hash and b.content_hash:
        (algorithm_a, _, digest_a), (algorithm_b, _, digest_b) = (
            a.content_hash.casefold().partition(":"),
            b.content_hash.casefold().partition(":"),
        )
        if algorithm_a == algorithm_b:
            return digest_a == digest_b
    if a.source == b.source or a.date is None or a.date != b.date:
        return False
    return _title_words(a.title) == _title_words(b.title)


def one_document_once(documents: Iterable[Document]) -> tuple[Document, ...]:
    """Documents of a joined case, each listed once: the first copy (the lead system's)
    stays, with every other system that holds it in ``also_in``; the copies together set
    how it may be shown — the most sensitive level, and a party may see it only if every
    system allows it."""
    kept: list[Document] = []
    for doc in documents:
        if any((doc.source, doc.id) == (k.source, k.id) for k in kept):
            continue  # the very same document, reached twice
        index = next((i for i, k in enumerate(kept) if same_document(k, doc)), None)
        if index is None:
            kept.append(doc)
            continue
        first = kept[index]
        holders = (first.source, *first.also_in)
        kept[index] = dataclasses.replace(
            first,
            also_in=first.also_in + ((doc.source,) if doc.source not in holders else ()),
            sensitivity=max(first.sensitivity, doc.sensitivity),
            party_may_see=first.party_may_see and doc.party_may_see,
            content_hash=first.content_hash or doc.content_hash,
        )
    return tuple(kept)


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
        documents=one_document_once(
            dataclasses.replace(d, source=d.source or c.source)
            for c in [lead, *others]
            for d in c.documents
        ),
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
