"""Benchmark: a steady mixed load at half capacity for a bounded time; the workers' memory.

Starts the sandbox municipality and ``borgersag serve --workers 2 --threads 16`` with the
sandbox config (sessions and audit in SQLite files of this run). A caseworker signs in;
then a load generator in this process (threads, apart from the server's processes)
drives a mix of what caseworkers do:

* lookups through the form, over ``--citizens`` different citizens, so the result cache
  and the overview store keep taking new entries and dropping old ones;
* overview pages, case pages (a case of a kept overview) and the overview as JSON.

First it measures the mix's capacity (as many requests as 16 clients get through in
``--probe-seconds``), then runs it at half that rate for ``--minutes`` (default 10),
sampling every worker's resident memory. Prints the memory at the end of the warm-up
(the first ``--warm-up`` share of the run) and at the end, and the growth in between
(target < 5 %). Figures from one run on a shared machine.

    .venv/bin/python bench/soak.py [--minutes 10] [--citizens 200]
"""

from __future__ import annotations

import argparse
import itertools
import random
import re
import statistics
import sys
import tempfile
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import cluster

GROWTH_TARGET = 0.05
# The mix: how many of every 10 operations are of each kind.
MIX = {"lookup": 2, "overview": 3, "case": 3, "api": 2}
_CASE_LINK = re.compile(r'href="(/oversigt/[^"/]+/sag/[^"]+)"')


class Load:
    """What the load generator does and counts; thread-safe."""

    def __init__(self, base: str, session, cprs: list[str]) -> None:
        self.base = base
        self.session = session
        self.cprs = itertools.cycle(cprs)
        self.token = cluster.csrf_token(session, base)
        self.kept: list[tuple[str, str | None]] = []  # (overview path, a case path)
        self.lock = threading.Lock()
        self.counts: Counter[str] = Counter()
        self.errors: Counter[str] = Counter()
        self.kinds = [kind for kind, n in MIX.items() for _ in range(n)]
        self.rng = random.Random(2026)

    def _next_cpr(self) -> str:
        with self.lock:
            return next(self.cprs)

    def lookup(self) -> None:
        """A lookup through the form; keeps the overview and one of its cases."""
        path = cluster.look_up(self.session, self.base, self._next_cpr(), self.token)
        page = self.session.get(self.base + path.lstrip("/"), timeout=30)
        found = _CASE_LINK.search(page.text)
        with self.lock:
            self.kept.append((path, found[1] if found else None))
            del self.kept[:-50]  # what caseworkers still have open

    def _pick(self) -> tuple[str, str | None]:
        with self.lock:
            return self.rng.choice(self.kept)

    def one(self, kind: str | None = None) -> None:
        """One operation of the mix (``kind`` chosen by the mix when not given)."""
        kind = kind or self.rng.choice(self.kinds)
        try:
            if kind == "lookup":
                self.lookup()
            else:
                path, case = self._pick()
                if kind == "case" and case:
                    url = self.base + case.lstrip("/")
                elif kind == "api":
                    url = f"{self.base}api/v1/overviews/{cluster.overview_token(path)}"
                else:
                    url = self.base + path.lstrip("/")
                answer = self.session.get(url, timeout=30)
                if answer.status_code != 200:
                    raise RuntimeError(f"HTTP {answer.status_code}")
        except Exception as exc:  # counted and shown: a soak goes on
            with self.lock:
                self.errors[f"{kind}: {type(exc).__name__} {str(exc)[:60]}"] += 1
            return
        with self.lock:
            self.counts[kind] += 1


def capacity(load: Load, seconds: float, clients: int = 16) -> float:
    """Operations per second the mix reaches with ``clients`` busy clients."""
    stop = time.monotonic() + seconds
    done = [0] * clients

    def client(i: int) -> None:
        while time.monotonic() < stop:
            load.one()
            done[i] += 1

    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    started = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return sum(done) / (time.monotonic() - started)


def memory(master: int) -> int:
    """The workers' resident memory together, in bytes."""
    return sum(cluster.rss_bytes(pid) for pid in cluster.worker_pids(master))


def main() -> int:
    """Run the benchmark and print its figures."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=10.0, help="length of the steady load")
    parser.add_argument("--warm-up", type=float, default=0.3, help="share of the run not judged")
    parser.add_argument("--citizens", type=int, default=200, help="different citizens looked up")
    parser.add_argument("--probe-seconds", type=float, default=20.0, help="capacity probe")
    parser.add_argument("--sample-seconds", type=float, default=5.0, help="memory sampling")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, ExitStack() as stack:
        state = Path(tmp)
        folder = cluster.write_config(
            state / "config",
            sessions={"path": str(state / "sessions.sqlite3")},
            audit={"url": f"sqlite:///{state / 'audit.sqlite3'}"},
        )
        cluster.start_sandbox(stack, folder)
        base, server = cluster.start_portal(stack, folder, workers=2, threads=16)
        municipality = cluster.demo_people(folder)
        session = cluster.sign_in_caseworker(base, municipality)
        session.mount("http://", _pool())
        cprs = [c.cpr for c in municipality.citizens][: args.citizens]
        load = Load(base, session, cprs)
        for _ in range(5):
            load.lookup()
        full = capacity(load, args.probe_seconds)
        rate = full / 2
        print(
            f"soak: serve 2 workers x 16 threads; mix {MIX} over {len(cprs)} citizens;"
            f" capacity {full:.0f} ops/s, running at {rate:.0f} ops/s for {args.minutes:g} min",
            flush=True,
        )
        load.counts.clear()
        samples: list[tuple[float, int]] = []
        started = time.monotonic()
        ends = started + args.minutes * 60
        next_sample = started
        late = 0
        with ThreadPoolExecutor(max_workers=32) as pool:
            for n in itertools.count():
                due = started + n / rate
                now = time.monotonic()
                if due >= ends:
                    break
                if now >= next_sample:
                    samples.append((now - started, memory(server.pid)))
                    next_sample += args.sample_seconds
                if due > now:
                    time.sleep(due - now)
                elif now - due > 1.0:
                    late += 1
                pool.submit(load.one)
        samples.append((time.monotonic() - started, memory(server.pid)))

    judged_from = args.minutes * 60 * args.warm_up
    after = [rss for at, rss in samples if at >= judged_from]
    window = max(1, len(after) // 10)  # a tenth of the samples each, against the noise
    begin, end = statistics.median(after[:window]), statistics.median(after[-window:])
    growth = (end - begin) / begin
    verdict = "met" if growth < GROWTH_TARGET else "NOT met"
    mb = 1024 * 1024
    print(f"  operations: {dict(load.counts)}; errors: {sum(load.errors.values())}; late: {late}")
    for error, count in load.errors.most_common(5):
        print(f"    {count} x {error}")
    print(f"  workers' memory at start of load  {samples[0][1] / mb:7.1f} MB")
    print(f"  after warm-up ({judged_from / 60:.1f} min)          {begin / mb:7.1f} MB")
    print(f"  at the end                        {end / mb:7.1f} MB")
    target = f"target < {GROWTH_TARGET:.0%}: {verdict}"
    print(f"  growth after warm-up              {growth:+.1%} ({target})")
    return 0


def _pool():
    """A connection pool as large as the load generator's threads."""
    from requests.adapters import HTTPAdapter

    return HTTPAdapter(pool_connections=4, pool_maxsize=32)


if __name__ == "__main__":
    sys.exit(main())
