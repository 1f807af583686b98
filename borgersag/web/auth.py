"""Sandbox sign-in: choose a demo caseworker. Only for ``auth.mode = "sandbox"``.

Real OpenID Connect sign-in replaces this blueprint later; the rest of the web layer only
relies on :func:`current_user` and :func:`login_required`. The session holds an opaque
user id, the name, unit and role of the caseworker, and nothing about any citizen.
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
    current_app,
    g,
    jsonify,
    redirect,
    render_template,
    request,
    session,
    url_for,
)

from ..errors import ConfigError

__all__ = ["User", "current_user", "demo_caseworkers", "init_app", "login_required"]

log = logging.getLogger(__name__)

bp = Blueprint("auth", __name__)


@dataclass(frozen=True, slots=True)
class User:
    """A signed-in caseworker as the web layer knows them."""

    id: str
    name: str
    medarbejdernummer: str
    unit: str
    role: str = "sagsbehandler"


DEMO_COUNT = 6

_FALLBACK_CASEWORKERS = (
    User("demo-1", "Mette Kjær", "MK4821", "Jobcenter, Ydelser"),
    User("demo-2", "Jonas Bach Holm", "JH1177", "Byggeri og Miljø"),
    User("demo-3", "Fatima El-Amin", "FE3090", "Socialområdet, Voksne"),
    User("demo-4", "Søren Lykke Madsen", "SM2204", "Børn og Familie"),
)


@functools.lru_cache(maxsize=4)
def demo_caseworkers(seed: int = 2026) -> tuple[User, ...]:
    """The caseworkers offered on the sandbox sign-in page.

    Taken from the sandbox municipality's employees (``borgersag.sandbox.data``): the
    demo caseworker with the most cases first, then one from each other unit, at most
    :data:`DEMO_COUNT`. A small built-in list when the sandbox package cannot say.
    """
    try:
        from ..sandbox.data import generate

        municipality = generate(seed)
    except ImportError:
        return _FALLBACK_CASEWORKERS
    employees = sorted(
        municipality.employees,
        key=lambda e: (e.medarbejdernummer != municipality.demo.caseworker, e.unit, e.name),
    )
    chosen: list[User] = []
    units: set[str] = set()
    for employee in employees:
        if employee.unit in units:
            continue
        units.add(employee.unit)
        chosen.append(
            User(
                id=f"sandbox-{employee.medarbejdernummer}",
                name=employee.name,
                medarbejdernummer=employee.medarbejdernummer,
                unit=employee.unit,
            )
        )
        if len(chosen) == DEMO_COUNT:
            break
    return tuple(chosen) or _FALLBACK_CASEWORKERS


def current_user() -> User | None:
    """The signed-in user of this request, or ``None``."""
    return g.get("user")


def login_required(view: Callable[..., Any]) -> Callable[..., Any]:
    """Require sign-in: HTML pages redirect to /log-ind, the API answers 401 JSON."""

    @functools.wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        if current_user() is None:
            if request.path.startswith("/api/"):
                response = jsonify(error={"field": None, "message": "Log ind for at bruge API'et."})
                response.status_code = 401
                return response
            return redirect(url_for("auth.login"), code=303)
        return view(*args, **kwargs)

    return wrapped


def _load_user() -> None:
    data = session.get("user")
    g.user = None
    if isinstance(data, dict):
        try:
            g.user = User(**data)
        except TypeError:
            session.clear()


def _caseworkers() -> tuple[User, ...]:
    seed = (current_app.extensions["borgersag"].config.sandbox or {}).get("seed", 2026)
    return demo_caseworkers(int(seed))


@bp.get("/log-ind")
def login() -> Any:
    """The sandbox sign-in page: pick a demo caseworker."""
    return render_template("login.html", caseworkers=_caseworkers())


@bp.post("/log-ind")
def login_post() -> Any:
    """Sign in as the chosen demo caseworker."""
    chosen = request.form.get("caseworker", "")
    user = next((u for u in _caseworkers() if u.id == chosen), None)
    if user is None:
        return (
            render_template(
                "login.html",
                caseworkers=_caseworkers(),
                error="Vælg en af demo-sagsbehandlerne.",
            ),
            400,
        )
    session.clear()  # a fresh session on sign-in (no fixation)
    session["user"] = {
        "id": user.id,
        "name": user.name,
        "medarbejdernummer": user.medarbejdernummer,
        "unit": user.unit,
        "role": user.role,
    }
    session["_csrf"] = secrets.token_urlsafe(32)
    log.info("sandbox sign-in as %s", user.id)
    return redirect(url_for("web.lookup"), code=303)


@bp.post("/log-ud")
def logout() -> Any:
    """Sign out and forget the session."""
    session.clear()
    return redirect(url_for("auth.login", logget_ud=1), code=303)


def init_app(app: Flask) -> None:
    """Register the sign-in routes and load the user before each request."""
    config = app.extensions["borgersag"].config
    if config.auth["mode"] != "sandbox":
        raise ConfigError(
            config.origins.get("auth", "<config>"),
            "auth.mode",
            "'sandbox' (the only sign-in the web front end supports so far)",
        )
    app.before_request(_load_user)
    app.register_blueprint(bp)
    app.jinja_env.globals["current_user"] = current_user
