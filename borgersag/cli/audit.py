"""``borgersag audit …``: operate the audit log from a shell or cron.

``borgersag audit init``
    create the tables and append-only triggers, the key files that are missing, and set
    the retention policy the database enforces (idempotent; run it as the schema owner).
``borgersag audit verify [--head SEQ:HASH]``
    check the keyed hash chain, time order, checkpoints and the witnessed heads. Prints
    ``OK: …`` and exits 0, or one ``FEJL: …`` line per problem and exits 1. Meant for
    cron; the head it prints may be given to a later run with ``--head``.
``borgersag audit prune``
    remove whole days older than ``[audit] retention_days`` behind a signed checkpoint.
``borgersag audit show --last N``
    print the newest rows, CPR numbers masked.

Exit codes: 0 fine, 1 the chain is broken (nothing was removed by ``prune``), 3 the
audit database could not be used. A configuration error is the caller's (exit 2).
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

from borgersag.audit import (
    AUDIT,
    AuditChainBroken,
    AuditLog,
    AuditRecord,
    AuditSettings,
    AuditUnavailable,
    ExpectedHead,
    PruneRefused,
    mask_subject,
    retention_cutoff,
)
from borgersag.audit.section import url_from_settings

__all__ = ["EXIT_BROKEN", "EXIT_UNAVAILABLE", "add_audit_commands"]

EXIT_BROKEN = 1
EXIT_UNAVAILABLE = 3

LoadConfig = Callable[[argparse.Namespace], Any]

# Free text (purpose, detail) is typed by people and might hold a CPR number.
_CPR_RE = re.compile(r"\b(\d{6})-?\d{4}\b")
_HEAD_RE = re.compile(r"(\d{1,18}):([0-9a-f]{64})")


def _head(value: str) -> ExpectedHead:
    match = _HEAD_RE.fullmatch(value.strip().lower())
    if match is None:
        raise argparse.ArgumentTypeError("SEQ:HASH, e.g. 1234:9b1e… (64 hex digits)")
    return ExpectedHead(int(match[1]), match[2], f"the head given with --head {match[1]}:…")


def add_audit_commands(subparsers: Any, load_config: LoadConfig) -> argparse.ArgumentParser:
    """Add ``audit init|verify|prune|show`` to ``subparsers`` (from ``add_subparsers``).

    ``load_config(args)`` returns the config; its ``audit`` attribute holds the validated
    ``[audit]`` settings. Each action gets ``--config`` and sets ``args.handler``, which
    returns the exit code. ``--config`` is on the actions, not on ``audit`` itself: an
    option on both levels would be reset by argparse's sub-parser defaults.
    """
    audit = subparsers.add_parser(
        "audit",
        help="Check, prune and show the audit log.",
        description="Check, prune and show the audit log (see docs/audit.md).",
    )
    actions = audit.add_subparsers(dest="audit_command", metavar="ACTION", required=True)

    def add(name: str, handler: Callable[..., int], help: str) -> argparse.ArgumentParser:
        action = actions.add_parser(name, help=help, description=help)
        action.add_argument(
            "--config",
            type=Path,
            default=None,
            help="directory of *.toml files (default: the shipped demo config)",
        )
        action.set_defaults(handler=partial(handler, load_config=load_config))
        return action

    add("init", _init, "Create the audit tables and triggers (idempotent).")
    verify = add("verify", _verify, "Check the log; name every problem found.")
    verify.add_argument(
        "--head",
        type=_head,
        action="append",
        default=[],
        metavar="SEQ:HASH",
        help="a head printed by an earlier run: the chain must still reach it (repeatable)",
    )
    add("prune", _prune, "Remove days older than [audit] retention_days behind a checkpoint.")
    show = add("show", _show, "Print the newest rows (CPR numbers masked).")
    show.add_argument("--last", type=int, default=20, metavar="N", help="how many (default 20)")
    return audit


def _open(
    args: argparse.Namespace,
    load_config: LoadConfig,
    *,
    create_keys: bool = False,
    keys: bool = True,
) -> tuple[AuditLog, AuditSettings]:
    """The configured log; with ``keys`` (all but ``show``) its key files and witness."""
    config = load_config(args)
    settings = config.section(AUDIT)
    if not keys:
        return AuditLog(url_from_settings(settings)), settings
    has_table = getattr(config, "has_table", None)
    sandbox = bool(has_table and has_table("sandbox"))
    log = AuditLog.from_settings(settings, sandbox=sandbox, create_keys=create_keys)
    return log, settings


def _unavailable(exc: AuditUnavailable) -> int:
    print(f"FEJL: {exc}", file=sys.stderr)
    return EXIT_UNAVAILABLE


def _init(args: argparse.Namespace, *, load_config: LoadConfig) -> int:
    try:
        log, settings = _open(args, load_config, create_keys=True)
        with log:
            log.create_schema(write_policy=True)
            log.sign_head()
    except AuditUnavailable as exc:
        return _unavailable(exc)
    kept = f"{settings.retention_days} days" if settings.retention_days else "every row"
    print(f"OK: the audit log is ready ({log.backend}); the database keeps {kept}")
    return 0


def _verify(args: argparse.Namespace, *, load_config: LoadConfig) -> int:
    try:
        log, _ = _open(args, load_config)
        with log:
            result = log.verify(args.head)
    except AuditUnavailable as exc:
        return _unavailable(exc)
    if not result.ok:
        for line in result.report():
            print(f"FEJL: {line}")
        print(
            f"  {result.rows} rows read from {result.anchor}, {result.checked} intact before"
            f" the first problem; the log ends at row {result.head_seq}"
        )
        return EXIT_BROKEN
    print(
        f"OK: {result.checked} rows, chain intact from {result.anchor};"
        f" head: row {result.head_seq}, hash {result.head_hash}"
    )
    return 0


def _prune(args: argparse.Namespace, *, load_config: LoadConfig) -> int:
    try:
        log, settings = _open(args, load_config)
        days = settings.retention_days
        cutoff = retention_cutoff(days)
        if cutoff is None:
            log.close()
            print("Retention is off ([audit] retention_days = 0): nothing removed.")
            return 0
        with log:
            removed = log.prune(cutoff)
    except AuditUnavailable as exc:
        return _unavailable(exc)
    except PruneRefused as exc:
        print(f"FEJL: {exc}. Nothing was removed.")
        return EXIT_BROKEN
    except AuditChainBroken as exc:
        print(f"FEJL: {exc.result.problem}")
        print("  Nothing was removed: the rows are kept as evidence. Run 'borgersag audit verify'.")
        return EXIT_BROKEN
    print(
        f"Removed {removed} rows recorded before {cutoff:%Y-%m-%d %H:%M} UTC"
        f" (retention_days = {days})."
    )
    return 0


def _show(args: argparse.Namespace, *, load_config: LoadConfig) -> int:
    try:
        log, _ = _open(args, load_config, keys=False)  # reading needs no key
        with log:
            records = log.recent(args.last)
    except AuditUnavailable as exc:
        return _unavailable(exc)
    for record in reversed(records):
        print(format_record(record))
    if not records:
        print("(no rows)")
    return 0


def _safe(text: str) -> str:
    return _CPR_RE.sub(r"\1-xxxx", text)


def format_record(record: AuditRecord) -> str:
    """One line for a terminal: no CPR number, no names."""
    event = record.event
    at = event.at.strftime("%Y-%m-%d %H:%M:%S") + "Z" if event.at else "-"
    actor = f"{event.actor_type}:{event.actor_id or '-'}"
    if event.actor_unit:
        actor += f" ({event.actor_unit})"
    parts = [f"{record.seq:>7}", at, f"{event.kind.value:<9}", actor, mask_subject(event.subject)]
    if event.purpose:
        parts.append(f"purpose={_safe(event.purpose)!r}")
    if event.sources:
        parts.append("sources=" + ",".join(f"{name}:{outcome}" for name, outcome in event.sources))
    if event.case_ids:
        parts.append(f"cases={len(event.case_ids)}")
    if event.detail:
        parts.append(f"detail={_safe(event.detail)!r}")
    if event.request_id:
        parts.append(f"request={event.request_id}")
    return "  ".join(parts)
