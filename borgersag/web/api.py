"""The JSON API, version 1 (``/api/v1``). The shape is documented in ``docs/api.md``.

Same sign-in as the pages (401 JSON without it); ``openapi.json`` (the OpenAPI 3.1
document, :file:`borgersag/web/openapi.json`) needs none. Lookups are POSTed as JSON, so a key
never enters a URL; the overview is kept under the same opaque token the pages use, and
made by the same use case as the form's (:func:`borgersag.lookup.usecases.look_up`, with
the key kinds the API channel takes: :data:`borgersag.lookup.channels.CHANNELS`).
"""

from __future__ import annotations

import functools
import json
import re
import threading
from collections import OrderedDict
from functools import partial
from importlib import resources
from typing import Any

import orjson
from flask import Blueprint, Flask, Response, g, jsonify, request, url_for

from borgersag.domain.model import Overview
from borgersag.domain.serialize import overview_to_dict
from borgersag.lookup.channels import Channel, Rejected
from borgersag.lookup.ports import FAILED, StoredOverview
from borgersag.lookup.usecases import look_up, start_look_up
from borgersag.web.caseworker import purposes, stored_overview
from borgersag.web.channel import context, in_background
from borgersag.web.completeness import caseworker_notice, notice_to_json
from borgersag.web.errors import error_response
from borgersag.web.login import caseworker_required
from borgersag.web.wording import source_texts

__all__ = ["init_app"]

bp = Blueprint("api_v1", __name__, url_prefix="/api/v1")

MAX_JSON_DEPTH = 16
"""How deeply a request body may nest arrays and objects. Lookups need depth 1; the
limit keeps a hostile body (``[[[[…]]]]`` 2,000 deep) from exhausting the parser."""

_JSON_STRING = re.compile(r'"(?:[^"\\]|\\.)*"')


def _bad_request(field: str | None, message: str, status: int = 400) -> Any:
    body = {"field": field, "message": message, "request_id": g.get("request_id")}
    return jsonify(error=body), status


class _Written:
    """The JSON form of the overviews read most recently, by the overview object itself.

    A kept overview read again is the same object (the overview store remembers what it
    decrypted, and :func:`~borgersag.people.restrictions.restrict` gives back what it was
    given when it takes nothing away), so writing it anew — most of a cached overview's
    request — is done once. Held by a strong reference, an entry's id cannot be reused
    while it is here. Bounded by bytes (each entry sized by its JSON, 4 MB in all, as the
    overview store's own memory) and entries; an overview bigger than that is not kept."""

    def __init__(self, size: int = 32, max_bytes: int = 4 * 1024 * 1024):
        self.size = size
        self.max_bytes = max_bytes
        self._entries: OrderedDict[int, tuple[Overview, bool, dict[str, Any], int]] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    def __call__(self, overview: Overview, restricted: bool) -> dict[str, Any]:
        key = id(overview)
        with self._lock:
            hit = self._entries.get(key)
            if hit is not None and hit[0] is overview and hit[1] == restricted:
                self._entries.move_to_end(key)
                return hit[2]
        written = overview_to_dict(overview, describe=partial(source_texts, restricted=restricted))
        try:
            size = len(orjson.dumps(written))  # a tenth of what writing the dict cost
        except TypeError:  # nothing orjson cannot write is expected here; then not kept
            return written
        if size > self.max_bytes:
            return written
        with self._lock:
            old = self._entries.pop(key, None)
            if old is not None:
                self._bytes -= old[3]
            self._entries[key] = (overview, restricted, written, size)
            self._bytes += size
            while len(self._entries) > self.size or self._bytes > self.max_bytes:
                self._bytes -= self._entries.popitem(last=False)[1][3]
        return written


_written = _Written()


def _body(token: str, entry: StoredOverview) -> dict[str, Any]:
    return {
        "id": token,
        "state": entry.state,
        "waiting_sources": [{"source": name, "title": title} for name, title in entry.waiting],
        "purpose": entry.purpose,
        "hidden_count": entry.hidden_count,
        "overview": _written(entry.overview, entry.hidden_count > 0),
        "notice": notice_to_json(caseworker_notice(entry.overview)),
    }


@bp.post("/overviews")
@caseworker_required
def create_overview() -> Any:
    """Look a key up: ``{"kind": "cpr", "value": "...", "purpose": "..."}`` → 201 with id
    and overview (``purpose`` is optional unless ``portal.purpose_required``).

    With ``"wait": false`` or ``Prefer: respond-async``: 202 at once, the overview
    ``"state": "pending"`` with the sources answered so far; GET its Location until
    ``"complete"``."""
    if not request.is_json:
        return error_response(415)
    body, problem = _json_body()
    if problem is None and not isinstance(body, dict):
        problem = 'Forventede et JSON-objekt: {"kind": ..., "value": ...}.'
    if problem is not None:
        return _bad_request(None, problem)
    wait = body.get("wait", True)
    if not isinstance(wait, bool):
        return _bad_request("wait", '"wait" er true (vent på hele oversigten) eller false.')
    if "respond-async" in request.headers.get("Prefer", "").lower():
        wait = False
    args = (context(), Channel.API, body.get("kind"), body.get("value"), body.get("purpose"))
    try:
        if not wait:
            token = start_look_up(*args, in_background=in_background())
            entry = stored_overview(token)
            assert entry is not None  # kept a moment ago, by this user
            return _made(token, entry, 202)
        kept = look_up(*args)
    except Rejected as exc:
        message = exc.message
        choices, _required = purposes()
        if exc.field == "purpose" and choices:
            message = f"{message} Brug en af: {', '.join(choices)}."
        return _bad_request(exc.field, message, exc.status)
    return _made(kept.token, kept.entry, 201)


def _made(token: str, entry: StoredOverview, status: int) -> Any:
    response = jsonify(_body(token, entry))
    response.status_code = status
    response.headers["Location"] = url_for("api_v1.get_overview", token=token)
    if status == 202:
        response.headers["Preference-Applied"] = "respond-async"
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
    if entry.state == FAILED:
        return error_response(
            503, None, "Opslaget kunne ikke gøres færdigt, så intet fra det vises. Lav det igen."
        )
    return jsonify(_body(token, entry))


@bp.get("/openapi.json")
def openapi() -> Any:
    """The OpenAPI 3.1 document of this API, written by hand beside this module. No
    sign-in: it describes the API and holds no data."""
    return Response(_openapi_document(), mimetype="application/json")


@functools.cache
def _openapi_document() -> str:
    return (resources.files("borgersag.web") / "openapi.json").read_text(encoding="utf-8")


def _json_body() -> tuple[Any, str | None]:
    """The request's JSON body, or a message saying why it cannot be read.

    Nesting is measured before parsing (outside strings), so a body nested thousands deep
    is refused with a clear 400 instead of taking the parser into a RecursionError.
    """
    raw = request.get_data(cache=True)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return None, "Forespørgslen er ikke gyldig UTF-8."
    depth = deepest = 0
    for char in _JSON_STRING.sub('""', text):
        if char in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif char in "]}":
            depth -= 1
    if deepest > MAX_JSON_DEPTH:
        return None, f"JSON-indholdet er indlejret for dybt (højst {MAX_JSON_DEPTH} niveauer)."
    try:
        return json.loads(text), None
    except (ValueError, RecursionError):
        return None, "Forespørgslen er ikke gyldig JSON."


def init_app(app: Flask) -> None:
    """Register the API routes."""
    app.register_blueprint(bp)
