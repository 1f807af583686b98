"""Server-side sessions: the cookie holds only a random id, the data stays on the server.

Flask's own session is a signed cookie: whatever the session holds (a caseworker's name,
their unit) can be read by anyone who sees the cookie, and a copied cookie stays valid
until the secret key changes. Here the cookie carries one random id (256 bits from
:mod:`secrets`) and the data lives in a store: SQLite by default, Redis when several
machines serve the portal, and memory for tests.

Why a small interface of our own rather than a generic session extension:

* **Two lifetimes.** A session ends after ``idle_minutes`` without a request *and* after
  ``absolute_hours`` whatever happens. Both are checked on every request against the
  ``created`` and ``last_seen`` timestamps kept next to the data (never inside it), and
  the reason is left in ``g.session_expired`` (``"idle"`` or ``"absolute"``) so the
  sign-in page can say why.
* **A status check that does not extend.** ``GET /session/status`` tells the page how
  long is left without counting as activity; only ``POST /session/forny`` (the "stay
  signed in" button) and real requests do. Otherwise the warning dialog's own polling
  would keep every open tab signed in forever.
* **Id rotation.** :func:`rotate_session` (at sign-in) moves the data to a new id and
  deletes the old record, so an id planted or seen before sign-in is worthless after it.
  An id the store does not know is never adopted.
* **Hashed store keys.** A record is stored under ``sha256(id)``
  (:func:`~borgersag.web.session_stores.store_key`): someone who can read the store (a
  backup, a Redis ``KEYS``) still has no cookie to present.

A request that only reads the session refreshes ``last_seen`` by re-reading the record
first: a slow request that finishes after a sign-out cannot bring the session back, and
one that changed nothing cannot overwrite a change another request made meanwhile.
Values must be JSON types (a tuple comes back as a list). A store that cannot be reached
raises :class:`~borgersag.web.session_stores.SessionStoreUnavailable`: there is no silent
fall-back to another store. The stores themselves live in
:mod:`borgersag.web.session_stores`.
"""

from __future__ import annotations

import logging
import re
import secrets
import time
from collections.abc import Callable, Mapping
from typing import Any

from flask import (
    Blueprint,
    Flask,
    Response,
    current_app,
    g,
    has_app_context,
    has_request_context,
    jsonify,
    request,
)
from flask import session as flask_session
from flask.sessions import SessionInterface, SessionMixin
from flask_wtf.csrf import validate_csrf
from werkzeug.datastructures import CallbackDict
from wtforms.validators import ValidationError

from borgersag.web.sections import SessionSettings
from borgersag.web.session_stores import (
    SessionStore,
    SessionStoreUnavailable,
    build_store,
    store_key,
)

__all__ = [
    "ServerSession",
    "ServerSessionInterface",
    "end_session",
    "init_sessions",
    "rotate_session",
    "session_timing",
]

log = logging.getLogger(__name__)

_SID_RE = re.compile(r"^[A-Za-z0-9_-]{43}$")  # secrets.token_urlsafe(32): 256 bits

# A record outlives its limit by this much, so a person who comes back a little late is
# told that (and why) they were signed out instead of just meeting the sign-in page.
EXPIRED_GRACE_SECONDS = 600.0
# A request that changes nothing refreshes last_seen at most this often: a page and its
# static files then cost one write, not one each.
TOUCH_INTERVAL_SECONDS = 5.0

# Requests that do not count as activity: checking the time left, and a refused "forny"
# (a successful one sets ``refresh``).
_NOT_ACTIVITY = frozenset({"sessions.status", "sessions.forny"})


# --- the Flask session ----------------------------------------------------------------------


class ServerSession(CallbackDict, SessionMixin):
    """The session of one request: a dict of JSON values plus the record's bookkeeping.

    ``sid`` is the session id (``None`` until the session is first stored); ``created``
    and ``last_seen`` are the record's timestamps. Only changes to the dict itself mark
    it ``modified``: after changing a nested value, set ``modified = True``.
    """

    def __init__(
        self,
        initial: Mapping[str, Any] | None = None,
        *,
        sid: str | None = None,
        created: float | None = None,
        last_seen: float | None = None,
        had_cookie: bool = False,
    ):
        def on_update(self: ServerSession) -> None:
            self.modified = True
            self.accessed = True

        super().__init__(initial, on_update)
        self.sid = sid
        self.created = created
        self.last_seen = last_seen
        self.had_cookie = had_cookie
        self.modified = False
        self.accessed = False
        # Whether this request counts as activity. None: yes, unless it is a status check,
        # and at most every TOUCH_INTERVAL_SECONDS; True: yes, now.
        self.refresh: bool | None = None

    def __getitem__(self, key: str) -> Any:
        self.accessed = True
        return super().__getitem__(key)

    def get(self, key: str, default: Any = None) -> Any:
        """``dict.get``, noting that the session was read."""
        self.accessed = True
        return super().get(key, default)

    def setdefault(self, key: str, default: Any = None) -> Any:
        """``dict.setdefault``, noting that the session was read (and maybe changed)."""
        self.accessed = True
        return super().setdefault(key, default)


