"""The citizens' channel choices and the messages sent, in the index database.

Contact details the citizen gives (e-mail address, phone number) are sealed with the
index's key like the CPR number; nothing here is kept in clear but the channel names.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field

from sqlalchemy import func, select, update

from borgersag.index.schema import message, notification, notify_contact
from borgersag.index.store import IndexStore, _utc, _writing

__all__ = ["Contact", "NotifyStore", "Sent"]


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@dataclass(frozen=True, slots=True, repr=False)
class Contact:
    """What a subscriber chose: the channels, and the addresses they gave."""

    channels: tuple[str, ...]
    email: str | None = field(default=None, repr=False)
    phone: str | None = field(default=None, repr=False)
    chosen: bool = True  # False: nothing stored yet, the defaults apply
    failures_seen_at: dt.datetime | None = None

    def __repr__(self) -> str:
        return f"Contact(channels={self.channels!r})"


@dataclass(frozen=True, slots=True)
class Sent:
    """One message in a citizen's history: never its text or address."""

    id: int
    channel: str
    state: str
    attempts: int
    created_at: dt.datetime
    updated_at: dt.datetime
    sent_at: dt.datetime | None
    last_error: str | None


class NotifyStore:
    """Contacts and messages, on the index's database and seal."""

    def __init__(self, index: IndexStore):
        self.index = index
        self.engine = index.engine
        self.seal = index.seal

    def contact(self, subscriber_id: int, defaults: tuple[str, ...]) -> Contact:
        """The subscriber's choice (``defaults`` when they have not chosen)."""
        with self.engine.connect() as conn:
            row = conn.execute(
                select(notify_contact).where(notify_contact.c.subscriber_id == subscriber_id)
            ).first()
        if row is None:
            return Contact(defaults, chosen=False)
        return Contact(
            tuple(json.loads(row.channels)),
            self.seal.open(row.email_sealed) if row.email_sealed else None,
            self.seal.open(row.phone_sealed) if row.phone_sealed else None,
            failures_seen_at=_utc(row.failures_seen_at) if row.failures_seen_at else None,
        )

    def save_contact(
        self, subscriber_id: int, channels: tuple[str, ...], email: str | None, phone: str | None
    ) -> None:
        """Keep the subscriber's choice (addresses sealed)."""
        values = {
            "channels": json.dumps(list(channels)),
            "email_sealed": self.seal.seal(email) if email else None,
            "phone_sealed": self.seal.seal(phone) if phone else None,
            "updated_at": _now(),
        }
        with _writing(self.engine) as conn:
            done = conn.execute(
                update(notify_contact)
                .where(notify_contact.c.subscriber_id == subscriber_id)
                .values(**values)
            )
            if not done.rowcount:
                conn.execute(notify_contact.insert().values(subscriber_id=subscriber_id, **values))

    def failures_seen(self, subscriber_id: int, defaults: tuple[str, ...]) -> None:
        """The citizen saw their failed deliveries: show them no more."""
        contact = self.contact(subscriber_id, defaults)
        with _writing(self.engine) as conn:
            if not contact.chosen:
                conn.execute(
                    notify_contact.insert().values(
                        subscriber_id=subscriber_id,
                        channels=json.dumps(list(defaults)),
                        updated_at=_now(),
                        failures_seen_at=_now(),
                    )
                )
                return
            conn.execute(
                update(notify_contact)
                .where(notify_contact.c.subscriber_id == subscriber_id)
                .values(failures_seen_at=_now())
            )

    def history(self, subscriber_id: int, limit: int = 50) -> list[Sent]:
        """The subscriber's messages, newest first."""
        query = (
            select(message)
            .where(message.c.subscriber_id == subscriber_id)
            .order_by(message.c.id.desc())
            .limit(limit)
        )
        with self.engine.connect() as conn:
            return [_sent(r) for r in conn.execute(query)]

    def unseen_failures(self, subscriber_id: int, defaults: tuple[str, ...]) -> list[Sent]:
        """Failed messages the citizen was not shown yet."""
        seen = self.contact(subscriber_id, defaults).failures_seen_at
        query = select(message).where(
            message.c.subscriber_id == subscriber_id, message.c.state == "failed"
        )
        with self.engine.connect() as conn:
            failed = [_sent(r) for r in conn.execute(query.order_by(message.c.id))]
        return [m for m in failed if seen is None or m.updated_at > seen]

    def failed(self, limit: int = 50) -> list[Sent]:
        """Failed messages of every subscriber, newest first (for operators)."""
        query = select(message).where(message.c.state == "failed")
        with self.engine.connect() as conn:
            return [
                _sent(r) for r in conn.execute(query.order_by(message.c.id.desc()).limit(limit))
            ]

    def depth(self) -> dict[str, int]:
        """Outbox rows and messages by state (for operators)."""
        with self.engine.connect() as conn:
            found = {
                f"notifications_{s}": n
                for s, n in conn.execute(
                    select(notification.c.state, func.count()).group_by(notification.c.state)
                )
            }
            found.update(
                {
                    f"messages_{s}": n
                    for s, n in conn.execute(
                        select(message.c.state, func.count()).group_by(message.c.state)
                    )
                }
            )
        return found


def _sent(r) -> Sent:
    return Sent(
        r.id,
        r.channel,
        r.state,
        r.attempts,
        _utc(r.created_at),
        _utc(r.updated_at),
        _utc(r.sent_at) if r.sent_at else None,
        r.last_error,
    )
