"""``borgersag connectors``: what is installed, whether it answers, and a new one.

``list``
    the installed connector types (entry-point group ``borgersag.connectors``) and the
    configured instances;
``check``
    every configured, enabled instance's health check at once, as a table; exit 1 when
    one fails;
``new NAME``
    a separate connector package to start from (see :mod:`borgersag.cli.scaffold`).
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from borgersag.config.loader import Config
from borgersag.sdk.errors import ConfigError, SourceError

__all__ = ["add_connector_commands"]

LoadConfig = Callable[[argparse.Namespace], Config]


def add_connector_commands(subparsers: Any, load_config: LoadConfig) -> None:
    """Add ``connectors list|check|new`` to the ``borgersag`` command."""
    top = subparsers.add_parser(
        "connectors",
        help="List, check and create connectors.",
        description="List installed connector types and configured sources, check them, or"
        " create a new connector package.",
    )
    actions = top.add_subparsers(dest="action", metavar="ACTION", required=True)

    def action(name: str, handler, help: str) -> argparse.ArgumentParser:
        sub = actions.add_parser(name, help=help, description=help)
        sub.add_argument("--config", type=Path, default=None, help="config directory")
        sub.set_defaults(handler=lambda args: handler(args, load_config))
        return sub

    action("list", _list, "Installed connector types and configured sources.")
    action("check", _check, "Call every enabled source's health check; a table of results.")
    new = action("new", _new, "Create a new connector package in the current folder.")
    new.add_argument("name", help="the connector type's name, e.g. 'affald' (a-z, 0-9, _)")
    new.add_argument(
        "--dir", type=Path, default=Path("."), help="where to create the package folder"
    )


def _list(args: argparse.Namespace, load_config: LoadConfig) -> int:
    from borgersag.lookup.registry import connector_types

    print("Installed connector types:")
    for name, cls in sorted(connector_types().items()):
        kinds = ", ".join(sorted(k.value for k in cls.key_kinds | cls.relation_kinds)) or "-"
        where = f"{cls.__module__}.{cls.__name__}"
        print(f"  {name:<18} {where:<52} keys: {kinds}")
    config = load_config(args)
    print(f"Configured sources ({', '.join(config.files) or 'no files'}):")
    if not config.sources:
        print("  (none)")
    for source in config.sources:
        state = "on" if source.enabled else "off"
        print(f"  {source.name:<18} type {source.type:<14} {state:<4} {source.title}")
    return 0


def _health(connector) -> tuple[bool, str, float]:
    started = time.monotonic()
    try:
        text = connector.health()
        ok = True
    except SourceError as exc:
        text, ok = str(exc), False
    except Exception as exc:  # a connector is third-party code
        text, ok = f"{type(exc).__name__} in the connector", False
    return ok, text or "svarer", (time.monotonic() - started) * 1000


def _check(args: argparse.Namespace, load_config: LoadConfig) -> int:
    from borgersag.lookup.registry import build_sources

    config = load_config(args)
    sources = build_sources(config)
    enabled = [s for s in config.sources if s.enabled]
    if not enabled:
        print("No enabled sources in the configuration.")
        return 0
    with ThreadPoolExecutor(max_workers=len(enabled)) as pool:
        results = dict(
            zip(
                [s.name for s in enabled],
                pool.map(lambda s: _health(sources[s.name]), enabled),
                strict=True,
            )
        )
    print(f"{'SOURCE':<18} {'TYPE':<14} {'RESULT':<6} {'TIME':>8}  MESSAGE")
    failed = 0
    for source in config.sources:
        if not source.enabled:
            print(f"{source.name:<18} {source.type:<14} {'off':<6} {'':>8}  switched off in config")
            continue
        ok, text, ms = results[source.name]
        failed += not ok
        print(
            f"{source.name:<18} {source.type:<14} {'OK' if ok else 'FEJL':<6} {ms:>6.0f}ms  {text}"
        )
    for connector in sources.values():
        connector.http.close()
    return 1 if failed else 0


def _new(args: argparse.Namespace, load_config: LoadConfig) -> int:
    from borgersag.cli.scaffold import create_package

    try:
        folder = create_package(args.name, args.dir)
    except ValueError as exc:
        raise ConfigError("borgersag connectors new", "NAME", str(exc)) from None
    print(f"Created {folder}")
    print("Next:")
    print(f"  pip install -e {folder}          # registers the type '{args.name}'")
    print(f"  cd {folder} && python -m pytest   # its conformance tests")
    print(f'  add [sources.<name>] with type = "{args.name}" to your config')
    return 0
