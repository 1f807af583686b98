"""run_parallel: side by side, bounded, in order, in the caller's context."""

from __future__ import annotations

import contextvars
import threading
import time

import pytest

from borgersag import FatalError, run_parallel

where = contextvars.ContextVar("where", default="nowhere")


def test_results_keep_order_and_calls_overlap_up_to_the_limit():
    lock, state = threading.Lock(), {"now": 0, "most": 0}

    def work(n):
        with lock:
            state["now"] += 1
            state["most"] = max(state["most"], state["now"])
        time.sleep(0.03)
        with lock:
            state["now"] -= 1
        return n * n

    started = time.perf_counter()
    assert run_parallel(work, range(8), limit=4) == [n * n for n in range(8)]
    assert state["most"] == 4
    assert time.perf_counter() - started < 8 * 0.03  # not one after another


def test_the_callers_context_follows_into_the_threads():
    token = where.set("opslag-7")
    try:
        assert run_parallel(lambda _: where.get(), range(3), limit=3) == ["opslag-7"] * 3
    finally:
        where.reset(token)


def test_the_first_failure_in_order_is_raised_and_the_rest_not_started():
    started = []

    def work(n):
        started.append(n)
        if n in (1, 2):
            time.sleep(0.02 if n == 1 else 0)
            raise FatalError(f"fejl {n}")
        time.sleep(0.05)
        return n

    with pytest.raises(FatalError, match="fejl 1"):
        run_parallel(work, range(20), limit=3)
    assert len(started) < 20


def test_one_item_or_limit_one_runs_inline():
    main = threading.get_ident()
    assert run_parallel(lambda _: threading.get_ident(), [1]) == [main]
    assert set(run_parallel(lambda _: threading.get_ident(), range(3), limit=1)) == {main}
