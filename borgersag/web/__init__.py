"""The caseworker web front end: Flask + Jinja2 in the look of Det Fælles Designsystem.

:func:`create_app` builds the app; nothing happens at import time. Each part wires
itself in with ``init_app(app)``. The app keeps the
:class:`~borgersag.lookup.portal.Portal` in ``app.extensions["borgersag"]``, the overview
store in ``app.extensions["borgersag.overviews"]`` and the use cases' settings in
``app.extensions["borgersag.settings"]`` (see :mod:`borgersag.web.channel`) and the
shared state (kill switches, circuit breakers; :mod:`borgersag.lookup.shared_state`) in
``app.extensions["borgersag.state"]``.

The outermost layer with the CLI: pages, the JSON API, login, sessions, rate limits, the
operations page. Views only translate HTTP; what a request does is a use case in
:mod:`borgersag.lookup.usecases`.

May import: :mod:`borgersag.lookup`, :mod:`borgersag.audit`, :mod:`borgersag.people`,
:mod:`borgersag.config`, :mod:`borgersag.sdk`, :mod:`borgersag.domain`,
:mod:`borgersag.runtime`. Never the sandbox or the test kit.
"""

from __future__ import annotations

import logging
import re
import secrets
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from flask import Flask, Response, current_app, g, request
from werkzeug.middleware.proxy_fix import ProxyFix

from borgersag.audit.section import AUDIT
from borgersag.config.loader import Config, load_config
from borgersag.lookup.section import CACHE, CacheSettings
from borgersag.people.case_kinds import CASE_KINDS
from borgersag.people.sections import AUTH
from borgersag.runtime import logformat, logmask
from borgersag.sdk.errors import ConfigError
from borgersag.sdk.http import request_id
from borgersag.web import (
    api,
    auditing,
    caseworker,
    channel,
    citizen,
    csrf,
    dpo,
    errors,
    health,
    index_hook,
    language,
    limits,
    login,
    metrics,
    notify_pages,
    operations,
    present,
)
from borgersag.web.accessibility import ACCESSIBILITY
from borgersag.web.json_provider import OrjsonProvider
from borgersag.web.sections import LIMITS, METRICS, SESSIONS
from borgersag.web.session_stores import overview_store, shared_state
from borgersag.web.sessions import init_sessions

if TYPE_CHECKING:
    from borgersag.lookup.portal import Portal

__all__ = ["create_app", "static_dir", "templates_dir", "trusted_hosts"]

log = logging.getLogger(__name__)

VENDOR_CSS = "vendor/dkfds/css/dkfds-borgerdk.min.css"
VENDOR_JS = "vendor/dkfds/js/dkfds.min.js"

_REQUEST_ID_RE = re.compile(r"^[A-Za-z0-9._-]{8,64}$")
CLIENT_REQUEST_ID_HEADER = "X-Client-Request-ID"
"""Where a client's own ``X-Request-ID`` (when well-formed) is echoed: beside the
server's id, never instead of it."""

# No inline scripts or styles anywhere, so the policy can be this strict. ``form-action``
# also names the identity providers: logging out is a form POST that redirects there.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'{providers}; "
    "frame-ancestors 'none'"
)


class BorgersagFlask(Flask):
    """Flask, but unhandled exceptions are logged without personal data, and JSON is
    written by orjson (:mod:`borgersag.web.json_provider`)."""

    json_provider_class = OrjsonProvider

    def log_exception(self, exc_info) -> None:  # type: ignore[override]
        """See :func:`borgersag.web.errors.log_exception`."""
        errors.log_exception(exc_info)


def templates_dir() -> Path:
    """The templates: shipped inside the wheel, or ``<repo>/templates`` in a checkout."""
    installed = resources.files("borgersag") / "templates"
    if installed.is_dir():
        return Path(str(installed))
    return Path(__file__).resolve().parent.parent.parent / "templates"


def static_dir() -> Path:
    """The package's static files (own CSS/JS, and the vendored DKFDS assets)."""
    return Path(__file__).resolve().parent.parent / "static"


