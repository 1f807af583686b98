"""Benchmark: what refreshing the case index costs, over the sandbox at its realistic latency.

The sandbox municipality (every service, the latencies of ``[sandbox]``'s defaults: ESDH
60 ms, ZGW 80 ms, …) runs in a child process; this process refreshes N subscribed citizens
the way the worker does (the real connectors, engine, citizen view, audit log and index
on SQLite; no result cache, so every refresh asks every source), on ``--threads`` threads
as ``[worker] threads`` would. Two passes: the first indexes everyone (the baseline), the
second finds nothing new (the steady state). Printed per pass: wall time, per subscriber,
the calls each source was asked; then the index's size and the CPU time of change
detection alone. The sandbox has 271 citizens, so N is at most that; the line for 10,000
subscribers is the per-subscriber figure scaled, not a run.

    .venv/bin/python bench/index.py [--subscribers 271] [--threads 2]
"""

from __future__ import annotations

import argparse
import multiprocessing
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests

from borgersag.audit import AuditLog
from borgersag.config.loader import Config
from borgersag.index.changes import changes
from borgersag.index.refresh import Refresher
from borgersag.index.sealing import CprSeal
from borgersag.index.section import INDEX
from borgersag.index.store import IndexStore
from borgersag.lookup.portal import Portal
from borgersag.people.sections import CITIZEN

CASE_SERVICES = ("esdh", "ejerfortegnelse", "byggesag", "zgw", "momentum")
TARGET = 10_000


def _serve(conn) -> None:
    """Child process: the sandbox at its default latencies; sends its config, then waits."""
    from borgersag.sandbox.runner import start_sandbox

    with start_sandbox({}) as sandbox:
        people = [c.cpr for c in sandbox.municipality.citizens]
        urls = {name: sandbox.url(name) for name in CASE_SERVICES}
        conn.send((sandbox.source_config(), urls, people))
        conn.recv()


def _requests(urls: dict[str, str]) -> dict[str, int]:
    return {
        name: requests.get(url + "_sandbox/requests", timeout=5).json()["requests"]
        for name, url in urls.items()
    }


def _pass(refresher: Refresher, ids: list[int], threads: int, urls: dict[str, str]) -> tuple:
    before = _requests(urls)
    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=threads) as pool:
        done = list(pool.map(refresher.refresh, ids))
    seconds = time.perf_counter() - started
    after = _requests(urls)
    calls = {name: after[name] - before[name] for name in urls}
    return seconds, calls, sum(len(d.changes) for d in done), sum(d.cases for d in done)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--subscribers", type=int, default=271, help="at most 271")
    parser.add_argument("--threads", type=int, default=2, help="refreshes at once")
    args = parser.parse_args()

    parent, child = multiprocessing.Pipe()
    server = multiprocessing.get_context("spawn").Process(target=_serve, args=(child,))
    server.start()
    try:
        sources, urls, people = parent.recv()
        folder = Path(tempfile.mkdtemp(prefix="bench-index-"))
        config = Config.from_mapping(
            {
                "sandbox": {},
                "portal": {"deadline_seconds": 5.0, "cache_ttl_seconds": 0},
                "sessions": {"backend": "memory"},
                "sources": sources,
                "index": {"enabled": True},
            }
        )
        portal = Portal.from_config(config)
        store = IndexStore.open(f"sqlite:///{folder / 'index.sqlite3'}", CprSeal("b" * 40))
        store.upgrade()
        audit = AuditLog(f"sqlite:///{folder / 'audit.sqlite3'}")
        audit.create_schema()
        refresher = Refresher(
            portal, store, audit.record, config.section(CITIZEN), config.section(INDEX)
        )
        ids = [store.subscribe(cpr) for cpr in people[: args.subscribers]]
        print(f"{len(ids)} subscribers, {args.threads} thread(s), sandbox at default latency")
        per = 0.0
        for name in ("first (baseline)", "second (steady)"):
            seconds, calls, found, cases = _pass(refresher, ids, args.threads, urls)
            per = seconds / len(ids)
            shown = ", ".join(f"{k} {v}" for k, v in calls.items())
            print(
                f"{name:<17} {seconds:7.2f} s  {per * 1000:6.1f} ms/subscriber"
                f"  {cases} cases  {found} changes  calls: {shown}"
            )
        print(
            f"{TARGET} subscribers, scaled from the steady pass: {per * TARGET / 60:.1f} min"
            f" on {args.threads} thread(s)"
        )
        with store.engine.connect() as conn:  # the write-ahead log folded into the file
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        size = sum(p.stat().st_size for p in folder.glob("index.sqlite3*"))
        counts = store.counts()
        print(
            f"index: {size / 1024:.0f} KiB, {counts['cases']} cases"
            f" ({size / max(1, len(ids)) / 1024:.1f} KiB/subscriber)"
        )
        facts = [f for sid in ids for f in store.facts(sid).values()]
        started = time.perf_counter()
        for fact in facts:
            changes(fact, fact)
        detect = time.perf_counter() - started
        print(
            f"change detection alone: {detect * 1e6:.0f} µs for {len(facts)} cases"
            f" ({detect / max(1, len(facts)) * 1e6:.1f} µs/case)"
        )
        portal.close()
        store.close()
        audit.close()
    finally:
        parent.send("stop")
        server.join(10)
        if server.is_alive():
            server.kill()
    return 0


if __name__ == "__main__":
    sys.exit(main())
