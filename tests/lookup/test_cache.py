"""Cache: fresh answers reused, one computation per key at a time, stale answers kept."""

import threading
import time

import pytest

from borgersag.lookup.cache import ResultCache


def test_fresh_value_is_reused_until_ttl():
    now = [0.0]
    cache = ResultCache(ttl=10, clock=lambda: now[0])
    calls = []
    assert cache.get_or_compute("k", lambda: calls.append(1) or "v").value == "v"
    now[0] = 9
    hit = cache.get_or_compute("k", lambda: calls.append(1) or "v2")
    assert (hit.value, hit.cached, hit.age) == ("v", True, 9)
    now[0] = 11
    assert cache.get_or_compute("k", lambda: calls.append(1) or "v3").value == "v3"
    assert len(calls) == 2


def test_no_stampede_for_one_key():
    cache = ResultCache(ttl=60)
    calls = []
    gate = threading.Event()

    def slow():
        calls.append(1)
        gate.wait(5)
        return "v"

    results = []
    threads = [
        threading.Thread(target=lambda: results.append(cache.get_or_compute("k", slow).value))
        for _ in range(10)
    ]
    for t in threads:
        t.start()
    time.sleep(0.1)
    gate.set()
    for t in threads:
        t.join()
    assert results == ["v"] * 10
    assert len(calls) == 1


def test_errors_reach_every_waiter_and_are_not_cached():
    cache = ResultCache(ttl=60)
    with pytest.raises(RuntimeError):
        cache.get_or_compute("k", lambda: (_ for _ in ()).throw(RuntimeError("down")))
    assert cache.get_or_compute("k", lambda: "ok").value == "ok"


def test_stale_value_is_kept_for_the_stale_window_only():
    now = [0.0]
    cache = ResultCache(ttl=10, stale_max_age=100, clock=lambda: now[0])
    cache.get_or_compute("k", lambda: "v")
    now[0] = 50
    assert cache.stale("k").age == 50
    now[0] = 101
    assert cache.stale("k") is None


def test_filling_past_the_byte_bound_evicts_the_least_recently_used():
    cache = ResultCache(ttl=60, max_bytes=10_000, sizeof=len)
    for n in range(10):
        cache.get_or_compute(n, lambda: "x" * 1500)
    assert cache.size_bytes <= 10_000
    assert cache.entry_count < 10
    assert cache.stale(9) is not None  # the newest stays
    assert cache.stale(0) is None  # the oldest went first


def test_a_value_bigger_than_the_whole_bound_is_answered_but_not_kept():
    cache = ResultCache(ttl=60, max_bytes=1_000, sizeof=len)
    assert cache.get_or_compute("big", lambda: "x" * 5_000).value == "x" * 5_000
    assert cache.stale("big") is None
    assert cache.entry_count == 0


def test_the_entry_bound_still_holds_beside_the_byte_bound():
    cache = ResultCache(ttl=60, maxsize=3)
    for n in range(5):
        cache.get_or_compute(n, lambda: "v")
    assert cache.entry_count == 3


def test_a_model_answer_is_sized_by_its_json():
    from borgersag.lookup.cache import estimate_size

    small, large = estimate_size(["a"]), estimate_size(["a" * 10_000])
    assert large >= 10_000 > 100 * small
