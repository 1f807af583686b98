"""Every person whose data a row showed: the ``audit_person`` side table.

A lookup by BFE shows the property's owners and the parties of its cases; a case page
shows the case's parties; "Mit skrivebord" shows the parties of the caseworker's own
cases. None of them is the row's ``subject``, yet each is a person who may ask who has
seen their data (GDPR art. 15). So :meth:`~borgersag.audit.AuditLog.record` writes one
``audit_person`` row per person of :attr:`AuditEvent.persons
<borgersag.audit.AuditEvent.persons>`, in the same transaction as the event row, and
:func:`concerns` — the one definition of "this row is about that person" — matches them
as well as the subject.

A person is stored as the audit log stores a subject: the key text (``"cpr:…"``, see
:func:`~borgersag.audit.event.subject_key`). The table is guarded like ``audit_event``
by triggers of its own: a person may be added only to the newest event row (the one just
appended under the append lock, so nobody can attach people to old rows), never changed,
and removed only with its event, behind a retention checkpoint. The persons are not part
of the chain hash (its canonical form is fixed); see docs/audit.md.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import (
    BigInteger,
    Column,
    ColumnElement,
    Connection,
    Index,
    MetaData,
    PrimaryKeyConstraint,
    Table,
    Text,
    select,
    text,
    union_all,
)

from borgersag.audit.schema import _PG_SEARCH_PATH, _squeeze, audit_event

__all__ = ["audit_person", "concerns", "install_person_schema", "person_rows"]

person_metadata = MetaData()

audit_person = Table(
    "audit_person",
    person_metadata,
    Column("seq", BigInteger, nullable=False),  # the audit_event row
    Column("person", Text, nullable=False),  # "cpr:…", as audit_event.subject
    PrimaryKeyConstraint("seq", "person", name="audit_person_pkey"),
)
Index("ix_audit_person_person_seq", audit_person.c.person, audit_person.c.seq)


def person_rows(seq: int, persons: Iterable[str]) -> list[dict[str, object]]:
    """The ``audit_person`` rows of event ``seq``."""
    return [{"seq": seq, "person": person} for person in persons]


def concerns(subject: str) -> ColumnElement[bool]:
    """The ``audit_event`` rows that concern the person (or other key) ``subject``:
    it is their subject, or one of the persons they showed."""
    # One set of seqs from the two indexes ((subject, seq) and (person, seq)), rather
    # than "subject = … OR seq IN (…)", which PostgreSQL can answer only by reading
    # every row of audit_event. An alias, so the inner query is not correlated away.
    named = audit_event.alias("named")
    seqs = union_all(
        select(named.c.seq).where(named.c.subject == subject),
        select(audit_person.c.seq).where(audit_person.c.person == subject),
    )
    return audit_event.c.seq.in_(seqs)


# --- PostgreSQL ----------------------------------------------------------------------------

_PG_FUNCTION = "audit_person_guard"
_PG_BODY = """
BEGIN
  IF TG_OP = 'INSERT' THEN
    IF NEW.seq IS DISTINCT FROM (SELECT MAX(seq) FROM audit_event) THEN
      RAISE EXCEPTION 'audit_person: persons are recorded only with the newest audit_event'
        ' row, not row %', NEW.seq;
    END IF;
    RETURN NEW;
  END IF;
  IF TG_OP = 'DELETE' THEN
    IF OLD.seq <= (SELECT COALESCE(MAX(up_to_seq), 0) FROM audit_checkpoint) THEN
      RETURN OLD;
    END IF;
    RAISE EXCEPTION 'audit_person is append-only: row % is newer than the last checkpoint'
      ' and cannot be deleted', OLD.seq;
  END IF;
  RAISE EXCEPTION 'audit_person is append-only: % is not allowed', TG_OP;
