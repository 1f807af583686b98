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
import threading
import time
from collections.abc import Iterable, Iterator, Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, func, select, text
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import URL

from borgersag.audit.chain import (
    AuditChainBroken,
    ExpectedHead,
    Findings,
    VerifyResult,
    check_chain,
    row_fields,
)
from borgersag.audit.database import describe, error_reason, make_engine, transaction
from borgersag.audit.errors import AuditUnavailable
from borgersag.audit.event import (
    GENESIS_HASH,
    STAFF_VIEW_KINDS,
    AuditEvent,
    chain_hash,
    iso_utc,
    utc,
)
from borgersag.audit.keys import (
    AuditKeys,
    KeyFileError,
    checkpoint_message,
    create_key_file,
    head_message,
)
from borgersag.audit.persons import audit_person, concerns, install_person_schema, person_rows
from borgersag.audit.schema import (
    audit_checkpoint,
    audit_event,
    install_schema,
    read_retention_policy,
    write_retention_policy,
)
from borgersag.audit.section import (
    AuditSettings,
    parse_audit_url,
    resolve_key_files,
    resolve_witness,
    url_from_settings,
)
from borgersag.audit.witness import SignedHead, Witness, WitnessUnavailable

__all__ = ["AuditLog", "AuditRecord", "AuditUnavailable", "PruneRefused"]

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


_WITNESS_RETRY_SECONDS = 10.0


