"""The task queue (huey) and the case index's jobs on it.

Why huey: it runs embedded on one SQLite file — the demo and a one-machine installation
need no extra service — and on Redis when several machines share the work, with the same
task code; retries with a growing delay, periodic tasks and an immediate mode for tests
are built in. Celery and RQ need a broker (Redis or RabbitMQ) even for the demo.

Jobs carry only a subscriber's id in the index, never a CPR number: whatever reads the
queue's file or Redis learns nothing about whom a job is for. Every job is idempotent
(:meth:`IndexStore.apply <borgersag.index.store.IndexStore.apply>` writes each change
once), so a job a dead worker left half done is simply run again.

* ``index.refresh(subscriber_id, reason)`` — one subscriber now (after a login, or due).
* ``index.refresh_due`` — every minute: enqueue the subscribers due for a refresh under
  ``[index] refresh_minutes`` (per source in ``[index.sources.<name>]``).
* ``index.prune`` — every night: drop closed cases past ``closed_retention_days``.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from huey import Huey, RedisHuey, SqliteHuey, crontab

from borgersag.index.refresh import Refreshed, Refresher
from borgersag.index.schema import VISIT_RETENTION_DAYS
from borgersag.index.sealing import SealBroken
from borgersag.index.section import IndexSettings, WorkerSettings, queue_location

__all__ = ["QUEUE_NAME", "Jobs", "Runtime", "make_huey"]

log = logging.getLogger(__name__)

QUEUE_NAME = "borgersag"
BACKOFF = 2.0  # each retry waits twice as long as the one before


def make_huey(settings: WorkerSettings, *, immediate: bool = False, name: str = QUEUE_NAME) -> Huey:
    """The queue ``[worker] queue`` names: Redis, or an SQLite file (made private).

    ``immediate`` runs each job at once in the caller (tests); ``name`` keeps queues
    that share one Redis apart (tests).
    """
    location = queue_location(settings)
    if location.startswith(("redis://", "rediss://")):
        return RedisHuey(name, url=location, results=False, immediate=immediate)
    path = Path(location.removeprefix("sqlite:///"))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.touch(mode=0o600, exist_ok=True)
    return SqliteHuey(name, filename=str(path), results=False, immediate=immediate)


@dataclass(frozen=True, slots=True)
class Runtime:
    """What the jobs work with, built once per process when the first job runs."""

    refresher: Refresher
    settings: IndexSettings


class Jobs:
    """The index's jobs registered on ``huey``; ``make_runtime`` builds their
    collaborators on first use (in the worker, or in the caller in immediate mode)."""

    def __init__(self, huey: Huey, worker: WorkerSettings, make_runtime: Callable[[], Runtime]):
        self.huey = huey
        self._make_runtime = make_runtime
        self._runtime: Runtime | None = None
        self._lock = threading.Lock()
        # called after a refresh that found news (borgersag.notify sends it at once)
        self.on_changes: Callable[[], object] | None = None
        retry = {
            "retries": worker.retries,
            "retry_delay": worker.retry_delay_seconds,
            "retry_backoff": BACKOFF,
        }
        self.refresh = huey.task(name="index.refresh", **retry)(self._refresh)
        self.refresh_due = huey.periodic_task(crontab(minute="*"), name="index.refresh_due")(
            self._refresh_due
        )
        self.prune = huey.periodic_task(crontab(minute="17", hour="3"), name="index.prune")(
            self._prune
        )

    def runtime(self) -> Runtime:
        """The collaborators, built on first use (thread-safe)."""
        with self._lock:
            if self._runtime is None:
                self._runtime = self._make_runtime()
            return self._runtime

    def _refresh(self, subscriber_id: int, reason: str = "planlagt") -> None:
        runtime = self.runtime()
        store = runtime.refresher.store
        if reason == "planlagt" and subscriber_id not in store.due(
            runtime.settings.source_minutes, runtime.settings.refresh_minutes, only=subscriber_id
        ):
            store.mark_enqueued([subscriber_id], done=True)
            return  # refreshed meanwhile (after a login, or enqueued twice)
        try:
            done: Refreshed = runtime.refresher.refresh(subscriber_id, reason=reason)
        except SealBroken:
            # no retry helps: only the key it was sealed with (or unsubscribing) does
            log.error(
                "index refresh of subscriber %s given up: the sealed CPR number does not"
                " open with [index] key (changed?); restore the key or unsubscribe them",
                subscriber_id,
            )
            return
        log.info(
            "index refresh of subscriber %s (%s): %d cases, %d changes, unanswered: %s",
            subscriber_id,
            reason,
            done.cases,
            len(done.changes),
            ", ".join(done.unanswered) or "none",
        )
        if done.changes and self.on_changes is not None:
            self.on_changes()

    def _refresh_due(self) -> int:
        runtime = self.runtime()
        store = runtime.refresher.store
        due = store.due(
            runtime.settings.source_minutes, runtime.settings.refresh_minutes, waiting=False
        )
        store.mark_enqueued(due)  # first: a refresh done at once clears it again
        for subscriber_id in due:
            self.refresh(subscriber_id, "planlagt")
        return len(due)

    def _prune(self) -> int:
        runtime = self.runtime()
        store = runtime.refresher.store
        store.prune_visits(VISIT_RETENTION_DAYS)
        return store.prune_closed(runtime.settings.closed_retention_days)

    def after_login(self, cpr: str, subscribe: bool) -> int | None:
        """The login hook: subscribe ``cpr`` when the municipality says so, and enqueue
        a refresh of a subscriber at once. Returns the subscriber id (``None``: not one).
        """
        store = self.runtime().refresher.store
        store.begin_visit(cpr)  # news on Mine sager count from the visit before this one
        subscriber_id = store.subscribe(cpr) if subscribe else store.subscriber_id(cpr)
        if subscriber_id is not None:
            self.refresh(subscriber_id, "efter login")
        return subscriber_id
