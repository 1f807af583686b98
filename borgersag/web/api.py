"""The JSON API, version 1 (``/api/v1``). The shape is documented in ``docs/api.md``.

Same sign-in as the pages (401 JSON without it). Lookups are POSTed as JSON, so a key
never enters a URL; the overview is kept under the same opaque token the pages use.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Flask, jsonify, request, url_for

from ..keys import InvalidKey, KeyKind, parse_key
from ..serialize import overview_to_dict
from .auth import caseworker_required, current_user
from .errors import error_response
from .views import overview_store, portal

__all__ = ["init_app"]

bp = Blueprint("api_v1", __name__, url_prefix="/api/v1")


def _bad_request(field: str | None, message: str) -> Any:
    return jsonify(error={"field": field, "message": message}), 400


@bp.post("/overviews")
@caseworker_required
def create_overview() -> Any:
    """Look a key up: ``{"kind": "cpr", "value": "..."}`` → 201 with id and overview."""
    if not request.is_json:
        return error_response(415)
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        return _bad_request(None, 'Forventede et JSON-objekt: {"kind": ..., "value": ...}.')
    kind, value = body.get("kind"), body.get("value")
    if not isinstance(kind, str) or kind not in {k.value for k in KeyKind}:
        kinds = ", ".join(k.value for k in KeyKind)
        return _bad_request("kind", f"Ukendt nøgletype; brug en af: {kinds}.")
    if not isinstance(value, str):
        return _bad_request("value", "Værdien skal være en tekst.")
    try:
        key = parse_key(kind, value)
    except InvalidKey as exc:
        return _bad_request("value", exc.message)
    result = portal().lookup(key)
    token = overview_store().put(current_user().id, result)
    response = jsonify(id=token, overview=overview_to_dict(result))
    response.status_code = 201
    response.headers["Location"] = url_for("api_v1.get_overview", token=token)
    return response


@bp.get("/overviews/<token>")
@caseworker_required
def get_overview(token: str) -> Any:
    """An overview made earlier by the same user, while it is still kept."""
    found = overview_store().get(token, current_user().id)
    if found is None:
        return error_response(
            404, None, "Oversigten findes ikke eller er udløbet. Lav opslaget igen."
        )
    return jsonify(id=token, overview=overview_to_dict(found))


def init_app(app: Flask) -> None:
    """Register the API routes."""
    app.register_blueprint(bp)
