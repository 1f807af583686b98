"""The engine keeps every source in its own lane: a bulkhead per source, a pool that one
source cannot exhaust, each call bounded by the lookup's deadline, a circuit breaker."""

import time

import pytest

from borgersag.domain.keys import KeyKind, parse_key
from borgersag.domain.model import SourceStatus
from borgersag.lookup.breaker import Breakers, MemoryBreakerStore
from borgersag.lookup.cache import ResultCache
from borgersag.lookup.engine import Engine
from borgersag.sdk.errors import SourceBusy
from borgersag.sdk.http import time_left

from support.fakes import FakeOwnership, FakeSource

CPR = parse_key("cpr", "0102031234")


def status_of(overview, name):
    return next(r for r in overview.sources if r.source == name)


@pytest.fixture
def engines():
    made = []

    def make(sources, **kwargs):
        engine = Engine({s.name: s for s in sources}, **kwargs)
        made.append((engine, sources))
        return engine

    yield make
    for engine, sources in made:
        for s in sources:
            if hasattr(s, "release"):
                s.release.set()
        engine.close()


def limited(source, limit):
    source.http.max_concurrent = limit
    return source


def test_a_hanging_source_cannot_exhaust_the_pool_for_healthy_ones(engines):
    """A source whose calls never end (it ignores every deadline) keeps at most its
    max_concurrent threads; every later lookup still hears the healthy sources."""
    hung = limited(FakeSource("hung", fail="hang"), 3)
    healthy = [
        limited(FakeSource(f"ok{n}", cases={CPR.value: ["Sag"]}, delay=0.01), 3) for n in range(3)
    ]
    engine = engines([hung, *healthy], deadline=0.2)
    statuses = []
    for _ in range(12):  # the old fixed pool of 32 would be gone after ~32 lookups; 4x the limit
        started = time.monotonic()
        overview = engine.overview(CPR)
        assert time.monotonic() - started < 0.2 * 1.05 + 0.05
        for source in healthy:
            assert status_of(overview, source.name).status is SourceStatus.OK
        statuses.append(status_of(overview, "hung"))
    assert [r.status for r in statuses[:3]] == [SourceStatus.TIMEOUT] * 3
    refused = statuses[3:]
    assert {r.status for r in refused} == {SourceStatus.FAILED}
    assert all("3 kald til kilden var i gang hele opslaget" in r.message for r in refused)
    assert hung.calls <= 3  # refused calls never reached the source
    assert engine.in_flight("hung") == 3


def test_a_lookups_own_calls_beyond_the_limit_wait_for_a_slot(engines):
    """A person owning twelve parcels makes twelve searches to the permit system, whose
    limit is four: the calls queue for a slot within the deadline, none is refused."""
    parcels = [f"2000351-{n}" for n in range(1, 13)]
    ownership = FakeOwnership("ejer", {CPR.value: parcels})
    permits = limited(
        FakeSource(
            "byg",
            kinds=(KeyKind.MATRIKEL,),
            cases={parse_key("matrikel", p).value: [f"Byggesag {p}"] for p in parcels},
            delay=0.05,
        ),
        4,
    )
    overview = engines([ownership, permits], deadline=2.0).overview(CPR)
    result = status_of(overview, "byg")
    assert result.status is SourceStatus.OK, result.message
    assert result.case_count == 12 and permits.calls == 12
    assert permits.peak <= 4


def test_a_refused_call_falls_back_to_the_stale_answer(engines):
    now = [0.0]
    esdh = limited(FakeSource("esdh", cases={CPR.value: ["Boligstøtte"]}), 1)
    cache = ResultCache(ttl=1, stale_max_age=3600, clock=lambda: now[0])
    engine = engines([esdh], deadline=0.2, cache=cache)
    assert status_of(engine.overview(CPR), "esdh").status is SourceStatus.OK
    esdh.fail = "hang"
    now[0] = 10.0
    assert status_of(engine.overview(CPR), "esdh").status is SourceStatus.STALE  # timed out
    overview = engine.overview(CPR)  # the one slot is still held: refused, stale shown
    assert status_of(overview, "esdh").status is SourceStatus.STALE
    assert [c.title for c in overview.cases] == ["Boligstøtte"]
    assert esdh.calls == 2


def test_each_call_runs_under_the_lookups_deadline(engines):
    seen = []

    class Watching(FakeSource):
        def search(self, key):
            seen.append(time_left())
            return super().search(key)

    engine = engines([Watching("esdh")], deadline=1.5)
    engine.overview(CPR)
    assert seen and 1.0 < seen[0] <= 1.5
    assert time_left() is None  # set for the call only


def breakers(clock):
    return Breakers(MemoryBreakerStore(clock=lambda: clock[0]), threshold=2, open_seconds=30)


def test_the_breaker_pauses_a_failing_source_and_a_trial_closes_it(engines):
    clock = [0.0]
    flaky = FakeSource("flaky", fail="retriable")
    healthy = FakeSource("esdh", cases={CPR.value: ["Sag"]})
    engine = engines([flaky, healthy], deadline=1.0, breakers=breakers(clock))

    first = status_of(engine.overview(CPR), "flaky")
    assert first.status is SourceStatus.FAILED  # asked, retried once: two failures
    assert flaky.calls == 2

    started = time.monotonic()
    overview = engine.overview(CPR)
    paused = status_of(overview, "flaky")
    assert paused.status is SourceStatus.CIRCUIT_OPEN and not paused.status.answered
    assert "pause" in paused.message
    assert time.monotonic() - started < 0.1  # refused at once
    assert flaky.calls == 2  # not asked
    assert status_of(overview, "esdh").status is SourceStatus.OK
    assert not overview.complete

    clock[0] = 31.0  # the pause is over; the source has recovered: one trial closes it
    flaky.fail = None
    assert status_of(engine.overview(CPR), "flaky").status is SourceStatus.EMPTY
    assert status_of(engine.overview(CPR), "flaky").status is SourceStatus.EMPTY
    assert flaky.calls == 4


def test_a_failed_trial_pauses_the_source_again(engines):
    clock = [0.0]
    flaky = FakeSource("flaky", fail="retriable")
    engine = engines([flaky], deadline=1.0, breakers=breakers(clock))
    engine.overview(CPR)
    clock[0] = 31.0
    assert status_of(engine.overview(CPR), "flaky").status is SourceStatus.CIRCUIT_OPEN
    assert flaky.calls == 3  # the one trial, no retry past the reopened breaker
    assert status_of(engine.overview(CPR), "flaky").status is SourceStatus.CIRCUIT_OPEN
    assert flaky.calls == 3


def test_a_source_that_answers_badly_is_not_paused(engines):
    clock = [0.0]
    broken = FakeSource("broken", fail="fatal")
    engine = engines([broken], deadline=1.0, breakers=breakers(clock))
    for _ in range(4):
        assert status_of(engine.overview(CPR), "broken").status is SourceStatus.FAILED
    assert broken.calls == 4


def test_the_portals_own_full_bulkhead_never_pauses_a_source(engines):
    """A request that found no free slot says nothing about the source: it is not retried
    and its circuit breaker does not count it."""

    class Crowded(FakeSource):
        def search(self, key):
            self.calls += 1
            raise SourceBusy("esdh er optaget: 8 forespørgsler var i gang.")

    crowded = Crowded("esdh")
    engine = engines([crowded], deadline=1.0, breakers=breakers([0.0]))
    for _ in range(3):
        result = status_of(engine.overview(CPR), "esdh")
        assert result.status is SourceStatus.FAILED and "optaget" in result.message
    assert crowded.calls == 3  # asked each time: never paused, never retried