END
"""

_PG_TRIGGERS = {
    # name: (when, level)
    "audit_person_insert_guard": ("BEFORE INSERT", "ROW"),
    "audit_person_no_update": ("BEFORE UPDATE", "ROW"),
    "audit_person_delete_guard": ("BEFORE DELETE", "ROW"),
    "audit_person_no_truncate": ("BEFORE TRUNCATE", "STATEMENT"),
}


def _pg_current(conn: Connection) -> bool:
    """Whether the guard function (same body, pinned search_path) and its enabled
    triggers are in place, so that a start-up needs no DDL rights."""
    found = conn.execute(
        text(
            "SELECT p.prosrc, p.proconfig FROM pg_proc p WHERE p.proname = :name"
            " AND p.pronamespace ="
            " (SELECT n.oid FROM pg_namespace n WHERE n.nspname = current_schema())"
        ),
        {"name": _PG_FUNCTION},
    ).first()
    if found is None or found.prosrc != _PG_BODY:
        return False
    if not _PG_SEARCH_PATH.fullmatch(",".join(found.proconfig or ())):
        return False
    triggers = dict(
        conn.execute(
            text(
                "SELECT t.tgname, t.tgenabled FROM pg_trigger t"
                " WHERE t.tgrelid = to_regclass('audit_person') AND NOT t.tgisinternal"
            )
        ).all()
    )
    return all(triggers.get(name) == "O" for name in _PG_TRIGGERS)


def _pg_install(conn: Connection) -> None:
    schema = conn.execute(text("SELECT quote_ident(current_schema())")).scalar_one()
    # search_path pinned with pg_temp last, as for the other guards (schema.py): a
    # temporary audit_checkpoint or audit_event must not be what the guard reads.
    conn.exec_driver_sql(
        f"CREATE OR REPLACE FUNCTION {_PG_FUNCTION}() RETURNS trigger LANGUAGE plpgsql"
        f" SET search_path = {schema}, pg_temp AS $body${_PG_BODY.replace('%', '%%')}$body$"
    )
    for name, (when, level) in _PG_TRIGGERS.items():
        conn.exec_driver_sql(f"DROP TRIGGER IF EXISTS {name} ON audit_person")
        conn.exec_driver_sql(
            f"CREATE TRIGGER {name} {when} ON audit_person FOR EACH {level}"
            f" EXECUTE FUNCTION {_PG_FUNCTION}()"
        )


# --- SQLite --------------------------------------------------------------------------------

_SQLITE_TRIGGERS = {
    "audit_person_insert_guard": (
        "CREATE TRIGGER audit_person_insert_guard BEFORE INSERT ON audit_person"
        " WHEN NEW.seq IS NOT (SELECT MAX(seq) FROM audit_event) BEGIN"
        " SELECT RAISE(ABORT, 'audit_person: persons are recorded only with the newest"
        " audit_event row'); END"
    ),
    "audit_person_no_update": (
        "CREATE TRIGGER audit_person_no_update BEFORE UPDATE ON audit_person BEGIN"
        " SELECT RAISE(ABORT, 'audit_person is append-only: UPDATE is not allowed'); END"
    ),
    "audit_person_delete_guard": (
        "CREATE TRIGGER audit_person_delete_guard BEFORE DELETE ON audit_person"
        " WHEN OLD.seq > (SELECT COALESCE(MAX(up_to_seq), 0) FROM audit_checkpoint) BEGIN"
        " SELECT RAISE(ABORT, 'audit_person is append-only: rows newer than the last"
        " checkpoint cannot be deleted'); END"
    ),
}


def _sqlite_current(conn: Connection) -> bool:
    existing = dict(
        conn.exec_driver_sql(
            "SELECT name, sql FROM sqlite_master WHERE type = 'trigger'"
            " AND tbl_name = 'audit_person'"
        ).all()
    )
    return all(
        _squeeze(existing.get(name) or "") == _squeeze(sql)
        for name, sql in _SQLITE_TRIGGERS.items()
    )


def _sqlite_install(conn: Connection) -> None:
    for name, sql in _SQLITE_TRIGGERS.items():
        conn.exec_driver_sql(f"DROP TRIGGER IF EXISTS {name}")
        conn.exec_driver_sql(sql)


def install_person_schema(conn: Connection) -> None:
    """Create ``audit_person``, its index and its guards where missing (after
    :func:`~borgersag.audit.schema.install_schema`, in the same locked transaction);
    changes nothing when all is in place."""
    person_metadata.create_all(conn, checkfirst=True)
    if conn.dialect.name == "postgresql":
        if not _pg_current(conn):
            _pg_install(conn)
    elif not _sqlite_current(conn):
        _sqlite_install(conn)
