"""The shared result cache: a lookup on one instance is answered from Redis on another,
a burst on two instances asks each source once, and Redis holds nothing readable."""

from __future__ import annotations

import logging
import secrets
import threading
import time

import pytest
from cryptography.exceptions import InvalidTag

from borgersag.domain.keys import KeyKind, parse_key
from borgersag.domain.model import SourceStatus
from borgersag.lookup.cache import ResultCache
from borgersag.lookup.engine import Engine
from borgersag.lookup.shared_cache import Sealer, SharedResultCache

from support.fakes import FakeOwnership, FakeRegister, FakeSource
from support.services import require_redis

pytestmark = pytest.mark.slow  # a real Redis

REDIS_URL = "redis://127.0.0.1:6379/7"  # a database of its own beside the other tests'
SECRET = "test-secret-" + "x" * 40
CPR = parse_key("cpr", "0102031234")
TITLE = "Boligstøtte til Hr. Hemmelig"


@pytest.fixture
def redis_client():
    import redis

    require_redis(REDIS_URL)
    client = redis.Redis.from_url(REDIS_URL)
    yield client
    client.close()


@pytest.fixture
def instances(redis_client):
    """``make(sources)`` builds one more instance (an engine with its own local cache)
    sharing the test's Redis prefix; every key written is under ``prefix``."""
    prefix = f"borgersag-test:{secrets.token_hex(4)}:"
    made = []

    def make(sources, *, secret=SECRET, client=redis_client, ttl=60, clock=time.time):
        cache = SharedResultCache(
            ResultCache(ttl=ttl, stale_max_age=3600),
            client,
            secret,
            prefix=prefix,
            lock_seconds=3.0,
            clock=clock,
        )
        engine = Engine({s.name: s for s in sources}, cache=cache)
        made.append(engine)
        return engine

    make.prefix = prefix
    yield make
    for engine in made:
        engine.close()
    for key in redis_client.scan_iter(prefix + "*"):
        redis_client.delete(key)


def _status(overview, name):
    return next(r for r in overview.sources if r.source == name).status


def _kept(client, prefix):
    return {key: client.get(key) for key in client.scan_iter(prefix + "*")}


def test_a_lookup_on_one_instance_is_answered_from_the_cache_on_another(instances):
    esdh = FakeSource("esdh", cases={CPR.value: [TITLE]})
    first, second = instances([esdh]), instances([esdh])
    first.overview(CPR)
    overview = second.overview(CPR)
    assert esdh.calls == 1
    assert [c.title for c in overview.cases] == [TITLE]
    result = next(r for r in overview.sources if r.source == "esdh")
    assert result.status is SourceStatus.OK
    assert result.age_seconds is not None  # honest: the source was not asked just now


def test_relations_and_what_could_not_be_read_survive_the_trip(instances):
    owner = FakeOwnership("ejer", {CPR.value: ["2000351-12a"]})
    esdh = FakeSource(
        "esdh", kinds=(KeyKind.CPR, KeyKind.MATRIKEL), cases={CPR.value: [TITLE]}, unreadable=2
    )
    esdh.truncated = True
    first, second = instances([owner, esdh]), instances([owner, esdh])
    before = first.overview(CPR)
    after = second.overview(CPR)
    assert after.expansions == before.expansions
    assert after.cases == before.cases
    mine, theirs = (next(r for r in o.sources if r.source == "esdh") for o in (after, before))
    assert (mine.unreadable, mine.truncated, mine.at_least) == (
        theirs.unreadable,
        True,
        theirs.at_least,
    )
    assert mine.unreadable > 0
    assert esdh.calls == 2  # the CPR and the parcel, once each


def test_a_person_registers_answer_survives_the_trip(instances):
    register = FakeRegister("cpr", {CPR.value: ("Hr. Hemmelig", "Skjult Vej 1", True)})
    first, second = instances([register]), instances([register])
    before = first.overview(CPR)
    after = second.overview(CPR)
    assert after.persons == before.persons and after.persons[0].protected
    assert len(register.asked) == 1  # the second instance read Redis, not the register


