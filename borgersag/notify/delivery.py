"""From the outbox to the citizen: plan messages, then deliver them, each exactly once.

:meth:`Deliverer.plan` takes the outbox's ``queued`` rows of each subscriber — held back
while the subscriber (``per_person_minutes``) or the case (``per_case_minutes``) had a
message lately — and writes one message per chosen channel telling of all of them, in
the same transaction that marks the rows ``planned``: many changes found at once are one
message, and a row is never planned twice.

:meth:`Deliverer.deliver` sends the messages that are due. Each is first claimed
(``queued`` → ``sending``, a conditional UPDATE, so two workers never take the same one),
then sent with its own ``message_id``, then marked ``sent``. A worker that dies between
sending and marking leaves it ``sending``; after ``lost_after_seconds`` it is sent again
with the same id, which the receiving service deduplicates on. A failure is tried again
``retries`` times, the first after ``retry_delay_seconds``, each further one twice as
late; then the message is ``failed`` — kept, shown to the citizen and to the operators.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from sqlalchemy import and_, or_, select, update

from borgersag.index.schema import case_facts, message, notification
from borgersag.index.sealing import SealBroken
from borgersag.index.store import _utc, _writing
from borgersag.notify.section import NotifySettings
from borgersag.notify.senders import DeliveryError, Outgoing, Sender
from borgersag.notify.store import NotifyStore

__all__ = ["PAUSE_ALL", "Delivered", "Deliverer"]

log = logging.getLogger(__name__)
BATCH = 200  # messages claimed per run; the next run takes the rest
PAUSE_ALL = "*"  # the pause of every notification (else a pause names a source)


@dataclass(frozen=True, slots=True)
class Delivered:
    """What one run did."""

    planned: int = 0
    sent: int = 0
    retried: int = 0
    failed: int = 0


class Deliverer:
    """Plans and sends messages with ``senders`` (by channel) under ``settings``."""

    def __init__(
        self,
        store: NotifyStore,
        settings: NotifySettings,
        senders: Mapping[str, Sender],
        *,
        pauses: Callable[[], Mapping[str, object]] = dict,
        clock: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC),
    ):
        self.store = store
        self.settings = settings
        self.senders = dict(senders)
        self.pauses = pauses
        self.clock = clock

    def run(self) -> Delivered:
        """Plan, then deliver what is due. Operators' pauses (:data:`PAUSE_ALL` or a
        source's name) hold news back: paused altogether, nothing is planned or sent; a
        source paused, its cases' news stays queued until it is resumed."""
        pauses = self.pauses()
        if PAUSE_ALL in pauses:
            log.info("notifications are paused: nothing planned or sent")
            return Delivered()
        planned = self.plan(frozenset(pauses))
        done = self.deliver()
        return Delivered(planned, done.sent, done.retried, done.failed)

    # --- planning ------------------------------------------------------------------------

    def plan(self, paused_sources: frozenset[str] = frozenset()) -> int:
        """Write the messages for the queued outbox rows that may go now (not those of a
        paused source's cases); how many."""
        now = self.clock()
        made = 0
        with _writing(self.store.engine) as conn:
            queued = conn.execute(
                select(
                    notification.c.id,
                    notification.c.subscriber_id,
                    notification.c.case_id,
                    case_facts.c.source,
                )
                .outerjoin(
                    case_facts,
                    and_(
                        case_facts.c.subscriber_id == notification.c.subscriber_id,
                        case_facts.c.case_id == notification.c.case_id,
                    ),
                )
                .where(notification.c.state == "queued")
                .order_by(notification.c.id)
            ).all()
            by_subscriber: dict[int, list[tuple[int, str]]] = {}
            for row_id, subscriber_id, case_id, source in queued:
                if source in paused_sources:
                    continue
                by_subscriber.setdefault(subscriber_id, []).append((row_id, case_id))
            for subscriber_id, rows in by_subscriber.items():
                made += self._plan_one(conn, subscriber_id, rows, now)
        return made

    def _plan_one(self, conn, subscriber_id: int, rows: list[tuple[int, str]], now) -> int:
        recent = conn.execute(
            select(message.c.created_at, message.c.cases).where(
                message.c.subscriber_id == subscriber_id,
                message.c.created_at
                >= now
                - dt.timedelta(
                    minutes=max(self.settings.per_person_minutes, self.settings.per_case_minutes)
                ),
            )
        ).all()
        person_since = now - dt.timedelta(minutes=self.settings.per_person_minutes)
        if self.settings.per_person_minutes and any(_utc(at) > person_since for at, _ in recent):
            return 0  # told lately: the news waits for the next message
        case_since = now - dt.timedelta(minutes=self.settings.per_case_minutes)
        held = set()
        if self.settings.per_case_minutes:
            for at, cases in recent:
                if _utc(at) > case_since:
                    held.update(json.loads(cases))
        rows = [(i, c) for i, c in rows if c not in held]
        if not rows:
            return 0
        ids = [i for i, _ in rows]
        contact = self.store.contact(subscriber_id, self.settings.default_channels)
        channels = [c for c in contact.channels if c in self.senders and _reachable(contact, c)]
        if not channels:
            conn.execute(
                update(notification)
                .where(notification.c.id.in_(ids))
                .values(state="skipped", updated_at=now, last_error="no channel chosen")
            )
            return 0
        cases = sorted({c for _, c in rows})
        for channel in channels:
            conn.execute(
                message.insert().values(
                    message_id=uuid.uuid4().hex,
                    subscriber_id=subscriber_id,
                    channel=channel,
                    notifications=json.dumps(ids),
                    cases=json.dumps(cases),
                    state="queued",
                    attempts=0,
                    next_attempt_at=now,
                    created_at=now,
                    updated_at=now,
                )
            )
        conn.execute(
            update(notification)
            .where(notification.c.id.in_(ids))
            .values(state="planned", updated_at=now)
        )
        return len(channels)

    # --- delivering ----------------------------------------------------------------------

    def deliver(self) -> Delivered:
        """Send the messages that are due (and those a dead worker left ``sending``)."""
        now = self.clock()
        lost = now - dt.timedelta(seconds=self.settings.lost_after_seconds)
        with self.store.engine.connect() as conn:
            due = conn.execute(
                select(message.c.id, message.c.state, message.c.updated_at)
                .where(
                    or_(
                        and_(message.c.state == "queued", message.c.next_attempt_at <= now),
                        and_(message.c.state == "sending", message.c.updated_at <= lost),
                    )
                )
                .order_by(message.c.id)
                .limit(BATCH)
            ).all()
        sent = retried = failed = 0
        for message_id, state, updated_at in due:
            outcome = self._deliver_one(message_id, state, updated_at)
            sent += outcome == "sent"
            retried += outcome == "queued"
            failed += outcome == "failed"
        return Delivered(0, sent, retried, failed)

    def _claim(self, row_id: int, state: str, updated_at) -> dict | None:
        now = self.clock()
        with _writing(self.store.engine) as conn:
            claimed = conn.execute(
                update(message)
                .where(
                    message.c.id == row_id,
                    message.c.state == state,
                    message.c.updated_at == updated_at,
                )
                .values(state="sending", updated_at=now)
            )
            if claimed.rowcount != 1:
                return None  # another worker took it
            return dict(conn.execute(select(message).where(message.c.id == row_id)).one()._mapping)

    def _deliver_one(self, row_id: int, state: str, updated_at) -> str | None:
        row = self._claim(row_id, state, updated_at)
        if row is None:
            return None
        outgoing: Outgoing | None = None
        try:
            outgoing = self._outgoing(row)
            self.senders[row["channel"]].send(outgoing)
        except DeliveryError as exc:
            error = str(exc)
            if outgoing is not None and outgoing.to:
                # a service that echoes the address (or CPR number) back: not kept or shown
                error = error.replace(outgoing.to, "[modtager]")
            return self._failed_attempt(row, error, exc.retriable)
        except KeyError:
            return self._failed_attempt(row, "channel no longer configured", False)
        except SealBroken:
            # sealed under another key ([index] key changed): this message cannot be sent,
            # the others still are
            return self._failed_attempt(row, "the recipient cannot be read (key changed)", False)
        now = self.clock()
        with _writing(self.store.engine) as conn:
            conn.execute(
                update(message)
                .where(message.c.id == row_id)
                .values(state="sent", attempts=row["attempts"] + 1, sent_at=now, updated_at=now)
            )
            self._settle(conn, row, now)
        return "sent"

    def _outgoing(self, row: Mapping) -> Outgoing:
        channel = row["channel"]
        if channel == "digital_post":
            who = self.store.index.subscriber(row["subscriber_id"])
            if who is None:
                raise DeliveryError("the citizen unsubscribed", retriable=False)
            return Outgoing(row["message_id"], channel, who.cpr)
        contact = self.store.contact(row["subscriber_id"], self.settings.default_channels)
        to = contact.email if channel == "email" else contact.phone
        if not to:
            raise DeliveryError("the citizen removed the address", retriable=False)
        return Outgoing(row["message_id"], channel, to)

    def _failed_attempt(self, row: Mapping, error: str, retriable: bool) -> str:
        now = self.clock()
        attempts = row["attempts"] + 1
        final = not retriable or attempts > self.settings.retries
        delay = self.settings.retry_delay_seconds * 2 ** (attempts - 1)
        state = "failed" if final else "queued"
        with _writing(self.store.engine) as conn:
            conn.execute(
                update(message)
                .where(message.c.id == row["id"])
                .values(
                    state=state,
                    attempts=attempts,
                    last_error=error[:1000],
                    next_attempt_at=now + dt.timedelta(seconds=delay),
                    updated_at=now,
                )
            )
            if final:
                self._settle(conn, row, now)
        log.warning(
            "notification message %s (%s) attempt %d: %s%s",
            row["id"],
            row["channel"],
            attempts,
            error,
            " - given up" if final else f" - again in {delay} s",
        )
        return state

    def _settle(self, conn, row: Mapping, now) -> None:
        """The outbox rows of a message that ended: ``sent`` when some message carrying
        them was delivered, ``failed`` when every one failed."""
        ids = json.loads(row["notifications"])
        siblings = conn.execute(
            select(message.c.state).where(
                message.c.subscriber_id == row["subscriber_id"],
                message.c.notifications == row["notifications"],
            )
        ).scalars()
        states = set(siblings)
        if "sent" in states:
            new = "sent"
        elif states <= {"failed"}:
            new = "failed"
        else:
            return  # another channel is still under way
        conn.execute(
            update(notification)
            .where(notification.c.id.in_(ids))
            .values(state=new, attempts=notification.c.attempts + 1, updated_at=now)
        )


def _reachable(contact, channel: str) -> bool:
    if channel == "email":
        return bool(contact.email)
    if channel == "sms":
        return bool(contact.phone)
    return True  # Digital Post: by CPR number, always
