"""Probes for the machinery around the portal: ``/healthz`` (alive) and ``/readyz`` (ready).

* ``/healthz`` answers 200 as long as the process serves requests. It asks nothing else —
  no session store, no audit log, no source — so a restart loop never starts because a
  dependency is down (that is what readiness is for).
* ``/readyz`` answers 200 when the portal could serve a person now: the session store
  answers (Redis or the SQLite file), the audit log could be appended to (checked without
  writing a row, :meth:`~borgersag.audit.AuditLog.check_writable`; PostgreSQL when the log
  is there) and the rate-limit counters' Redis answers when they are in Redis. Otherwise
  503, naming each check that failed. The body never holds an address or a password: the
  reason with the details goes to the log.

Both are plain JSON without a session: no login, no CSRF token (GET only), no rate limit
(they fan out to nobody), nothing audited (no personal data is shown), and the source
switches are not read for them (:func:`is_probe`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from flask import Blueprint, Flask, current_app, jsonify, request

from borgersag.audit import AuditUnavailable

__all__ = ["PROBE_BLUEPRINTS", "init_app", "is_probe"]

log = logging.getLogger(__name__)

bp = Blueprint("health", __name__)

PROBE_BLUEPRINTS = frozenset({"health", "metrics"})
"""Blueprints whose routes are for machines (probes, metrics), not people."""

_PROBE_KEY = "0" * 64  # a session key no session has (store keys are SHA-256 hex digests)

Check = Callable[[], None]


def is_probe() -> bool:
    """Whether this request is a probe or a metrics scrape (no session, no switches)."""
    return request.blueprint in PROBE_BLUEPRINTS


@bp.get("/healthz")
def healthz() -> Any:
    """Alive: the process answers. Depends on nothing."""
    return _json({"status": "ok"}, 200)


@bp.get("/readyz")
def readyz() -> Any:
    """Ready: every dependency a request needs answers; 503 naming those that do not."""
    checks: dict[str, dict[str, Any]] = {}
    for name, check in current_app.extensions["borgersag.readiness"].items():
        try:
            check()
        except Exception as exc:  # a failed check is an answer, not a crash
            log.warning("readiness check %s failed: %s", name, exc)
            checks[name] = {"ok": False, "error": _FAILED.get(name, "svarer ikke")}
        else:
            checks[name] = {"ok": True}
    ready = all(c["ok"] for c in checks.values())
    failed = sorted(n for n, c in checks.items() if not c["ok"])
    body = {"status": "ready" if ready else "not ready", "failed": failed, "checks": checks}
    return _json(body, 200 if ready else 503)


_FAILED = {
    "sessions": "session store does not answer",
    "audit": "audit log cannot be written",
    "limits": "rate-limit storage does not answer",
}


def _json(body: dict[str, Any], status: int) -> Any:
    response = jsonify(body)
    response.status_code = status
    response.headers["Cache-Control"] = "no-store"
    return response


def _sessions() -> None:
    current_app.extensions["borgersag.sessions"].store.load(_PROBE_KEY)


def _audit() -> None:
    try:
        current_app.extensions["borgersag.audit"].check_writable()
    except AuditUnavailable:
        raise
    except Exception as exc:  # a driver's own error: its type is enough here
        raise AuditUnavailable(type(exc).__name__) from None


def _limits() -> None:
    if not current_app.extensions["borgersag.limiter"].window.storage.check():
        raise ConnectionError("the rate-limit storage did not answer a ping")


def init_app(app: Flask) -> None:
    """Add the two probes; call after sessions, the audit log and the limits are set up."""
    checks: dict[str, Check] = {"sessions": _sessions, "audit": _audit}
    if "memory" not in app.extensions["borgersag.limiter"].window.storage.STORAGE_SCHEME:
        checks["limits"] = _limits  # counters in Redis: shared, so needed
    app.extensions["borgersag.readiness"] = checks
    app.register_blueprint(bp)
