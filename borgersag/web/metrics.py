"""Prometheus metrics at ``/metrics``: what the sources do, as the portal sees them.

Off unless ``[metrics] enabled``; then served only to the addresses in ``allow_from``
(loopback by default), and with ``token`` set only with ``Authorization: Bearer``. The
numbers come from :class:`PrometheusObserver`, the lookup core's observer
(:mod:`borgersag.lookup.observe`), so the core never imports prometheus-client:

* ``borgersag_lookups_total{kind}`` and ``borgersag_lookup_seconds`` — fan-outs (every
  channel) and how long each took;
* ``borgersag_source_answers_total{source,status}`` — each source's part in a lookup, by
  status (``ok``, ``empty``, ``failed``, ``timeout``, ``circuit_open``, ``stale`` …);
* ``borgersag_source_latency_seconds{source}`` — how long a source took to answer
  (answers from the cache left out);
* ``borgersag_cache_total{source,result}`` — ``hit`` (a fresh answer from the result
  cache) or ``miss`` (the source was asked, or tried);
* ``borgersag_source_breaker_open{source}`` — 1 while the source is paused by its
  circuit breaker, read when scraped.

Several processes: with ``PROMETHEUS_MULTIPROC_DIR`` set (before this module is
imported) each writes its numbers there and a scrape of any of them adds them up
(prometheus-client's multiprocess mode).
"""

from __future__ import annotations

import hmac
import ipaddress
import os
from typing import Any

from flask import Blueprint, Flask, Response, abort, current_app, request
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)

from borgersag.domain.model import Overview, SourceStatus
from borgersag.web.sections import MetricsSettings

__all__ = ["MULTIPROC_ENV", "PrometheusObserver", "init_app"]

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"

bp = Blueprint("metrics", __name__)

# Up to and past the default 4 s deadline: where a slow source's answers fall.
LATENCY_BUCKETS = (0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 3.0, 4.0, 6.0, 10.0)
_NOT_ASKED = (SourceStatus.NOT_APPLICABLE, SourceStatus.DISABLED)
_FRESH = (SourceStatus.OK, SourceStatus.EMPTY)


class PrometheusObserver:
    """The lookup observer that counts into Prometheus metrics in ``registry``."""

    def __init__(self, registry: CollectorRegistry):
        self.registry = registry
        self.lookups = Counter(
            "borgersag_lookups", "Fan-outs, by key kind.", ["kind"], registry=registry
        )
        self.lookup_seconds = Histogram(
            "borgersag_lookup_seconds",
            "Wall-clock time of one fan-out.",
            buckets=LATENCY_BUCKETS,
            registry=registry,
        )
        self.answers = Counter(
            "borgersag_source_answers",
            "Each source's part in a lookup, by status.",
            ["source", "status"],
            registry=registry,
        )
        self.latency = Histogram(
            "borgersag_source_latency_seconds",
            "How long a source took to answer (cache hits left out).",
            ["source"],
            buckets=LATENCY_BUCKETS,
            registry=registry,
        )
        self.cache = Counter(
            "borgersag_cache",
            "Result cache per source and lookup: hit (fresh cached answer) or miss.",
            ["source", "result"],
            registry=registry,
        )
        self.breaker_open = Gauge(
            "borgersag_source_breaker_open",
            "1 while the source is paused by its circuit breaker.",
            ["source"],
            registry=registry,
            multiprocess_mode="livemax",
        )

    def overview_made(self, overview: Overview, seconds: float) -> None:
        """Count one fan-out and every source's part in it."""
        self.lookups.labels(overview.subject.kind.value).inc()
        self.lookup_seconds.observe(seconds)
        for result in overview.sources:
            if result.status in _NOT_ASKED:
                continue
            self.answers.labels(result.source, result.status.value).inc()
            hit = result.status in _FRESH and result.age_seconds is not None
            self.cache.labels(result.source, "hit" if hit else "miss").inc()
            if not hit and result.latency_ms is not None:
                self.latency.labels(result.source).observe(result.latency_ms / 1000)

    def read_breakers(self, portal: Any) -> None:
        """Set the breaker gauge from the portal's breakers (at scrape time)."""
        engine = getattr(portal, "engine", None)
        if engine is None:
            return
        for name in portal.sources:
            self.breaker_open.labels(name).set(1 if engine.breakers.is_open(name) else 0)


def _allowed(settings: MetricsSettings) -> bool:
    try:
        address = ipaddress.ip_address(request.remote_addr or "")
    except ValueError:
        return False
    networks = (ipaddress.ip_network(n, strict=False) for n in settings.allow_from)
    if not any(address in network for network in networks):
        return False
    if settings.token:
        sent = request.headers.get("Authorization", "")
        return hmac.compare_digest(sent.encode(), f"Bearer {settings.token}".encode())
    return True


@bp.get("/metrics")
def scrape() -> Any:
    """The metrics in Prometheus' text format, to allowed scrapers only."""
    settings: MetricsSettings = current_app.extensions["borgersag.metrics_settings"]
    if not _allowed(settings):
        abort(403)
    observer: PrometheusObserver = current_app.extensions["borgersag.metrics"]
    observer.read_breakers(current_app.extensions["borgersag"])
    registry = observer.registry
    if os.environ.get(MULTIPROC_ENV):
        from prometheus_client import multiprocess

        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
    response = Response(generate_latest(registry), mimetype=CONTENT_TYPE_LATEST)
    response.headers["Cache-Control"] = "no-store"
    return response


def init_app(app: Flask, settings: MetricsSettings) -> None:
    """When metrics are on: count the portal's lookups and serve ``/metrics``."""
    if not settings.enabled:
        return
    observer = PrometheusObserver(CollectorRegistry())
    app.extensions["borgersag.metrics"] = observer
    app.extensions["borgersag.metrics_settings"] = settings
    app.extensions["borgersag"].observer = observer
    app.register_blueprint(bp)
