"""The case index's tables (SQLAlchemy Core), and the Alembic migrations that make them.

The same code runs on SQLite and PostgreSQL. The tables are created and changed only by
the migrations in ``migrations/versions`` (``borgersag index upgrade``, and every worker
at start); ``tests/index/test_migrations.py`` checks that the migrated database is
exactly :data:`metadata`.

* ``index_subscriber`` — a citizen who subscribed: the CPR number's keyed hash and the
  number sealed (:mod:`borgersag.index.sealing`), never in clear; when the schedule
  last enqueued their refresh.
* ``index_case`` — facts of a case the subscriber may see: ids, source, progress and its
  date, the source's status text, KLE, area, unit, dates, deadline and the visible
  documents' ids and dates. Never a title or any document content.
* ``index_source_refresh`` — when each source last answered for the subscriber.
* ``index_visit`` — when a citizen last saw Mine sager (``seen_at``) and, from their
  latest login, the time of the visit before (``since``): what changed after it is
  marked "Nyt siden dit sidste besøg". Keyed by the CPR number's keyed hash, for
  subscribers and others alike; a row not touched for :data:`VISIT_RETENTION_DAYS`
  is dropped.
* ``notification`` — the outbox: one row per change that informs, state ``queued``
  until a sender (to come) marks it ``sent`` or ``failed``; ``dedup_key`` is unique, so
  a job run twice writes each change once.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config as AlembicConfig
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import (
    Column,
    Date,
    DateTime,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
)
from sqlalchemy.engine import Connection, Engine

__all__ = [
    "MESSAGE_STATES",
    "NOTIFICATION_STATES",
    "VERSION_TABLE",
    "case_facts",
    "current_revision",
    "head_revision",
    "message",
    "metadata",
    "notification",
    "notify_contact",
    "source_refresh",
    "subscriber",
    "upgrade",
    "visit",
]

VERSION_TABLE = "index_alembic_version"
NOTIFICATION_STATES = ("queued", "planned", "sent", "failed", "skipped")
"""``queued`` (found), ``planned`` (a sender took it into a message), ``sent`` (a message
carrying it was delivered), ``failed`` (every message carrying it failed), ``skipped``
(the citizen chose no channel)."""
MESSAGE_STATES = ("queued", "sending", "sent", "failed")
VISIT_RETENTION_DAYS = 180
"""A citizen's visit times are kept this long after their last visit."""
MIGRATIONS = Path(__file__).resolve().parent / "migrations"

metadata = MetaData()

subscriber = Table(
    "index_subscriber",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("cpr_hash", String(64), nullable=False, unique=True),
    Column("cpr_sealed", Text, nullable=False),
    Column("subscribed_at", DateTime(timezone=True), nullable=False),
    # set when the schedule enqueues a refresh, cleared when it is done: the schedule
    # does not enqueue the subscriber again meanwhile (unless the job is long lost)
    Column("enqueued_at", DateTime(timezone=True)),
)

case_facts = Table(
    "index_case",
    metadata,
    Column("subscriber_id", Integer, nullable=False),
    Column("case_id", String(255), nullable=False),
    Column("source", String(100), nullable=False),
    Column("sagsnummer", String(100), nullable=False),
    Column("progress", String(16), nullable=False),
    Column("progress_date", Date),
    Column("status_text", String(200)),
    Column("kle", String(20)),
    Column("area", String(200)),
    Column("unit", String(200)),
    Column("opened", Date),
    Column("decided", Date),
    Column("closed", Date),
    Column("deadline", Date),
    Column("documents", Text, nullable=False),  # JSON: [[id, "YYYY-MM-DD" or null], ...]
    Column("systems", Text, nullable=False),  # JSON: the sources the case was seen in
    Column("first_seen", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    PrimaryKeyConstraint("subscriber_id", "case_id", name="index_case_pk"),
)

source_refresh = Table(
    "index_source_refresh",
    metadata,
    Column("subscriber_id", Integer, nullable=False),
    Column("source", String(100), nullable=False),
    Column("refreshed_at", DateTime(timezone=True), nullable=False),
    Column("status", String(16), nullable=False),
    PrimaryKeyConstraint("subscriber_id", "source", name="index_source_refresh_pk"),
)

visit = Table(
    "index_visit",
    metadata,
    Column("cpr_hash", String(64), primary_key=True),
    Column("seen_at", DateTime(timezone=True)),  # the latest showing of Mine sager
    Column("since", DateTime(timezone=True)),  # seen_at as it was at the latest login
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

notification = Table(
    "notification",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("dedup_key", String(64), nullable=False, unique=True),
    Column("subscriber_id", Integer, nullable=False, index=True),
    Column("case_id", String(255), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("detail", Text, nullable=False),  # JSON: what changed, e.g. {"progress": ...}
    Column("state", String(8), nullable=False, index=True),
    Column("attempts", Integer, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("last_error", Text),
)

notify_contact = Table(
    "notify_contact",
    metadata,
    Column("subscriber_id", Integer, primary_key=True, autoincrement=False),
    Column("channels", Text, nullable=False),  # JSON: the channels the citizen chose
    Column("email_sealed", Text),  # sealed like the CPR number (never in clear)
    Column("phone_sealed", Text),
    Column("failures_seen_at", DateTime(timezone=True)),  # failed deliveries shown until
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

message = Table(
    "notify_message",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    # the id the receiving service deduplicates on: the same message sent again (a
    # worker died between sending and marking it) is delivered once
    Column("message_id", String(64), nullable=False, unique=True),
    Column("subscriber_id", Integer, nullable=False, index=True),
    Column("channel", String(16), nullable=False),
    Column("notifications", Text, nullable=False),  # JSON: the outbox rows it tells of
    Column("cases", Text, nullable=False),  # JSON: their cases' index ids (throttling)
    Column("state", String(8), nullable=False, index=True),
    Column("attempts", Integer, nullable=False),
    Column("next_attempt_at", DateTime(timezone=True), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("sent_at", DateTime(timezone=True)),
    Column("last_error", Text),
)


def _alembic(connection: Connection) -> AlembicConfig:
    config = AlembicConfig()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Migrate the index database to ``revision`` (the newest by default), in one
    transaction; a database already there is left as it is."""
    with engine.begin() as connection:
        command.upgrade(_alembic(connection), revision)


def head_revision() -> str:
    """The newest migration shipped with this version of borgersag."""
    with_script = ScriptDirectory(str(MIGRATIONS))
    head = with_script.get_current_head()
    assert head is not None
    return head


def current_revision(engine: Engine) -> str | None:
    """The migration the database is at (``None``: never migrated)."""
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"version_table": VERSION_TABLE})
        return context.get_current_revision()
