"""The operations page for administrators: source health, and a kill switch per source.

``GET /drift`` asks every source's health check at once (bounded by a deadline: the
page waits at most that long, and the checks' own requests end by then too) and shows,
per source, whether it answers, how fast, its last error, what the latest lookups in this
process saw, whether its circuit breaker has paused it, and whether it is switched off.
Switching a source off takes it out for everyone, so it is not one click:
``GET /drift/kilder/<name>/sluk`` asks for confirmation and a reason, and
``POST /drift/kilder/<name>`` switches it off (reason required) or on again, without a
restart: the next lookup on every worker and every machine leaves it out (shown to
caseworkers as "slået fra af en administrator"). Both directions are audited
(``source_switch``, the reason as detail) and the reason is shown on the page.

The switches live in the shared state store (:mod:`borgersag.lookup.shared_state`:
SQLite for the workers of one machine, Redis for several machines) under a name of their
own. Every request applies them before it looks anything up, but reads them from the
store at most once a second per process (:class:`SwitchBoard`): a switch made on one
instance holds on every other within :data:`SWITCHES_MAX_AGE` seconds, on its own at once.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from typing import Any

from flask import Blueprint, Flask, abort, current_app, redirect, render_template, request, url_for

from borgersag.audit.event import EventKind
from borgersag.sdk.connector import Connector
from borgersag.sdk.errors import SourceError
from borgersag.sdk.http import deadline_in
from borgersag.web import auditing, wording
from borgersag.web.health import is_probe
from borgersag.web.login import administrator_required, current_user

__all__ = ["HEALTH_DEADLINE_SECONDS", "HealthChecks", "SwitchBoard", "init_app", "switched_off"]

log = logging.getLogger(__name__)

bp = Blueprint("operations", __name__)

SWITCHES = "kill-switches"  # the name of the value in the shared state store
SWITCHES_TTL = 10 * 365 * 24 * 3600.0
SWITCHES_MAX_AGE = 1.0  # seconds a process reuses the switches it read
HEALTH_DEADLINE_SECONDS = 5.0
REASON_MAX_CHARS = 300


@dataclass(frozen=True, slots=True)
class Health:
    """One source's health check: ``ok``, a short Danish text and how long it took."""

    ok: bool
    text: str
    latency_ms: float | None


class SwitchBoard:
    """The kill switches of one process: read from the shared state ``state`` at most
    once every ``max_age`` seconds, since every request applies them (a read per request
    is a round trip per request). A store that cannot be read keeps the last known
    switches, said once in the log until it answers again."""

    def __init__(
        self,
        state: Any,
        *,
        max_age: float = SWITCHES_MAX_AGE,
        clock: Callable[[], float] = time.monotonic,
    ):
        self.state = state
        self.max_age = max_age
        self._clock = clock
        self._lock = threading.Lock()
        self._switches: dict[str, dict[str, str]] = {}
        self._read_at: float | None = None
        self._failing = False

    def current(self) -> dict[str, dict[str, str]]:
        """Sources switched off: name → who and when (at most ``max_age`` old)."""
        read_at = self._read_at
        if read_at is not None and self._clock() - read_at < self.max_age:
            return self._switches
        if not self._lock.acquire(blocking=read_at is None):
            return self._switches  # another thread is reading them now
        try:
            try:
                self._remember(self.fresh())
                if self._failing:
                    self._failing = False
                    log.warning("the source switches can be read again")
            except Exception as exc:
                if not self._failing:
                    self._failing = True
                    log.warning(
                        "could not read the source switches (%s); keeping the last known ones",
                        type(exc).__name__,
                    )
                self._read_at = self._clock()
        finally:
            self._lock.release()
        return self._switches

    def fresh(self) -> dict[str, dict[str, str]]:
        """The switches as the store has them now (raises when it cannot be read)."""
        data = self.state.read(SWITCHES) or {}
        return {k: v for k, v in data.items() if isinstance(v, dict)}

    def save(self, switches: dict[str, dict[str, str]]) -> None:
        """Store ``switches`` for every instance; this one uses them at once."""
        self.state.write(SWITCHES, switches, SWITCHES_TTL)
        self._remember(switches)

    def _remember(self, switches: dict[str, dict[str, str]]) -> None:
        self._switches = dict(switches)
        self._read_at = self._clock()


