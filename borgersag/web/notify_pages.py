"""The citizen's say over notifications, and the operators' view of them.

``/mine-sager/indstillinger``: the signed-in citizen chooses the channels (e-mail, SMS,
Digital Post — the last by CPR number, no address needed), gives the e-mail address and
phone number (checked, then sealed in the index like the CPR number) and sees what was
sent: date, channel, state — never an address or a text. Saving subscribes the citizen to
the case index; it is audited (``notify_settings``, the channels chosen as detail, never
the addresses). A failed delivery is shown once on the citizen's next visit to Mine sager
(:func:`unseen_failures`).

On the operations page: the outbox's depth by state, each source's last refresh, the
failed deliveries and a switch to pause notifications per source or for all, kept in the
shared state store and audited (``notify_pause``) like the sources' kill switches.

Present only with ``[index] enabled`` and ``[notify] enabled``.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from typing import Any

from flask import Blueprint, Flask, abort, current_app, redirect, render_template, request, url_for
from flask_babel import gettext
from flask_babel import lazy_gettext as _l

from borgersag.audit.event import EventKind
from borgersag.config.loader import Config
from borgersag.notify.section import CHANNELS, NotifySettings
from borgersag.notify.service import PAUSE_ALL, notify_settings, read_pauses, save_pauses
from borgersag.notify.store import NotifyStore, Sent
from borgersag.web import auditing, index_hook
from borgersag.web.login import administrator_required, citizen_required, current_user
from borgersag.web.operations import reason_problem

__all__ = ["enabled", "init_app", "operations_view", "unseen_failures"]

log = logging.getLogger(__name__)

bp = Blueprint("notify", __name__)

_KEY = "borgersag.notify"
EMAIL = re.compile(r"^[^@\s<>\"',;]{1,64}@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$")
PHONE = re.compile(r"^(\+45)?[2-9]\d{7}$")
CHANNEL_NAMES = {"email": _l("E-mail"), "sms": _l("SMS"), "digital_post": _l("Digital Post")}
STATE_NAMES = {
    "queued": _l("Venter"),
    "sending": _l("Sendes"),
    "sent": _l("Sendt"),
    "failed": _l("Kunne ikke sendes"),
}


def _settings() -> NotifySettings | None:
    return current_app.extensions.get(_KEY)


def enabled() -> bool:
    """Whether the app tells citizens of news (``[index]`` and ``[notify]`` on)."""
    return _settings() is not None


def _store() -> NotifyStore | None:
    jobs = index_hook.jobs()
    if jobs is None or _settings() is None:
        return None
    return NotifyStore(jobs.runtime().refresher.store)


def _subscriber_id(store: NotifyStore) -> int | None:
    return store.index.subscriber_id(current_user().cpr.value)


def check_email(value: str) -> str:
    """What is wrong with an e-mail address ("" when nothing)."""
    if len(value) > 254 or not EMAIL.match(value):
        return gettext("Skriv en gyldig e-mailadresse, fx navn@eksempel.dk.")
    return ""


def check_phone(value: str) -> str:
    """What is wrong with a Danish mobile number ("" when nothing)."""
    if not PHONE.match(value):
        return gettext("Skriv et dansk mobilnummer med 8 cifre, fx 20 30 40 50.")
    return ""


def _normal_phone(value: str) -> str:
    digits = re.sub(r"[\s-]", "", value)
    return digits if digits.startswith("+45") or not digits else "+45" + digits


def _page(
    store: NotifyStore,
    settings: NotifySettings,
    *,
    chosen: tuple[str, ...],
    email: str,
    phone: str,
    errors: dict[str, str],
    saved: bool = False,
    status: int = 200,
) -> Any:
    subscriber_id = _subscriber_id(store)
    history: list[Sent] = store.history(subscriber_id) if subscriber_id is not None else []
    return (
        render_template(
            "citizen/settings.html",
            offered=settings.offered(),
            names=CHANNEL_NAMES,
            state_names=STATE_NAMES,
            chosen=chosen,
            email=email,
            phone=phone,
            errors=errors,
            saved=saved,
            history=history,
            subscribed=subscriber_id is not None,
        ),
        status,
    )


@bp.get("/mine-sager/indstillinger")
@citizen_required
def settings_page() -> Any:
    """The citizen's channels, addresses and what was sent."""
    store, settings = _store(), _settings()
    if store is None or settings is None:
        abort(404)
    subscriber_id = _subscriber_id(store)
    contact = (
        store.contact(subscriber_id, settings.default_channels)
        if subscriber_id is not None
        else None
    )
    phone = (contact.phone or "").removeprefix("+45") if contact else ""
    return _page(
        store,
        settings,
        chosen=contact.channels if contact else (),
        email=(contact.email or "") if contact else "",
        phone=phone,
        errors={},
        saved=request.args.get("gemt") == "1",
    )


