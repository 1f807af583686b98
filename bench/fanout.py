"""Benchmark: the engine's fan-out against N sources with set latencies, beside the floor.

For N = 3, 10 and 30 SBSYS-shaped sources (20-80 ms each, served on loopback by
``bench/quiet_sources.py``, whose own work per request is measured and printed: it must
be negligible, or the client is blamed for the server) it times, round by round in the
same run:

* **floor** — a bare urllib3 fan-out: one thread and one ``HTTPConnectionPool`` per
  source, the search POSTed and its JSON decoded; what the physics and Python ask;
* **requests** — the same with a plain ``requests.Session`` per source, for comparison;
* **overview** — ``Engine.overview`` with the real sbsys connector (OAuth2 token, search,
  records read into cases, join), through the portal's ``SourceSession``.

It prints p50 and p95 of each, their ratios to the floor (targets: overview p50 ≤ 1.10 ×
and p95 ≤ 1.25 × the floor) and to the ideal bound (the slowest source), and the time to
the first source answered (target: ≤ the fastest source + 20 ms). Then it times the heavy
citizen (500+ cases) in the sandbox: fetch, join and HTML render.

Figures are wall-clock on a shared machine: compare the ratios within one run, not
absolute times across runs.

    .venv/bin/python bench/fanout.py [--lookups 30] [--sizes 3,10,30]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor, wait
from contextlib import ExitStack
from urllib.parse import urlsplit

import requests
import urllib3
from quiet_sources import QuietSources

from borgersag.config.loader import Config
from borgersag.domain.join import join_cases
from borgersag.domain.keys import parse_key
from borgersag.lookup.cache import ResultCache
from borgersag.lookup.engine import Engine
from borgersag.lookup.registry import build_sources
from borgersag.sandbox.esdh import CREDENTIALS
from borgersag.sandbox.generator import generate
from borgersag.sandbox.runner import SERVICES

LATENCIES_MS = (20, 35, 50, 65, 80)  # cycled over the N sources; slowest = 80 ms
SEARCH = "api/sag/search"
TARGET_P50, TARGET_P95, TARGET_FIRST_MS = 1.10, 1.25, 20


def search_body(municipality) -> bytes:
    """The SBSYS sandbox's own answer to a search for the typical citizen: every source
    in the benchmark answers these bytes."""
    app = SERVICES["esdh"](municipality, None)
    client = app.test_client()
    token = client.post("/connect/token", data={"grant_type": "password", **CREDENTIALS})
    cpr = municipality.demo.typical
    answer = client.post(
        "/" + SEARCH,
        json={"PrimaerPerson": {"CprNummer": f"{cpr[:6]}-{cpr[6:]}"}, "Limit": 2000},
        headers={"Authorization": "Bearer " + token.get_json()["access_token"]},
    )
    assert answer.status_code == 200 and answer.get_json()["Results"], answer.data[:200]
    return answer.data


def sources_config(urls: list[str]) -> Config:
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


class ThreadFanout:
    """One thread per source, all asked at once; ``round()`` returns (total, first)."""

    def __init__(self, stack: ExitStack, n: int):
        self.n = n
        self.pool = ThreadPoolExecutor(max_workers=n, thread_name_prefix="floor")
        stack.callback(self.pool.shutdown)

    def ask(self, i: int, payload: bytes) -> object:
        raise NotImplementedError

    def round(self, cpr: str) -> tuple[float, float]:
        payload = json.dumps({"PrimaerPerson": {"CprNummer": cpr}, "Limit": 2000}).encode()
        started = time.perf_counter()
        futures = [self.pool.submit(self._timed, i, payload) for i in range(self.n)]
        wait(futures)
        total = time.perf_counter() - started
        return total, min(f.result() for f in futures) - started

    def _timed(self, i: int, payload: bytes) -> float:
        body = self.ask(i, payload)
        assert isinstance(body, dict) and body["Results"]
        return time.perf_counter()


class UrllibFloor(ThreadFanout):
    """The floor: bare urllib3 connection pools, JSON decoded with the standard library."""

    def __init__(self, stack: ExitStack, urls: list[str]):
        super().__init__(stack, len(urls))
        self.pools = []
        for url in urls:
            parts = urlsplit(url)
            pool = urllib3.HTTPConnectionPool(parts.hostname, parts.port, maxsize=8)
            stack.callback(pool.close)
            self.pools.append(pool)
        self.headers = {
            "Content-Type": "application/json",
            "Accept": "application/json",
            "Authorization": "Bearer bench",
        }

    def ask(self, i: int, payload: bytes) -> object:
        answer = self.pools[i].urlopen(
            "POST", "/" + SEARCH, body=payload, headers=self.headers, retries=False, timeout=5.0
        )
        return json.loads(answer.data)


class RequestsFanout(ThreadFanout):
    """A plain ``requests.Session`` per source (its defaults: proxies from the
    environment, cookies, hooks), for comparison."""

    def __init__(self, stack: ExitStack, urls: list[str]):
        super().__init__(stack, len(urls))
        self.sessions = []
        for url in urls:
            session = requests.Session()
            session.headers["Authorization"] = "Bearer bench"
            stack.callback(session.close)
            self.sessions.append((session, url + SEARCH))

    def ask(self, i: int, payload: bytes) -> object:
        session, url = self.sessions[i]
        answer = session.post(
            url, data=payload, headers={"Content-Type": "application/json"}, timeout=5.0
        )
        return answer.json()


class EngineFanout:
    """``Engine.overview`` over sbsys connectors; the first answer is when the first
    connector's ``search`` returned (the engine has no progress callback to time yet)."""

    def __init__(self, stack: ExitStack, urls: list[str]):
        self.sources = build_sources(sources_config(urls))
        self.engine = Engine(self.sources, deadline=10.0, cache=ResultCache(ttl=0))
        stack.callback(self.engine.close)
        self.first: float | None = None
        for source in self.sources.values():
            source.search = self._noting(source.search)  # type: ignore[method-assign]

    def _noting(self, search):
        def noted(key):
            answer = search(key)
            now = time.perf_counter()
            if self.first is None or now < self.first:
                self.first = now
            return answer

        return noted

    def round(self, cpr: str) -> tuple[float, float]:
        key = parse_key("cpr", cpr)
        self.first = None
        started = time.perf_counter()
        overview = self.engine.overview(key)
        total = time.perf_counter() - started
        bad = [r for r in overview.sources if not r.status.answered]
        if bad:
            raise SystemExit(f"source {bad[0].source} did not answer: {bad[0].message}")
        assert overview.cases
        return total, (self.first or started) - started


