"""Reading and writing the case index and the notification outbox (SQLAlchemy Core).

One :class:`IndexStore` per process, on SQLite or PostgreSQL through the same code.
:meth:`IndexStore.apply` writes a refresh's facts, its changes and the sources' refresh
times in one transaction: a job killed half-way leaves the index as it was, and the job
run again finds the same changes, which the outbox's unique ``dedup_key`` keeps to one
row each.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import case, delete, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import URL, Connection, Engine

from borgersag.audit.database import make_engine, transaction
from borgersag.audit.section import parse_audit_url
from borgersag.domain.model import Progress
from borgersag.index.changes import CaseFacts, Change
from borgersag.index.schema import (
    NOTIFICATION_STATES,
    case_facts,
    notification,
    notify_contact,
    source_refresh,
    subscriber,
    upgrade,
    visit,
)
from borgersag.index.sealing import CprSeal

__all__ = ["IndexStore", "Outboxed", "Subscriber"]

log = logging.getLogger(__name__)

LOST_AFTER = dt.timedelta(minutes=30)
"""A scheduled refresh still not done after this long was lost with its worker."""


@dataclass(frozen=True, slots=True, repr=False)
class Subscriber:
    """A subscribed citizen: the index's own id and the CPR number (opened)."""

    id: int
    cpr: str

    def __repr__(self) -> str:
        return f"Subscriber(id={self.id})"


@dataclass(frozen=True, slots=True)
class Outboxed:
    """One row of the notification outbox."""

    id: int
    subscriber_id: int
    case_id: str
    kind: str
    detail: Mapping[str, str | None]
    state: str
    created_at: dt.datetime
    attempts: int = 0
    last_error: str | None = None


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _utc(moment: dt.datetime) -> dt.datetime:
    """SQLite hands timezone-aware columns back naive: they were written in UTC."""
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


