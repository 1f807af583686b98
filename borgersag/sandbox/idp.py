"""Two mock OpenID Connect providers for the sandbox: MitID for citizens, the municipality's
own login for staff.

Both are ``oidc_provider_mock`` apps with real RS256-signed ID tokens (keys at ``/jwks``,
discovery at ``/.well-known/openid-configuration``), Danish pages listing the demo
people, the sandbox fault knobs, and the PKCE check the mock lacks: a real broker refuses
an authorization request without an S256 ``code_challenge`` and a code without its
``code_verifier``, so the sandbox does too.

The demo people come from the municipality
(:func:`~borgersag.sandbox.idp_people.demo_citizens`,
:func:`~borgersag.sandbox.idp_people.demo_staff` in :mod:`borgersag.sandbox.idp_people`).
"""

from __future__ import annotations

import base64
import functools
import hashlib
import re
import secrets
import threading
import time
import warnings
from collections.abc import Callable, Sequence
from typing import Any
from urllib.parse import parse_qs, urlsplit

from flask import Flask, Response, jsonify, render_template, request
from werkzeug.debug import DebuggedApplication
from werkzeug.exceptions import HTTPException

from borgersag.sandbox.data import Municipality
from borgersag.sandbox.faults import FaultError, Faults
from borgersag.sandbox.idp_people import DemoPerson, demo_citizens, demo_staff
from borgersag.sandbox.service import GARBAGE_BODY, json_error

__all__ = [
    "CODE_MAX_AGE_SECONDS",
    "MITID_TITLE",
    "STAFF_TITLE",
    "PkceGuard",
    "create_mitid_app",
    "create_staff_idp_app",
    "pkce_challenge",
]

MITID_TITLE = "MitID (sandkasse)"
STAFF_TITLE = "Kommunens login (sandkasse)"
CODE_MAX_AGE_SECONDS = 600.0


# --- PKCE --------------------------------------------------------------------------------

AUTHORIZE_PATH = "/oauth2/authorize"
TOKEN_PATH = "/oauth2/token"
_CHALLENGE = re.compile(r"^[A-Za-z0-9_-]{43}$")  # base64url of a SHA-256 digest, no padding
_VERIFIER = re.compile(r"^[A-Za-z0-9._~-]{43,128}$")  # RFC 7636 section 4.1


def pkce_challenge(verifier: str) -> str:
    """The S256 code challenge of ``verifier``: base64url(sha256), no padding."""
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


