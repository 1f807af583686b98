"""Benchmark: how soon the first source's answer can be shown, against the whole overview.

For N = 3, 10 and 30 SBSYS-style sandbox services (real HTTP servers on loopback in a
child process, latencies 20-80 ms cycled, the real sbsys connector), it times each
lookup's progress listener (:meth:`borgersag.lookup.engine.Engine.overview`'s
``on_progress``): when the first source was settled, against the fastest source's added
latency (the bound for "first answers at once"), and when the whole overview came
(what a page that waits shows first), against the slowest's. Ratios within one run
compare; absolute times across runs on a shared machine do not.

    .venv/bin/python bench/first_answer.py [--lookups 30] [--sizes 3,10,30]
"""

from __future__ import annotations

import argparse
import multiprocessing
import statistics
import sys
import threading
import time
from contextlib import ExitStack

from fanout import percentile, sources_config  # beside this script in bench/
from werkzeug.serving import make_server

from borgersag.domain.keys import parse_key
from borgersag.lookup.cache import ResultCache
from borgersag.lookup.engine import Engine, LookupProgress
from borgersag.lookup.registry import build_sources
from borgersag.sandbox.faults import Faults
from borgersag.sandbox.generator import generate
from borgersag.sandbox.runner import SERVICES, _QuietHandler

LATENCIES_MS = (20, 35, 50, 65, 80)


def _serve(latencies: list[int], conn) -> None:
    """Child process: one sandbox ESDH per latency; sends back the ports, then waits."""
    municipality = generate(2026)
    ports = []
    for latency_ms in latencies:
        app = SERVICES["esdh"](municipality, Faults({"latency_ms": latency_ms}))
        server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=_QuietHandler)
        threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        ).start()
        ports.append(server.port)
    conn.send(ports)
    conn.recv()


def _engine(stack: ExitStack, latencies: list[int]) -> Engine:

    parent, child = multiprocessing.Pipe()
    process = multiprocessing.get_context("spawn").Process(
        target=_serve, args=(latencies, child), daemon=True
    )
    process.start()
    stack.callback(process.kill)
    stack.callback(parent.send, "stop")
    urls = [f"http://127.0.0.1:{port}/" for port in parent.recv()]
    config = sources_config(urls)  # the fan-out bench's sources, the same settings
    engine = Engine(build_sources(config), deadline=10.0, cache=ResultCache(ttl=0))
    stack.callback(engine.close)
    return engine


def bench(n: int, lookups: int, citizens: list[str]) -> dict[str, float]:
    latencies = [LATENCIES_MS[i % len(LATENCIES_MS)] for i in range(n)]
    firsts, wholes = [], []
    with ExitStack() as stack:
        engine = _engine(stack, latencies)
        engine.overview(parse_key("cpr", citizens[0]))  # warm up: tokens, connections
        for i in range(lookups):
            started = time.perf_counter()
            first: list[float] = []

            def heard(progress: LookupProgress, started=started, first=first) -> None:
                if progress.overview.sources and not first:
                    first.append(time.perf_counter() - started)

            overview = engine.overview(parse_key("cpr", citizens[(i + 1) % len(citizens)]), heard)
            wholes.append(time.perf_counter() - started)
            if not first or any(not r.status.answered for r in overview.sources):
                raise SystemExit(f"N={n}: a source did not answer, or no progress was heard")
            firsts.append(first[0])
    return {
        "n": n,
        "fastest": min(latencies) / 1000,
        "slowest": max(latencies) / 1000,
        "first_p50": statistics.median(firsts),
        "first_p95": percentile(firsts, 0.95),
        "whole_p50": statistics.median(wholes),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--lookups", type=int, default=30, help="lookups per N (default 30)")
    parser.add_argument("--sizes", default="3,10,30", help="comma-separated N values")
    args = parser.parse_args(argv)
    municipality = generate(2026)
    citizens = [c.cpr for c in municipality.citizens if c.cpr != municipality.demo.heavy]
    print(f"first answer vs whole overview, {args.lookups} lookups each, no cache (ms)")
    print(
        f"{'N':>4} {'fastest':>8} {'first p50':>10} {'first p95':>10} {'p50-fastest':>12}"
        f" {'p95-fastest':>12} {'slowest':>8} {'whole p50':>10} {'first/whole':>12}"
    )
    for n in (int(x) for x in args.sizes.split(",")):
        r = bench(n, args.lookups, citizens)
        ms = {k: v * 1000 for k, v in r.items() if k != "n"}
        print(
            f"{n:>4} {ms['fastest']:>8.0f} {ms['first_p50']:>10.1f} {ms['first_p95']:>10.1f}"
            f" {ms['first_p50'] - ms['fastest']:>12.1f} {ms['first_p95'] - ms['fastest']:>12.1f}"
            f" {ms['slowest']:>8.0f} {ms['whole_p50']:>10.1f}"
            f" {r['first_p50'] / r['whole_p50']:>12.2f}"
        )
    print("target: first answer p50 <= fastest + 20 ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
