"""Rate limits on login and lookups, with Flask-Limiter.

A lookup joins a person's data from every system, so a caseworker who looks people up
faster than anyone reads is either a script or a leak in progress; a login endpoint
hammered from one address is an attack. Limits per minute:

* starting a login and its callback, per client address;
* lookups (the form and the JSON API), per signed-in user.

The counters live in memory (one process) or in Redis (``storage_url``), so that several
workers and machines count together. A request over the limit gets a Danish page (or
JSON under /api/) with ``Retry-After``; the limit itself is logged without personal data.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from flask import Flask, g, jsonify, render_template, request
from flask_limiter import Limiter
from flask_limiter.errors import RateLimitExceeded

from borgersag.sdk.errors import ConfigError
from borgersag.sdk.settings import Setting, validate_table

if TYPE_CHECKING:
    from borgersag.web.sections import LimitSettings

__all__ = ["LIMIT_SETTINGS", "init_app", "validate_limit_settings"]

log = logging.getLogger(__name__)

LIMIT_SETTINGS: tuple[Setting, ...] = (
    Setting(
        "login_per_minute",
        int,
        "Logins a client address may start (and complete) per minute. 0 turns the limit off.",
        default=20,
    ),
    Setting(
        "lookups_per_minute",
        int,
        "Lookups (form and API) one signed-in user may make per minute. 0 turns it off.",
        default=30,
    ),
    Setting(
        "storage_url",
        str,
        "Where the counters live: 'memory://' (this process) or a Redis URL such as"
        " 'redis://127.0.0.1:6379/0' (shared by every worker and machine; use ${ENV_VAR}"
        " for a password).",
        default="memory://",
        secret=True,
    ),
)

LOGIN_ENDPOINTS = ("auth.start", "auth.callback")
LOOKUP_ENDPOINTS = ("web.lookup_post", "api_v1.create_overview")


def validate_limit_settings(raw: Any, file: str) -> dict[str, Any]:
    """Check ``[limits]``; raises :class:`ConfigError` naming the key."""
    limits = validate_table(LIMIT_SETTINGS, raw, file, "limits.")
    url = limits["storage_url"]
    if not url.startswith(("memory://", "redis://", "rediss://")):
        raise ConfigError(file, "limits.storage_url", "'memory://' or a redis:// or rediss:// URL")
    return limits


def _client_address() -> str:
    return request.remote_addr or "-"


def _user_or_address() -> str:
    user = g.get("user")
    return f"user:{user.id}" if user is not None else f"addr:{_client_address()}"


def _too_many(exc: RateLimitExceeded) -> Any:
    log.warning(
        "rate limit reached on %s (%s) [request %s]",
        request.endpoint,
        exc.description,
        g.get("request_id"),
    )
    text = (
        "Du har prøvet for mange gange på kort tid. Vent et minut, og prøv så igen."
        if request.endpoint in LOGIN_ENDPOINTS
        else "Du har lavet mange opslag på kort tid. Vent et minut, og prøv så igen."
    )
    if request.path.startswith("/api/"):
        response = jsonify(error={"field": None, "message": text})
    else:
        response = render_template("error.html", code=429, title="For mange forsøg", text=text)
    return response, 429, {"Retry-After": "60"}


def init_app(app: Flask, settings: LimitSettings) -> None:
    """Put the limits on the login and lookup endpoints (call after they are registered)."""
    limiter = Limiter(
        key_func=_client_address,
        app=app,
        storage_uri=settings.storage_url,
        strategy="moving-window",
        headers_enabled=False,
    )
    app.extensions["borgersag.limiter"] = limiter
    rules = (
        (LOGIN_ENDPOINTS, settings.login_per_minute, _client_address, None),
        (LOOKUP_ENDPOINTS, settings.lookups_per_minute, _user_or_address, ["POST"]),
    )
    for endpoints, per_minute, key_func, methods in rules:
        if not per_minute:
            continue
        for endpoint in endpoints:
            view = app.view_functions[endpoint]
            app.view_functions[endpoint] = limiter.limit(
                f"{per_minute}/minute", key_func=key_func, methods=methods
            )(view)
    app.register_error_handler(RateLimitExceeded, _too_many)
