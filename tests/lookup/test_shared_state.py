"""The shared state store: the breaker rule and named values behave alike in memory,
SQLite and Redis, and two stores over one file or one Redis see the same state."""

from __future__ import annotations

import secrets
import time

import pytest

from borgersag.lookup.breaker import Breakers
from borgersag.lookup.shared_state import MemorySharedState, RedisSharedState, SQLiteSharedState

from support.services import require_redis

REDIS_URL = "redis://127.0.0.1:6379/7"  # a database of its own beside the other tests'


@pytest.fixture(params=["memory", "sqlite", pytest.param("redis", marks=pytest.mark.slow)])
def two_stores(request, tmp_path):
    """Two stores that share their state (for memory: one store, as one process)."""
    if request.param == "memory":
        store = MemorySharedState()
        yield store, store
        return
    if request.param == "sqlite":
        path = tmp_path / "state.sqlite3"
        yield SQLiteSharedState(path), SQLiteSharedState(path)
        return
    import redis

    require_redis(REDIS_URL)
    client = redis.Redis.from_url(REDIS_URL)
    prefix = f"borgersag-test:state:{secrets.token_hex(4)}:"
    yield (
        RedisSharedState(client, prefix),
        RedisSharedState(redis.Redis.from_url(REDIS_URL), prefix),
    )
    for key in client.scan_iter(prefix + "*"):
        client.delete(key)
    client.close()


def test_a_pause_on_one_worker_holds_on_the_other_and_ends(two_stores):
    one, other = (Breakers(s, threshold=2, open_seconds=0.3, trial_seconds=5) for s in two_stores)
    one.failed("esdh")
    other.failed("esdh")
    assert not one.allow("esdh") and not other.allow("esdh")
    assert other.is_open("esdh")
    assert one.allow("zgw")  # one breaker per source
    time.sleep(0.35)
    assert other.allow("esdh")  # the trial, taken by one worker
    assert not one.allow("esdh")
    other.succeeded("esdh")
    assert one.allow("esdh") and one.allow("esdh")


def test_a_value_written_by_one_is_read_by_the_other_until_it_expires(two_stores):
    one, other = two_stores
    assert other.read("kill-switches") is None
    one.write("kill-switches", {"sbsys": {"by": "Jonas (JH1177)"}}, 1.0)
    assert other.read("kill-switches") == {"sbsys": {"by": "Jonas (JH1177)"}}
    time.sleep(1.05)
    assert other.read("kill-switches") is None


def test_values_and_breaker_keys_do_not_meet(two_stores):
    one, other = two_stores
    one.write("esdh:open", {"not": "a flag"}, 60)
    assert not other.is_set("esdh:open")
    other.flag("x", 60)
    assert one.read("x") is None


def test_the_sqlite_file_is_private(tmp_path):
    SQLiteSharedState(tmp_path / "state.sqlite3")
    assert (tmp_path / "state.sqlite3").stat().st_mode & 0o077 == 0
