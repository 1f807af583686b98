"""Cross-site request forgery protection for every form, with Flask-WTF.

Every form carries ``csrf_token()`` in a hidden field (scripts send it in the
``X-CSRF-Token`` header); every POST outside the JSON API must send back a token that
Flask-WTF signed for this session. The JSON API is exempt: it only accepts
``application/json`` bodies, which a cross-site form cannot send, and the session cookie
is ``SameSite=Lax``.

A POST that arrives after the session ended (idle timeout, logout in another tab) has no
token to match; it is sent to the login page, which says why, rather than shown an error.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, g, jsonify, redirect, request, session, url_for
from flask_wtf.csrf import CSRFError, CSRFProtect, generate_csrf

from borgersag.web.language import ensure_babel

__all__ = ["csrf_token", "init_app"]

FIELD = "csrf_token"
HEADER = "X-CSRF-Token"
SESSION_KEY = "csrf_token"  # where Flask-WTF keeps the raw token in the session

_protect = CSRFProtect()


def csrf_token() -> str:
    """The form token for this session (created on first use)."""
    return generate_csrf()


def _refused(exc: CSRFError) -> Any:
    from borgersag.web.errors import CSRF_MESSAGE, error_response

    if request.path.startswith("/session/"):  # called by session.js, which reads JSON
        response = jsonify(error={"field": None, "message": str(CSRF_MESSAGE[1])})
        response.headers["Cache-Control"] = "no-store"
        return response, 400
    if "user" not in session:  # signed out meanwhile: nothing to protect, ask for login
        reason = {"udloebet": 1} if g.get("session_expired") else {}
        return redirect(url_for("auth.login", **reason), code=303)
    return error_response(400, *CSRF_MESSAGE)


def init_app(app: Flask) -> None:
    """Check the token on every POST outside /api/ and offer ``csrf_token()`` to templates."""
    app.config.setdefault("WTF_CSRF_FIELD_NAME", FIELD)
    app.config.setdefault("WTF_CSRF_HEADERS", [HEADER, "X-CSRFToken"])
    # The session itself ends after the idle and absolute limits; a token need not expire
    # sooner (a long form would otherwise fail after an hour while the session lives).
    app.config.setdefault("WTF_CSRF_TIME_LIMIT", None)
    # Behind HTTPS Flask-WTF also checks the Referer, which our Referrer-Policy suppresses.
    app.config.setdefault("WTF_CSRF_SSL_STRICT", False)
    _protect.init_app(app)
    ensure_babel(app)  # its refusal is translated
    app.register_error_handler(CSRFError, _refused)
    app.jinja_env.globals["csrf_token"] = csrf_token


def exempt_blueprint(app: Flask, name: str) -> None:
    """Exempt a blueprint registered after :func:`init_app` (the JSON API)."""
    _protect.exempt(app.blueprints[name])
