"""Benchmark: what the shared cache and the shared state cost and save, in one run.

1. The kill-switch read every request makes: a read of the session store per request
   (how it was) against :class:`~borgersag.web.operations.SwitchBoard` over SQLite and
   Redis (read at most once a second), in microseconds per request and as a ratio; and
   what the circuit breaker's state adds to each source call in memory, SQLite, Redis.
2. Two instances sharing one Redis result cache, lookups alternating between them over
   ``--keys`` subjects against a source with ``--latency-ms`` latency: how often the
   source was asked, the share of lookups answered from the shared cache, and the time
   of a local hit, a Redis hit and a source call. Then a burst of the same lookup on both
   instances (8 threads each): how many source calls it made.
3. The byte bound: answers of a realistic size poured into a 1 MiB ResultCache.

Needs Redis at ``--redis`` (default db 7 of 127.0.0.1:6379); keys it writes are removed.

    .venv/bin/python bench/shared_state.py [--keys 200]
"""

from __future__ import annotations

import argparse
import datetime as dt
import secrets
import statistics
import tempfile
import threading
import time
from pathlib import Path

import redis

from borgersag.domain.keys import parse_key
from borgersag.domain.model import Case, Provenance
from borgersag.lookup.breaker import Breakers
from borgersag.lookup.cache import ResultCache
from borgersag.lookup.shared_cache import SharedResultCache
from borgersag.lookup.shared_state import MemorySharedState, RedisSharedState, SQLiteSharedState
from borgersag.web.operations import SWITCHES, SwitchBoard
from borgersag.web.session_stores import SQLiteSessionStore

SECRET = "bench-" + "s" * 40


def per_call_us(fn, n: int) -> float:
    started = time.perf_counter()
    for _ in range(n):
        fn()
    return (time.perf_counter() - started) / n * 1e6


def switch_reads(client, prefix: str, folder: Path, n: int) -> None:
    sessions = SQLiteSessionStore(folder / "sessions.sqlite3")
    sessions.save("borgersag:kill-switches", {"sbsys": {"by": "x", "at": "y"}}, 3600)
    old = per_call_us(lambda: sessions.load("borgersag:kill-switches"), n)
    sqlite_state = SQLiteSharedState(folder / "sessions.sqlite3")
    sqlite_state.write(SWITCHES, {"sbsys": {"by": "x", "at": "y"}}, 3600)
    redis_state = RedisSharedState(client, prefix + "state:")
    redis_state.write(SWITCHES, {"sbsys": {"by": "x", "at": "y"}}, 3600)
    on_redis = per_call_us(lambda: redis_state.read(SWITCHES), n)
    boards = {"sqlite": SwitchBoard(sqlite_state), "redis": SwitchBoard(redis_state)}
    print(f"kill switches, per request ({n} requests):")
    print(f"  session store read (SQLite, as before) {old:8.1f} us")
    print(f"  shared state read every time (Redis)   {on_redis:8.1f} us")
    for name, board in boards.items():
        cost = per_call_us(board.current, n)
        print(f"  SwitchBoard over {name:6}                {cost:8.2f} us", end="")
        print(f"  ({old / cost:,.0f}x cheaper than before)")


