"""The pytest plugin of :mod:`borgersag.testing` (entry point ``pytest11``: ``borgersag``).

The conformance suite needs no plugin — importing :class:`~borgersag.testing.ConformanceSuite`
is enough. The plugin adds two fixtures for a connector's own tests:

* ``borgersag_backend`` — a strict ``responses`` mock (a request nothing was registered
  for fails the test) with the socket guard on; register the recorded answers on it.
* ``borgersag_no_network`` — just the socket guard: any real connection attempt or host
  name lookup raises, and fails the test even if the code under test swallowed it.

It imports nothing heavy until a fixture is used, so having borgersag installed costs
other projects' test runs nothing.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest


@pytest.fixture
def borgersag_no_network() -> Iterator[Any]:
    """Refuse real network access during the test; yields the guard (``.attempts``)."""
    from borgersag.testing.network import no_network

    with no_network() as guard:
        yield guard
    if guard.attempts:
        pytest.fail("network access during the test: " + "; ".join(guard.attempts), pytrace=False)


@pytest.fixture
def borgersag_backend(borgersag_no_network: Any) -> Iterator[Any]:
    """A strict ``responses.RequestsMock`` with the socket guard on; fails the test on a
    request nothing was registered for."""
    from borgersag.testing.backend import strict_mock

    with strict_mock() as mock:
        yield mock
        unrecorded = mock.unrecorded()
    if unrecorded:
        pytest.fail("unrecorded requests: " + "; ".join(unrecorded), pytrace=False)


def pytest_report_header(config: pytest.Config) -> str:
    """Say that the plugin is active."""
    return "borgersag: connector test kit (borgersag.testing)"
