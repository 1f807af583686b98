"""The index's migrations: up from an empty database on SQLite and PostgreSQL, to exactly
the tables the code reads and writes, and safe to run again."""

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect

from borgersag.index.schema import VERSION_TABLE, current_revision, head_revision, metadata
from borgersag.index.sealing import CprSeal
from borgersag.index.store import IndexStore

from support.index_helpers import SECRET


def test_migrations_run_up_from_empty_to_the_code_s_tables(audit_url):
    store = IndexStore.open(audit_url, CprSeal(SECRET))
    try:
        assert current_revision(store.engine) is None
        store.upgrade()
        assert current_revision(store.engine) == head_revision()
        with store.engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"version_table": VERSION_TABLE})
            assert compare_metadata(context, metadata) == []
            tables = set(inspect(conn).get_table_names())
        assert tables == {*metadata.tables, VERSION_TABLE}
        store.upgrade()  # again: nothing to do, nothing lost
        assert store.subscribe("0101011234") == store.subscribe("0101011234")
        store.upgrade()
        assert store.counts()["subscribers"] == 1
    finally:
        store.close()


def test_cpr_numbers_are_never_stored_in_clear(tmp_path):
    path = tmp_path / "index.sqlite3"
    store = IndexStore.open(f"sqlite:///{path}", CprSeal(SECRET))
    store.upgrade()
    subscriber_id = store.subscribe("0101011234")
    store.close()
    raw = b"".join(p.read_bytes() for p in tmp_path.glob("index.sqlite3*"))
    assert b"0101011234" not in raw and b"010101-1234" not in raw
    reopened = IndexStore.open(f"sqlite:///{path}", CprSeal(SECRET))
    assert reopened.subscriber(subscriber_id).cpr == "0101011234"
    assert reopened.subscriber_id("0101011234") == subscriber_id
    other_key = IndexStore.open(f"sqlite:///{path}", CprSeal("another-" + SECRET))
    assert other_key.subscriber_id("0101011234") is None  # the hash is keyed
    reopened.close()
    other_key.close()