class PkceGuard:
    """Enforce PKCE (S256 only) in front of the mock, which does not check it.

    An authorization request without a valid S256 ``code_challenge`` gets a 400 page. A
    code the mock issues is remembered with its challenge for :data:`CODE_MAX_AGE_SECONDS`;
    the token request for it must carry the matching ``code_verifier``, or it gets
    ``400 invalid_grant`` and never reaches the mock. A remembered code is dropped on its
    first token request, right or wrong.

    It hooks into the Flask app rather than wrapping the WSGI app, so it reads the
    parameters exactly as authlib does (``request.values``: query and form together).
    """

    def __init__(
        self,
        *,
        max_age: float = CODE_MAX_AGE_SECONDS,
        clock: Callable[[], float] = time.monotonic,
        reject_page: Callable[[str], Any],
    ) -> None:
        self.max_age = max_age
        self.clock = clock
        self._reject_page = reject_page
        self._codes: dict[str, tuple[str, float]] = {}
        self._lock = threading.Lock()

    def init_app(self, app: Flask) -> None:
        """Check authorization and token requests of ``app``."""
        app.before_request(self._before)
        app.after_request(self._after)

    def remember(self, code: str, challenge: str) -> None:
        """Keep ``challenge`` for ``code``; forget codes that are too old."""
        now = self.clock()
        with self._lock:
            for old in [c for c, (_, at) in self._codes.items() if now - at > self.max_age]:
                del self._codes[old]
            self._codes[code] = (challenge, now)

    def verify(self, code: str, verifier: str | None) -> bool:
        """Whether ``verifier`` fits the challenge remembered for ``code`` (used up)."""
        with self._lock:
            found = self._codes.pop(code, None)
        if found is None or verifier is None or not _VERIFIER.match(verifier):
            return False
        challenge, at = found
        if self.clock() - at > self.max_age:
            return False
        return secrets.compare_digest(pkce_challenge(verifier), challenge)

    def _before(self) -> Any:
        if request.path == AUTHORIZE_PATH:
            challenge = request.args.get("code_challenge")
            method = request.args.get("code_challenge_method")
            if not challenge:
                return self._reject_page(
                    "Forespørgslen mangler code_challenge (PKCE). Denne login-udbyder kræver"
                    " PKCE med metoden S256."
                )
            if method != "S256":
                return self._reject_page(
                    f"code_challenge_method skal være S256, ikke {method or 'tom (plain)'}."
                )
            if not _CHALLENGE.match(challenge):
                return self._reject_page(
                    "code_challenge er ikke en S256-værdi (43 tegn base64url uden '=')."
                )
        elif (
            request.path == TOKEN_PATH
            and request.method == "POST"
            and request.values.get("grant_type") == "authorization_code"
        ):
            code = request.values.get("code") or ""
            if not self.verify(code, request.values.get("code_verifier")):
                response = jsonify(
                    error="invalid_grant", error_description="PKCE verification failed"
                )
                response.status_code = 400
                response.headers["Cache-Control"] = "no-store"
                return response
        return None

    def _after(self, response: Response) -> Response:
        if request.path == AUTHORIZE_PATH and response.status_code in (302, 303):
            query = parse_qs(urlsplit(response.location or "").query)
            codes = query.get("code")
            if codes:
                self.remember(codes[0], request.args["code_challenge"])
        return response


# --- the apps ----------------------------------------------------------------------------


def create_mitid_app(municipality: Municipality, faults: Faults | None = None) -> Flask:
    """The citizens' MitID broker (Signicat claim names) for ``municipality``."""
    return _create_app("mitid", MITID_TITLE, demo_citizens(municipality), faults or Faults())


def create_staff_idp_app(municipality: Municipality, faults: Faults | None = None) -> Flask:
    """The municipality's own identity provider for staff, for ``municipality``."""
    return _create_app(
        "medarbejderlogin", STAFF_TITLE, demo_staff(municipality), faults or Faults()
    )


def _import_mock() -> Any:
    # Imported here, not at module level: it pulls in authlib and pydantic, which the
    # rest of the sandbox (and `borgersag sandbox-fault`) does not need. authlib warns
    # about its own deprecated modules that the mock imports; nothing for us to change.
    # (authlib.deprecate adds an "always" filter when imported, so import it first.)
    with warnings.catch_warnings():
        import authlib.deprecate  # noqa: F401  (for its side effect, see above)

        warnings.simplefilter("ignore", DeprecationWarning)
        import oidc_provider_mock

    return oidc_provider_mock


_WARNINGS_LOCK = threading.Lock()


def _without_deprecation_warnings(view: Callable[..., Any]) -> Callable[..., Any]:
    """Run one of the mock's views with deprecation warnings ignored.

    oidc-provider-mock 0.3.4 still implements authlib's deprecated ``get_jwt_config``, so
    authlib warns on every ID token. Under ``filterwarnings = error`` (our tests) that
    warning would turn the token request into a 500. Warning filters are process-wide in
    Python 3.11, hence the lock: one such view at a time changes them.
    """

    @functools.wraps(view)
    def quiet(*args: Any, **kwargs: Any) -> Any:
        with _WARNINGS_LOCK, warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            return view(*args, **kwargs)

    return quiet