def create_app(config: Config | None = None, *, portal: Portal | None = None) -> Flask:
    """Build the web app for ``config`` (default: the shipped config).

    ``portal`` lets tests pass a fake; by default it is built from the config. When only a
    portal is given, its own config is used.
    """
    if config is None:
        config = portal.config if portal is not None else load_config()
    hosts = trusted_hosts(config)  # before anything is built: a refusal leaves nothing open
    state = shared_state(config.section(SESSIONS))
    if portal is None:
        from borgersag.lookup.portal import Portal

        portal = Portal.from_config(config, breaker_store=state)

    logmask.install()  # defence in depth: CPR-shaped numbers never reach a log
    if config.portal.log_format == "json":
        logformat.use_json_lines(request_id.get)
    app = BorgersagFlask(
        "borgersag.web",
        template_folder=str(templates_dir()),
        static_folder=str(static_dir()),
        static_url_path="/static",
    )
    app.config.update(
        SECRET_KEY=config.portal.secret_key,
        TRUSTED_HOSTS=hosts,
        MAX_CONTENT_LENGTH=64 * 1024,
        BORGERSAG_VENDOR_ASSETS=_vendor_assets_present(),
    )
    app.extensions["borgersag"] = portal
    app.extensions["borgersag.state"] = state
    cache = config.section(CACHE) if "cache" in config.sections else CacheSettings()
    app.extensions["borgersag.overviews"] = overview_store(
        config.section(SESSIONS),
        config.portal.secret_key,
        config.portal.overview_ttl_seconds,
        max_bytes=cache.overview_max_bytes,
    )
    app.jinja_env.globals.update(
        municipality=config.portal.municipality,
        vendor_css=VENDOR_CSS,
        vendor_js=VENDOR_JS,
        sandbox_mode=config.has_table("sandbox"),
        accessibility_url=config.section(ACCESSIBILITY).statement_url,
        case_kinds=config.section(CASE_KINDS),
    )
    channel.init_app(app, config)  # the use cases' settings, read once
    init_sessions(app, config.section(SESSIONS))
    auditing.init_app(app, config.section(AUDIT), sandbox=config.has_table("sandbox"))
    auditing.require_least_privilege(config, app.extensions["borgersag.audit"])
    index_hook.init_app(app, config, portal, app.extensions["borgersag.audit"])

    app.before_request(_start_request)
    app.after_request(_secure_headers)
    app.teardown_request(_end_request)
    for part in (errors, present, csrf, language, login, caseworker, citizen, operations, dpo, api):
        part.init_app(app)
    notify_pages.init_app(app, config)
    csrf.exempt_blueprint(app, api.bp.name)  # JSON only: a cross-site form cannot send it
    limits.init_app(app, config.section(LIMITS))
    health.init_app(app)  # after sessions, audit and limits: it checks them
    metrics.init_app(app, config.section(METRICS))
    if config.portal.trusted_proxies:
        # Only the hops the operator vouches for: a client's own X-Forwarded-For entries
        # come before them in the header and are never read.
        hops = config.portal.trusted_proxies
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)  # type: ignore[method-assign]
    return app


def trusted_hosts(config: Config) -> list[str] | None:
    """The host names requests may carry (Flask's ``TRUSTED_HOSTS``); ``None``: any.

    ``portal.trusted_hosts`` and the host of ``[auth] public_url``. Only the sandbox may
    leave both empty: anywhere else a Host header a client chose would decide where login
    and logout send people back, so the app refuses to start.
    """
    hosts = list(config.portal.trusted_hosts)
    public_url = config.section(AUTH).public_url
    if public_url:
        hosts.append(urlsplit(public_url).hostname or "")
    if hosts:
        return hosts
    if config.has_table("sandbox"):
        return None
    raise ConfigError(
        config.origins.get("portal", config.files[0] if config.files else "<config>"),
        "portal.trusted_hosts",
        'the host names the portal answers to (e.g. ["sager.kommune.dk"]), or'
        " [auth] public_url: outside the sandbox the Host header must not choose the"
        " addresses login and logout return to",
    )


def _vendor_assets_present() -> bool:
    present_ = all((static_dir() / p).is_file() for p in (VENDOR_CSS, VENDOR_JS))
    if not present_:
        log.warning(
            "Det Fælles Designsystem is missing from %s; pages will be unstyled."
            " Run scripts/setup to install it.",
            static_dir() / "vendor" / "dkfds",
        )
    return present_


def _start_request() -> None:
    # The id in audit rows, log lines and error pages is always ours: a client's id
    # could be reused to blur which request an audit row belongs to. A well-formed id
    # the client (or its proxy) sent is kept beside it, logged once with ours, so the
    # two can be matched up.
    g.request_id = secrets.token_hex(8)
    g.request_id_token = request_id.set(g.request_id)
    incoming = request.headers.get("X-Request-ID", "")
    # A CPR-shaped id is not kept: it would be logged.
    valid = _REQUEST_ID_RE.match(incoming) and logmask.mask_cpr(incoming) == incoming
    g.client_request_id = incoming if valid else None
    if g.client_request_id:
        log.info("request %s: the client's X-Request-ID is %s", g.request_id, incoming)


def _end_request(_exc: BaseException | None) -> None:
    token = g.pop("request_id_token", None)
    if token is not None:
        request_id.reset(token)


def _secure_headers(response: Response) -> Response:
    headers = response.headers
    headers.setdefault("X-Request-ID", g.get("request_id", ""))
    if g.get("client_request_id"):
        headers.setdefault(CLIENT_REQUEST_ID_HEADER, g.client_request_id)
    providers = "".join(f" {o}" for o in sorted(login.form_action_origins(current_app)))
    policy = CONTENT_SECURITY_POLICY.format(providers=providers)
    headers.setdefault("Content-Security-Policy", policy)
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("Referrer-Policy", "no-referrer")
    if request.is_secure:
        headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
    if not request.path.startswith("/static/"):
        # Pages hold personal data: keep them out of browser and proxy caches.
        headers["Cache-Control"] = "no-store"
    return response
