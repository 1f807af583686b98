"""Helpers of the case index's tests (tests/index/): its config, a sandbox case moved to
a new status, an audit recorder, and a refresh killed before its commit."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import requests

SECRET = "index-tests-" + "k" * 32


def raw_config(sandbox, index: dict | None = None, citizen: dict | None = None) -> dict:
    """Config tables on ``sandbox`` with no result cache (each refresh asks the sources)."""
    return {
        "sandbox": {},
        "portal": {"deadline_seconds": 3.0, "cache_ttl_seconds": 0, "secret_key": SECRET},
        "sessions": {"backend": "memory"},
        "sources": sandbox.source_config(),
        "index": {"enabled": True, **(index or {})},
        "citizen": citizen or {},
    }


def set_status(sandbox, case_id: str, status: str, date: str = "2026-12-01") -> None:
    """Move an ESDH case of ``sandbox`` (``sbsys/<id>``) to ``status``, as a caseworker would."""
    native = case_id.split("/", 1)[1]
    response = requests.put(
        f"{sandbox.url('esdh')}_sandbox/cases/{native}/status",
        json={"status": status, "date": date},
        timeout=5,
    )
    assert response.status_code == 200, response.text


class Recorded(list):
    """An audit recorder that keeps the events, or raises ``fail`` when it is set."""

    fail: Exception | None = None

    def __call__(self, event: Any) -> None:
        if self.fail is not None:
            raise self.fail
        self.append(event)


def refresh_killed_before_commit(url: str, subscriber_id: int, tables: dict) -> None:
    """Run in a child process: one refresh that dies (``os._exit``, no clean-up, like a
    SIGKILL) at its COMMIT, after every row was written."""
    from sqlalchemy import event

    from borgersag.config.loader import Config
    from borgersag.index.refresh import Refresher
    from borgersag.index.sealing import CprSeal
    from borgersag.index.section import INDEX
    from borgersag.index.store import IndexStore
    from borgersag.lookup.portal import Portal
    from borgersag.people.sections import CITIZEN

    config = Config.from_mapping(tables)
    store = IndexStore.open(url, CprSeal(SECRET))
    event.listen(store.engine, "commit", lambda conn: os._exit(9))
    refresher = Refresher(
        Portal.from_config(config),
        store,
        Recorded(),
        config.section(CITIZEN),
        config.section(INDEX),
    )
    refresher.refresh(subscriber_id)
    os._exit(0)  # not reached: the commit ends the process


def eventually(check, seconds: float = 30.0):
    """``check()``'s first true value, polled while a worker works."""
    until = time.monotonic() + seconds
    while time.monotonic() < until:
        if found := check():
            return found
        time.sleep(0.1)
    raise AssertionError("the worker did not get there in time")


@contextmanager
def signals_kept() -> Iterator[None]:
    """huey's consumer sets its own SIGINT/SIGTERM/SIGHUP handlers; put pytest's back."""
    kept = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)}
    try:
        yield
    finally:
        for s, handler in kept.items():
            signal.signal(s, handler)
