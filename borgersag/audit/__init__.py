"""The audit log: who looked at whose data, when, why, and what they were shown.

Every overview lookup, case view, document download, login, logout and refused access
becomes one :class:`AuditEvent`, appended by :meth:`AuditLog.record`. Plain Python and
SQLAlchemy Core, no Flask: the web layer calls it, tests call it directly. SQLite by
default (one file shared by the workers on one machine), PostgreSQL in production,
through one code path; only the append lock and the triggers differ per database.

Why it is built this way:

* **Fail closed.** ``record()`` returns only after COMMIT, or raises
  :class:`AuditUnavailable`. The caller records *before* it sends the response, so a
  database that is down means data is not shown, rather than shown without a trace.
  The exception's message names the backend and the database's complaint, never the
  event (no CPR number in a log line or a traceback), and it is raised ``from None``
  so the driver's error, which quotes the statement's parameters, is not chained on.
* **A hash chain.** Each row stores ``prev_hash`` (the previous row's hash) and
  ``hash`` = SHA-256 of a canonical serialisation of its fields, its ``seq`` and
  ``prev_hash`` (:func:`~borgersag.audit.event.canonical_bytes`: JSON, sorted keys, no
  whitespace, UTF-8, a fixed field list, times as ISO-8601 UTC with microseconds). A
  row changed, removed or moved breaks the chain at that row, and :meth:`AuditLog.verify`
  names the first such row. Someone who can write the database could re-hash the whole
  tail, so the head (seq and hash) that ``borgersag audit verify`` prints is worth
  keeping elsewhere: a later run must reach the same row with the same hash.
* **The database refuses changes too.** Triggers refuse UPDATE always and DELETE of
  rows newer than the newest checkpoint (PostgreSQL also TRUNCATE); the chain catches
  what someone with the rights to disable them does anyway.
* **One chain, many writers.** Worker processes and app instances append concurrently.
  ``seq`` is assigned as the previous row's ``seq`` + 1 while holding a lock that is
  taken *before* the previous row is read and released at COMMIT: PostgreSQL
  ``pg_advisory_xact_lock`` (READ COMMITTED, so the head read after the wait sees the
  last committed row), SQLite ``BEGIN IMMEDIATE`` (emitted by an engine listener,
  since pysqlite would otherwise begin only at the INSERT, after the read). ``seq`` is
  the primary key, so two rows can never claim the same place.
* **Retention behind checkpoints.** :meth:`AuditLog.prune` removes a prefix of the
  chain (whole UTC days, ``[audit] retention_days``), after checking it, and in the
  same transaction writes a row to the append-only ``audit_checkpoint`` table: the
  last removed ``seq`` and its hash. Verification starts from the newest checkpoint as
  its anchor, so the remaining chain still verifies; the delete trigger allows deleting
  only rows at or behind it, and a checkpoint must name a real row by its true hash.

See docs/audit.md for the schema, operations and the PostgreSQL roles.

May import: :mod:`borgersag.people`, :mod:`borgersag.config`, :mod:`borgersag.sdk`,
:mod:`borgersag.domain`, :mod:`borgersag.runtime`. No Flask.
"""

from borgersag.audit.chain import AuditChainBroken, VerifyResult
from borgersag.audit.event import (
    ACTOR_TYPES,
    STAFF_VIEW_KINDS,
    AuditEvent,
    EventKind,
    mask_subject,
    source_outcomes,
    subject_key,
)
from borgersag.audit.section import (
    AUDIT,
    AUDIT_SETTINGS,
    AuditSettings,
    retention_cutoff,
    validate_audit_settings,
)
from borgersag.audit.store import AuditLog, AuditRecord, AuditUnavailable

__all__ = [
    "ACTOR_TYPES",
    "AUDIT",
    "AUDIT_SETTINGS",
    "STAFF_VIEW_KINDS",
    "AuditChainBroken",
    "AuditEvent",
    "AuditLog",
    "AuditRecord",
    "AuditSettings",
    "AuditUnavailable",
    "EventKind",
    "VerifyResult",
    "mask_subject",
    "retention_cutoff",
    "source_outcomes",
    "subject_key",
    "validate_audit_settings",
]