def test_a_burst_on_two_instances_asks_the_source_once(instances):
    esdh = FakeSource("esdh", cases={CPR.value: [TITLE]}, delay=0.3)
    first, second = instances([esdh]), instances([esdh])
    answers = []
    threads = [
        threading.Thread(target=lambda e=engine: answers.append(e.overview(CPR)))
        for engine in (first, second) * 4
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert esdh.calls == 1
    assert all(_status(o, "esdh") is SourceStatus.OK for o in answers)
    assert len(answers) == 8


def test_redis_holds_no_cpr_no_title_and_every_key_expires(instances, redis_client):
    esdh = FakeSource("esdh", cases={CPR.value: [TITLE]})
    instances([esdh]).overview(CPR)
    kept = _kept(redis_client, instances.prefix)
    assert kept, "the answer was not shared"
    for key, value in kept.items():
        for secret in (CPR.value, CPR.format(), "0102", "Hemmelig", "Boligst"):
            assert secret.encode() not in key
            assert secret.encode() not in value
        assert 0 < redis_client.pttl(key) <= 3600 * 1000
    key, value = next(iter(kept.items()))
    Sealer(SECRET).open(value, key.decode())  # opens with the portal's key ...
    with pytest.raises(InvalidTag):
        Sealer("another-secret").open(value, key.decode())  # ... and no other
    with pytest.raises(InvalidTag):
        Sealer(SECRET).open(value, key.decode() + "x")  # nor moved under another key


def test_an_instance_with_another_secret_asks_the_source_itself(instances):
    esdh = FakeSource("esdh", cases={CPR.value: [TITLE]})
    instances([esdh]).overview(CPR)
    overview = instances([esdh], secret="another-secret").overview(CPR)
    assert esdh.calls == 2
    assert [c.title for c in overview.cases] == [TITLE]


def test_errors_are_not_shared(instances, redis_client):
    esdh = FakeSource("esdh", cases={CPR.value: [TITLE]}, fail="fatal")
    first, second = instances([esdh]), instances([esdh])
    assert _status(first.overview(CPR), "esdh") is SourceStatus.FAILED
    assert _kept(redis_client, instances.prefix) == {}
    esdh.fail = None
    assert _status(second.overview(CPR), "esdh") is SourceStatus.OK
    assert esdh.calls == 2


def test_an_old_answer_from_another_instance_is_shown_stale_when_the_source_fails(instances):
    now = [time.time()]
    esdh = FakeSource("esdh", cases={CPR.value: [TITLE]})
    instances([esdh], clock=lambda: now[0]).overview(CPR)
    now[0] += 600  # past the 60 s freshness, inside the hour's stale window
    esdh.fail = "fatal"
    overview = instances([esdh], clock=lambda: now[0]).overview(CPR)
    result = next(r for r in overview.sources if r.source == "esdh")
    assert result.status is SourceStatus.STALE
    assert 599 <= result.age_seconds <= 601
    assert overview.cases[0].provenance.stale


def test_a_lock_whose_holder_died_expires_and_the_next_instance_asks(instances, redis_client):
    esdh = FakeSource("esdh", cases={CPR.value: [TITLE]})
    engine = instances([esdh])
    where = engine.cache.redis_key(("esdh", "search", CPR))
    redis_client.set(where + ":lock", "a-dead-instance", px=300)
    started = time.monotonic()
    overview = engine.overview(CPR)
    assert _status(overview, "esdh") is SourceStatus.OK
    assert esdh.calls == 1
    assert time.monotonic() - started >= 0.25  # it waited for the holder first


def test_redis_down_the_lookup_still_asks_the_source_and_says_so_once(instances, caplog):
    import redis

    dead = redis.Redis.from_url(
        "redis://127.0.0.1:1/0", socket_connect_timeout=0.25, socket_timeout=0.25
    )
    esdh = FakeSource("esdh", cases={CPR.value: [TITLE]})
    engine = instances([esdh], client=dead, ttl=0.001)
    caplog.set_level(logging.WARNING)
    for _ in range(3):
        time.sleep(0.01)  # past the local freshness: every lookup asks the second level
        overview = engine.overview(CPR)
        assert _status(overview, "esdh") is SourceStatus.OK
    assert esdh.calls == 3
    warnings = [r for r in caplog.records if "shared result cache" in r.getMessage()]
    assert len(warnings) == 1


def test_two_portals_with_the_redis_cache_configured_share_their_answers(redis_client):
    from borgersag.config.loader import Config
    from borgersag.lookup.portal import Portal

    config = Config.from_mapping(
        {
            "portal": {"secret_key": SECRET, "cache_ttl_seconds": 60},
            "cache": {"backend": "redis", "redis_url": REDIS_URL},
        }
    )
    esdh = FakeSource("esdh", cases={CPR.value: [TITLE]})
    portals = [Portal(config, {"esdh": esdh}) for _ in range(2)]
    try:
        for portal in portals:
            assert [c.title for c in portal.lookup(CPR).cases] == [TITLE]
        assert esdh.calls == 1
    finally:
        for portal in portals:
            key = portal.engine.cache.redis_key(("esdh", "search", CPR))
            redis_client.delete(key)
            portal.engine.close()
