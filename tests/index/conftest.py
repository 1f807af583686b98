"""Fixtures of the case index's tests: a sandbox of their own (its cases are changed)
and refreshers over fresh index databases."""

from __future__ import annotations

import pytest

from borgersag.config.loader import Config
from borgersag.index.refresh import Refresher
from borgersag.index.sealing import CprSeal
from borgersag.index.section import INDEX
from borgersag.index.store import IndexStore
from borgersag.lookup.portal import Portal
from borgersag.people.sections import CITIZEN

from support.index_helpers import SECRET, Recorded, raw_config


@pytest.fixture(scope="module")
def own_sandbox():
    """A sandbox municipality for one module: the tests move its cases to new statuses,
    which the session's shared sandbox must never see."""
    from borgersag.sandbox.runner import start_sandbox
    from borgersag.sandbox.section import NO_LATENCY

    with start_sandbox(NO_LATENCY) as running:
        yield running


@pytest.fixture
def make_refresher(own_sandbox, tmp_path):
    """``make_refresher(url=None, index={}, citizen={})``: a refresher on a migrated index
    database (by default SQLite in the test's folder) and the audit events it recorded."""
    made = []

    def build(url: str | None = None, index: dict | None = None, citizen: dict | None = None):
        config = Config.from_mapping(raw_config(own_sandbox, index, citizen))
        portal = Portal.from_config(config)
        store = IndexStore.open(url or f"sqlite:///{tmp_path / 'index.sqlite3'}", CprSeal(SECRET))
        store.upgrade()
        made.append((portal, store))
        recorded = Recorded()
        policy = config.section(CITIZEN)
        return Refresher(portal, store, recorded, policy, config.section(INDEX)), recorded

    yield build
    for portal, store in made:
        portal.close()
        store.close()
