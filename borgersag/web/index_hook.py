"""The case index seen from the web app: the jobs on the queue, and the login hook.

With ``[index] enabled`` the app holds the index's :class:`~borgersag.index.queue.Jobs`
on the configured queue; a citizen's login then subscribes them (when
``subscribe_on_login``) and enqueues a refresh of a subscriber at once, which a worker
runs. The hook never costs anyone their login: an index or queue that is down is logged
and the login goes on.
"""

from __future__ import annotations

import logging

from flask import Flask, current_app

from borgersag.audit import AuditLog
from borgersag.config.loader import Config
from borgersag.index.queue import Jobs
from borgersag.index.service import build_jobs, index_settings
from borgersag.lookup.portal import Portal
from borgersag.people.identity import User

__all__ = ["after_login", "init_app", "jobs", "jobs_configured"]

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