def _board() -> SwitchBoard:
    return current_app.extensions["borgersag.switches"]


def switched_off() -> dict[str, dict[str, str]]:
    """Sources switched off at run time: name → who and when."""
    return _board().current()


def _apply_switches() -> None:
    if request.path.startswith("/static/") or is_probe():
        return
    portal = current_app.extensions["borgersag"]
    if hasattr(portal, "switch_off"):
        portal.switch_off(set(_board().current()))


def _check(connector: Connector, deadline: float) -> Health:
    started = time.monotonic()
    try:
        with deadline_in(deadline):
            text = connector.health()
    except SourceError as exc:
        return Health(False, str(exc), None)
    except Exception as exc:  # a connector is third-party code
        log.warning("health check of %s failed: %s", connector.name, type(exc).__name__)
        return Health(False, f"Fejl i forbindelsen ({type(exc).__name__}).", None)
    return Health(True, text or "svarer", round((time.monotonic() - started) * 1000, 1))


class HealthChecks:
    """Runs the health checks on a small pool that lives as long as the app.

    A page view waits at most ``deadline`` seconds and never for the pool: the check's
    requests end just before (:func:`~borgersag.sdk.http.deadline_in`), so the page shows
    the source's own "svarede ikke" — and a check that ignores the deadline keeps running
    in the background.
    At most one check per source runs at a time, so a source that keeps hanging holds one
    thread, however often the page is opened: while the check from an earlier view is
    still running, the next view reports that instead of starting another.
    """

    def __init__(self, source_count: int) -> None:
        self._lock = threading.Lock()
        # One thread per source at most (threads start only when a check is submitted).
        self._pool = ThreadPoolExecutor(
            max_workers=max(1, source_count), thread_name_prefix="health"
        )
        self._running: dict[str, Future[Health]] = {}

    def check(self, sources: dict[str, Connector], deadline: float) -> dict[str, Health]:
        """Health of every source in ``sources``, all answered within ``deadline`` seconds."""
        futures: dict[str, Future[Health]] = {}
        still_running: set[str] = set()
        with self._lock:
            for name, connector in sources.items():
                future = self._running.get(name)
                if future is not None and not future.done():
                    still_running.add(name)
                else:
                    # a little less than the page's, so the check's own answer is shown
                    own = deadline - min(0.1, deadline / 10)
                    future = self._pool.submit(_check, connector, own)
                    self._running[name] = future
                futures[name] = future
        done, _pending = wait(futures.values(), timeout=deadline)
        found: dict[str, Health] = {}
        for name, future in futures.items():
            if future in done:
                found[name] = future.result()
            elif name in still_running:
                found[name] = Health(False, wording.health_still_running(), None)
            else:
                found[name] = Health(False, wording.health_timed_out(deadline), None)
        return found

    def close(self) -> None:
        """Stop the pool without waiting for checks still running."""
        with self._lock:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._running.clear()


def _health_of(sources: dict[str, Connector], skip: set[str]) -> dict[str, Health]:
    wanted = {name: c for name, c in sources.items() if name not in skip}
    if not wanted:
        return {}
    checks: HealthChecks = current_app.extensions["borgersag.health"]
    return checks.check(wanted, HEALTH_DEADLINE_SECONDS)


def _switch_view(switch: dict[str, str] | None) -> dict[str, Any] | None:
    """A stored switch for the page: its time as a datetime (shown in local time)."""
    if switch is None:
        return None
    try:
        at: Any = dt.datetime.fromisoformat(switch.get("at", ""))
    except ValueError:
        at = switch.get("at", "")  # another instance's odd value: shown as it is
    return {**switch, "at": at}


