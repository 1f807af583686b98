"""One subscriber's refresh: ask the sources, keep what the citizen may see, find changes.

:class:`Refresher` is plain Python (no Flask, no queue): the worker's jobs call it, and
so do the tests. A refresh

1. opens the subscriber (nothing happens for one who unsubscribed),
2. asks every source through the portal's engine — the same fan-out, bulkheads,
   circuit breakers and result cache as a citizen's own lookup,
3. keeps only what the citizen's own "Mine sager" would show
   (:func:`~borgersag.people.citizen_view.citizen_view` under ``[citizen]``), so a case
   hidden by the citizen policy never reaches the index or the outbox,
4. records the access in the audit log as the municipality's own service (kind
   ``index_refresh``, actor type ``system``), committed before anything is written,
5. writes the facts, the changes that inform under ``[index]``'s rules and each
   source's refresh time in one transaction (:meth:`IndexStore.apply`).

Only sources that answered fresh (``ok`` or ``empty``) count: a source that failed,
timed out, is paused or answered from a stale cache leaves its cases in the index as
they were, and is asked again at the next refresh.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass, field

from borgersag.audit import AuditEvent, EventKind, source_outcomes, subject_key
from borgersag.domain.keys import Key, parse_key
from borgersag.domain.model import Case, Overview, SourceStatus
from borgersag.index.changes import CaseFacts, Change, changes, facts_of
from borgersag.index.section import IndexSettings
from borgersag.index.store import IndexStore
from borgersag.lookup.portal import Portal
from borgersag.people.citizen_policy import CitizenPolicy
from borgersag.people.citizen_view import CitizenCase, CitizenOverview, citizen_view
from borgersag.sdk.errors import SourceError

__all__ = ["SYSTEM_ACTOR", "Refreshed", "Refresher"]

log = logging.getLogger(__name__)

SYSTEM_ACTOR = {
    "actor_id": "borgersag-index",
    "actor_name": "Borgersag (automatisk opdatering)",
    "actor_unit": "Kommunens eget system",
}
"""Who a refresh is recorded as: the municipality's service, never a person."""

_FRESH = (SourceStatus.OK, SourceStatus.EMPTY)
_NOT_ASKED = (SourceStatus.NOT_APPLICABLE, SourceStatus.DISABLED)


@dataclass(frozen=True, slots=True)
class Refreshed:
    """What one refresh did."""

    subscriber_id: int
    subscribed: bool
    answered: tuple[str, ...] = ()
    unanswered: tuple[str, ...] = ()
    cases: int = 0
    changes: tuple[Change, ...] = field(default=())


class Refresher:
    """Refreshes subscribers through ``portal`` into ``store``, audited by ``record``."""

    def __init__(
        self,
        portal: Portal,
        store: IndexStore,
        record: Callable[[AuditEvent], object],
        policy: CitizenPolicy,
        settings: IndexSettings,
    ):
        self.portal = portal
        self.store = store
        self.record = record
        self.policy = policy
        self.settings = settings

    def refresh(self, subscriber_id: int, *, reason: str = "planlagt") -> Refreshed:
        """Refresh one subscriber (see the module docstring); safe to run again."""
        found = self.store.subscriber(subscriber_id)
        if found is None:
            return Refreshed(subscriber_id, subscribed=False)
        key = parse_key("cpr", found.cpr)
        overview = self.portal.lookup(key)
        view = citizen_view(overview, key, self.policy)
        self._record(key, overview, view, reason)
        outcomes = {r.source: r.status.value for r in overview.sources}
        answered = {r.source for r in overview.sources if r.status in _FRESH}
        complete = {
            r.source
            for r in overview.sources
            if r.status in _FRESH and not r.truncated and not r.unreadable
        }
        deadlines = _deadlines(overview)
        fresh = [
            facts_of(case, deadlines.get(case.id))
            for case in self._with_details(view)
            if case.source in answered and self._kept(case)
        ]
        new = self.store.apply(
            subscriber_id,
            fresh,
            outcomes,
            self._informing,
            complete=complete,
            fresh_sources=answered,
        )
        unanswered = tuple(
            r.source for r in overview.sources if r.status not in (*_FRESH, *_NOT_ASKED)
        )
        return Refreshed(
            subscriber_id, True, tuple(sorted(answered)), unanswered, len(fresh), tuple(new)
        )

    def _record(self, key: Key, overview: Overview, view: CitizenOverview, reason: str) -> None:
        """The audit row (committed, or the refresh stops here and is retried)."""
        self.record(
            AuditEvent(
                EventKind.INDEX_REFRESH,
                "system",
                **SYSTEM_ACTOR,
                subject=subject_key(key),
                sources=source_outcomes(overview.sources),
                case_ids=tuple(c.id for c in view.cases),
                detail=f"sagsindeks opdateret ({reason})",
            )
        )

    def _kept(self, case: CitizenCase) -> bool:
        """Whether a case's facts are kept: closed cases only for the retention time."""
        if case.is_open or case.closed is None:
            return True
        limit = dt.date.today() - dt.timedelta(days=self.settings.closed_retention_days)
        return case.closed >= limit

    def _with_details(self, view: CitizenOverview) -> list[CitizenCase]:
        """The visible cases, with each open one's details (documents) when
        ``fetch_details`` asks for them; a case whose details fail keeps its summary."""
        if not self.settings.fetch_details:
            return list(view.cases)
        cases = []
        for case in view.cases:
            if case.is_open:
                try:
                    full = self.portal.get_case(case.id, also_known_as=case.also_known_as)
                except SourceError as exc:
                    log.info("index: details of a case from %s unavailable: %s", case.source, exc)
                else:
                    case = view.detail(full) or case
            cases.append(case)
        return cases

    def _informing(self, old: CaseFacts, new: CaseFacts) -> list[Change]:
        """The changes from ``old`` to ``new`` that inform under the rules."""
        kinds = self.settings.informs(new.area, new.progress.value, new.status_text)
        return [c for c in changes(old, new, self.settings.receipts) if c.kind in kinds]


def _deadlines(overview: Overview) -> dict[str, dt.date]:
    """Deadlines by case id (also under the joined ids): the citizen's view has none."""
    found: dict[str, dt.date] = {}
    for case in overview.cases:
        if case.deadline:
            for case_id in _ids(case):
                found[case_id] = case.deadline
    return found


def _ids(case: Case) -> tuple[str, ...]:
    return (case.id, *case.also_known_as)
