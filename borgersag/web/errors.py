"""Error pages and JSON errors: Danish, no stack trace, no personal data, a request id.

Every response carries the request id (``X-Request-ID``); error pages show it so
support can find the log line. The text comes from a fixed table, never from the
exception, so nothing a back end or a URL contained can leak into the page.
"""

from __future__ import annotations

import logging
import traceback
from typing import Any

from flask import Flask, Response, g, jsonify, render_template, request, url_for
from flask.globals import request_ctx
from flask_babel import LazyString
from flask_babel import lazy_gettext as _l
from markupsafe import escape
from werkzeug.exceptions import HTTPException, InternalServerError

from borgersag.web.language import ensure_babel

__all__ = ["init_app"]

log = logging.getLogger(__name__)

MESSAGES: dict[int, tuple[LazyString, LazyString]] = {
    400: (
        _l("Forespørgslen kunne ikke behandles"),
        _l("Siden fik noget, den ikke kunne bruge. Gå tilbage og prøv igen."),
    ),
    401: (_l("Du er ikke logget ind"), _l("Log ind for at se siden.")),
    403: (
        _l("Du har ikke adgang"),
        _l(
            "Siden hører ikke til det, du er logget ind til. Gå til forsiden for at se,"
            " hvad du kan."
        ),
    ),
    404: (
        _l("Siden findes ikke"),
        _l(
            "Adressen er forkert, eller siden findes ikke længere. Tjek adressen, eller"
            " gå til forsiden."
        ),
    ),
    405: (
        _l("Handlingen er ikke tilladt"),
        _l("Siden kan ikke bruges på den måde. Gå til forsiden og prøv igen."),
    ),
    413: (_l("Forespørgslen er for stor"), _l("Indtastningen var for stor. Prøv igen med mindre.")),
    415: (
        _l("Forkert dataformat"),
        _l("API'et modtager kun JSON (Content-Type: application/json)."),
    ),
    500: (
        _l("Der opstod en fejl hos os"),
        _l(
            "Det er ikke din skyld. Prøv igen om lidt. Hvis fejlen bliver ved, så kontakt"
            " support og oplys fejl-id'et nedenfor."
        ),
    ),
    502: (
        _l("Kildesystemet svarede ikke"),
        _l("Et af kommunens systemer svarede ikke. Prøv igen om lidt."),
    ),
}

CSRF_MESSAGE = (
    _l("Formularen er udløbet"),
    _l(
        "Siden har været åben for længe, eller du er logget ud imens. Hent siden igen og prøv igen."
    ),
)


def error_response(
    code: int, title: str | LazyString | None = None, text: str | LazyString | None = None
) -> Any:
    """An error page (HTML) or ``{"error": ...}`` (under /api/) with status ``code``."""
    default_title, default_text = MESSAGES.get(code, MESSAGES[500])
    # Lazy strings (the tables here and in the pages) are translated now, in the page's language.
    title, text = str(title or default_title), str(text or default_text)
    if request.path.startswith("/api/"):
        body = {"error": {"field": None, "message": text, "request_id": g.get("request_id")}}
        return jsonify(body), code
    if request_ctx.url_adapter is None:
        # The request could not even be routed (a Host header that is no host name):
        # the page template builds links, so answer with a page that has none.
        return _bare_page(code, title, text), code
    # The language switch on an error page leads to the front page, as the page itself
    # does: it never echoes the address asked for (a hidden case's 404 is the same page
    # as a missing one's).
    page = render_template(
        "error.html", code=code, title=title, text=text, here_path=url_for("web.lookup")
    )
    return page, code


def _bare_page(code: int, title: str, text: str) -> Any:
    page = (
        '<!doctype html><html lang="da"><head><meta charset="utf-8">'
        f"<title>{escape(title)}</title></head><body><h1>{escape(title)}</h1>"
        f"<p>{escape(text)}</p><p>Fejl {code}</p></body></html>"
    )
    return Response(page, mimetype="text/html")


def _http_error(exc: HTTPException) -> Any:
    code = exc.code or 500
    if code >= 500:
        return _server_error(exc)
    if code == 400 and exc.description == "csrf":
        return error_response(400, *CSRF_MESSAGE)
    return error_response(code)


def _server_error(_exc: Exception) -> Any:
    # Logged by log_exception (called by Flask for unhandled exceptions).
    return error_response(500)


def log_exception(exc_info: tuple[type[BaseException], BaseException, Any]) -> None:
    """Log an unhandled exception without its message or the URL.

    Both may hold personal data (a CPR number typed into a form, say), so the log line
    has the class, the frames and the request id only. Replaces Flask's own logging.
    """
    exc_type, exc, tb = exc_info
    frames = "".join(traceback.format_tb(tb or exc.__traceback__))
    log.error(
        "unhandled %s in %s %s [request %s]\n%s",
        exc_type.__name__,
        request.method,
        request.url_rule or "-",
        g.get("request_id"),
        frames,
    )


def init_app(app: Flask) -> None:
    """Register the handlers for every HTTP error and for unhandled exceptions."""
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(InternalServerError, _server_error)
    ensure_babel(app)  # the pages are translated