class ServerSessionInterface(SessionInterface):
    """Flask's session interface over a :class:`SessionStore` with idle and absolute limits.

    ``clock`` (wall-clock seconds, shared by every worker) lets tests move time.
    """

    def __init__(
        self,
        store: SessionStore,
        *,
        idle_seconds: float,
        warning_seconds: float,
        absolute_seconds: float,
        cookie_name: str = "borgersag_session",
        cookie_secure: str = "auto",
        clock: Callable[[], float] = time.time,
    ):
        self.store = store
        self.idle_seconds = idle_seconds
        self.warning_seconds = warning_seconds
        self.absolute_seconds = absolute_seconds
        self.cookie_name = cookie_name
        self.cookie_secure = cookie_secure
        self.clock = clock

    def open_session(self, app: Flask, request: Any) -> ServerSession:
        """Load the session named by the cookie; an unknown or expired one starts empty."""
        raw = request.cookies.get(self.cookie_name)
        if raw is None:
            return ServerSession()
        if not _SID_RE.fullmatch(raw):
            return ServerSession(had_cookie=True)
        key = store_key(raw)
        record = _valid_record(self._call(self.store.load, key))
        if record is None:
            return ServerSession(had_cookie=True)
        now = self.clock()
        reason = self.expiry_reason(record["created"], record["last_seen"], now)
        if reason is not None:
            self._call(self.store.delete, key)
            if has_app_context():
                g.session_expired = reason
            return ServerSession(had_cookie=True)
        return ServerSession(
            record["data"],
            sid=raw,
            created=record["created"],
            last_seen=record["last_seen"],
            had_cookie=True,
        )

    def expiry_reason(self, created: float, last_seen: float, now: float) -> str | None:
        """``"absolute"``, ``"idle"`` or ``None`` for a record with these timestamps."""
        if now - created > self.absolute_seconds:
            return "absolute"
        if now - last_seen > self.idle_seconds:
            return "idle"
        return None

    def remaining(self, session: ServerSession, now: float) -> tuple[float, float]:
        """Seconds left until the idle and the absolute limit (0 when there is no session)."""
        if not session or session.sid is None:
            return 0.0, 0.0
        last_seen = session.last_seen if session.last_seen is not None else now
        created = session.created if session.created is not None else now
        idle = max(0.0, last_seen + self.idle_seconds - now)
        absolute = max(0.0, created + self.absolute_seconds - now)
        return idle, absolute

    def save_session(self, app: Flask, session: SessionMixin, response: Response) -> None:
        """Store the session (or delete it when empty) and set or delete the cookie."""
        if not isinstance(session, ServerSession):
            return
        if session.accessed:
            response.vary.add("Cookie")
        if not session:
            if session.sid is not None:
                self._call(self.store.delete, store_key(session.sid))
                session.sid = None
            if session.had_cookie:
                response.delete_cookie(
                    self.cookie_name,
                    path=self.get_cookie_path(app),
                    domain=self.get_cookie_domain(app),
                    secure=self._secure(),
                    httponly=True,
                    samesite="Lax",
                )
            return
        now = self.clock()
        if session.sid is None:
            self._store_new(session, now)
            response.set_cookie(
                self.cookie_name,
                session.sid,  # type: ignore[arg-type]
                path=self.get_cookie_path(app),
                domain=self.get_cookie_domain(app),
                secure=self._secure(),
                httponly=True,
                samesite="Lax",
            )
            return
        self._store_existing(session, now)

    def _store_new(self, session: ServerSession, now: float) -> None:
        session.sid = secrets.token_urlsafe(32)
        session.created = session.last_seen = now
        self._save(session.sid, dict(session), now, now)

    def _store_existing(self, session: ServerSession, now: float) -> None:
        assert session.sid is not None and session.last_seen is not None
        refresh = session.refresh
        if refresh is None:
            refresh = not (has_request_context() and request.endpoint in _NOT_ACTIVITY)
            due = now - session.last_seen >= TOUCH_INTERVAL_SECONDS
        else:
            due = refresh  # asked for explicitly: write even right after another request
        if not session.modified and not (refresh and due):
            return
        # Re-read: another request may have ended, rotated or changed this session.
        current = _valid_record(self._call(self.store.load, store_key(session.sid)))
        if current is None:
            return  # ended elsewhere (sign-out, expiry): never bring it back
        data = dict(session) if session.modified else current["data"]
        last_seen = now if refresh else current["last_seen"]
        session.last_seen = last_seen
        self._save(session.sid, data, current["created"], last_seen)

    def _save(self, sid: str, data: dict[str, Any], created: float, last_seen: float) -> None:
        now = self.clock()
        left = min(last_seen + self.idle_seconds, created + self.absolute_seconds) - now
        record = {"data": data, "created": created, "last_seen": last_seen}
        self._call(self.store.save, store_key(sid), record, left + EXPIRED_GRACE_SECONDS)

    def _secure(self) -> bool:
        if self.cookie_secure == "always":
            return True
        if self.cookie_secure == "never":
            return False
        return request.is_secure

    def _call(self, operation: Callable[..., Any], *args: Any) -> Any:
        try:
            return operation(*args)
        except SessionStoreUnavailable as exc:
            log.error("%s", exc)
            raise


