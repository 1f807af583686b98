"""The JSON API, version 1 (``/api/v1``). The shape is documented in ``docs/api.md``.

Same sign-in as the pages (401 JSON without it). Lookups are POSTed as JSON, so a key
never enters a URL; the overview is kept under the same opaque token the pages use, and
restricted the same way (:func:`borgersag.web.caseworker.keep_overview`).
"""

from __future__ import annotations

from functools import partial
from typing import Any

from flask import Blueprint, Flask, jsonify, request, url_for

from borgersag.domain.keys import InvalidKey, KeyKind, parse_key
from borgersag.domain.serialize import overview_to_dict
from borgersag.web.caseworker import check_purpose, keep_overview, portal, purposes, stored_overview
from borgersag.web.errors import error_response
from borgersag.web.login import caseworker_required
from borgersag.web.overviews import StoredOverview
from borgersag.web.wording import source_texts

__all__ = ["init_app"]

bp = Blueprint("api_v1", __name__, url_prefix="/api/v1")


def _bad_request(field: str | None, message: str) -> Any:
    return jsonify(error={"field": field, "message": message}), 400


def _body(token: str, entry: StoredOverview) -> dict[str, Any]:
    return {
        "id": token,
        "purpose": entry.purpose,
        "hidden_count": entry.hidden_count,
        "overview": overview_to_dict(
            entry.overview, describe=partial(source_texts, restricted=entry.hidden_count > 0)
        ),
    }


@bp.post("/overviews")
@caseworker_required
def create_overview() -> Any:
    """Look a key up: ``{"kind": "cpr", "value": "...", "purpose": "..."}`` → 201 with id
    and overview (``purpose`` is optional unless ``portal.purpose_required``)."""
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
    try:
        purpose = check_purpose(body.get("purpose"))
    except ValueError as exc:
        choices, _required = purposes()
        allowed = f" Brug en af: {', '.join(choices)}." if choices else ""
        return _bad_request("purpose", f"{exc}{allowed}")
    token, entry = keep_overview(portal().lookup(key), purpose)
    response = jsonify(_body(token, entry))
    response.status_code = 201
    response.headers["Location"] = url_for("api_v1.get_overview", token=token)
    return response


@bp.get("/overviews/<token>")
@caseworker_required
def get_overview(token: str) -> Any:
    """An overview made earlier by the same user, while it is still kept."""
    entry = stored_overview(token)
    if entry is None:
        return error_response(
            404, None, "Oversigten findes ikke eller er udløbet. Lav opslaget igen."
        )
    return jsonify(_body(token, entry))


def init_app(app: Flask) -> None:
    """Register the API routes."""
    app.register_blueprint(bp)
