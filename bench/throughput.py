"""Benchmark: requests per second of a cached overview as JSON against a bare Flask app.

Starts the sandbox municipality, ``borgersag serve --workers 1 --threads 16`` with the
sandbox config, signs a caseworker in through the sandbox's staff login, looks the
typical demo citizen up once (so the overview is kept), and then drives, with ``wrk``
in a process of its own,

* ``GET /api/v1/overviews/<token>`` — the cached overview as JSON (about 14.5 KB),
* ``GET /tilgaengelighed`` — a page with no personal data, the cost of a page,
* a bare Flask app (``bench/bare_app.py``) answering the same JSON document under
  gunicorn with the same settings (one gthread worker, 16 threads).

Prints requests/s of each and the ratio overview : bare Flask (target ≥ 0.5). Figures
from one run on a shared machine: compare within the run, not across runs.

    .venv/bin/python bench/throughput.py [--seconds 10] [--connections 16]

Needs ``wrk`` (Debian/Ubuntu: ``apt-get install -y wrk``; macOS: ``brew install wrk``).
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
from contextlib import ExitStack
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import cluster

TARGET_RATIO = 0.5


def need_wrk() -> str:
    """The path of ``wrk``, or exit with how to install it."""
    found = shutil.which("wrk")
    if found is None:
        sys.exit(
            "bench/throughput.py needs the load generator wrk, which is not installed.\n"
            "  Debian/Ubuntu: sudo apt-get install -y wrk\n"
            "  macOS:         brew install wrk"
        )
    return found


def wrk(
    url: str, seconds: float, connections: int, headers: dict[str, str] | None = None
) -> dict[str, float]:
    """Run wrk against ``url``: requests/s, p50 and p99 latency (ms), non-2xx answers."""
    argv = [need_wrk(), "-t", "2", "-c", str(connections), "-d", f"{seconds:g}s", "--latency"]
    for name, value in (headers or {}).items():
        argv += ["-H", f"{name}: {value}"]
    done = subprocess.run([*argv, url], capture_output=True, text=True, check=True)
    out = done.stdout
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out)[1])
    bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    errors = re.search(r"Socket errors:.*", out)

    def percentile(p: str) -> float:
        found = re.search(rf"^\s+{p}%\s+([\d.]+)(us|ms|s)\s*$", out, re.M)
        if not found:
            return float("nan")
        scale = {"us": 0.001, "ms": 1.0, "s": 1000.0}[found[2]]
        return float(found[1]) * scale

    return {
        "rate": rate,
        "p50": percentile("50"),
        "p99": percentile("99"),
        "non_2xx": float(bad[1]) if bad else 0.0,
        "socket_errors": errors[0] if errors else "",
    }


def start_bare(stack: ExitStack, folder: Path, document: Path, threads: int) -> str:
    """The bare Flask app under gunicorn, configured as ``borgersag serve`` configures it."""
    port = cluster.free_port()
    log = folder / "bare.log"
    argv = [str(cluster.BIN / "gunicorn"), "--worker-class", "gthread", "--workers", "1",
            "--threads", str(threads), "--bind", f"127.0.0.1:{port}",
            "--chdir", str(Path(__file__).resolve().parent), "bare_app:create_app()"]  # fmt: skip
    os.environ["BENCH_BARE_JSON"] = str(document)
    process = cluster.start(stack, argv, log)
    url = f"http://127.0.0.1:{port}/json"
    cluster.wait_until_up(url, process, log)
    return url


def line(label: str, figures: dict[str, float]) -> str:
    """One result line."""
    extra = f", {figures['non_2xx']:.0f} non-2xx" if figures["non_2xx"] else ""
    extra += f", {figures['socket_errors']}" if figures["socket_errors"] else ""
    return (
        f"  {label:<34} {figures['rate']:8.1f} req/s   p50 {figures['p50']:6.1f} ms"
        f"   p99 {figures['p99']:6.1f} ms{extra}"
    )


def main() -> int:
    """Run the benchmark and print its figures."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=10.0, help="load per target")
    parser.add_argument("--connections", type=int, default=16, help="open connections")
    parser.add_argument("--threads", type=int, default=16, help="gunicorn threads")
    parser.add_argument("--warm-up", type=float, default=2.0, help="seconds before each")
    args = parser.parse_args()
    need_wrk()
    with tempfile.TemporaryDirectory() as tmp, ExitStack() as stack:
        folder = cluster.write_config(Path(tmp) / "config")
        cluster.start_sandbox(stack, folder)
        base, _ = cluster.start_portal(stack, folder, threads=args.threads)
        municipality = cluster.demo_people(folder)
        session = cluster.sign_in_caseworker(base, municipality)
        token = cluster.overview_token(cluster.look_up(session, base, municipality.demo.typical))
        api_url = f"{base}api/v1/overviews/{token}"
        answer = session.get(api_url, timeout=10)
        assert answer.status_code == 200, answer.status_code
        document = Path(tmp) / "overview.json"
        document.write_bytes(answer.content)
        bare_url = start_bare(stack, Path(tmp), document, args.threads)
        cookie = {"Cookie": cluster.cookie_header(session)}

        print(
            f"throughput: gunicorn gthread, 1 worker, {args.threads} threads; wrk 2 threads, "
            f"{args.connections} connections, {args.seconds:g} s per target after"
            f" {args.warm_up:g} s warm-up"
        )
        print(f"  overview JSON: {len(answer.content) / 1024:.1f} KB")
        results = {}
        for label, url, headers in (
            ("bare Flask, same JSON", bare_url, None),
            ("portal: cached overview as JSON", api_url, cookie),
            ("portal: /tilgaengelighed (page)", base + "tilgaengelighed", cookie),
        ):
            wrk(url, args.warm_up, args.connections, headers)  # pools, caches, first reads
            results[label] = wrk(url, args.seconds, args.connections, headers)
            print(line(label, results[label]), flush=True)
        bare = results["bare Flask, same JSON"]["rate"]
        overview = results["portal: cached overview as JSON"]["rate"]
        page = results["portal: /tilgaengelighed (page)"]["rate"]
        ratio = overview / bare
        verdict = "met" if ratio >= TARGET_RATIO else "NOT met"
        print(
            f"  ratio overview : bare Flask   {ratio:.2f}x (target >= {TARGET_RATIO}x: {verdict})"
        )
        print(f"  ratio page : bare Flask       {page / bare:.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
