"""Circuit breakers: closed, open for a while, half-open with one trial; one rule over
every store, so the Redis one behaves as the in-process one."""

import pytest

from borgersag.lookup.breaker import Breakers, MemoryBreakerStore, RedisBreakerStore

from support.services import REDIS_URL, require_redis


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


@pytest.fixture
def memory():
    clock = Clock()
    return MemoryBreakerStore(clock=clock), clock


def test_opens_after_the_threshold_and_lets_one_trial_through(memory):
    store, clock = memory
    breakers = Breakers(store, threshold=3, open_seconds=30, trial_seconds=5)
    for _ in range(2):
        breakers.failed("esdh")
    assert breakers.allow("esdh") and not breakers.is_open("esdh")
    breakers.failed("esdh")
    assert not breakers.allow("esdh") and breakers.is_open("esdh")
    assert breakers.allow("zgw")  # one breaker per source
    clock.now += 31
    assert breakers.allow("esdh")  # the trial
    assert not breakers.allow("esdh")  # only one at a time
    breakers.succeeded("esdh")
    assert breakers.allow("esdh") and breakers.allow("esdh")


def test_a_trial_that_never_reports_frees_its_turn(memory):
    store, clock = memory
    breakers = Breakers(store, threshold=1, open_seconds=30, trial_seconds=5)
    breakers.failed("esdh")
    clock.now += 31
    assert breakers.allow("esdh")
    clock.now += 6
    assert breakers.allow("esdh")


def test_a_success_resets_the_count(memory):
    store, _ = memory
    breakers = Breakers(store, threshold=2)
    breakers.failed("esdh")
    breakers.succeeded("esdh")
    breakers.failed("esdh")
    assert breakers.allow("esdh")


def test_threshold_zero_turns_the_breaker_off(memory):
    store, _ = memory
    breakers = Breakers(store, threshold=0)
    for _ in range(10):
        breakers.failed("esdh")
    assert breakers.allow("esdh") and not breakers.is_open("esdh")


class BrokenStore:
    def __getattr__(self, name):
        def fail(*args, **kwargs):
            raise ConnectionError("store down")

        return fail


class CountingBrokenStore(BrokenStore):
    def __init__(self):
        self.asked = 0

    def __getattr__(self, name):
        self.asked += 1
        return super().__getattr__(name)


def test_a_broken_store_lets_calls_through_and_is_left_alone_a_while():
    store = CountingBrokenStore()
    breakers = Breakers(store, threshold=1)
    breakers.failed("esdh")
    assert breakers.allow("esdh") and not breakers.is_open("esdh")
    for _ in range(10):
        breakers.allow("esdh")
    assert store.asked == 1  # not waited for again on every call


@pytest.mark.slow
def test_redis_shares_the_state_between_workers():
    import uuid

    import redis

    require_redis(REDIS_URL)
    client = redis.Redis.from_url(REDIS_URL)
    prefix = f"test:breaker:{uuid.uuid4().hex}:"
    one = Breakers(RedisBreakerStore(client, prefix), threshold=2, open_seconds=0.3)
    other = Breakers(RedisBreakerStore(client, prefix), threshold=2, open_seconds=0.3)
    try:
        one.failed("esdh")
        other.failed("esdh")
        assert not one.allow("esdh") and not other.allow("esdh")
        import time

        time.sleep(0.35)
        assert other.allow("esdh")  # the trial, taken by one worker
        assert not one.allow("esdh")
        other.succeeded("esdh")
        assert one.allow("esdh")
    finally:
        for key in client.scan_iter(prefix + "*"):
            client.delete(key)
        client.close()
