"""The senders' job on the index's queue, built from a config.

``notify.deliver`` runs every minute and after every refresh that found news; it plans
the outbox's queued rows into messages and sends those due (see
:mod:`borgersag.notify.delivery`). Only ids are on the queue, never an address.
"""

from __future__ import annotations

import logging
import threading

from huey import crontab

from borgersag.config.loader import Config
from borgersag.index.queue import Jobs
from borgersag.lookup.shared_state import SharedState
from borgersag.notify.delivery import PAUSE_ALL, Delivered, Deliverer
from borgersag.notify.section import NOTIFY, NotifySettings
from borgersag.notify.senders import build_senders
from borgersag.notify.store import NotifyStore

__all__ = [
    "PAUSES",
    "DeliveryJobs",
    "attach_delivery",
    "notify_settings",
    "read_pauses",
    "save_pauses",
]

PAUSES = "notify-pauses"  # the name of the value in the shared state store
PAUSES_TTL = 10 * 365 * 24 * 3600.0


def read_pauses(state: SharedState) -> dict[str, dict[str, str]]:
    """Paused notifications: ``"*"`` (all) or a source's name → who, when and why. A
    store that cannot be read counts as paused altogether: better late than unwanted."""
    try:
        data = state.read(PAUSES) or {}
    except Exception as exc:
        log.warning("could not read the notification pauses (%s): holding back", type(exc).__name__)
        return {PAUSE_ALL: {"by": "", "at": "", "reason": "the shared state store is away"}}
    return {k: v for k, v in data.items() if isinstance(v, dict)}


def save_pauses(state: SharedState, pauses: dict[str, dict[str, str]]) -> None:
    """Store the pauses for every worker."""
    state.write(PAUSES, pauses, PAUSES_TTL)


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
        state: SharedState | None = None,
    ):
        self.jobs = jobs
        self.settings = settings
        self.state = state
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
                    store, self.settings, build_senders(self.settings), pauses=self.pauses
                )
            return self._deliverer

    def pauses(self) -> dict[str, dict[str, str]]:
        """The operators' pauses in the shared state store (none without a store)."""
        return read_pauses(self.state) if self.state is not None else {}

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


def attach_delivery(jobs: Jobs, config: Config, state: SharedState | None) -> DeliveryJobs | None:
    """The delivery job on ``jobs``' queue when ``[notify] enabled`` (else ``None``)."""
    settings = notify_settings(config)
    return DeliveryJobs(jobs, settings, state=state) if settings.enabled else None
