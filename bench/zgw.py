"""Benchmark: a person with 50 zaken in the sandbox ZGW (Open Zaak) at 80 ms per call.

The sandbox ZGW service runs in its own process (a real HTTP server on loopback, every
request delayed by ``--latency-ms``), with the demo ``heavy`` citizen given ``--zaken``
zaken, each with its documents. The real zgw connector, built from config as the portal
builds it, is timed for

* the **overview** (``search``): with ``expand`` (the ``_zoek`` answer includes each
  zaak's rollen and current status: one call), and without (``use_expand = false``: per
  zaak its rollen and its current status, in parallel — what a server without ``expand``
  costs), with a cold catalogue cache and then warm;
* the **case page** (``get_case``: the zaak, then its rollen, status history and
  documents in parallel, then each document's metadata in parallel);

next to the ideal: the search (or the zaak) plus one round of parallel calls, i.e. two
latencies. ``--sequential`` also times the overview one call after another (``parallel =
1``), the shape a real Open Zaak took 9-21 s for. Targets: overview ≤ 1.5 s, case page
≤ 1 s. Wall-clock on a shared machine: compare within one run.

    .venv/bin/python bench/zgw.py [--zaken 50] [--latency-ms 80] [--lookups 5] [--sequential]
"""

from __future__ import annotations

import argparse
import multiprocessing
import statistics
import sys
import threading
import time
from contextlib import ExitStack

from werkzeug.serving import make_server

from borgersag.config.loader import Config
from borgersag.domain.keys import parse_key
from borgersag.lookup.registry import build_source
from borgersag.sandbox import zgw
from borgersag.sandbox.faults import Faults
from borgersag.sandbox.generator import generate
from borgersag.sandbox.runner import _QuietHandler
from borgersag.sandbox.zgw_data import build_register

OVERVIEW_TARGET_S = 1.5
CASE_PAGE_TARGET_S = 1.0


def serve_zgw(zaken: int, latency_ms: int, conn) -> None:
    """Child process: the ZGW service with ``zaken`` for the heavy citizen; sends the port."""
    municipality = generate(2026)
    register = build_register(municipality, heavy_zaken=zaken)
    app = zgw.create_app(municipality, Faults({"latency_ms": latency_ms}), register=register)
    server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=_QuietHandler)
    threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    ).start()
    conn.send(server.port)
    conn.recv()  # blocks until the parent says stop (or goes away)


def start_zgw(stack: ExitStack, zaken: int, latency_ms: int) -> str:
    """Start the service in a separate process (its own GIL); returns its root URL."""
    parent, child = multiprocessing.Pipe()
    process = multiprocessing.get_context("spawn").Process(
        target=serve_zgw, args=(zaken, latency_ms, child), daemon=True
    )
    process.start()
    stack.callback(process.join, 5)
    stack.callback(parent.send, "stop")
    return f"http://127.0.0.1:{parent.recv()}/"


def connector(root: str, **changes):
    """The zgw connector as the registry builds it from ``[sources.zgw]``."""
    table = {
        "type": "zgw",
        "title": "Open Zaak (bench)",
        "base_url": root + "zaken/api/v1/",
        "catalogi_url": root + "catalogi/api/v1/",
        "documenten_url": root + "documenten/api/v1/",
        "max_confidentiality": "zeer_geheim",
        "timeout_seconds": 10.0,
        **zgw.CREDENTIALS,
        **changes,
    }
    config = Config.from_mapping({"sandbox": {}, "sources": {"zgw": table}})
    return build_source(config.source("zgw"))


def timed(fn) -> tuple[float, object]:
    started = time.perf_counter()
    value = fn()
    return time.perf_counter() - started, value


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--zaken", type=int, default=50, help="zaken of the person (default 50)")
    parser.add_argument("--latency-ms", type=int, default=80, help="per call (default 80)")
    parser.add_argument("--lookups", type=int, default=5, help="warm lookups timed (default 5)")
    parser.add_argument("--sequential", action="store_true", help="also time parallel = 1")
    args = parser.parse_args(argv)
    key = parse_key("cpr", generate(2026).demo.heavy)
    ideal = 2 * args.latency_ms / 1000
    with ExitStack() as stack:
        root = start_zgw(stack, args.zaken, args.latency_ms)
        source = connector(root)
        cold, cases = timed(lambda: source.search(key))
        warm = [timed(lambda: source.search(key))[0] for _ in range(args.lookups)]
        per_zaak = connector(root, use_expand=False)
        per_zaak.search(key)  # warm its catalogue cache too
        no_expand = [timed(lambda: per_zaak.search(key))[0] for _ in range(args.lookups)]
        case = max(cases, key=lambda c: c.opened)
        source.get_case(case.native_id)  # the case's catalogue items are cached by now
        pages = [timed(lambda: source.get_case(case.native_id)) for _ in range(args.lookups)]
        documents = len(pages[0][1].documents)
        sequential = None
        if args.sequential:
            one_by_one = connector(root, parallel=1, use_expand=False)
            one_by_one.search(key)  # warm its catalogue cache too
            sequential = timed(lambda: one_by_one.search(key))[0]
    overview = statistics.median(warm)
    overview_per_zaak = statistics.median(no_expand)
    case_page = statistics.median(t for t, _ in pages)
    print(f"zgw: {len(cases)} zaken of one person, {args.latency_ms} ms per call")
    print(f"{'':<26} {'median ms':>10} {'ideal ms':>9} {'target ms':>10}")
    print(f"{'overview, cold catalogue':<26} {cold * 1000:>10.0f} {'':>9} {'':>10}")
    print(
        f"{'overview (expand)':<26} {overview * 1000:>10.0f} {ideal * 1000:>9.0f}"
        f" {OVERVIEW_TARGET_S * 1000:>10.0f}"
    )
    print(
        f"{'overview, per-zaak calls':<26} {overview_per_zaak * 1000:>10.0f} {ideal * 1000:>9.0f}"
        f" {OVERVIEW_TARGET_S * 1000:>10.0f}"
    )
    print(
        f"{f'case page ({documents} documents)':<26} {case_page * 1000:>10.0f}"
        f" {ideal * 1000:>9.0f} {CASE_PAGE_TARGET_S * 1000:>10.0f}"
    )
    if sequential is not None:
        print(f"{'overview, one by one':<26} {sequential * 1000:>10.0f}")
    met = max(overview, overview_per_zaak) <= OVERVIEW_TARGET_S and case_page <= CASE_PAGE_TARGET_S
    print("targets met" if met else "targets NOT met")
    return 0


if __name__ == "__main__":
    sys.exit(main())