@bp.post("/mine-sager/indstillinger")
@citizen_required
def save_settings() -> Any:
    """Save the citizen's choice (subscribing them), or say at each field what is wrong."""
    store, settings = _store(), _settings()
    if store is None or settings is None:
        abort(404)
    offered = settings.offered()
    chosen = tuple(c for c in CHANNELS if c in offered and request.form.get(c) == "ja")
    email = request.form.get("email", "").strip()[:300]
    phone_typed = request.form.get("phone", "").strip()[:40]
    phone = _normal_phone(phone_typed)
    errors: dict[str, str] = {}
    if email and (problem := check_email(email)):
        errors["email"] = problem
    elif "email" in chosen and not email:
        errors["email"] = gettext("Skriv din e-mailadresse, eller fravælg e-mail.")
    if phone and (problem := check_phone(phone)):
        errors["phone"] = problem
    elif "sms" in chosen and not phone:
        errors["phone"] = gettext("Skriv dit mobilnummer, eller fravælg SMS.")
    if errors:
        return _page(
            store,
            settings,
            chosen=chosen,
            email=email,
            phone=phone_typed,
            errors=errors,
            status=400,
        )
    # Audited first: a change nobody can account for is not made.
    auditing.record(
        EventKind.NOTIFY_SETTINGS,
        detail="kanaler: " + (", ".join(chosen) or "ingen"),
    )
    subscriber_id = store.index.subscribe(current_user().cpr.value)
    store.save_contact(subscriber_id, chosen, email or None, phone or None)
    return redirect(url_for("notify.settings_page", gemt="1"), code=303)


def unseen_failures() -> list[Sent]:
    """The signed-in citizen's failed deliveries not shown before, now marked as shown
    (for Mine sager); none when notifications are off or anything is away."""
    store, settings = _store(), _settings()
    if store is None or settings is None:
        return []
    try:
        subscriber_id = _subscriber_id(store)
        if subscriber_id is None:
            return []
        failed = store.unseen_failures(subscriber_id, settings.default_channels)
        if failed:
            store.failures_seen(subscriber_id, settings.default_channels)
        return failed
    except Exception:  # a convenience: Mine sager shows without it
        log.exception("the failed deliveries could not be read for Mine sager")
        return []


# --- operators ---------------------------------------------------------------------------


def operations_view() -> dict[str, Any] | None:
    """What the operations page shows of notifications (``None``: they are off)."""
    store = _store()
    if store is None:
        return None
    state = current_app.extensions["borgersag.state"]
    jobs = index_hook.jobs()
    try:
        waiting: int | None = jobs.huey.pending_count() if jobs is not None else None
    except Exception:  # the queue's Redis or file away: the page still shows the rest
        waiting = None
    return {
        "jobs_waiting": waiting,
        "depth": store.depth(),
        "sources": store.index.sources_seen(),
        "failed": store.failed(limit=20),
        "pauses": read_pauses(state),
        "source_names": [s.name for s in current_app.extensions["borgersag"].config.sources],
        "channel_names": CHANNEL_NAMES,
    }


@bp.post("/drift/beskeder")
@administrator_required
def pause() -> Any:
    """Pause (``handling=pause``, with ``aarsag``) or resume (``handling=genoptag``)
    notifications of one source (``kilde``) or of all (``kilde=*``)."""
    if _store() is None:
        abort(404)
    action = request.form.get("handling", "")
    target = request.form.get("kilde", "")
    names = [s.name for s in current_app.extensions["borgersag"].config.sources]
    if action not in ("pause", "genoptag") or target not in (PAUSE_ALL, *names):
        abort(404)
    reason = " ".join(request.form.get("aarsag", "").split()) if action == "pause" else ""
    problem = reason_problem(reason) if action == "pause" else ""
    if problem:
        return redirect(url_for("operations.page", beskedfejl="1", _anchor="beskeder"), code=303)
    user = current_user()
    auditing.record(
        EventKind.NOTIFY_PAUSE,
        sources=[]
        if target == PAUSE_ALL
        else [(target, "paused" if action == "pause" else "resumed")],
        detail=(f"pause ({'alle' if target == PAUSE_ALL else target}): {reason}")
        if action == "pause"
        else f"genoptaget ({'alle' if target == PAUSE_ALL else target})",
    )
    state = current_app.extensions["borgersag.state"]
    pauses = read_pauses(state)
    if action == "pause":
        pauses[target] = {
            "by": f"{user.name} ({user.medarbejdernummer})",
            "at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "reason": reason,
        }
    else:
        pauses.pop(target, None)
    save_pauses(state, pauses)
    log.warning("notifications of %s %s by %s", target, action, user.medarbejdernummer)
    return redirect(url_for("operations.page", _anchor="beskeder"), code=303)


def init_app(app: Flask, config: Config) -> None:
    """Register the pages when notifications are on."""
    settings = notify_settings(config)
    if settings.enabled and index_hook.jobs_configured(app):
        app.extensions[_KEY] = settings
        app.extensions["borgersag.notify.operations"] = operations_view
    app.jinja_env.filters["channel_name"] = lambda c: str(CHANNEL_NAMES.get(c, c))
    app.register_blueprint(bp)
