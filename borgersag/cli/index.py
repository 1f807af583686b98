"""``borgersag worker`` and ``borgersag index upgrade|subscribe|unsubscribe|refresh|status``.

The worker is a huey consumer on ``[worker] queue``: it migrates the index first, then
runs the index's jobs (refreshes after logins, the periodic refresh, the nightly prune)
and, with ``[notify] enabled``, the senders' delivery job, with ``[worker] threads``
threads until SIGINT or SIGTERM, finishing the jobs it holds.
``borgersag demo`` starts the same consumer inside its own process (:func:`start_worker`).

CPR numbers for ``subscribe`` and ``unsubscribe`` are read from standard input, one a
line, never from the command line (where ``ps`` and the shell history would keep them).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from borgersag.config.loader import Config
from borgersag.domain.keys import InvalidKey, parse_key
from borgersag.index.schema import current_revision, head_revision
from borgersag.index.service import build_jobs, index_settings, open_store, worker_settings
from borgersag.notify.service import attach_delivery
from borgersag.sdk.errors import ConfigError

if TYPE_CHECKING:
    from borgersag.audit import AuditLog
    from borgersag.index.queue import Jobs
    from borgersag.lookup.portal import Portal

__all__ = ["Worker", "add_index_commands", "start_worker"]

LoadConfig = Callable[[argparse.Namespace], Config]


class Worker:
    """The index's jobs with the portal and audit log they need, built for a process of
    their own (``borgersag worker``) or beside a running portal (``borgersag demo``)."""

    def __init__(self, config: Config, portal: Portal | None = None, audit: AuditLog | None = None):
        # Imported here: the parser is built before `serve` sets prometheus-client's
        # multiprocess folder, and the web layer imports prometheus-client.
        from borgersag.audit import AUDIT, AuditLog
        from borgersag.lookup.portal import Portal
        from borgersag.web.sections import SESSIONS
        from borgersag.web.session_stores import shared_state

        self.config = config
        self._own_portal = portal is None
        self._state = shared_state(config.section(SESSIONS))
        self.portal = portal or Portal.from_config(config, breaker_store=self._state)
        self._own_audit = audit is None
        if audit is None:
            audit = AuditLog.from_settings(
                config.section(AUDIT), sandbox=config.has_table("sandbox")
            )
            audit.create_schema()
        self.audit = audit
        self.jobs: Jobs = build_jobs(config, lambda: self.portal, self.audit.record)
        self.delivery = attach_delivery(self.jobs, config, self._state)
        self.consumer: Any = None

    def upgrade(self) -> None:
        """Migrate the index (every worker does at start)."""
        store = open_store(self.config)
        try:
            store.upgrade()
        finally:
            store.close()

    def consumer_for(self) -> Any:
        """A huey consumer of the jobs, with threads as ``[worker]`` says."""
        from huey.consumer import Consumer

        threads = worker_settings(self.config).threads
        self.consumer = Consumer(self.jobs.huey, workers=threads, worker_type="thread")
        return self.consumer

    def close(self) -> None:
        """Close what this worker opened."""
        if self._own_audit:
            self.audit.close()
        if self._own_portal:
            self.portal.close()
        self._state.close()


def start_worker(config: Config, portal: Portal, audit: AuditLog) -> Worker | None:
    """The demo's worker: a consumer in this process's threads beside ``portal`` and its
    audit log, or ``None`` when ``[index] enabled`` is off. Stop it with
    :func:`stop_worker`."""
    if not index_settings(config).enabled:
        return None
    worker = Worker(config, portal, audit)
    worker.upgrade()
    worker.consumer_for().start()
    return worker


def stop_worker(worker: Worker | None) -> None:
    """Stop the demo's consumer, letting running jobs finish (a job cut short is retried
    at the next start: jobs are idempotent)."""
    if worker is None:
        return
    worker.consumer.stop(graceful=True)
    worker.close()


def add_index_commands(subparsers: Any, load_config: LoadConfig) -> None:
    """Add ``worker`` and ``index ACTION`` to the ``borgersag`` command."""

    def config_option(parser: argparse.ArgumentParser) -> None:
        parser.add_argument(
            "--config",
            type=Path,
            default=None,
            help="directory of *.toml files (default: the shipped demo config)",
        )

    worker = subparsers.add_parser(
        "worker",
        help="Run the background worker (case index refreshes) on [worker] queue.",
        description="Run the background worker (case index refreshes) on [worker] queue.",
    )
    config_option(worker)
    worker.set_defaults(handler=partial(_worker, load_config=load_config))

    index = subparsers.add_parser(
        "index",
        help="Migrate the case index, subscribe citizens, refresh, show counts.",
        description="Migrate the case index, subscribe citizens, refresh, show counts"
        " (see docs/notifications.md).",
    )
    actions = index.add_subparsers(dest="index_command", metavar="ACTION", required=True)

    def add(name: str, handler: Callable[..., int], help: str) -> argparse.ArgumentParser:
        action = actions.add_parser(name, help=help, description=help)
        config_option(action)
        action.set_defaults(handler=partial(handler, load_config=load_config))
        return action

    add("upgrade", _upgrade, "Run the index's migrations up to the newest (idempotent).")
    add("subscribe", _subscribe, "Subscribe the CPR numbers read from standard input.")
    add("unsubscribe", _unsubscribe, "Unsubscribe the CPR numbers read from standard input.")
    add("refresh", _refresh, "Enqueue a refresh of every subscriber now.")
    add(
        "status",
        _status,
        "Show the migration, subscribers, cases, notifications and each source's last refresh.",
    )


def _worker(args: argparse.Namespace, *, load_config: LoadConfig) -> int:
    config = load_config(args)
    if not index_settings(config).enabled:
        raise ConfigError(config.files[0], "index.enabled", "true for a worker to have work")
    worker = Worker(config)
    worker.upgrade()
    try:
        worker.consumer_for().run()  # until SIGINT/SIGTERM; running jobs finish first
    finally:
        worker.close()
    return 0


def _upgrade(args: argparse.Namespace, *, load_config: LoadConfig) -> int:
    store = open_store(load_config(args))
    try:
        store.upgrade()
        print(f"OK: the case index is at migration {current_revision(store.engine)}")
    finally:
        store.close()
    return 0


def _cprs() -> list[str] | None:
    found = []
    for number, line in enumerate(sys.stdin, start=1):
        if not line.strip():
            continue
        try:
            found.append(parse_key("cpr", line.strip()).value)
        except InvalidKey as exc:
            print(f"FEJL: linje {number}: {exc}", file=sys.stderr)
            return None
    return found


def _subscribe(args: argparse.Namespace, *, load_config: LoadConfig) -> int:
    cprs = _cprs()
    if cprs is None:
        return 2
    store = open_store(load_config(args))
    try:
        store.upgrade()
        for cpr in cprs:
            store.subscribe(cpr)
    finally:
        store.close()
    print(f"OK: {len(cprs)} subscribed")
    return 0


def _unsubscribe(args: argparse.Namespace, *, load_config: LoadConfig) -> int:
    cprs = _cprs()
    if cprs is None:
        return 2
    store = open_store(load_config(args))
    try:
        store.upgrade()
        gone = sum(store.unsubscribe(cpr) for cpr in cprs)
    finally:
        store.close()
    print(f"OK: {gone} unsubscribed")
    return 0


def _refresh(args: argparse.Namespace, *, load_config: LoadConfig) -> int:
    config = load_config(args)
    worker = Worker(config)
    try:
        ids = worker.jobs.runtime().refresher.store.subscriber_ids()
        for subscriber_id in ids:
            worker.jobs.refresh(subscriber_id, "manuel")
    finally:
        worker.close()
    print(f"OK: {len(ids)} refreshes enqueued")
    return 0


def _status(args: argparse.Namespace, *, load_config: LoadConfig) -> int:
    store = open_store(load_config(args))
    try:
        at = current_revision(store.engine)
        print(f"migration: {at or 'none'} (newest {head_revision()})")
        if at is not None:
            for name, count in sorted(store.counts().items()):
                print(f"{name}: {count}")
            for source, (at, fresh, other) in store.sources_seen().items():
                print(
                    f"source {source}: last asked {at:%Y-%m-%d %H:%M} UTC;"
                    f" answered for {fresh} subscriber(s), not for {other}"
                )
    finally:
        store.close()
    return 0
