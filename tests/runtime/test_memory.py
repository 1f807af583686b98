"""The bounds on memory outside the caches: SQLite page caches and malloc arenas."""

from __future__ import annotations

import platform
import subprocess
import sys

import pytest
from sqlalchemy.engine import make_url

from borgersag.runtime import memory
from borgersag.runtime.sqlite import PAGE_CACHE_KIB


def test_every_embedded_sqlite_connection_has_the_small_page_cache(tmp_path):
    """Sessions, shared state and the audit log: a connection per thread each, so each
    must keep the bounded cache or a worker's memory grows with the files."""
    from borgersag.audit.database import make_engine
    from borgersag.lookup.shared_state import SQLiteSharedState
    from borgersag.web.session_stores import SQLiteSessionStore

    sessions = SQLiteSessionStore(tmp_path / "sessions.sqlite3")
    state = SQLiteSharedState(tmp_path / "state.sqlite3")
    engine = make_engine(
        make_url(f"sqlite:///{tmp_path / 'audit.sqlite3'}"),
        lock_timeout_seconds=1.0,
        connect_timeout_seconds=2,
    )
    try:
        with sessions._connect() as conn:
            assert conn.execute("PRAGMA cache_size").fetchone()[0] == -PAGE_CACHE_KIB
        with state._connect() as conn:
            assert conn.execute("PRAGMA cache_size").fetchone()[0] == -PAGE_CACHE_KIB
        with engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA cache_size").scalar() == -PAGE_CACHE_KIB
    finally:
        engine.dispose()


def test_the_operator_s_malloc_arena_max_wins(monkeypatch):
    monkeypatch.setenv("MALLOC_ARENA_MAX", "8")
    assert memory.limit_malloc_arenas(2) is False


def test_zero_arenas_leaves_glibc_alone(monkeypatch):
    monkeypatch.delenv("MALLOC_ARENA_MAX", raising=False)
    assert memory.limit_malloc_arenas(0) is False


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's mallopt")
def test_arenas_are_limited_on_glibc():
    """In a fresh process (the limit cannot be undone in this one)."""
    code = (
        "import os; os.environ.pop('MALLOC_ARENA_MAX', None);"
        "from borgersag.runtime.memory import limit_malloc_arenas;"
        "print(limit_malloc_arenas(2))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    expected = "True" if platform.libc_ver()[0] == "glibc" else "False"
    assert out.stdout.strip() == expected
