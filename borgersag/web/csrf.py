"""Cross-site request forgery protection for HTML forms.

Every form carries ``csrf_token()`` in a hidden field; every form POST must send back
the token kept in the session. The JSON API needs no token: it only accepts
``application/json`` bodies, which a cross-site form cannot send, and the session
cookie is ``SameSite=Lax``.
"""

from __future__ import annotations

import secrets
from typing import Any

from flask import Flask, abort, g, redirect, request, session, url_for

__all__ = ["csrf_token", "init_app"]

FIELD = "csrf_token"
HEADER = "X-CSRF-Token"  # for fetch() from our own scripts (the session keep-alive)


def csrf_token() -> str:
    """The session's form token, created on first use."""
    token = session.get("_csrf")
    if not isinstance(token, str):
        token = session["_csrf"] = secrets.token_urlsafe(32)
    return token


def _check() -> Any:
    if request.method != "POST" or request.path.startswith("/api/"):
        return None
    expected = session.get("_csrf")
    if not isinstance(expected, str):
        # No session any more (ended, expired, or never): nothing to protect; ask for login.
        reason = {"udloebet": 1} if g.get("session_expired") else {}
        return redirect(url_for("auth.login", **reason), code=303)
    sent = request.form.get(FIELD, "") or request.headers.get(HEADER, "")
    if not secrets.compare_digest(expected.encode(), sent.encode()):
        abort(400, description="csrf")
    return None


def init_app(app: Flask) -> None:
    """Check the token on every form POST and offer ``csrf_token()`` to templates."""
    app.before_request(_check)
    app.jinja_env.globals["csrf_token"] = csrf_token
