"""Run a connector's independent calls side by side: per-case calls in parallel.

A connector that must ask one thing per case (its roles, its current status) should not
ask them one after another: N calls of 80 ms are N × 80 ms. :func:`run_parallel` runs
them on a few threads, in the *context* of the caller — the lookup's request id and
deadline, kept in context variables, travel with each call — and the source's session
bounds how many requests are in flight at once, whatever ``limit`` says.
"""

from __future__ import annotations

import contextvars
from collections.abc import Callable, Iterable
from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait
from typing import TypeVar

__all__ = ["run_parallel"]

T = TypeVar("T")
R = TypeVar("R")


def run_parallel(fn: Callable[[T], R], items: Iterable[T], limit: int = 8) -> list[R]:
    """``[fn(item) for item in items]``, with at most ``limit`` calls at a time.

    Results keep the order of ``items``. When a call raises, calls not yet started are
    cancelled and the exception of the first failing item (in ``items`` order) is raised
    once the running ones have finished. With one item or ``limit`` 1 nothing is threaded.
    """
    work = list(items)
    if limit <= 1 or len(work) <= 1:
        return [fn(item) for item in work]
    with ThreadPoolExecutor(max_workers=min(limit, len(work))) as pool:
        futures = [pool.submit(contextvars.copy_context().run, fn, item) for item in work]
        done, _ = wait(futures, return_when=FIRST_EXCEPTION)
        if any(f.exception() is not None for f in done):
            for future in futures:
                future.cancel()
            wait(futures)
            for future in futures:
                if not future.cancelled() and future.exception() is not None:
                    raise future.exception()  # type: ignore[misc]
        return [future.result() for future in futures]
