"""The senders' job on the index's queue, built from a config.

``notify.deliver`` runs every minute and after every refresh that found news; it plans
the outbox's queued rows into messages and sends those due (see
:mod:`borgersag.notify.delivery`). Only ids are on the queue, never an address.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from huey import crontab

from borgersag.config.loader import Config
from borgersag.index.queue import Jobs
from borgersag.notify.delivery import Delivered, Deliverer
from borgersag.notify.section import NOTIFY, NotifySettings
from borgersag.notify.senders import build_senders
from borgersag.notify.store import NotifyStore

__all__ = ["DeliveryJobs", "notify_settings"]

log = logging.getLogger(__name__)


def notify_settings(config: Config) -> NotifySettings:
    """``[notify]`` (off when the config has no such table)."""
    return config.section(NOTIFY) if "notify" in config.sections else NotifySettings()


class DeliveryJobs:
    """``notify.deliver`` registered on the index jobs' queue."""

    def __init__(
        self,
        jobs: Jobs,
        settings: NotifySettings,
        *,
        paused: Callable[[], bool] = lambda: False,
    ):
        self.jobs = jobs
        self.settings = settings
        self.paused = paused
        self._deliverer: Deliverer | None = None
        self._lock = threading.Lock()
        self._running = threading.Lock()
        self.deliver = jobs.huey.task(name="notify.deliver")(self._deliver)
        self.deliver_due = jobs.huey.periodic_task(crontab(minute="*"), name="notify.deliver_due")(
            self._deliver
        )
        jobs.on_changes = self.deliver

    def deliverer(self) -> Deliverer:
        """The deliverer, built on first use on the index's store."""
        with self._lock:
            if self._deliverer is None:
                store = NotifyStore(self.jobs.runtime().refresher.store)
                self._deliverer = Deliverer(
                    store, self.settings, build_senders(self.settings), paused=self.paused
                )
            return self._deliverer

    def _deliver(self) -> Delivered | None:
        if not self._running.acquire(blocking=False):
            return None  # a run is under way in this process; the claim guards the rest
        try:
            done = self.deliverer().run()
        finally:
            self._running.release()
        if done.planned or done.sent or done.failed:
            log.info(
                "notifications: %d messages planned, %d sent, %d to retry, %d failed",
                done.planned,
                done.sent,
                done.retried,
                done.failed,
            )
        return done