class IndexStore:
    """The index database: subscribers, case facts, refresh times, the outbox."""

    def __init__(self, engine: Engine, seal: CprSeal):
        self.engine = engine
        self.seal = seal

    @classmethod
    def open(cls, url: URL | str, seal: CprSeal) -> IndexStore:
        """A store on ``url`` (the audit log's engine settings: WAL on SQLite, a process's
        own connections); a writer waits up to 30 s for another's lock."""
        parsed = parse_audit_url(url)
        if parsed.get_backend_name() == "sqlite" and parsed.database:
            # personal data: readable by the portal's user only, from the first byte on
            Path(parsed.database).touch(mode=0o600, exist_ok=True)
        engine = make_engine(parsed, lock_timeout_seconds=30.0, connect_timeout_seconds=5)
        return cls(engine, seal)

    def upgrade(self) -> None:
        """Run the migrations up to the newest (idempotent)."""
        upgrade(self.engine)

    def close(self) -> None:
        """Close the database connections."""
        self.engine.dispose()

    # --- subscribers ---------------------------------------------------------------------

    def subscribe(self, cpr: str) -> int:
        """The subscriber id of ``cpr``, subscribing them if they were not."""
        digest = self.seal.lookup_hash(cpr)
        with _writing(self.engine) as conn:
            found = conn.execute(
                select(subscriber.c.id).where(subscriber.c.cpr_hash == digest)
            ).scalar()
            if found is not None:
                return int(found)
            values = {
                "cpr_hash": digest,
                "cpr_sealed": self.seal.seal(cpr),
                "subscribed_at": _now(),
            }
            conn.execute(_insert_ignoring(conn, subscriber, ["cpr_hash"]).values(**values))
            return int(
                conn.execute(
                    select(subscriber.c.id).where(subscriber.c.cpr_hash == digest)
                ).scalar_one()
            )

    def subscriber_id(self, cpr: str) -> int | None:
        """The subscriber id of ``cpr``, or ``None`` when they have not subscribed."""
        with self.engine.connect() as conn:
            found = conn.execute(
                select(subscriber.c.id).where(subscriber.c.cpr_hash == self.seal.lookup_hash(cpr))
            ).scalar()
        return None if found is None else int(found)

    def unsubscribe(self, cpr: str) -> bool:
        """Forget ``cpr``: the subscription, its case facts, its queued notifications and the
        contact details they gave. Notifications already sent or failed stay as the record
        of what was told."""
        digest = self.seal.lookup_hash(cpr)
        with _writing(self.engine) as conn:
            found = conn.execute(
                select(subscriber.c.id).where(subscriber.c.cpr_hash == digest)
            ).scalar()
            if found is None:
                return False
            conn.execute(delete(case_facts).where(case_facts.c.subscriber_id == found))
            conn.execute(delete(source_refresh).where(source_refresh.c.subscriber_id == found))
            conn.execute(
                delete(notification).where(
                    notification.c.subscriber_id == found, notification.c.state == "queued"
                )
            )
            # the e-mail address and phone number the citizen gave go with them
            conn.execute(delete(notify_contact).where(notify_contact.c.subscriber_id == found))
            conn.execute(delete(subscriber).where(subscriber.c.id == found))
        return True

    def subscriber(self, subscriber_id: int) -> Subscriber | None:
        """The subscriber with this id, CPR number opened; ``None`` when unsubscribed."""
        with self.engine.connect() as conn:
            sealed = conn.execute(
                select(subscriber.c.cpr_sealed).where(subscriber.c.id == subscriber_id)
            ).scalar()
        return None if sealed is None else Subscriber(subscriber_id, self.seal.open(sealed))

    def subscriber_ids(self) -> list[int]:
        """Every subscriber's id."""
        with self.engine.connect() as conn:
            return [
                int(i)
                for i in conn.execute(select(subscriber.c.id).order_by(subscriber.c.id)).scalars()
            ]

    def due(
        self,
        minutes_for: Mapping[str, int],
        default_minutes: int,
        *,
        now: dt.datetime | None = None,
        only: int | None = None,
        waiting: bool = True,
    ) -> list[int]:
        """Subscribers (or just ``only``) whose answer from some source is older than that
        source's interval (``minutes_for``, else ``default_minutes``), or who were never
        refreshed. A source that failed counts from the time it was asked: it is asked
        again at its next interval, not at once. ``waiting=False`` leaves out those whose
        scheduled refresh is still in the queue (:meth:`mark_enqueued`), unless it was
        enqueued more than :data:`LOST_AFTER` ago (a job a lost worker held)."""
        now = now or _now()
        refreshed_q = select(source_refresh)
        ids_q = select(subscriber.c.id)
        if not waiting:
            ids_q = ids_q.where(
                (subscriber.c.enqueued_at.is_(None)) | (subscriber.c.enqueued_at < now - LOST_AFTER)
            )
        if only is not None:
            refreshed_q = refreshed_q.where(source_refresh.c.subscriber_id == only)
            ids_q = ids_q.where(subscriber.c.id == only)
        with self.engine.connect() as conn:
            refreshed: dict[int, dict[str, dt.datetime]] = {}
            for row in conn.execute(refreshed_q):
                refreshed.setdefault(row.subscriber_id, {})[row.source] = _utc(row.refreshed_at)
            ids = [int(i) for i in conn.execute(ids_q.order_by(subscriber.c.id)).scalars()]

        def stale(source: str, at: dt.datetime) -> bool:
            return now - at >= dt.timedelta(minutes=minutes_for.get(source, default_minutes))

        return [
            sid
            for sid in ids
            if not refreshed.get(sid) or any(stale(s, at) for s, at in refreshed[sid].items())
        ]

    def mark_enqueued(self, subscriber_ids: Iterable[int], *, done: bool = False) -> None:
        """Note that the schedule enqueued these subscribers' refreshes (``done``: that
        such a job ended without a refresh, which :meth:`apply` notes itself)."""
        ids = list(subscriber_ids)
        if ids:
            with _writing(self.engine) as conn:
                conn.execute(
                    update(subscriber)
                    .where(subscriber.c.id.in_(ids))
                    .values(enqueued_at=None if done else _now())
                )

    # --- facts ---------------------------------------------------------------------------

    def facts(self, subscriber_id: int) -> dict[str, CaseFacts]:
        """The indexed facts of the subscriber's cases, by case id."""
        with self.engine.connect() as conn:
            return _facts(conn, subscriber_id)

    def refreshed(self, subscriber_id: int) -> dict[str, tuple[dt.datetime, str]]:
        """When each source last answered for the subscriber, and how."""
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(source_refresh).where(source_refresh.c.subscriber_id == subscriber_id)
            )
            return {r.source: (_utc(r.refreshed_at), r.status) for r in rows}

    def apply(
        self,
        subscriber_id: int,
        fresh: Iterable[CaseFacts],
        answered: Mapping[str, str],
        detect: Callable[[CaseFacts, CaseFacts], list[Change]],
        *,
        complete: Iterable[str] = (),
        fresh_sources: Iterable[str] | None = None,
    ) -> list[Change]:
        """Write one refresh in one transaction and return the changes new to the outbox.

        ``fresh`` are the facts now seen from the sources that answered; ``answered``
        is every source asked, with its outcome (its refresh time is recorded whatever it
        was); facts of a source's cases that were not seen again are dropped when the
        source is in ``complete`` (it answered fresh, with everything). A joined case
        that one of its systems did not answer for this time (not in ``fresh_sources``)
        keeps its facts as they were: what the others say alone is not a change.
        ``detect(old, new)`` compares each case already indexed, inside the transaction,
        so two refreshes of one subscriber never compare against the same old facts
        twice; what it finds goes to the outbox as ``queued``, each change once.
        """
        now = _now()
        fresh = list(fresh)
        complete = set(complete)
        added: list[Change] = []
        with _writing(self.engine) as conn:
            taken = conn.execute(
                # the row lock keeps a concurrent refresh of the same subscriber waiting
                select(subscriber.c.id).where(subscriber.c.id == subscriber_id).with_for_update()
            ).scalar()
            if taken is None:
                return []  # unsubscribed while the sources were asked
            old = _facts(conn, subscriber_id)
            answered_fresh = set(fresh_sources if fresh_sources is not None else answered)
            seen = {f.case_id for f in fresh}
            # gone: not seen again, though every system holding it answered in full
            gone = [
                cid
                for cid, f in old.items()
                if cid not in seen and set(f.systems or (f.source,)) <= complete
            ]
            fresh = [
                f for f in fresh if not _partly_unanswered(old.get(f.case_id), f, answered_fresh)
            ]
            found = [c for f in fresh if f.case_id in old for c in detect(old[f.case_id], f)]
            if gone:
                conn.execute(
                    delete(case_facts).where(
                        case_facts.c.subscriber_id == subscriber_id, case_facts.c.case_id.in_(gone)
                    )
                )
            for facts in fresh:
                row = _row(facts)
                if facts.case_id in old:
                    conn.execute(
                        update(case_facts)
                        .where(
                            case_facts.c.subscriber_id == subscriber_id,
                            case_facts.c.case_id == facts.case_id,
                        )
                        .values(**row, updated_at=now)
                    )
                else:
                    conn.execute(
                        case_facts.insert().values(
                            **row, subscriber_id=subscriber_id, first_seen=now, updated_at=now
                        )
                    )
            for change in found:
                result = conn.execute(
                    _insert_ignoring(conn, notification, ["dedup_key"]).values(
                        dedup_key=change.dedup_key(subscriber_id),
                        subscriber_id=subscriber_id,
                        case_id=change.case_id,
                        kind=change.kind,
                        detail=json.dumps(change.detail, sort_keys=True),
                        state="queued",
                        attempts=0,
                        created_at=now,
                        updated_at=now,
                    )
                )
                if result.rowcount:
                    added.append(change)
            conn.execute(
                update(subscriber).where(subscriber.c.id == subscriber_id).values(enqueued_at=None)
            )
            for source, status in answered.items():
                conn.execute(
                    delete(source_refresh).where(
                        source_refresh.c.subscriber_id == subscriber_id,
                        source_refresh.c.source == source,
                    )
                )
                conn.execute(
                    source_refresh.insert().values(
                        subscriber_id=subscriber_id, source=source, refreshed_at=now, status=status
                    )
                )
        return added

    def prune_closed(self, retention_days: int, today: dt.date | None = None) -> int:
        """Drop the facts of cases closed more than ``retention_days`` ago; how many."""
        cutoff = (today or dt.date.today()) - dt.timedelta(days=retention_days)
        with _writing(self.engine) as conn:
            result = conn.execute(
                delete(case_facts).where(
                    case_facts.c.progress == Progress.AFSLUTTET.value,
                    case_facts.c.closed.is_not(None),
                    case_facts.c.closed < cutoff,
                )
            )
        return result.rowcount or 0

    # --- visits ("Nyt siden dit sidste besøg") ---------------------------------------------

    def begin_visit(self, cpr: str, *, now: dt.datetime | None = None) -> None:
        """At a citizen's login: the time they last saw Mine sager becomes the time their
        news are counted from (``since``), until their next login."""
        digest = self.seal.lookup_hash(cpr)
        with _writing(self.engine) as conn:
            conn.execute(
                _insert_ignoring(conn, visit, ["cpr_hash"]).values(
                    cpr_hash=digest, updated_at=now or _now()
                )
            )
            conn.execute(
                update(visit)
                .where(visit.c.cpr_hash == digest)
                .values(since=visit.c.seen_at, updated_at=now or _now())
            )

    def seen(self, cpr: str, *, now: dt.datetime | None = None) -> dt.datetime | None:
        """The citizen sees Mine sager now: note it, and return the time of their visit
        before this login (``None``: none known, so nothing is new to them)."""
        digest = self.seal.lookup_hash(cpr)
        now = now or _now()
        with _writing(self.engine) as conn:
            since = conn.execute(select(visit.c.since).where(visit.c.cpr_hash == digest)).first()
            if since is None:
                conn.execute(
                    _insert_ignoring(conn, visit, ["cpr_hash"]).values(
                        cpr_hash=digest, seen_at=now, updated_at=now
                    )
                )
                return None
            conn.execute(
                update(visit).where(visit.c.cpr_hash == digest).values(seen_at=now, updated_at=now)
            )
        return None if since[0] is None else _utc(since[0])

    def changed_since(self, subscriber_id: int, since: dt.datetime) -> set[str]:
        """The index ids of the subscriber's cases with a change found after ``since``
        (any change the outbox holds, told or not)."""
        with self.engine.connect() as conn:
            return set(
                conn.execute(
                    select(notification.c.case_id).where(
                        notification.c.subscriber_id == subscriber_id,
                        notification.c.created_at > since,
                    )
                ).scalars()
            )

    def prune_visits(self, retention_days: int, now: dt.datetime | None = None) -> int:
        """Forget the visit times of citizens not seen for ``retention_days``; how many."""
        cutoff = (now or _now()) - dt.timedelta(days=retention_days)
        with _writing(self.engine) as conn:
            result = conn.execute(delete(visit).where(visit.c.updated_at < cutoff))
        return result.rowcount or 0

    # --- outbox --------------------------------------------------------------------------

    def outbox(self, subscriber_id: int | None = None, state: str | None = None) -> list[Outboxed]:
        """Notifications, oldest first (of one subscriber, in one state)."""
        query = select(notification).order_by(notification.c.id)
        if subscriber_id is not None:
            query = query.where(notification.c.subscriber_id == subscriber_id)
        if state is not None:
            query = query.where(notification.c.state == state)
        with self.engine.connect() as conn:
            return [
                Outboxed(
                    r.id,
                    r.subscriber_id,
                    r.case_id,
                    r.kind,
                    json.loads(r.detail),
                    r.state,
                    _utc(r.created_at),
                    r.attempts,
                    r.last_error,
                )
                for r in conn.execute(query)
            ]

    def mark(self, notification_id: int, state: str, error: str | None = None) -> None:
        """A sender's report on one notification: ``sent``, or ``failed`` with what went
        wrong (kept to 1,000 characters); each report counts as an attempt. ``queued``
        again puts a failed one back for another try."""
        if state not in NOTIFICATION_STATES:
            raise ValueError(f"state must be one of {', '.join(NOTIFICATION_STATES)}")
        with _writing(self.engine) as conn:
            conn.execute(
                update(notification)
                .where(notification.c.id == notification_id)
                .values(
                    state=state,
                    attempts=notification.c.attempts + (0 if state == "queued" else 1),
                    last_error=None if error is None else error[:1000],
                    updated_at=_now(),
                )
            )

    def sources_seen(self) -> dict[str, tuple[dt.datetime, int, int]]:
        """Per source: its newest refresh, how many subscribers it answered fresh for the
        last time, and how many it did not (for operators)."""
        fresh = source_refresh.c.status.in_(("ok", "empty"))
        query = select(
            source_refresh.c.source,
            func.max(source_refresh.c.refreshed_at),
            func.sum(case((fresh, 1), else_=0)),
            func.sum(case((fresh, 0), else_=1)),
        ).group_by(source_refresh.c.source)
        with self.engine.connect() as conn:
            return {
                name: (_utc(at), int(ok), int(bad))
                for name, at, ok, bad in conn.execute(query.order_by(source_refresh.c.source))
            }

    def counts(self) -> dict[str, int]:
        """Subscribers, indexed cases and notifications by state (for operators)."""
        with self.engine.connect() as conn:
            found = {
                "subscribers": conn.execute(
                    select(func.count()).select_from(subscriber)
                ).scalar_one(),
                "cases": conn.execute(select(func.count()).select_from(case_facts)).scalar_one(),
            }
            for state, count in conn.execute(
                select(notification.c.state, func.count()).group_by(notification.c.state)
            ):
                found[f"notifications_{state}"] = count
        return found


