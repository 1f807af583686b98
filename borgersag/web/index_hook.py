"""The case index seen from the web app: the jobs on the queue, and the login hook.

With ``[index] enabled`` the app holds the index's :class:`~borgersag.index.queue.Jobs`
on the configured queue; a citizen's login then subscribes them (when
``subscribe_on_login``) and enqueues a refresh of a subscriber at once, which a worker
runs. The hook never costs anyone their login: an index or queue that is down is logged
and the login goes on.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field

from flask import Flask, current_app

from borgersag.audit import AuditLog
from borgersag.config.loader import Config
from borgersag.index.changes import index_id
from borgersag.index.queue import Jobs
from borgersag.index.service import build_jobs, index_settings
from borgersag.lookup.portal import Portal
from borgersag.people.citizen_view import CitizenCase
from borgersag.people.identity import User

__all__ = ["News", "after_login", "init_app", "jobs", "jobs_configured", "news"]

log = logging.getLogger(__name__)

_KEY = "borgersag.index"


def init_app(app: Flask, config: Config, portal: Portal, audit: AuditLog) -> None:
    """Put the index's jobs on ``app`` when ``[index] enabled``."""
    if index_settings(config).enabled:
        app.extensions[_KEY] = build_jobs(config, lambda: portal, audit.record)


def jobs_configured(app: Flask) -> bool:
    """Whether ``app`` holds the index's jobs."""
    return _KEY in app.extensions


def jobs() -> Jobs | None:
    """The app's index jobs, or ``None`` when the index is off."""
    return current_app.extensions.get(_KEY)


def after_login(user: User) -> None:
    """After a citizen's login: subscribe (if the municipality says so) and enqueue a
    refresh of a subscriber."""
    found = jobs()
    if found is None or not user.is_citizen or user.cpr is None:
        return
    try:
        found.after_login(user.cpr.value, found.runtime().settings.subscribe_on_login)
    except Exception:  # the index is a convenience; the login is not
        log.exception("the case index could not be told of a citizen's login")


@dataclass(frozen=True, slots=True)
class News:
    """What changed since the citizen's visit before this login: ``since`` (``None``:
    no earlier visit known, or the index is off) and the ids of the cases marked."""

    since: dt.datetime | None = None
    case_ids: frozenset[str] = field(default=frozenset())

    def __contains__(self, case: object) -> bool:
        return isinstance(case, CitizenCase) and case.id in self.case_ids


def _latest(case: CitizenCase) -> dt.date | None:
    dates = [d.date for d in case.documents if d.date]
    return max([*dates, case.latest_activity or dt.date.min], default=None)


def news(cpr: str, cases: Sequence[CitizenCase]) -> News:
    """Note that the citizen sees Mine sager now, and which of ``cases`` changed since
    their visit before this login: a change the index found after it (a subscriber), or
    a latest activity or document dated after its day (anyone). An index that is down
    marks nothing; the page goes on."""
    found = jobs()
    if found is None:
        return News()
    try:
        store = found.runtime().refresher.store
        since = store.seen(cpr)
        if since is None:
            return News()
        subscriber_id = store.subscriber_id(cpr)
        indexed = store.changed_since(subscriber_id, since) if subscriber_id is not None else set()
    except Exception:  # the marks are a convenience; Mine sager is not
        log.exception("the case index could not tell what is new since the last visit")
        return News()
    day = since.date()
    marked = frozenset(
        case.id
        for case in cases
        if index_id(case) in indexed or (_latest(case) or dt.date.min) > day
    )
    return News(since, marked)
