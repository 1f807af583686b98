"""Benchmark: the engine's fan-out against N sandbox sources with set latencies.

For N = 3, 10 and 30 SBSYS-style sandbox services (each a real HTTP server on loopback
with its own added latency, talked to by the real sbsys connector with OAuth2), it
prints p50 and p95 of the overview time next to the ideal bound (the slowest source's
latency) and the overhead as a ratio. Then it times the heavy citizen (500+ cases):
fetch, join and HTML render.

Figures are wall-clock on a shared machine: compare the ratios within one run, not
absolute times across runs.

    .venv/bin/python bench/fanout.py [--lookups 30]
"""

from __future__ import annotations

import argparse
import multiprocessing
import statistics
import sys
import tempfile
import threading
import time
from contextlib import ExitStack

from werkzeug.serving import make_server

from borgersag.config.loader import Config
from borgersag.domain.join import join_cases
from borgersag.domain.keys import parse_key
from borgersag.lookup.cache import ResultCache
from borgersag.lookup.engine import Engine
from borgersag.lookup.registry import build_sources
from borgersag.sandbox.faults import Faults
from borgersag.sandbox.generator import generate
from borgersag.sandbox.runner import SERVICES, _QuietHandler

LATENCIES_MS = (20, 35, 50, 65, 80)  # cycled over the N sources; slowest = 80 ms


def serve_esdh_services(latencies: list[int], conn) -> None:
    """Child process: one SBSYS-style sandbox service per latency; sends back the ports."""
    municipality = generate(2026)
    servers = []
    for latency_ms in latencies:
        app = SERVICES["esdh"](municipality, Faults({"latency_ms": latency_ms}))
        server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=_QuietHandler)
        threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        ).start()
        servers.append(server)
    conn.send([server.port for server in servers])
    conn.recv()  # blocks until the parent says stop (or goes away)


def start_esdh_services(stack: ExitStack, latencies: list[int]) -> list[str]:
    """Start the services in a separate process, so the server side does not compete
    with the engine for this process's GIL; returns their base URLs."""
    parent, child = multiprocessing.Pipe()
    process = multiprocessing.get_context("spawn").Process(
        target=serve_esdh_services, args=(latencies, child), daemon=True
    )
    process.start()
    stack.callback(process.join, 5)
    stack.callback(parent.send, "stop")
    ports = parent.recv()
    return [f"http://127.0.0.1:{port}/" for port in ports]


def sources_config(urls: list[str]) -> Config:
    from borgersag.sandbox.esdh import CREDENTIALS

    sources = {
        f"esdh{i}": {
            "type": "sbsys",
            "title": f"ESDH {i}",
            "base_url": url,
            "token_url": url + "connect/token",
            **CREDENTIALS,
        }
        for i, url in enumerate(urls)
    }
    return Config.from_mapping(
        {"sandbox": {}, "portal": {"deadline_seconds": 10.0}, "sources": sources}
    )


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))
    return ordered[index]


def bench_fanout(municipality, n: int, lookups: int) -> dict[str, float]:
    latencies = [LATENCIES_MS[i % len(LATENCIES_MS)] for i in range(n)]
    with ExitStack() as stack:
        urls = start_esdh_services(stack, latencies)
        config = sources_config(urls)
        sources = build_sources(config)
        portal = config.portal
        engine = Engine(
            sources,
            deadline=portal.deadline_seconds,
            cache=ResultCache(ttl=0),
        )
        stack.callback(engine.close)
        citizens = [c.cpr for c in municipality.citizens if c.cpr != municipality.demo.heavy]
        engine.overview(parse_key("cpr", citizens[0]))  # warm up: tokens, connections
        times = []
        for i in range(lookups):
            key = parse_key("cpr", citizens[(i + 1) % len(citizens)])
            started = time.perf_counter()
            overview = engine.overview(key)
            times.append(time.perf_counter() - started)
            bad = [r for r in overview.sources if not r.status.answered]
            if bad:
                raise SystemExit(f"N={n}: source {bad[0].source} did not answer: {bad[0].message}")
    ideal = max(latencies) / 1000
    p50, p95 = statistics.median(times), percentile(times, 0.95)
    return {"n": n, "ideal": ideal, "p50": p50, "p95": p95}


def bench_heavy(municipality) -> dict[str, float]:
    from borgersag.sandbox.runner import start_sandbox
    from borgersag.web import create_app

    with start_sandbox({"seed": municipality.seed}, municipality=municipality) as sandbox:
        config = Config.from_mapping(
            {
                "sandbox": {},
                "portal": {"deadline_seconds": 30.0, "cache_ttl_seconds": 0.0},
                "auth": sandbox.auth_config(),
                "sessions": {"backend": "memory"},
                "audit": {"url": f"sqlite:///{tempfile.mkdtemp(prefix='bench-')}/audit.sqlite3"},
                "sources": sandbox.source_config(),
            }
        )
        app = create_app(config)
        portal = app.extensions["borgersag"]
        key = parse_key("cpr", municipality.demo.heavy)
        portal.lookup(key)  # warm up
        started = time.perf_counter()
        overview = portal.lookup(key)
        fetch = time.perf_counter() - started
        flat = [c for c in overview.cases]
        started = time.perf_counter()
        for _ in range(10):
            join_cases(flat)
        join = (time.perf_counter() - started) / 10
        render = render_overview(app, overview)
        portal.close()
    return {"cases": len(overview.cases), "fetch": fetch, "join": join, "render": render}


def render_overview(app, overview) -> float:
    """Time GET of the overview page (sign-in, store lookup, template) for a fetched overview."""
    from borgersag.people.identity import Audience, User

    client = app.test_client()
    user = User(
        kind=Audience.CASEWORKER,
        id="bench",
        name="Bench",
        medarbejdernummer="M1",
        roles=("sagsbehandler",),
        permissions=frozenset({"opslag"}),
    )
    with client.session_transaction() as session:  # signed in, as a finished login leaves it
        session["user"] = user.to_session()
    path = "/oversigt/" + app.extensions["borgersag.overviews"].put(user.id, overview)
    assert client.get(path).status_code == 200  # warm the template cache
    started = time.perf_counter()
    for _ in range(5):
        response = client.get(path)
    elapsed = (time.perf_counter() - started) / 5
    assert response.status_code == 200 and len(response.data) > 10_000
    return elapsed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--lookups", type=int, default=30, help="lookups per N (default 30)")
    parser.add_argument("--sizes", default="3,10,30", help="comma-separated N values")
    args = parser.parse_args(argv)
    municipality = generate(2026)
    print(
        "fan-out: overview time vs the ideal bound (slowest source), "
        f"{args.lookups} lookups each, no cache"
    )
    print(
        f"{'N':>4} {'ideal ms':>9} {'p50 ms':>8} {'p95 ms':>8} {'p50/ideal':>10} {'p95/ideal':>10}"
    )
    for n in (int(x) for x in args.sizes.split(",")):
        r = bench_fanout(municipality, n, args.lookups)
        print(
            f"{n:>4} {r['ideal'] * 1000:>9.0f} {r['p50'] * 1000:>8.1f} {r['p95'] * 1000:>8.1f}"
            f" {r['p50'] / r['ideal']:>10.2f} {r['p95'] / r['ideal']:>10.2f}"
        )
    heavy = bench_heavy(municipality)
    print(
        f"heavy citizen: {heavy['cases']} cases; fetch {heavy['fetch'] * 1000:.0f} ms,"
        f" join {heavy['join'] * 1000:.1f} ms, render {heavy['render'] * 1000:.0f} ms"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
