"""Benchmark: two portal instances sharing Redis and PostgreSQL, requests alternating.

Starts the sandbox municipality and two ``borgersag serve`` processes on different ports
(``--workers`` each), configured as docs/architecture.md "Many machines" says: sessions,
overviews, the sources' answers and rate limits in Redis (``[sessions] backend =
"redis"``, ``[cache] backend = "redis"``, ``[limits] storage_url``), the audit log in
PostgreSQL (``[audit] url``, a schema of its own, emptied first). One caseworker signs
in once; then, for each of ``--keys`` citizens, alternating which instance goes first:

* the lookup is made on one instance, and its overview opened on the other — as a page
  and through the API. Each one that says "expired" (or is not there) is counted
  (target: 0);
* the same lookup is made again on the other instance, within the cache TTL. The
  sandbox's data services count the requests they are asked (``GET /_sandbox/requests``);
  a shared result cache answers the repeat without asking them: shared-cache hits =
  1 − requests of the repeats / requests of the first lookups (target ≥ 90 %). With a
  result cache per process it is about 0 %;
* at the end ``borgersag audit verify`` checks the one hash chain both instances wrote
  (must verify).

    .venv/bin/python bench/scale.py [--keys 20] [--workers 2]

Needs Redis at 127.0.0.1:6379 (db 11 is emptied) and PostgreSQL at 127.0.0.1:5432 (db
``test``, schema ``bench_scale`` is made anew), as the tests use them.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import cluster

SCHEMA = "bench_scale"
HIT_TARGET = 0.90


def citizens(municipality, count: int) -> list[str]:
    """``count`` CPR numbers to look up: the demo people first, then other citizens."""
    demo = municipality.demo
    chosen = [demo.typical, demo.coowner, demo.heavy, demo.nothing]
    for citizen in municipality.citizens:
        if len(chosen) >= count + 1:  # one more: the warm-up key
            break
        if citizen.cpr not in chosen:
            chosen.append(citizen.cpr)
    return chosen[: count + 1]


def expired(response) -> bool:
    """Whether an overview request answered "gone" instead of the overview."""
    return response.status_code != 200 or "udløbet" in response.text


def main() -> int:
    """Run the benchmark and print its figures."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--keys", type=int, default=20, help="citizens looked up")
    parser.add_argument("--workers", type=int, default=2, help="worker processes per instance")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, ExitStack() as stack:
        folder = cluster.write_config(Path(tmp) / "config", **cluster.shared_state(SCHEMA))
        stack.callback(cluster.drop_schema, SCHEMA)
        made = cluster.audit(folder, "init")
        if made.returncode != 0:
            print(made.stdout + made.stderr)
            return 1
        cluster.start_sandbox(stack, folder)
        instances = [cluster.start_portal(stack, folder, workers=args.workers)[0] for _ in "ab"]
        municipality = cluster.demo_people(folder)
        session = cluster.sign_in_caseworker(instances[0], municipality)
        keys = citizens(municipality, args.keys)
        warm_up, keys = keys[-1], keys[:-1]
        for base in instances:  # connection pools and source tokens on both, first
            cluster.look_up(session, base, warm_up)

        gone = opened = 0
        cold = repeat = 0
        started = time.monotonic()
        for i, cpr in enumerate(keys):
            first, other = instances[i % 2], instances[1 - i % 2]
            before = cluster.source_requests(folder)
            path = cluster.look_up(session, first, cpr)
            after_first = cluster.source_requests(folder)
            token = cluster.overview_token(path)
            for url in (other + path.lstrip("/"), f"{other}api/v1/overviews/{token}"):
                opened += 1
                gone += expired(session.get(url, timeout=30))
            cluster.look_up(session, other, cpr)
            after_repeat = cluster.source_requests(folder)
            cold += after_first - before
            repeat += after_repeat - after_first
        took = time.monotonic() - started
        verified = cluster.audit(folder, "verify")

    hits = 1 - repeat / cold if cold else 0.0
    print(
        f"scale: 2 instances x {args.workers} workers, sessions/overviews/answers/limits in Redis,"
        f" audit in PostgreSQL; {len(keys)} citizens, each looked up on one instance and"
        f" again on the other ({took:.1f} s)"
    )
    print(f"  expired overviews on the other instance   {gone} of {opened} (target 0)")
    print(
        f"  shared-cache hits on repeated lookups     {hits:.0%}"
        f" (source requests: {cold} for the first lookups, {repeat} for the repeats;"
        f" target >= {HIT_TARGET:.0%})"
    )
    outcome = (verified.stdout + verified.stderr).strip()
    print(f"  audit verify (one chain, both instances)  exit {verified.returncode}: {outcome}")
    return 0 if verified.returncode == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
