"""Fixtures of the senders' tests: a sandbox of their own (its cases are changed and its
channels collect messages) and a case index with one subscribed citizen."""

from __future__ import annotations

import pytest

from support.notify_helpers import Setup


@pytest.fixture(scope="module")
def own_sandbox():
    """A sandbox for one module: its cases move and its inboxes fill."""
    from borgersag.sandbox.runner import start_sandbox
    from borgersag.sandbox.section import NO_LATENCY

    with start_sandbox(NO_LATENCY) as running:
        yield running


@pytest.fixture
def setup(own_sandbox, audit_url):
    """A migrated index (once on SQLite, once on PostgreSQL) with the senders pointed at
    the sandbox."""
    made = Setup(own_sandbox, audit_url)
    yield made
    made.close()