@contextmanager
def _writing(engine: Engine) -> Iterator[Connection]:
    """A write transaction: SQLite's ``BEGIN IMMEDIATE`` (the write lock first, so a
    read-then-write never fails half-way on a busy file); PostgreSQL's own row locks."""
    if engine.dialect.name == "sqlite":
        with transaction(engine, write=True) as conn:
            yield conn
    else:
        with engine.begin() as conn:
            yield conn


def _insert_ignoring(conn: Connection, table, keys: list[str]):
    """INSERT … ON CONFLICT (keys) DO NOTHING, in the connection's dialect."""
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    return dialect.insert(table).on_conflict_do_nothing(index_elements=keys)


def _partly_unanswered(old: CaseFacts | None, new: CaseFacts, fresh_sources: set[str]) -> bool:
    """Whether a system that held the case before did not answer fresh this time."""
    return old is not None and bool(set(old.systems) - set(new.systems) - fresh_sources)


def _row(facts: CaseFacts) -> dict[str, object]:
    return {
        "case_id": facts.case_id,
        "source": facts.source,
        "sagsnummer": facts.sagsnummer,
        "progress": facts.progress.value,
        "progress_date": facts.progress_date,
        "status_text": facts.status_text,
        "kle": facts.kle,
        "area": facts.area,
        "unit": facts.unit,
        "opened": facts.opened,
        "decided": facts.decided,
        "closed": facts.closed,
        "deadline": facts.deadline,
        "documents": facts.documents_json(),
        "systems": json.dumps(list(facts.systems)),
    }


def _facts(conn: Connection, subscriber_id: int) -> dict[str, CaseFacts]:
    rows = conn.execute(select(case_facts).where(case_facts.c.subscriber_id == subscriber_id))
    return {
        r.case_id: CaseFacts(
            case_id=r.case_id,
            source=r.source,
            sagsnummer=r.sagsnummer,
            progress=Progress(r.progress),
            progress_date=r.progress_date,
            status_text=r.status_text,
            kle=r.kle,
            area=r.area,
            unit=r.unit,
            opened=r.opened,
            decided=r.decided,
            closed=r.closed,
            deadline=r.deadline,
            documents=CaseFacts.documents_from_json(r.documents),
            systems=tuple(json.loads(r.systems)),
        )
        for r in rows
    }