def _valid_record(record: Any) -> dict[str, Any] | None:
    if not isinstance(record, dict) or not isinstance(record.get("data"), dict):
        return None
    for name in ("created", "last_seen"):
        value = record.get(name)
        if isinstance(value, bool) or not isinstance(value, int | float):
            return None
    return record


def _current() -> tuple[ServerSessionInterface, ServerSession]:
    interface = current_app.session_interface
    session = flask_session._get_current_object()  # type: ignore[attr-defined]
    if not isinstance(interface, ServerSessionInterface) or not isinstance(session, ServerSession):
        raise RuntimeError("server-side sessions are not installed (call init_sessions)")
    return interface, session


def rotate_session() -> None:
    """Give the current session a new id (call at sign-in); the old id stops working.

    The data stays; ``created`` starts again, so the absolute lifetime counts from now.
    """
    interface, session = _current()
    if session.sid is not None:
        interface._call(interface.store.delete, store_key(session.sid))
        session.sid = None
    session.modified = True


def end_session() -> None:
    """End the current session (call at sign-out): data and record gone, cookie deleted."""
    interface, session = _current()
    session.clear()
    if session.sid is not None:
        interface._call(interface.store.delete, store_key(session.sid))
        session.had_cookie = True
        session.sid = None


def session_timing() -> dict[str, Any]:
    """For templates: seconds until sign-out if idle from now, the warning time, active."""
    interface, session = _current()
    now = interface.clock()
    active = bool(session)
    idle = interface.idle_seconds
    if active and session.created is not None:
        idle = min(idle, session.created + interface.absolute_seconds - now)
    return {
        "idle_seconds": max(0, int(idle)),
        "warning_seconds": int(interface.warning_seconds),
        "active": active,
    }


# --- status endpoints -----------------------------------------------------------------------

bp = Blueprint("sessions", __name__)

CSRF_HEADER = "X-CSRF-Token"


def _status_response(interface: ServerSessionInterface, session: ServerSession) -> Response:
    idle, absolute = interface.remaining(session, interface.clock())
    response = jsonify(
        active=bool(session) and session.sid is not None,
        idle_remaining_seconds=int(idle),
        absolute_remaining_seconds=int(absolute),
        warning_seconds=int(interface.warning_seconds),
    )
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/session/status")
def status() -> Response:
    """How long the session has left; asking does not count as activity."""
    interface, session = _current()
    return _status_response(interface, session)


@bp.post("/session/forny")
def forny() -> Any:
    """Extend the session ("Forbliv logget ind"); needs the form token in X-CSRF-Token."""
    interface, session = _current()
    try:
        validate_csrf(request.headers.get(CSRF_HEADER, ""))
        valid = session.sid is not None
    except ValidationError:
        valid = False
    if not valid:
        response = jsonify(
            error={
                "field": None,
                "message": "Sessionen kunne ikke forlænges. Hent siden igen, eller log ind igen.",
            }
        )
        response.headers["Cache-Control"] = "no-store"
        return response, 400
    session.last_seen = interface.clock()
    session.refresh = True
    return _status_response(interface, session)


def init_sessions(
    app: Flask,
    settings: SessionSettings,
    *,
    store: SessionStore | None = None,
    clock: Callable[[], float] = time.time,
) -> None:
    """Install server-side sessions from the validated ``[sessions]`` settings.

    ``store`` replaces the configured one (tests); ``clock`` is the wall clock.
    """
    interface = ServerSessionInterface(
        store if store is not None else build_store(settings),
        idle_seconds=settings.idle_minutes * 60,
        warning_seconds=settings.warning_minutes * 60,
        absolute_seconds=settings.absolute_hours * 3600,
        cookie_name=settings.cookie_name,
        cookie_secure=settings.cookie_secure,
        clock=clock,
    )
    app.session_interface = interface
    app.extensions["borgersag.sessions"] = interface
    app.register_blueprint(bp)
    app.jinja_env.globals["session_timing"] = session_timing
