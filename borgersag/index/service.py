"""The case index built from a config: its store, the refresher and the jobs.

The composition roots (the web app for the login hook, ``borgersag worker`` and
``borgersag demo``) call these with the portal and audit log they already have, so a
refresh asks the sources through the same engine, breakers and audit chain.
"""

from __future__ import annotations

from collections.abc import Callable

from borgersag.audit import AuditEvent
from borgersag.audit.keys import create_key_file, read_key_file
from borgersag.config.loader import Config
from borgersag.index.queue import Jobs, Runtime, make_huey
from borgersag.index.refresh import Refresher
from borgersag.index.sealing import CprSeal
from borgersag.index.section import INDEX, WORKER, IndexSettings, WorkerSettings, index_url
from borgersag.index.store import IndexStore
from borgersag.lookup.portal import Portal
from borgersag.people.sections import CITIZEN
from borgersag.runtime.statedir import private_state_dir

__all__ = ["build_jobs", "index_settings", "open_store", "worker_settings"]


def index_settings(config: Config) -> IndexSettings:
    """``[index]`` (its defaults, index off, for a config built without the section)."""
    return config.section(INDEX) if "index" in config.sections else IndexSettings()


def worker_settings(config: Config) -> WorkerSettings:
    """``[worker]`` (its defaults for a config built without the section)."""
    return config.section(WORKER) if "worker" in config.sections else WorkerSettings()


SANDBOX_SEAL_KEY_NAME = "index-seal.key"


def seal_key(config: Config, settings: IndexSettings) -> str:
    """What seals subscribers' CPR numbers: ``[index] key``, else, in the sandbox, a key
    file kept in the private state folder (so the demo's index, also kept there, still
    opens after a restart, when the demo's random ``portal.secret_key`` is a new one),
    else ``portal.secret_key``."""
    if settings.key:
        return settings.key
    if config.has_table("sandbox"):
        path = private_state_dir() / SANDBOX_SEAL_KEY_NAME
        create_key_file(path)
        return read_key_file(path).hex()
    return config.portal.secret_key


def open_store(config: Config) -> IndexStore:
    """The index database of ``config`` (not migrated: see :meth:`IndexStore.upgrade`)."""
    settings = index_settings(config)
    return IndexStore.open(index_url(settings), CprSeal(seal_key(config, settings)))


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