def _create_app(name: str, title: str, people: Sequence[DemoPerson], faults: Faults) -> Flask:
    oidc = _import_mock()
    app = Flask(
        __name__,
        # The mock's blueprint has no template folder (its templates sit beside its own
        # app), so every page it renders comes from here, in Danish and without a CDN.
        template_folder="templates/idp",
        static_folder="static/idp",
        static_url_path="/static",
    )
    app.json.sort_keys = False  # type: ignore[attr-defined]
    app.json.ensure_ascii = False  # type: ignore[attr-defined]
    by_sub = {person.sub: person for person in people}

    @app.context_processor
    def _page_context() -> dict[str, Any]:
        return {"idp_name": name, "idp_title": title, "idp_people": by_sub}

    def error_page(status: int, heading: str, text: str) -> tuple[str, int]:
        return render_template("error.html", name=heading, description=text), status

    _wire_sandbox_routes(app, name, title, faults, error_page)
    pkce = PkceGuard(reject_page=lambda text: error_page(400, "Ugyldig forespørgsel", text))
    pkce.init_app(app)
    oidc.init_app(
        app,
        require_nonce=True,
        issue_refresh_token=False,
        user_claims=[oidc.User(sub=p.sub, claims=dict(p.claims)) for p in people],
    )
    token_view = "oidc-provider-mock.issue_token"
    app.view_functions[token_view] = _without_deprecation_warnings(app.view_functions[token_view])
    # The mock switches on debug mode and Werkzeug's debugger, which would show
    # tracebacks in the browser; the sandbox answers with its own error pages instead.
    app.debug = False
    if isinstance(app.wsgi_app, DebuggedApplication):
        app.wsgi_app = app.wsgi_app.app
    return app


_HTTP_ERRORS_DA = {
    404: ("Ikke fundet", "Siden findes ikke hos denne login-udbyder."),
    405: ("Metoden er ikke tilladt", "Adressen findes, men ikke til denne slags forespørgsel."),
}


def _wire_sandbox_routes(
    app: Flask,
    name: str,
    title: str,
    faults: Faults,
    error_page: Callable[[int, str, str], tuple[str, int]],
) -> None:
    """Fault knobs, ``/health`` and ``/_sandbox/faults`` as on the other sandbox services,
    and Danish error pages instead of JSON (people see these pages in a browser)."""

    @app.before_request
    def _apply_faults() -> Any:
        if request.path.startswith("/_sandbox/"):
            return None
        if request.path.startswith("/oidc/"):
            # The mock's built-in test client: not part of an identity provider.
            return error_page(404, *_HTTP_ERRORS_DA[404])
        outcome = faults.before_request()
        if outcome is None:
            return None
        kind, _status = outcome
        if kind == "garbage":
            return Response(GARBAGE_BODY, status=200, mimetype="text/html")
        if kind == "stopped":
            return json_error(503, f"{title} er ved at lukke.")
        return json_error(500, f"Simuleret fejl i {title}.")

    @app.get("/health")
    def _health() -> Any:
        return jsonify({"status": "ok", "service": name})

    @app.get("/_sandbox/faults")
    def _get_faults() -> Any:
        return jsonify(faults.as_dict())

    @app.put("/_sandbox/faults")
    def _put_faults() -> Any:
        body = request.get_json(silent=True)
        if not isinstance(body, dict):
            return json_error(400, 'Send a JSON object, e.g. {"latency_ms": 200}.')
        try:
            faults.update(body)
        except FaultError as exc:
            return json_error(400, str(exc), field=exc.field)
        return jsonify(faults.as_dict())

    @app.delete("/_sandbox/faults")
    def _reset_faults() -> Any:
        faults.reset()
        return jsonify(faults.as_dict())

    @app.errorhandler(Exception)
    def _error(exc: Exception) -> Any:
        if isinstance(exc, HTTPException):
            if exc.response is not None:  # the mock's own error responses
                return exc.response
            heading, text = _HTTP_ERRORS_DA.get(exc.code or 500, (exc.name, exc.description))
            return error_page(exc.code or 500, heading, text or heading)
        app.logger.error("%s: unhandled %s", name, type(exc).__name__, exc_info=exc)
        return error_page(
            500, "Intern fejl", f"Der skete en fejl i {title} ({type(exc).__name__})."
        )
