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
* **A keyed hash chain.** Each row stores ``prev_hash`` (the previous row's hash) and
  ``hash`` = HMAC-SHA256, under a key the database does not hold (``[audit]
  hmac_key_file``), of a canonical serialisation of its fields, its ``seq`` and
  ``prev_hash`` (:func:`~borgersag.audit.event.canonical_bytes`: JSON, sorted keys, no
  whitespace, UTF-8, a fixed field list, times as ISO-8601 UTC with microseconds). A
  row changed, removed or moved breaks the chain at that row, and without the key it
  cannot be re-hashed; :meth:`AuditLog.verify` names every such row.
* **Signed heads in a witness.** The head (seq, hash, time) is signed with Ed25519
  (:mod:`borgersag.audit.keys`) every few minutes and at every checkpoint and appended
  to a witness outside the database (:mod:`borgersag.audit.witness`), so rows cut off
  the end, or a log swapped for an older copy, are named by ``verify`` too.
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
  last removed ``seq``, its hash and a signature. The database accepts it only when made
  now and naming a row older than its retention policy; ``verify`` checks the
  signature. Verification starts from the newest checkpoint as its anchor, so the
  remaining chain still verifies; the delete trigger allows deleting only rows at or
  behind it, and a checkpoint must name a real row by its true hash.

See docs/audit.md for the schema, operations and the PostgreSQL roles.

May import: :mod:`borgersag.people`, :mod:`borgersag.config`, :mod:`borgersag.sdk`,
:mod:`borgersag.domain`, :mod:`borgersag.runtime`. No Flask.
"""

from borgersag.audit.chain import AuditChainBroken, ExpectedHead, VerifyResult
from borgersag.audit.event import (
    ACTOR_TYPES,
    STAFF_VIEW_KINDS,
    AuditEvent,
    EventKind,
    mask_subject,
    source_outcomes,
    subject_key,
)
from borgersag.audit.keys import AuditKeys
from borgersag.audit.section import (
    AUDIT,
    AUDIT_SETTINGS,
    AuditSettings,
    retention_cutoff,
    validate_audit_settings,
)
from borgersag.audit.store import AuditLog, AuditRecord, AuditUnavailable, PruneRefused

__all__ = [
    "ACTOR_TYPES",
    "AUDIT",
    "AUDIT_SETTINGS",
    "STAFF_VIEW_KINDS",
    "AuditChainBroken",
    "AuditEvent",
    "AuditKeys",
    "AuditLog",
    "AuditRecord",
    "AuditSettings",
    "AuditUnavailable",
    "EventKind",
    "ExpectedHead",
    "PruneRefused",
    "VerifyResult",
    "mask_subject",
    "retention_cutoff",
    "source_outcomes",
    "subject_key",
    "validate_audit_settings",
]