@bp.get("/drift")
@administrator_required
def page() -> Any:
    """Every source: health, latest lookups, switched off or not."""
    portal = current_app.extensions["borgersag"]
    config = portal.config
    switches = switched_off()
    health = _health_of(portal.sources, skip=set(switches) | set(portal.configured_off))
    rows = []
    for source in config.sources:
        connector = portal.sources.get(source.name)
        last = portal.engine.last_results.get(source.name)
        rows.append(
            {
                "name": source.name,
                "title": source.title,
                "type": source.type,
                "kinds": sorted(k.label for k in connector.key_kinds | connector.relation_kinds)
                if connector
                else [],
                "configured_off": source.name in portal.configured_off,
                "switch": _switch_view(switches.get(source.name)),
                "paused": wording.paused() if portal.engine.breakers.is_open(source.name) else "",
                "health": health.get(source.name),
                "last_at": last[0] if last else None,
                "last": last[1] if last else None,
            }
        )
    return render_template("operations.html", rows=rows, checked_at=dt.datetime.now(dt.UTC))


def _source_or_404(name: str) -> Any:
    portal = current_app.extensions["borgersag"]
    source = next((s for s in portal.config.sources if s.name == name), None)
    if source is None or name not in portal.sources or name in portal.configured_off:
        abort(404)
    return source


def reason_problem(reason: str) -> str:
    """What is wrong with the reason given for switching a source off ("" when nothing)."""
    if not reason:
        return "Skriv, hvorfor kilden skal slås fra. Årsagen gemmes i revisionsloggen."
    if len(reason) > REASON_MAX_CHARS:
        return f"Skriv årsagen kortere: højst {REASON_MAX_CHARS} tegn (der er {len(reason)})."
    if any(ord(c) < 32 and c not in "\n\t" for c in reason):
        return "Årsagen indeholder tegn, der ikke kan gemmes. Skriv den igen."
    return ""


def _confirm(source: Any, reason: str = "", error: str = "", status: int = 200) -> Any:
    return (
        render_template("operations_confirm.html", source=source, reason=reason, error=error),
        status,
    )


@bp.get("/drift/kilder/<name>/sluk")
@administrator_required
def confirm(name: str) -> Any:
    """Ask before a source is switched off for everyone, and why."""
    return _confirm(_source_or_404(name))


@bp.post("/drift/kilder/<name>")
@administrator_required
def switch(name: str) -> Any:
    """Switch a source off (``handling=sluk``, with ``aarsag``) or on (``handling=taend``)."""
    source = _source_or_404(name)
    action = request.form.get("handling", "")
    if action not in ("sluk", "taend"):
        abort(404)
    reason = " ".join(request.form.get("aarsag", "").split()) if action == "sluk" else ""
    problem = reason_problem(reason) if action == "sluk" else ""
    if problem:
        return _confirm(source, reason[: REASON_MAX_CHARS * 2], problem, 400)
    user = current_user()
    # Audited first: a switch nobody can account for is not made.
    auditing.record(
        EventKind.SOURCE_SWITCH,
        sources=[(name, "disabled" if action == "sluk" else "enabled")],
        detail=reason if action == "sluk" else "slået til igen",
    )
    portal = current_app.extensions["borgersag"]
    board = _board()
    data = board.fresh()  # not the cached copy: another instance may have switched since
    if action == "sluk":
        data[name] = {
            "by": f"{user.name} ({user.medarbejdernummer})",
            "at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "reason": reason,
        }
    else:
        data.pop(name, None)
    board.save(data)
    portal.switch_off(set(data))
    log.warning(
        "source %s switched %s by %s", name, "off" if action == "sluk" else "on",
        user.medarbejdernummer,
    )  # fmt: skip
    return redirect(url_for("operations.page", _anchor=f"kilde-{name}"), code=303)


def init_app(app: Flask) -> None:
    """Register the page, and read the switches before every request."""
    app.extensions["borgersag.health"] = HealthChecks(
        len(app.extensions["borgersag"].config.sources)
    )
    app.extensions["borgersag.switches"] = SwitchBoard(app.extensions["borgersag.state"])
    app.before_request(_apply_switches)
    app.register_blueprint(bp)