class PruneRefused(Exception):
    """Retention may not remove anything now (no signing key, or the database's
    retention policy keeps every row); says why. Nothing was removed."""


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
        keys: AuditKeys | None = None,
        witness: Witness | None = None,
        retention_days: int = 0,
        head_interval_seconds: float = 300,
        clock_tolerance_seconds: float = 120,
    ) -> None:
        if witness is not None and keys is None:
            raise ValueError("a witness needs the signing key")
        self.keys = keys
        self.witness = witness
        self.retention_days = retention_days
        self.head_interval_seconds = head_interval_seconds
        self.clock_tolerance = dt.timedelta(seconds=clock_tolerance_seconds)
        self._head_lock = threading.Lock()
        self._last_head = -float("inf")  # time.monotonic() of the last signed head
        self.url = parse_audit_url(url)
        self.backend = describe(self.url)
        self.postgres = self.url.get_backend_name() == "postgresql"
        self.engine = make_engine(
            self.url,
            lock_timeout_seconds=lock_timeout_seconds,
            connect_timeout_seconds=connect_timeout_seconds,
        )

    @classmethod
    def from_settings(
        cls, settings: AuditSettings, *, sandbox: bool = False, create_keys: bool = False
    ) -> AuditLog:
        """The log the validated ``[audit]`` settings name, with its keys and witness.

        Key files that are missing are created when ``create_keys`` (``audit init``) or
        in the ``sandbox``; otherwise a missing or unfit one is :class:`AuditUnavailable`
        saying which and why. A key file or witness left empty outside the sandbox is a
        :class:`~borgersag.sdk.errors.ConfigError` naming the setting.
        """
        hmac_file, signing_file = resolve_key_files(settings, sandbox=sandbox)
        try:
            if create_keys or sandbox:
                create_key_file(hmac_file)
                create_key_file(signing_file)
            keys = AuditKeys.from_files(hmac_file, signing_file)
        except KeyFileError as exc:
            raise AuditUnavailable(f"The audit log cannot be opened: {exc}.") from None
        return cls(
            url_from_settings(settings),
            keys=keys,
            witness=resolve_witness(settings, sandbox=sandbox),
            retention_days=settings.retention_days,
            head_interval_seconds=settings.head_interval_seconds,
            clock_tolerance_seconds=settings.clock_tolerance_seconds,
        )

    @property
    def _hmac_key(self) -> bytes | None:
        return self.keys.hmac_key if self.keys is not None else None

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

    def create_schema(self, *, write_policy: bool = False) -> None:
        """Create the tables, indexes and append-only triggers that are missing.

        Idempotent and safe when several workers start at once. When everything is in
        place it changes nothing, so a database role without DDL rights may call it.
        With ``write_policy`` (``borgersag audit init``, as the owner) it also sets the
        retention policy the database enforces to this log's ``retention_days``.
        """
        try:
            if not self.postgres:
                path = Path(self.url.database or "")
                path.parent.mkdir(parents=True, exist_ok=True)
                os.close(os.open(path, os.O_RDWR | os.O_CREAT, 0o600))
            with self._transaction(write=True) as conn:
                install_schema(conn)
                install_person_schema(conn)
            if write_policy:
                self._write_policy()
        except OSError as exc:
            raise AuditUnavailable(
                f"The audit log ({self.backend}) cannot be created: {exc.strerror}."
            ) from None
        except sa_exc.SQLAlchemyError as exc:
            raise self._unavailable("could not create its tables", exc) from None

    def _write_policy(self) -> None:
        """Set the database's retention policy to ``retention_days``; a role that may
        not (anyone but the tables' owner) is told which two values disagree."""
        try:
            with self._transaction(write=True) as conn:
                write_retention_policy(conn, self.retention_days)
        except sa_exc.SQLAlchemyError as exc:
            try:
                with self._transaction() as conn:
                    kept = read_retention_policy(conn)
            except sa_exc.SQLAlchemyError:
                kept = None
            if kept is None:
                raise self._unavailable("could not set its retention policy", exc) from None
            raise AuditUnavailable(
                f"The audit log ({self.backend}) keeps {kept} days by its database's retention"
                f" policy, the config says retention_days = {self.retention_days}, and this"
                f" role may not change the policy ({error_reason(exc)}): run"
                " 'borgersag audit init' as the tables' owner, or set retention_days to"
                f" {kept}."
            ) from None

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
                        hash=(row_hash := chain_hash(seq, head_hash, fields, self._hmac_key)),
                    )
                )
                if event.persons:  # in the same transaction: the row and its persons, or neither
                    conn.execute(audit_person.insert(), person_rows(seq, event.persons))
        except sa_exc.SQLAlchemyError as exc:
            raise self._unavailable("could not record the event", exc) from None
        self._head_if_due(seq, row_hash)
        return seq

    # --- signed heads ---------------------------------------------------------------------

    def _head_if_due(self, seq: int, hash_: str) -> None:
        """Sign the head and append it to the witness when the last one is old enough."""
        if self.witness is None:
            return
        now = time.monotonic()
        with self._head_lock:
            if now - self._last_head < self.head_interval_seconds:
                return
            self._last_head = now
        if not self._witness_head("head", seq, hash_, iso_utc(dt.datetime.now(dt.UTC))):
            with self._head_lock:  # try again soon: with a row after 10 s at most
                retry = min(self.head_interval_seconds, _WITNESS_RETRY_SECONDS)
                self._last_head = now - self.head_interval_seconds + retry

    def _witness_head(self, kind: str, seq: int, hash_: str, at: str) -> bool:
        """Append a signed head to the witness; a failure is logged, not raised (the row
        is committed already; the next one tries again)."""
        assert self.keys is not None and self.witness is not None
        message = (checkpoint_message if kind == "checkpoint" else head_message)(seq, hash_, at)
        head = SignedHead(kind, seq, hash_, at, self.keys.sign(message))
        try:
            self.witness.append(head)
        except WitnessUnavailable as exc:
            log.error("audit: the signed head of row %d was not witnessed: %s", seq, exc)
            return False
        return True

    def sign_head(self) -> tuple[int, str] | None:
        """Sign the current head and append it to the witness now; returns it, or
        ``None`` when there is no witness or it could not be written."""
        if self.witness is None:
            return None
        try:
            with self._transaction() as conn:
                seq, hash_ = self._head(conn)
        except sa_exc.SQLAlchemyError as exc:
            raise self._unavailable("could not be read", exc) from None
        at = iso_utc(dt.datetime.now(dt.UTC))
        return (seq, hash_) if self._witness_head("head", seq, hash_, at) else None

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

    def verify(self, heads: Iterable[ExpectedHead] = ()) -> VerifyResult:
        """Check the whole log and name every problem found.

        The chain from the newest checkpoint (or the start) to the end, with this log's
        HMAC key; that time never runs backwards by more than the tolerance; every
        checkpoint's signature; with ``retention_days = 0``, that nothing was removed;
        and that the chain reaches every head the witness holds (its signature checked)
        and every one of ``heads`` (e.g. ``--head SEQ:HASH``) with the same hash.
        """
        findings = Findings()
        expected = list(heads)
        # the witness first: every head in it names a row committed before it was read
        expected += self._witnessed_heads(findings)
        try:
            with self._transaction() as conn:
                checkpoints = (
                    conn.execute(select(audit_checkpoint).order_by(audit_checkpoint.c.up_to_seq))
                    .mappings()
                    .all()
                )
                self._check_checkpoints(checkpoints, findings)
                anchor_seq, anchor_hash = self._anchor(conn)
                return check_chain(
                    _rows_with_persons(conn, after=anchor_seq),
                    anchor_seq=anchor_seq,
                    anchor_hash=anchor_hash,
                    key=self._hmac_key,
                    tolerance=self.clock_tolerance,
                    expected=expected,
                    findings=findings,
                )
        except sa_exc.SQLAlchemyError as exc:
            raise self._unavailable("could not be read", exc) from None

    def _witnessed_heads(self, findings: Findings) -> list[ExpectedHead]:
        """The heads the witness holds whose signature is valid; the rest are named."""
        if self.witness is None or self.keys is None:
            return []
        try:
            read = self.witness.read()
        except WitnessUnavailable as exc:
            findings.add(f"{exc}: the chain was not compared with the witnessed heads")
            return []
        for problem in read.problems:
            findings.add(problem)
        heads = []
        for head in read.heads:
            sign = checkpoint_message if head.kind == "checkpoint" else head_message
            if not self.keys.signature_ok(sign(head.seq, head.hash, head.at), head.signature):
                findings.add(
                    f"witness line {head.line}: the signature of the {head.kind} naming row"
                    f" {head.seq} is not valid (forged, or signed with another key)"
                )
                continue
            what = "checkpoint" if head.kind == "checkpoint" else "head"
            heads.append(ExpectedHead(head.seq, head.hash, f"the {what} witnessed at {head.at}"))
        return heads

    def _check_checkpoints(self, checkpoints: list[Mapping[str, Any]], findings: Findings) -> None:
        """Name checkpoints without a valid signature, and any with retention off."""
        if checkpoints and self.retention_days == 0:
            newest = checkpoints[-1]["up_to_seq"]
            findings.add(
                f"retention_days is 0 (every row is kept), but rows 1–{newest} were removed"
                " behind a checkpoint",
                1,
            )
        if self.keys is None:
            return
        for row in checkpoints:
            seq, signature = row["up_to_seq"], row["signature"]
            message = checkpoint_message(seq, row["anchor_hash"], iso_utc(row["at"]))
            if signature is None:
                findings.add(
                    f"the checkpoint after row {seq} has no signature (made before signed"
                    " checkpoints, or forged): the rows behind it may have been removed"
                    " without right",
                    seq,
                )
            elif not self.keys.signature_ok(message, signature):
                findings.add(
                    f"the checkpoint after row {seq} has an invalid signature: it was not made"
                    " by 'borgersag audit prune' (forged?), and the rows behind it were"
                    " removed without right",
                    seq,
                )

    def prune(self, before: dt.datetime) -> int:
        """Remove the rows from before ``before`` behind a signed checkpoint; returns how many.

        Only a prefix of the chain goes: everything up to the row before the first one
        recorded at or after ``before``, so no younger row is ever removed. The range is
        checked first and :class:`~borgersag.audit.AuditChainBroken` raised (nothing
        removed) if it was tampered with: retention must not destroy the evidence.
        :class:`PruneRefused` when this log has no signing key or the database's
        retention policy keeps every row. The checkpoint is signed, and it and the new
        head go to the witness.
        """
        if self.keys is None:
            raise PruneRefused("pruning needs the signing key ([audit] signing_key_file)")
        before = utc(before)
        seq = audit_event.c.seq
        try:
            with self._transaction(write=True) as conn:
                policy = read_retention_policy(conn)
                if policy <= 0:
                    raise PruneRefused(
                        "the audit database's retention policy keeps every row (0 days):"
                        " nothing may be pruned. To prune, set [audit] retention_days and run"
                        " 'borgersag audit init' as the tables' owner"
                    )
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
                rows = _rows_with_persons(conn, after=anchor_seq, up_to=up_to + 1)
                checked = check_chain(
                    rows, anchor_seq=anchor_seq, anchor_hash=anchor_hash, key=self._hmac_key
                )
                if not checked.ok:
                    raise AuditChainBroken(checked)
                anchor = conn.execute(select(audit_event.c.hash).where(seq == up_to)).scalar_one()
                removed = conn.execute(
                    select(func.count()).select_from(audit_event).where(seq <= up_to)
                ).scalar_one()
                at = dt.datetime.now(dt.UTC)
                signed_at = iso_utc(at)
                # The checkpoint first: the delete trigger allows only rows behind it.
                conn.execute(
                    audit_checkpoint.insert().values(
                        up_to_seq=up_to,
                        anchor_hash=anchor,
                        at=at,
                        removed=removed,
                        signature=self.keys.sign(checkpoint_message(up_to, anchor, signed_at)),
                    )
                )
                conn.execute(audit_person.delete().where(audit_person.c.seq <= up_to))
                conn.execute(audit_event.delete().where(seq <= up_to))
                head_seq, head_hash = self._head(conn)
        except sa_exc.SQLAlchemyError as exc:
            raise self._unavailable("could not remove old rows", exc) from None
        log.info("audit retention: removed %d rows up to seq %d", removed, up_to)
        if self.witness is not None:
            self._witness_head("checkpoint", up_to, anchor, signed_at)
            self._witness_head("head", head_seq, head_hash, iso_utc(dt.datetime.now(dt.UTC)))
        return removed

    # --- lifetime ---------------------------------------------------------------------------

    def close(self) -> None:
        """Close every connection; the log is not used afterwards."""
        self.engine.dispose()

    def __enter__(self) -> AuditLog:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


_CHUNK_ROWS = 1000


def _rows_with_persons(
    conn: Connection, *, after: int, up_to: int | None = None
) -> Iterator[dict[str, Any]]:
    """``audit_event`` rows with ``seq`` after ``after`` (to ``up_to``), in order, each with
    its ``persons`` from ``audit_person``: the chain hash covers them. Read a thousand rows
    at a time, so a long log is checked in bounded memory."""
    last = after
    while True:
        query = select(audit_event).where(audit_event.c.seq > last)
        if up_to is not None:
            query = query.where(audit_event.c.seq <= up_to)
        rows = conn.execute(query.order_by(audit_event.c.seq).limit(_CHUNK_ROWS)).mappings().all()
        if not rows:
            return
        low, high = rows[0]["seq"], rows[-1]["seq"]
        persons: dict[int, list[str]] = {}
        shown = select(audit_person.c.seq, audit_person.c.person).where(
            audit_person.c.seq.between(low, high)
        )
        for seq, person in conn.execute(shown):
            persons.setdefault(seq, []).append(person)
        for row in rows:
            yield {**row, "persons": sorted(persons.get(row["seq"], ()))}
        if len(rows) < _CHUNK_ROWS:
            return
        last = high
