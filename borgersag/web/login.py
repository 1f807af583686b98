"""Sign-in through OpenID Connect: citizens with MitID, caseworkers with the municipality's
identity provider. One relying party (:mod:`borgersag.people.oidc`) for both.

Routes:

``GET /log-ind``
    the sign-in page: one button per configured login, and why you were signed out.
``GET /log-ind/<borger|medarbejder>``
    starts a login: state, nonce and PKCE verifier go in the (server-side) session, the
    browser goes to the provider.
``GET /log-ind/svar``
    the redirect URI for both: checks state, exchanges the code, verifies the ID token,
    maps claims to a :class:`~borgersag.people.identity.User`, rotates the session id.
``POST /log-ud``
    ends the session, and the provider's session where it offers RP-initiated logout.

Every refusal renders ``login_refused.html`` with a plain Danish reason and logs one line
with a stable code, the audience and the request id — never a claim value.
"""

from __future__ import annotations

import functools
import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import (
    Blueprint,
    Flask,
    abort,
    current_app,
    g,
    jsonify,
    redirect,
    render_template,
    request,
    session,
    url_for,
)

from borgersag.people.claims import (
    CASEWORKER_PROFILES,
    CITIZEN_PROFILES,
    ClaimProfile,
    IdentityRefused,
    caseworker_from_claims,
    citizen_from_claims,
)
from borgersag.people.identity import Audience, User
from borgersag.people.oidc import LoginError, PendingLogin, Provider
from borgersag.people.permissions import Permission
from borgersag.people.sections import AUTH, ROLES, LoginSettings
from borgersag.sdk.errors import ConfigError
from borgersag.web import auditing, index_hook
from borgersag.web.language import SESSION_KEY as LANGUAGE_KEY
from borgersag.web.limits import LOGIN, limited
from borgersag.web.sections import SESSIONS
from borgersag.web.sessions import end_session, rotate_session

__all__ = [
    "Login",
    "administrator_required",
    "caseworker_required",
    "citizen_required",
    "current_user",
    "dpo_required",
    "init_app",
    "login_required",
]

log = logging.getLogger(__name__)

bp = Blueprint("auth", __name__)

PENDING_KEY = "_oidc_pending"
MAX_PENDING = 3  # logins started in other tabs that may still come back


@dataclass(frozen=True, slots=True)
class Login:
    """One configured login: its provider, claim names and rules."""

    audience: Audience
    title: str
    provider: Provider
    profile: ClaimProfile
    userinfo: str
    accepted_assurance: tuple[str, ...] = ()

    @classmethod
    def from_settings(cls, audience: Audience, settings: LoginSettings) -> Login:
        """Build from a validated ``[auth.citizen]`` / ``[auth.caseworker]`` table."""
        citizen = audience is Audience.CITIZEN
        base = (CITIZEN_PROFILES if citizen else CASEWORKER_PROFILES)[settings.profile]
        # Every claim name of the profile can be overridden by a "<name>_claim" setting.
        overrides = {
            name: getattr(settings, f"{name}_claim", "") for name in ClaimProfile.__slots__
        }
        overrides.update(scopes=settings.scopes, acr_values=settings.acr_values)
        profile = base.with_overrides(overrides)
        provider = Provider(
            settings.issuer,
            settings.client_id,
            settings.client_secret,
            scopes=profile.scopes,
            acr_values=profile.acr_values,
            timeout=settings.timeout_seconds,
            leeway=settings.leeway_seconds,
            max_token_age=settings.max_token_age_seconds,
        )
        return cls(
            audience=audience,
            title=settings.title or ("MitID" if citizen else "Medarbejderlogin"),
            provider=provider,
            profile=profile,
            userinfo=settings.userinfo,
            accepted_assurance=tuple(getattr(settings, "accepted_assurance", ())),
        )

    def needed_claims(self) -> tuple[str, ...]:
        """Claims that must be present (else userinfo is asked in ``auto`` mode)."""
        if self.audience is Audience.CITIZEN:
            names = (self.profile.cpr, self.profile.assurance)
        else:
            names = (self.profile.employee_id, self.profile.roles)
        return tuple(n for n in names if n)


# --- who is signed in ---------------------------------------------------------------------


def current_user() -> User | None:
    """The signed-in user of this request, or ``None``."""
    return g.get("user")


def _load_user() -> None:
    g.user = None
    data = session.get("user")
    if data is None:
        return
    try:
        g.user = User.from_session(data)
    except ValueError:
        log.warning("session held an unreadable user; signed out")
        end_session()