def bench_fanout(municipality, body: bytes, n: int, lookups: int) -> dict[str, object]:
    latencies = [LATENCIES_MS[i % len(LATENCIES_MS)] for i in range(n)]
    citizens = [c.cpr for c in municipality.citizens if c.cpr != municipality.demo.heavy]
    with ExitStack() as stack:
        servers = QuietSources(stack, latencies, body)
        clients = {
            "floor": UrllibFloor(stack, servers.urls),
            "requests": RequestsFanout(stack, servers.urls),
            "overview": EngineFanout(stack, servers.urls),
        }
        for client in clients.values():  # warm up: tokens, connections, threads
            client.round(citizens[0])
        times: dict[str, list[float]] = {name: [] for name in clients}
        firsts: dict[str, list[float]] = {name: [] for name in clients}
        before = servers.work()
        for i in range(lookups):  # round by round, so noise falls on every client alike
            cpr = citizens[(i + 1) % len(citizens)]
            for name, client in clients.items():
                total, first = client.round(cpr)
                times[name].append(total)
                firsts[name].append(first)
        after = servers.work()
    requests_served = max(1, after["requests"] - before["requests"])
    return {
        "n": n,
        "ideal": max(latencies) / 1000,
        "fastest": min(latencies) / 1000,
        "p50": {k: statistics.median(v) for k, v in times.items()},
        "p95": {k: percentile(v, 0.95) for k, v in times.items()},
        "first": {k: statistics.median(v) for k, v in firsts.items()},
        "server_us": (after["seconds"] - before["seconds"]) / requests_served * 1e6,
        "server_cpu_us": (after["cpu"] - before["cpu"]) / requests_served * 1e6,
        "server_worst_us": after["worst"] * 1e6,
    }


def print_fanout(r: dict) -> None:
    floor50, floor95 = r["p50"]["floor"], r["p95"]["floor"]
    for name in r["p50"]:
        p50, p95, first = r["p50"][name], r["p95"][name], r["first"][name]
        print(
            f"{r['n']:>4} {name:<9} {p50 * 1000:>7.1f} {p95 * 1000:>7.1f}"
            f" {p50 / floor50:>9.2f} {p95 / floor95:>9.2f}"
            f" {p50 / r['ideal']:>9.2f} {p95 / r['ideal']:>9.2f} {first * 1000:>9.1f}"
        )
    ok50 = r["p50"]["overview"] / floor50 <= TARGET_P50
    ok95 = r["p95"]["overview"] / floor95 <= TARGET_P95
    ok_first = r["first"]["overview"] <= r["fastest"] + TARGET_FIRST_MS / 1000
    print(
        f"     ideal {r['ideal'] * 1000:.0f} ms, fastest source {r['fastest'] * 1000:.0f} ms;"
        f" server's own work a request: {r['server_us']:.0f} µs wall,"
        f" {r['server_cpu_us']:.0f} µs CPU (worst read/write {r['server_worst_us']:.0f} µs);"
        f" targets p50 {'met' if ok50 else 'MISSED'}, p95 {'met' if ok95 else 'MISSED'},"
        f" first answer {'met' if ok_first else 'MISSED'}"
    )


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
    body = search_body(municipality)
    print(
        f"fan-out: {args.lookups} rounds per N, each client in turn, no cache;"
        f" every source answers the same {len(body):,} byte search result"
    )
    print(
        f"{'N':>4} {'client':<9} {'p50 ms':>7} {'p95 ms':>7} {'p50/floor':>9} {'p95/floor':>9}"
        f" {'p50/ideal':>9} {'p95/ideal':>9} {'first ms':>9}"
    )
    for n in (int(x) for x in args.sizes.split(",")):
        print_fanout(bench_fanout(municipality, body, n, args.lookups))
    print(
        "first ms: median time to the first source answered (for the overview: the first"
        " connector search returned inside the engine; bench/first_answer.py times the"
        " engine's progress listener, what the page shows first)"
    )
    heavy = bench_heavy(municipality)
    print(
        f"heavy citizen: {heavy['cases']} cases; fetch {heavy['fetch'] * 1000:.0f} ms,"
        f" join {heavy['join'] * 1000:.1f} ms, render {heavy['render'] * 1000:.0f} ms"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
