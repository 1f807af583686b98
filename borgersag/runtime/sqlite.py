"""Settings every embedded SQLite connection of the portal gets.

The portal keeps one connection per thread to each of its SQLite files (sessions and
overviews, shared state, the audit log), so a worker with 16 threads holds dozens. Each
connection has its own page cache, 2 MB by SQLite's default; as the files grow during
the day every cache fills, and a worker's memory grows by tens of megabytes that the
operating system's file cache holds anyway. A small cache per connection keeps the
memory flat; the lookups are by primary key and touch few pages.
"""

from __future__ import annotations

import sqlite3

__all__ = ["PAGE_CACHE_KIB", "tune"]

PAGE_CACHE_KIB = 512


def tune(conn: sqlite3.Connection) -> None:
    """Give a new connection the portal's settings (a bounded page cache, normal sync)."""
    conn.execute(f"PRAGMA cache_size=-{PAGE_CACHE_KIB}")
    conn.execute("PRAGMA synchronous=NORMAL")
