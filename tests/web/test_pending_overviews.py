"""Pending overviews: a lookup's token exists at once and its entry is replaced as the
sources answer, in every store (so another instance polling the shared store sees it)."""

from __future__ import annotations

import dataclasses

import pytest

from borgersag.domain.keys import CPR
from borgersag.lookup.ports import COMPLETE, PENDING, StoredOverview
from borgersag.web.overviews import OverviewStore, SealedOverviewStore
from borgersag.web.session_stores import RedisSessionStore, SQLiteSessionStore

from support.fake_portal import sample_overview
from support.services import REDIS_URL, require_redis

SUBJECT = CPR.parse("0103854321")
WHOLE = sample_overview(SUBJECT)
EARLY = dataclasses.replace(
    WHOLE, sources=WHOLE.sources[:1], cases=tuple(c for c in WHOLE.cases if c.source == "sbsys")
)
WAITING = tuple((r.source, r.title) for r in WHOLE.sources[1:])
SECRET = "a-test-secret-key-that-is-long-enough"


def _memory(_tmp_path):
    store = OverviewStore(60)
    return store, store


def _sqlite(tmp_path):
    # two workers on one machine: two stores over one SQLite file
    path = tmp_path / "sessions.sqlite3"
    return (
        SealedOverviewStore(SQLiteSessionStore(path), SECRET, 60),
        SealedOverviewStore(SQLiteSessionStore(path), SECRET, 60),
    )


def _redis(_tmp_path):
    require_redis(REDIS_URL)
    prefix = "borgersag-test-stream:"  # apart from other tests sharing this Redis
    return (
        SealedOverviewStore(RedisSessionStore(REDIS_URL, prefix), SECRET, 60),
        SealedOverviewStore(RedisSessionStore(REDIS_URL, prefix), SECRET, 60),
    )


STORES = [
    pytest.param(_memory, id="memory"),
    pytest.param(_sqlite, id="sqlite"),
    pytest.param(_redis, id="redis", marks=pytest.mark.slow),
]


@pytest.mark.parametrize("stores", STORES)
def test_a_pending_entry_is_replaced_as_sources_answer_and_read_on_the_other_instance(
    stores, tmp_path
):
    here, there = stores(tmp_path)
    nothing = dataclasses.replace(WHOLE, cases=(), sources=())
    token = here.put_entry("MK4821", StoredOverview(nothing, 0, "Tilsyn", PENDING, started=1.5))
    first = there.entry(token, "MK4821")
    assert first.pending and first.overview.cases == () and first.purpose == "Tilsyn"

    here.put_entry(
        "MK4821",
        StoredOverview(EARLY, 1, "Tilsyn", PENDING, WAITING, started=1.5),
        token=token,
    )
    update = there.entry(token, "MK4821")
    assert update.state == PENDING and update.waiting == WAITING and update.started == 1.5
    assert [c.id for c in update.overview.cases] == [c.id for c in EARLY.cases]
    assert update.hidden_count == 1

    here.put_entry("MK4821", StoredOverview(WHOLE, 0, "Tilsyn"), token=token)
    final = there.entry(token, "MK4821")
    assert final.state == COMPLETE and not final.pending and final.waiting == ()
    assert len(final.overview.cases) == len(WHOLE.cases)
    assert there.entry(token, "JH1177") is None  # still the owner's only


def test_a_sealed_pending_entry_is_encrypted(tmp_path):
    here, _there = _sqlite(tmp_path)
    here.put_entry("MK4821", StoredOverview(EARLY, 0, None, PENDING, WAITING, started=1.0))
    stored = b"".join(p.read_bytes() for p in tmp_path.iterdir())
    assert SUBJECT.value.encode() not in stored
    assert EARLY.cases[0].title.encode() not in stored