def _guard(check: Callable[[User], bool]) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    def decorator(view: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            user = current_user()
            if user is None:
                if request.path.startswith("/api/"):
                    response = jsonify(
                        error={"field": None, "message": "Log ind for at bruge API'et."}
                    )
                    response.status_code = 401
                    return response
                reason = {"udloebet": 1} if g.get("session_expired") else {}
                return redirect(url_for("auth.login", **reason), code=303)
            if not check(user):
                auditing.record("refused", detail=f"ingen adgang til {request.endpoint}")
                abort(403)
            return view(*args, **kwargs)

        return wrapped

    return decorator


login_required = _guard(lambda user: True)
"""Any signed-in person."""

caseworker_required = _guard(lambda user: user.may(Permission.OPSLAG))
"""A caseworker whose roles allow lookups."""

citizen_required = _guard(lambda user: user.is_citizen)
"""A citizen signed in with MitID."""

administrator_required = _guard(lambda user: user.may(Permission.ADMINISTRATION))
"""A caseworker whose roles allow operations (the source health page, kill switches)."""

dpo_required = _guard(lambda user: user.may(Permission.DATABESKYTTELSE))
"""The data-protection officer: searching the audit log and exporting a person's log."""


def home_for(user: User) -> str:
    """Where a person lands after sign-in."""
    if user.is_citizen:
        return url_for("citizen.loading")  # says what is happening while the systems answer
    if not user.may(Permission.OPSLAG) and user.may(Permission.DATABESKYTTELSE):
        return url_for("dpo.form")  # the officer looks no one up
    return url_for("web.lookup")


# --- the flow -------------------------------------------------------------------------------


def _logins() -> dict[Audience, Login]:
    return current_app.extensions["borgersag.logins"]


def _redirect_uri() -> str:
    base = current_app.extensions["borgersag"].config.section(AUTH).public_url
    if base:
        return base + url_for("auth.callback")
    return url_for("auth.callback", _external=True)


@bp.get("/log-ind")
def login() -> Any:
    """The sign-in page."""
    user = current_user()
    if user is not None:
        return redirect(home_for(user), code=303)
    return render_template(
        "login.html",
        logins=list(_logins().values()),
        expired=g.get("session_expired"),
        idle_minutes=current_app.extensions["borgersag"].config.section(SESSIONS).idle_minutes,
    )


@bp.get("/log-ind/<audience>")
@limited(LOGIN)
def start(audience: str) -> Any:
    """Send the browser to the provider for ``audience``."""
    try:
        login_ = _logins()[Audience(audience)]
    except (ValueError, KeyError):
        abort(404)
    try:
        url, pending = login_.provider.begin(_redirect_uri())
    except LoginError as exc:
        return _refused(login_.audience, exc.code, exc.reason, exc.detail, status=503)
    waiting = [p for p in session.get(PENDING_KEY, []) if isinstance(p, dict)]
    waiting.append({**pending.to_dict(), "audience": login_.audience.value})
    session[PENDING_KEY] = waiting[-MAX_PENDING:]
    return redirect(url, code=303)


@bp.get("/log-ind/svar")
@limited(LOGIN)
def callback() -> Any:
    """The provider sends the browser back here with a code (or an error)."""
    # Compared as bytes: compare_digest refuses str with non-ASCII characters, and the
    # state comes from the address bar, where anyone can type anything.
    state = request.args.get("state", "").encode()
    waiting = [p for p in session.get(PENDING_KEY, []) if isinstance(p, dict)]
    match = next(
        (p for p in waiting if secrets.compare_digest(str(p.get("state", "")).encode(), state)),
        None,
    )
    if match is None:
        return _refused(
            None,
            "state",
            "svaret fra login-udbyderen passede ikke til et login, du har startet her",
            "unknown or reused state",
        )
    # One use only: a replayed callback finds nothing.
    session[PENDING_KEY] = [p for p in waiting if p is not match]
    audience = Audience(match["audience"])
    login_ = _logins().get(audience)
    if login_ is None:
        abort(404)
    pending = PendingLogin.from_dict(match)
    timeout = current_app.extensions["borgersag"].config.section(AUTH).login_timeout_minutes * 60
    if login_.provider.clock() - pending.created > timeout:
        return _refused(audience, "too_slow", "login tog for lang tid", "pending login expired")
    if "error" in request.args:
        cancelled = request.args.get("error") == "access_denied"
        return _refused(
            audience,
            "cancelled" if cancelled else "provider_error",
            "du afbrød login" if cancelled else "login-udbyderen meldte en fejl",
            f"provider error {request.args.get('error', '')[:40]}",
            status=200 if cancelled else 400,
        )
    try:
        tokens = login_.provider.finish(request.args.get("code", ""), _redirect_uri(), pending)
        claims = dict(tokens.claims)
        missing = any(name not in claims for name in login_.needed_claims())
        if login_.userinfo == "always" or (login_.userinfo == "auto" and missing):
            extra = login_.provider.userinfo(tokens.access_token, str(claims["sub"]))
            claims = {**extra, **claims}  # the signed ID token wins
        user = _user_from(login_, claims)
    except LoginError as exc:
        return _refused(audience, exc.code, exc.reason, exc.detail)
    except IdentityRefused as exc:
        return _refused(audience, exc.code, None, "identity refused", message=exc.message)
    auditing.record("login", user=user, detail=f"login via {login_.provider.issuer}")
    index_hook.after_login(user)  # subscribe / refresh in the background (the case index)
    rotate_session()
    language = session.get(LANGUAGE_KEY)  # the visitor's choice on the login page stays
    session.clear()
    if language:
        session[LANGUAGE_KEY] = language
    session["user"] = user.to_session()
    session["_login"] = audience.value
    log.info("signed in: %s %s", audience.value, user.id)
    return redirect(home_for(user), code=303)


def _user_from(login_: Login, claims: dict[str, Any]) -> User:
    issuer = login_.provider.issuer
    if login_.audience is Audience.CITIZEN:
        return citizen_from_claims(
            claims, login_.profile, issuer=issuer, accepted_assurance=login_.accepted_assurance
        )
    catalogue = current_app.extensions["borgersag"].config.section(ROLES).roles
    return caseworker_from_claims(claims, login_.profile, issuer=issuer, catalogue=catalogue)


def _refused(
    audience: Audience | None,
    code: str,
    reason: str | None,
    detail: str,
    *,
    message: str | None = None,
    status: int | None = None,
) -> Any:
    log.warning(
        "login refused: %s (%s; audience=%s)",
        code,
        detail,
        audience.value if audience else "-",
    )
    if code != "cancelled":
        auditing.record(
            "refused", anonymous=True, detail=f"login {audience.value if audience else '-'}: {code}"
        )
    if status is None:
        status = 403 if message else 400
    return (
        render_template(
            "login_refused.html",
            code=code,
            reason=reason,
            message=message,
            audience=audience,
            retry=_logins().get(audience) if audience else None,
        ),
        status,
    )


@bp.post("/log-ud")
def logout() -> Any:
    """Sign out here, and at the provider when it offers RP-initiated logout."""
    audience = session.get("_login")
    had_user = current_user() is not None
    if had_user:
        auditing.record("logout")
    end_session()
    if had_user:
        log.info("signed out")
    login_ = _logins().get(Audience(audience)) if audience in ("borger", "medarbejder") else None
    if login_ is not None:
        base = current_app.extensions["borgersag"].config.section(AUTH).public_url
        back = (
            (base + url_for("auth.logged_out"))
            if base
            else url_for("auth.logged_out", _external=True)
        )
        target = login_.provider.end_session_url(back)
        if target:
            return redirect(target, code=303)
    return redirect(url_for("auth.logged_out"), code=303)


@bp.get("/logget-ud")
def logged_out() -> Any:
    """Where the provider sends people back after logout."""
    return redirect(url_for("auth.login", logget_ud=1), code=303)


def form_action_origins(app: Flask) -> set[str]:
    """Origins a form may lead to (the CSP ``form-action``): the providers."""
    found: set[str] = set()
    for login_ in app.extensions.get("borgersag.logins", {}).values():
        found |= login_.provider.origins()
    return found


def init_app(app: Flask) -> None:
    """Build the configured logins, load the user before each request, add the routes."""
    auth = app.extensions["borgersag"].config.section(AUTH)
    logins: dict[Audience, Login] = {}
    for audience, settings in (
        (Audience.CITIZEN, auth.citizen),
        (Audience.CASEWORKER, auth.caseworker),
    ):
        if settings is not None:
            logins[audience] = Login.from_settings(audience, settings)
    if not logins:
        config = app.extensions["borgersag"].config
        raise ConfigError(
            config.origins.get("auth", config.files[0] if config.files else "<config>"),
            "auth",
            "at least one login for the web front end: [auth.citizen] (MitID) or"
            " [auth.caseworker] (staff)",
        )
    app.extensions["borgersag.logins"] = logins
    app.before_request(_load_user)
    app.register_blueprint(bp)
    app.jinja_env.globals["current_user"] = current_user
