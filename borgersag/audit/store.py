"""The audit log itself: append under a lock, read for people, check, prune.

:class:`AuditLog` wraps one SQLAlchemy engine. Everything that is dialect-specific is
in two places: connections and the append lock (:mod:`borgersag.audit.database`) and the
triggers (:mod:`borgersag.audit.schema`). The rest is one code path.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import logging
import os
from collections.abc import Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, func, select, text
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import URL

from borgersag.audit.chain import AuditChainBroken, VerifyResult, check_chain, row_fields
from borgersag.audit.database import describe, error_reason, make_engine, transaction
from borgersag.audit.errors import AuditUnavailable
from borgersag.audit.event import GENESIS_HASH, STAFF_VIEW_KINDS, AuditEvent, chain_hash, utc
from borgersag.audit.persons import audit_person, concerns, install_person_schema, person_rows
from borgersag.audit.schema import audit_checkpoint, audit_event, install_schema
from borgersag.audit.section import AuditSettings, parse_audit_url, url_from_settings

__all__ = ["AuditLog", "AuditRecord", "AuditUnavailable"]

log = logging.getLogger("borgersag.audit")

_PG_WRITABLE = text(
    "SELECT pg_is_in_recovery(), current_setting('transaction_read_only'),"
    " has_table_privilege('audit_event', 'INSERT')"
    " AND has_table_privilege('audit_person', 'INSERT')"
)


@dataclass(frozen=True, slots=True, repr=False)
class AuditRecord:
    """One stored row: the event, its place in the chain and its hashes."""

    seq: int
    event: AuditEvent
    prev_hash: str
    hash: str

    def __repr__(self) -> str:
        return f"AuditRecord(seq={self.seq}, event={self.event!r})"


def _json(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


class AuditLog:
    """The append-only, hash-chained audit log in SQLite or PostgreSQL.

    ``lock_timeout_seconds`` bounds the wait for the append lock (SQLite's busy
    timeout, PostgreSQL's ``lock_timeout``): a writer that cannot get it in time gets
    :class:`AuditUnavailable` rather than hanging the request. Safe to share between
    threads; each process (also after ``fork``) opens its own connections.
    """

    def __init__(
        self,
        url: str | URL,
        *,
        lock_timeout_seconds: float = 10.0,
        connect_timeout_seconds: int = 5,
    ) -> None:
        self.url = parse_audit_url(url)
        self.backend = describe(self.url)
        self.postgres = self.url.get_backend_name() == "postgresql"
        self.engine = make_engine(
            self.url,
            lock_timeout_seconds=lock_timeout_seconds,
            connect_timeout_seconds=connect_timeout_seconds,
        )

    @classmethod
    def from_settings(cls, settings: AuditSettings) -> AuditLog:
        """The log the validated ``[audit]`` settings name."""
        return cls(url_from_settings(settings))

    def _transaction(self, *, write: bool = False) -> AbstractContextManager[Connection]:
        return transaction(self.engine, write=write)

    def _unavailable(self, action: str, exc: BaseException) -> AuditUnavailable:
        message = (
            f"The audit log ({self.backend}) {action}: {error_reason(exc)}. Nothing that must be"
            " audited can be shown until it works again."
        )
        log.error("%s", message)
        return AuditUnavailable(message)

    # --- schema ---------------------------------------------------------------------------

    def create_schema(self) -> None:
        """Create the tables, indexes and append-only triggers that are missing.

        Idempotent and safe when several workers start at once. When everything is in
        place it changes nothing, so a database role without DDL rights may call it.
        """
        try:
            if not self.postgres:
                path = Path(self.url.database or "")
                path.parent.mkdir(parents=True, exist_ok=True)
                os.close(os.open(path, os.O_RDWR | os.O_CREAT, 0o600))
            with self._transaction(write=True) as conn:
                install_schema(conn)
                install_person_schema(conn)
        except OSError as exc:
            raise AuditUnavailable(
                f"The audit log ({self.backend}) cannot be created: {exc.strerror}."
            ) from None
        except sa_exc.SQLAlchemyError as exc:
            raise self._unavailable("could not create its tables", exc) from None

    # --- readiness ----------------------------------------------------------------------------

    def check_writable(self) -> None:
        """Raise :class:`AuditUnavailable` unless an append could be made now, making none.

        For a readiness probe: it reads the table in a plain transaction and asks whether
        this process may write (PostgreSQL: not a read-only standby or transaction, and
        INSERT granted; SQLite: the file and its folder are writable). It never takes the
        append lock, so it neither waits for nor delays a writer, and never adds a row.
        """
        try:
            with self._transaction() as conn:
                conn.execute(select(audit_event.c.seq).limit(1)).all()
                if self.postgres:
                    standby, read_only, insert = conn.execute(_PG_WRITABLE).one()
                    if standby or read_only == "on" or not insert:
                        raise AuditUnavailable(
                            f"The audit log ({self.backend}) is read-only for this role."
                        )
        except sa_exc.SQLAlchemyError as exc:
            raise self._unavailable("cannot be read", exc) from None
        if not self.postgres:
            path = Path(self.url.database or "")
            writable = path.is_file() and os.access(path, os.W_OK)
            if not (writable and os.access(path.parent, os.W_OK)):
                raise AuditUnavailable(f"The audit log ({self.backend}) is not writable.")

    # --- writing ----------------------------------------------------------------------------

    def record(self, event: AuditEvent) -> int:
        """Append ``event`` and commit; returns its ``seq``.

        Either the row is committed when this returns, or :class:`AuditUnavailable` is
        raised: then nothing was written and the caller must not show the data.
        """
        try:
            with self._transaction(write=True) as conn:
                head_seq, head_hash = self._head(conn)
                seq = head_seq + 1
                if event.at is None:  # set under the lock: time order follows seq order
                    event = dataclasses.replace(event, at=dt.datetime.now(dt.UTC))
                fields = event.canonical_fields()
                conn.execute(
                    audit_event.insert().values(
                        seq=seq,
                        at=event.at,
                        kind=fields["kind"],
                        actor_type=fields["actor_type"],
                        actor_id=fields["actor_id"],
                        actor_name=fields["actor_name"],
                        actor_unit=fields["actor_unit"],
                        actor_roles=_json(fields["actor_roles"]),
                        subject=fields["subject"],
                        purpose=fields["purpose"],
                        sources=_json(fields["sources"]),
                        case_ids=_json(fields["case_ids"]),
                        request_id=fields["request_id"],
                        detail=fields["detail"],
                        prev_hash=head_hash,
                        hash=chain_hash(seq, head_hash, fields),
                    )
                )
                if event.persons:  # in the same transaction: the row and its persons, or neither
                    conn.execute(audit_person.insert(), person_rows(seq, event.persons))
        except sa_exc.SQLAlchemyError as exc:
            raise self._unavailable("could not record the event", exc) from None
        return seq

    def _head(self, conn: Connection) -> tuple[int, str]:
        """The last row's seq and hash; the newest checkpoint's when the table is empty."""
        row = conn.execute(
            select(audit_event.c.seq, audit_event.c.hash)
            .order_by(audit_event.c.seq.desc())
            .limit(1)
        ).first()
        if row is not None:
            return row.seq, row.hash
        return self._anchor(conn)

    def _anchor(self, conn: Connection) -> tuple[int, str]:
        """Where the chain starts: the newest checkpoint, or the genesis."""
        row = conn.execute(
            select(audit_checkpoint.c.up_to_seq, audit_checkpoint.c.anchor_hash)
            .order_by(audit_checkpoint.c.up_to_seq.desc())
            .limit(1)
        ).first()
        return (row.up_to_seq, row.anchor_hash) if row is not None else (0, GENESIS_HASH)

    # --- reading ----------------------------------------------------------------------------

    def lookups_of(
        self,
        subject: str,
        *,
        page: int = 1,
        per_page: int = 20,
        exclude_actor_type: str | None = "citizen",
    ) -> tuple[list[AuditRecord], int]:
        """Who has looked at ``subject``: the lookups, case views and document downloads
        that concern it — as their subject or as one of the persons they showed (a
        property's owner, a party of a case shown) — newest first, one page of them, and
        how many there are in all.

        Events by ``exclude_actor_type`` (by default the citizen's own) are left out.
        """
        if not subject:
            raise ValueError("subject must name a key, e.g. 'cpr:…'")
        if page < 1 or not 1 <= per_page <= 1000:
            raise ValueError("page must be 1 or more and per_page between 1 and 1000")
        where = [
            concerns(subject),
            audit_event.c.kind.in_([kind.value for kind in STAFF_VIEW_KINDS]),
        ]
        if exclude_actor_type:
            where.append(audit_event.c.actor_type != exclude_actor_type)
        query = select(audit_event).where(*where).order_by(audit_event.c.seq.desc())
        try:
            with self._transaction() as conn:
                total = conn.execute(
                    select(func.count()).select_from(audit_event).where(*where)
                ).scalar_one()
                rows = conn.execute(query.limit(per_page).offset((page - 1) * per_page))
                records = [self._record_from_row(row) for row in rows.mappings()]
        except sa_exc.SQLAlchemyError as exc:
            raise self._unavailable("could not be read", exc) from None
        return records, total

    def recent(self, limit: int = 20) -> list[AuditRecord]:
        """The newest ``limit`` rows, newest first."""
        query = select(audit_event).order_by(audit_event.c.seq.desc()).limit(max(0, limit))
        try:
            with self._transaction() as conn:
                return [self._record_from_row(row) for row in conn.execute(query).mappings()]
        except sa_exc.SQLAlchemyError as exc:
            raise self._unavailable("could not be read", exc) from None

    def _record_from_row(self, row: Mapping[str, Any]) -> AuditRecord:
        try:
            fields = row_fields(row)
            event = AuditEvent(
                kind=fields["kind"],
                actor_type=fields["actor_type"],
                actor_id=fields["actor_id"],
                actor_name=fields["actor_name"],
                actor_unit=fields["actor_unit"],
                actor_roles=tuple(fields["actor_roles"]),
                subject=fields["subject"],
                purpose=fields["purpose"],
                sources=tuple((name, outcome) for name, outcome in fields["sources"]),
                case_ids=tuple(fields["case_ids"]),
                request_id=fields["request_id"],
                detail=fields["detail"],
                at=row["at"],
            )
        except ValueError:
            raise AuditUnavailable(
                f"The audit log ({self.backend}) has a row that cannot be read (row"
                f" {row['seq']}); run 'borgersag audit verify'."
            ) from None
        return AuditRecord(row["seq"], event, row["prev_hash"], row["hash"])

    # --- checking and retention -------------------------------------------------------------

    def verify(self) -> VerifyResult:
        """Check the whole chain from the newest checkpoint (or the start) to the end."""
        try:
            with self._transaction() as conn:
                anchor_seq, anchor_hash = self._anchor(conn)
                query = (
                    select(audit_event)
                    .where(audit_event.c.seq > anchor_seq)
                    .order_by(audit_event.c.seq)
                    .execution_options(yield_per=1000)
                )
                result = conn.execute(query)
                try:
                    return check_chain(
                        result.mappings(), anchor_seq=anchor_seq, anchor_hash=anchor_hash
                    )
                finally:
                    result.close()
        except sa_exc.SQLAlchemyError as exc:
            raise self._unavailable("could not be read", exc) from None

    def prune(self, before: dt.datetime) -> int:
        """Remove the rows from before ``before`` behind a checkpoint; returns how many.

        Only a prefix of the chain goes: everything up to the row before the first one
        recorded at or after ``before``, so no younger row is ever removed. The range is
        checked first and :class:`~borgersag.audit.AuditChainBroken` raised (nothing
        removed) if it was tampered with: retention must not destroy the evidence.
        """
        before = utc(before)
        seq = audit_event.c.seq
        try:
            with self._transaction(write=True) as conn:
                anchor_seq, anchor_hash = self._anchor(conn)
                first_kept = conn.execute(
                    select(func.min(seq)).where(audit_event.c.at >= before)
                ).scalar()
                if first_kept is None:
                    up_to = conn.execute(select(func.max(seq))).scalar()
                else:
                    up_to = first_kept - 1
                if up_to is None or up_to <= anchor_seq:
                    return 0
                rows = conn.execute(
                    select(audit_event).where(seq > anchor_seq, seq <= up_to + 1).order_by(seq)
                ).mappings()
                checked = check_chain(rows, anchor_seq=anchor_seq, anchor_hash=anchor_hash)
                if not checked.ok:
                    raise AuditChainBroken(checked)
                anchor = conn.execute(select(audit_event.c.hash).where(seq == up_to)).scalar_one()
                removed = conn.execute(
                    select(func.count()).select_from(audit_event).where(seq <= up_to)
                ).scalar_one()
                # The checkpoint first: the delete trigger allows only rows behind it.
                conn.execute(
                    audit_checkpoint.insert().values(
                        up_to_seq=up_to,
                        anchor_hash=anchor,
                        at=dt.datetime.now(dt.UTC),
                        removed=removed,
                    )
                )
                conn.execute(audit_person.delete().where(audit_person.c.seq <= up_to))
                conn.execute(audit_event.delete().where(seq <= up_to))
        except sa_exc.SQLAlchemyError as exc:
            raise self._unavailable("could not remove old rows", exc) from None
        log.info("audit retention: removed %d rows up to seq %d", removed, up_to)
        return removed

    # --- lifetime ---------------------------------------------------------------------------

    def close(self) -> None:
        """Close every connection; the log is not used afterwards."""
        self.engine.dispose()

    def __enter__(self) -> AuditLog:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
