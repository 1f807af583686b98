"""The case index built from a config: its store, the refresher and the jobs.

The composition roots (the web app for the login hook, ``borgersag worker`` and
``borgersag demo``) call these with the portal and audit log they already have, so a
refresh asks the sources through the same engine, breakers and audit chain.
"""

from __future__ import annotations

from collections.abc import Callable

from borgersag.audit import AuditEvent
from borgersag.config.loader import Config
from borgersag.index.queue import Jobs, Runtime, make_huey
from borgersag.index.refresh import Refresher
from borgersag.index.sealing import CprSeal
from borgersag.index.section import INDEX, WORKER, IndexSettings, WorkerSettings, index_url
from borgersag.index.store import IndexStore
from borgersag.lookup.portal import Portal
from borgersag.people.sections import CITIZEN

__all__ = ["build_jobs", "index_settings", "open_store", "worker_settings"]


def index_settings(config: Config) -> IndexSettings:
    """``[index]`` (its defaults, index off, for a config built without the section)."""
    return config.section(INDEX) if "index" in config.sections else IndexSettings()


def worker_settings(config: Config) -> WorkerSettings:
    """``[worker]`` (its defaults for a config built without the section)."""
    return config.section(WORKER) if "worker" in config.sections else WorkerSettings()


def open_store(config: Config) -> IndexStore:
    """The index database of ``config`` (not migrated: see :meth:`IndexStore.upgrade`)."""
    settings = index_settings(config)
    return IndexStore.open(index_url(settings), CprSeal(settings.key or config.portal.secret_key))


def build_jobs(
    config: Config,
    portal: Callable[[], Portal],
    record: Callable[[AuditEvent], object],
    *,
    immediate: bool = False,
) -> Jobs:
    """The index's jobs on the configured queue; the store (migrated) and the refresher
    are made when the first job runs, with the portal ``portal()`` returns."""
    settings = index_settings(config)

    def make_runtime() -> Runtime:
        store = open_store(config)
        store.upgrade()
        policy = config.section(CITIZEN)
        return Runtime(Refresher(portal(), store, record, policy, settings), settings)

    return Jobs(
        make_huey(worker_settings(config), immediate=immediate),
        worker_settings(config),
        make_runtime,
    )
