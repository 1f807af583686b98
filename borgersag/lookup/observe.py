"""What the lookup core tells an observer: a small interface the web layer implements.

The core stays free of any metrics library: :class:`~borgersag.lookup.portal.Portal`
calls :meth:`LookupObserver.overview_made` once per fan-out with the overview (whose
per-source results hold status, latency and cache age) and how long it took; the web
layer's :mod:`borgersag.web.metrics` turns that into Prometheus metrics. The default,
:class:`NoObserver`, does nothing.
"""

from __future__ import annotations

from typing import Protocol

from borgersag.domain.model import Overview

__all__ = ["LookupObserver", "NoObserver"]


class LookupObserver(Protocol):
    """Told about every overview the portal makes. Must be quick and must not raise:
    it runs on the request's thread after the sources have answered."""

    def overview_made(self, overview: Overview, seconds: float) -> None:
        """One fan-out finished in ``seconds`` (wall clock) with ``overview``."""


class NoObserver:
    """The observer when nobody watches."""

    def overview_made(self, overview: Overview, seconds: float) -> None:
        """Does nothing."""
