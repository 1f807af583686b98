"""The server-side overview store behind the opaque /oversigt/<token> addresses."""

from __future__ import annotations

import threading

from borgersag.domain.keys import CPR
from borgersag.lookup.cache import estimate_size
from borgersag.web.overviews import OverviewStore, is_token

from support.fake_portal import sample_overview

OVERVIEW = sample_overview(CPR.parse("0103854321"))


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_token_is_opaque_and_random():
    store = OverviewStore(60)
    tokens = {store.put("u1", OVERVIEW) for _ in range(50)}
    assert len(tokens) == 50
    assert all(is_token(t) and "0103" not in t for t in tokens)


def test_only_the_owner_gets_the_overview():
    store = OverviewStore(60)
    token = store.put("u1", OVERVIEW)
    assert store.get(token, "u1") is OVERVIEW
    assert store.get(token, "u2") is None


def test_purpose_and_hidden_count_are_kept_for_the_owner_only():
    store = OverviewStore(60)
    token = store.put("u1", OVERVIEW, hidden_count=3, purpose="Borgerhenvendelse")
    entry = store.entry(token, "u1")
    assert (entry.overview, entry.hidden_count, entry.purpose) == (
        OVERVIEW,
        3,
        "Borgerhenvendelse",
    )
    assert store.purpose(token, "u1") == "Borgerhenvendelse"
    assert store.purpose(token, "u2") is None and store.entry(token, "u2") is None
    assert store.purpose(store.put("u1", OVERVIEW), "u1") is None


def test_entries_expire_after_the_ttl():
    clock = Clock()
    store = OverviewStore(60, clock=clock)
    token = store.put("u1", OVERVIEW)
    clock.now = 59.9
    assert store.get(token, "u1") is OVERVIEW
    clock.now = 60
    assert store.get(token, "u1") is None
    assert len(store) == 0


def test_size_is_bounded_oldest_first():
    store = OverviewStore(60, max_entries=3)
    tokens = [store.put("u1", OVERVIEW) for _ in range(5)]
    assert len(store) == 3
    assert store.get(tokens[0], "u1") is None
    assert store.get(tokens[-1], "u1") is OVERVIEW


def test_bytes_are_bounded_too_oldest_first():
    size = estimate_size(OVERVIEW)
    store = OverviewStore(60, max_bytes=3 * size + size // 2)
    tokens = [store.put("u1", OVERVIEW) for _ in range(5)]
    assert store.size_bytes <= 3 * size + size // 2
    assert [store.get(t, "u1") is not None for t in tokens] == [False, False, True, True, True]


def test_one_overview_bigger_than_the_bound_still_opens():
    store = OverviewStore(60, max_bytes=10)
    old = store.put("u1", OVERVIEW)
    new = store.put("u1", OVERVIEW)
    assert store.get(new, "u1") is OVERVIEW
    assert store.get(old, "u1") is None


def test_the_memory_store_takes_its_byte_bound_from_the_config():
    from borgersag.web import create_app

    from support.fake_portal import FakePortal, make_config

    config = make_config(tables={"cache": {"overview_max_bytes": 12345}})
    app = create_app(config, portal=FakePortal(config=config))
    assert app.extensions["borgersag.overviews"].max_bytes == 12345


def test_malformed_tokens_are_simply_unknown():
    store = OverviewStore(60)
    for token in ("", "x", "../../etc", "a" * 200, "ÆØÅæøåÆØÅæøåÆØÅæøåÆØÅ"):
        assert store.get(token, "u1") is None


def test_concurrent_puts_and_gets():
    store = OverviewStore(60, max_entries=10_000)
    errors: list[Exception] = []

    def work(user: str) -> None:
        try:
            for _ in range(200):
                token = store.put(user, OVERVIEW)
                assert store.get(token, user) is OVERVIEW
        except Exception as exc:  # collected and re-raised in the main thread
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(f"u{i}",)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len(store) == 1600


def test_workers_sharing_the_sqlite_sessions_share_the_overviews_sealed(tmp_path):
    """``serve --workers 2`` on one machine: an overview link made by one worker opens on
    the other; the SQLite file holds it encrypted."""
    from borgersag.web import create_app

    from support.actions import caseworker_user, csrf_token, sign_in
    from support.fake_portal import TYPICAL_CPR, FakePortal, make_config

    path = tmp_path / "sessions.sqlite3"
    config = make_config(tables={"sessions": {"backend": "sqlite", "path": str(path)}})
    workers = [create_app(config, portal=FakePortal(config=config)) for _ in range(2)]
    first, second = (app.test_client() for app in workers)
    sign_in(first, caseworker_user())
    made = first.post(
        "/", data={"kind": "cpr", "value": TYPICAL_CPR, "csrf_token": csrf_token(first)}
    )
    second.set_cookie("borgersag_session", first.get_cookie("borgersag_session").value)
    page = second.get(made.location)
    assert page.status_code == 200
    assert "Ansøgning om personlig tillæg" in page.get_data(as_text=True)
    stored = b"".join(p.read_bytes() for p in tmp_path.iterdir())
    assert TYPICAL_CPR.encode() not in stored and "personlig tillæg".encode() not in stored
