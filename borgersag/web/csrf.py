"""Cross-site request forgery protection for HTML forms.

Every form carries ``csrf_token()`` in a hidden field; every form POST must send back
the token kept in the session. The JSON API needs no token: it only accepts
``application/json`` bodies, which a cross-site form cannot send, and the session
cookie is ``SameSite=Lax``.
"""

from __future__ import annotations

import secrets

from flask import Flask, abort, request, session

__all__ = ["csrf_token", "init_app"]

FIELD = "csrf_token"


def csrf_token() -> str:
    """The session's form token, created on first use."""
    token = session.get("_csrf")
    if not isinstance(token, str):
        token = session["_csrf"] = secrets.token_urlsafe(32)
    return token


def _check() -> None:
    if request.method != "POST" or request.path.startswith("/api/"):
        return
    expected = session.get("_csrf")
    sent = request.form.get(FIELD, "")
    if not isinstance(expected, str) or not secrets.compare_digest(expected, sent):
        abort(400, description="csrf")


def init_app(app: Flask) -> None:
    """Check the token on every form POST and offer ``csrf_token()`` to templates."""
    app.before_request(_check)
    app.jinja_env.globals["csrf_token"] = csrf_token