def breaker_calls(client, prefix: str, folder: Path, n: int) -> None:
    """What the breaker adds to each source call (allow, then succeeded), one thread and
    30 at once (a fan-out to 30 sources)."""
    stores = {
        "memory": MemorySharedState(),
        "sqlite": SQLiteSharedState(folder / "state.sqlite3"),
        "redis": RedisSharedState(client, prefix + "breakers:"),
    }
    print(f"\ncircuit breaker per source call (allow + succeeded, {n} calls):")
    for name, store in stores.items():
        breakers = Breakers(store, threshold=5)

        def call(source: str = "esdh", breakers: Breakers = breakers) -> None:
            breakers.allow(source)
            breakers.succeeded(source)

        one = per_call_us(call, n)
        per_thread = max(1, n // 30)
        threads = [
            threading.Thread(target=per_call_us, args=(lambda s=f"src{i}": call(s), per_thread))
            for i in range(30)
        ]
        started = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        wall = (time.perf_counter() - started) / per_thread * 1e6
        print(f"  {name:6} {one:8.1f} us per call; 30 threads at once: {wall:8.1f} us a round")


def make_answer(subject: str, cases: int) -> list[Case]:
    now = dt.datetime.now(dt.UTC)
    return [
        Case(
            id=f"esdh/{subject}-{n}",
            sagsnummer=f"27.12.00-G01-{n}-24",
            title=f"Sag nummer {n} om boligstøtte og andet",
            provenance=Provenance("esdh", now),
            area="Beskæftigelse",
            opened=dt.date(2024, 1, 1),
        )
        for n in range(cases)
    ]


def shared_cache(client, prefix: str, keys: int, latency: float) -> None:
    asked = [0]
    lock = threading.Lock()

    def source(subject: str):
        def compute():
            with lock:
                asked[0] += 1
            time.sleep(latency)
            return make_answer(subject, 5)

        return compute

    def instance():
        local = ResultCache(ttl=60, stale_max_age=3600)
        return SharedResultCache(local, client, SECRET, prefix=prefix + "cache:")

    one, other = instance(), instance()
    subjects = [parse_key("cpr", f"0101{n % 100:02d}{1000 + n:04d}") for n in range(keys)]
    timings: dict[str, list[float]] = {"source": [], "redis hit": [], "local hit": []}
    kinds = ("source", "redis hit", "local hit")  # first on one, then twice on the other
    for n, subject in enumerate(subjects):
        key = ("esdh", "search", subject)
        order = (one, other, other) if n % 2 == 0 else (other, one, one)
        for kind, cache in zip(kinds, order, strict=True):
            started = time.perf_counter()
            hit = cache.get_or_compute(key, source(subject.value))
            timings[kind].append((time.perf_counter() - started) * 1000)
            assert hit.cached == (kind != "source"), kind
    lookups = 3 * keys
    print(f"\nshared result cache, two instances, {keys} subjects x 3 lookups alternating:")
    print(f"  source asked {asked[0]} times for {lookups} lookups ({keys} distinct)")
    repeated = lookups - keys
    print(f"  shared-cache hits on repeated lookups: {(lookups - asked[0]) / repeated:.0%}")
    for kind, values in timings.items():
        print(f"  {kind:10} p50 {statistics.median(values):7.3f} ms  (n={len(values)})")
    ratio = statistics.median(timings["source"]) / statistics.median(timings["redis hit"])
    print(f"  redis hit vs source: {ratio:.0f}x faster")

    asked[0] = 0
    burst_key = ("esdh", "search", parse_key("cpr", "3112999999"))
    fresh = [instance(), instance()]
    threads = [
        threading.Thread(target=c.get_or_compute, args=(burst_key, source("burst")))
        for c in fresh * 8
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    print(f"  burst of 16 (8 per instance) of one lookup: the source was asked {asked[0]} time(s)")


def byte_bound() -> None:
    cache = ResultCache(ttl=60, max_bytes=1024 * 1024)
    answer = make_answer("x", 40)
    for n in range(2000):
        cache.get_or_compute(n, lambda: answer)
    print("\nbyte bound: 2000 answers of 40 cases into a 1 MiB ResultCache:")
    each = cache.size_bytes / max(1, cache.entry_count) / 1024
    print(f"  kept {cache.entry_count} answers, {cache.size_bytes / 1024:.0f} KiB", end="")
    print(f" (bound 1024 KiB; one answer ~{each:.1f} KiB)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keys", type=int, default=200)
    parser.add_argument("--latency-ms", type=float, default=20.0)
    parser.add_argument("--requests", type=int, default=20000)
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/7")
    args = parser.parse_args()
    client = redis.Redis.from_url(args.redis, socket_timeout=1.0)
    prefix = f"borgersag-bench:{secrets.token_hex(4)}:"
    try:
        with tempfile.TemporaryDirectory() as folder:
            switch_reads(client, prefix, Path(folder), args.requests)
            breaker_calls(client, prefix, Path(folder), max(30, args.requests // 10))
        shared_cache(client, prefix, args.keys, args.latency_ms / 1000)
        byte_bound()
    finally:
        for key in client.scan_iter(prefix + "*"):
            client.delete(key)
        client.close()


if __name__ == "__main__":
    main()
