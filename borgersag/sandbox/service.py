"""What every sandbox service shares: JSON errors, fault knobs and ``/_sandbox/faults``.

Each service is its own Flask app built by a factory; :func:`make_service_app` gives it
the common parts so the service modules hold only their API.
"""

from __future__ import annotations

import secrets
import threading
from collections.abc import Callable

from flask import Flask, Response, jsonify, request
from werkzeug.exceptions import HTTPException

from borgersag.sandbox.faults import FaultError, Faults

__all__ = ["API_KEY", "GARBAGE_BODY", "api_key_check", "json_error", "make_service_app"]

API_KEY = "sandbox-key"
API_KEY_HEADER = "X-Api-Key"

GARBAGE_BODY = (
    "<html><head><title>Gateway</title></head><body><h1>Vedligeholdelse</h1>"
    "<p>Tjenesten er midlertidigt utilgængelig.</p></body></html>\n\x00\x01 {not json"
)


def json_error(status: int, message: str, **extra: object) -> tuple[Response, int]:
    """A JSON error body: ``{"error": {"status": ..., "message": ...}}``."""
    return jsonify({"error": {"status": status, "message": message, **extra}}), status


def api_key_check(key: str = API_KEY) -> Callable[[], object]:
    """An ``authorize`` hook that wants ``key`` in the ``X-Api-Key`` header."""

    def authorize():
        given = request.headers.get(API_KEY_HEADER, "")
        if not secrets.compare_digest(given.encode(), key.encode()):
            return json_error(401, f"Adgang kræver en gyldig API-nøgle i {API_KEY_HEADER}.")
        return None

    return authorize


def make_service_app(
    name: str, title: str, faults: Faults, *, authorize: Callable[[], object] | None = None
) -> Flask:
    """A Flask app for one sandbox service with errors, faults and health wired in.

    ``authorize`` runs before every request outside ``/_sandbox/``, ``/health`` and the
    paths the service marks public; it returns a response to refuse the request.
    """
    app = Flask(f"borgersag.sandbox.{name}")
    app.json.sort_keys = False  # type: ignore[attr-defined]
    app.json.ensure_ascii = False  # type: ignore[attr-defined]
    app.config["SANDBOX_FAULTS"] = faults
    app.config["SANDBOX_PUBLIC_PATHS"] = {"/health"}
    served = _Counter()  # what the portal asked for: benchmarks read it to count cache hits

    @app.before_request
    def _apply_faults():
        if request.path.startswith("/_sandbox/"):
            return None
        if request.path != "/health":
            served.add()
        outcome = faults.before_request()
        if outcome is None:
            if authorize and request.path not in app.config["SANDBOX_PUBLIC_PATHS"]:
                return authorize()
            return None
        kind, _status = outcome
        if kind == "garbage":
            return Response(GARBAGE_BODY, status=200, mimetype="text/html")
        if kind == "stopped":
            return json_error(503, f"{title} (sandkasse) er ved at lukke.")
        return json_error(500, f"Simuleret fejl i {title} (sandkasse).")

    @app.get("/health")
    def _health():
        return jsonify({"status": "ok", "service": name})

    @app.get("/_sandbox/faults")
    def _get_faults():
        return jsonify(faults.as_dict())

    @app.put("/_sandbox/faults")
    def _put_faults():
        body = request.get_json(silent=True)
        if not isinstance(body, dict):
            return json_error(400, 'Send a JSON object, e.g. {"latency_ms": 200}.')
        try:
            faults.update(body)
        except FaultError as exc:
            return json_error(400, str(exc), field=exc.field)
        return jsonify(faults.as_dict())

    @app.get("/_sandbox/requests")
    def _get_requests():
        return jsonify({"requests": served.value})

    @app.delete("/_sandbox/faults")
    def _reset_faults():
        faults.reset()
        return jsonify(faults.as_dict())

    @app.errorhandler(Exception)
    def _error(exc: Exception):
        if isinstance(exc, HTTPException):
            return json_error(exc.code or 500, exc.description or exc.name)
        return json_error(500, f"Intern fejl i {title} (sandkasse): {type(exc).__name__}.")

    return app


class _Counter:
    """A thread-safe count of the requests a service was asked (``/_sandbox/*`` and
    ``/health`` left out)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.value = 0

    def add(self) -> None:
        """Count one request."""
        with self._lock:
            self.value += 1
