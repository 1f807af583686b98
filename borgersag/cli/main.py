"""The ``borgersag`` command.

``borgersag demo``
    the sandbox municipality and the portal in one process on loopback; prints the
    address to open and the demo identities to try.
``borgersag serve``
    the portal under gunicorn (gthread workers) for production.
``borgersag sandbox``
    only the sandbox municipality's services (for running the portal separately).
``borgersag sandbox-fault SERVICE``
    change a running sandbox service's fault knobs (latency, hang, 500, garbage).
``borgersag check-config``
    validate a config directory and list its sources.
``borgersag connectors list|check|new NAME``
    installed connector types and configured sources, their health checks, a new
    connector package to start from.
``borgersag audit verify|prune|show|init``
    check the audit log's hash chain, remove old days behind a checkpoint, show recent
    rows (CPR masked), create the tables.
``borgersag worker``
    the background worker: the case index's refreshes on ``[worker] queue`` (huey).
``borgersag index upgrade|subscribe|unsubscribe|refresh|status``
    migrate the case index, subscribe citizens (CPR numbers on standard input), enqueue
    refreshes, show counts.

A configuration error stops any of them with one line: file, key, what was expected.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import re
import shutil
import signal
import sys
import threading
from pathlib import Path

from borgersag.config.loader import Config, load_config
from borgersag.domain.keys import parse_key
from borgersag.runtime.memory import DEFAULT_ARENAS, limit_malloc_arenas
from borgersag.sandbox.section import SERVICE_NAMES
from borgersag.sdk.errors import ConfigError

__all__ = ["gunicorn_app", "gunicorn_settings", "main", "prepare_metrics_dir"]

log = logging.getLogger(__name__)

METRICS_DIR_ENV = "PROMETHEUS_MULTIPROC_DIR"  # prometheus-client's own name


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``borgersag`` console script."""
    parser = _parser()
    args = parser.parse_args(argv)
    if not getattr(args, "command", None):
        parser.print_help()
        return 2
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    try:
        return args.handler(args)
    except ConfigError as exc:
        print(f"borgersag: configuration error: {exc}", file=sys.stderr)
        return 2


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="borgersag", description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    def add(name: str, handler, help: str) -> argparse.ArgumentParser:
        sub = commands.add_parser(name, help=help, description=help)
        sub.set_defaults(handler=handler)
        sub.add_argument(
            "--config",
            type=Path,
            default=None,
            help="directory of *.toml files (default: the shipped demo config)",
        )
        return sub

    demo = add("demo", _demo, "Run the sandbox municipality and the portal on loopback.")
    demo.add_argument("--host", default="127.0.0.1", help="address to listen on")
    demo.add_argument("--port", type=int, default=8700, help="portal port (default 8700)")

    serve = add("serve", _serve, "Serve the portal with gunicorn (gthread workers).")
    serve.add_argument("--bind", default="127.0.0.1:8000", help="host:port to listen on")
    serve.add_argument(
        "--workers", type=int, default=1, help="worker processes (see docs/architecture.md, Scale)"
    )
    serve.add_argument("--threads", type=int, default=16, help="threads per worker")
    serve.add_argument(
        "--control-socket",
        action="store_true",
        help="open gunicorn's control socket (gunicornc), one per instance in the private"
        " state folder; off by default",
    )
    serve.add_argument(
        "--malloc-arenas",
        type=int,
        default=DEFAULT_ARENAS,
        metavar="N",
        help=f"glibc malloc arenas per process (default {DEFAULT_ARENAS}, keeps memory flat"
        " under many threads; 0 leaves glibc's default; MALLOC_ARENA_MAX wins)",
    )

    add("sandbox", _sandbox, "Run only the sandbox municipality's services.")

    fault = add("sandbox-fault", _sandbox_fault, "Set a running sandbox service's faults.")
    fault.add_argument("service", help=", ".join(SERVICE_NAMES))
    fault.add_argument("--latency-ms", type=int, help="added latency per request")
    fault.add_argument("--hang", action=argparse.BooleanOptionalAction, help="hang requests")
    fault.add_argument("--fail", choices=["500", "garbage", "none"], help="fail every request")
    fault.add_argument(
        "--hostile",
        action=argparse.BooleanOptionalAction,
        help="serve hostile data: nulls, impossible dates, markup, thousands of cases (esdh, zgw)",
    )

    add("check-config", _check_config, "Validate a config directory and list its sources.")

    from borgersag.cli.audit import add_audit_commands
    from borgersag.cli.connectors import add_connector_commands
    from borgersag.cli.index import add_index_commands

    add_audit_commands(commands, _load)
    add_connector_commands(commands, _load)
    add_index_commands(commands, _load)
    return parser


def _load(args) -> Config:
    return load_config(args.config)


def _check_config(args) -> int:
    from borgersag.lookup.registry import build_sources

    config = _load(args)
    sources = build_sources(config)
    print(f"config OK: {', '.join(config.files)}")
    for source in config.sources:
        connector = sources[source.name]
        kinds = ", ".join(sorted(k.value for k in connector.key_kinds | connector.relation_kinds))
        state = "on" if source.enabled else "off"
        print(f"  {source.name:<20} {source.type:<16} {state:<4} {kinds}")
    return 0


def _demo(args) -> int:
    from werkzeug.serving import make_server

    from borgersag.cli.index import start_worker, stop_worker
    from borgersag.sandbox.runner import start_sandbox
    from borgersag.sandbox.section import SANDBOX
    from borgersag.web import create_app

    config = _load(args)
    settings = config.section(SANDBOX)
    if settings is None:
        raise ConfigError(config.files[0], "sandbox", "a [sandbox] table for the demo")
    sandbox = start_sandbox(settings)
    worker = None
    try:
        app = create_app(config)
        server = make_server(args.host, args.port, app, threaded=True)
        # The background worker in this process's threads, on the same portal.
        worker = start_worker(
            config, app.extensions["borgersag"], app.extensions["borgersag.audit"]
        )
    except BaseException:
        stop_worker(worker)
        sandbox.stop()
        raise
    url = f"http://{args.host}:{args.port}/"
    _print_demo_banner(url, sandbox, config, args.config, worker is not None)
    _serve_until_signal(server)
    stop_worker(worker)
    app.extensions["borgersag"].close()
    sandbox.stop()
    return 0


def _print_demo_banner(
    url: str, sandbox, config: Config, config_dir: Path | None, worker_running: bool = False
) -> None:
    from borgersag.sandbox.idp_people import demo_citizens, demo_staff

    municipality = sandbox.municipality
    lines = [
        "",
        f"borgersag demo — {config.portal.municipality} (sandbox)",
        f"  Open {url}",
        "  Citizens: 'Log ind med MitID', then pick a test person on the MitID (sandkasse) page:",
    ]
    lines += [f"    {p.name:<28} {p.label}" for p in demo_citizens(municipality)]
    lines.append("  Staff: 'Log ind med kommunens login', then pick:")
    lines += [f"    {p.name:<28} {p.label}" for p in demo_staff(municipality)]
    lines.append("  Citizens a caseworker can look up (CPR-nummer, fictitious):")
    for label, person in _demo_people(municipality.demo):
        lines.append(f"    {label:<38} {person}")
    lines.append("  Sandbox services:")
    for service in SERVICE_NAMES:
        lines.append(f"    {service:<16} {sandbox.url(service)}")
    lines.append(f"    {'smtp (SMTP)':<16} {sandbox.smtp_port}  (mails sent: the smtp page above)")
    config_arg = f" --config {config_dir}" if config_dir else ""
    lines.append(
        f"  Make a service hang:  .venv/bin/borgersag sandbox-fault esdh{config_arg} --hang"
        "   (--no-hang to undo)"
    )
    if worker_running:
        lines.append(
            "  Background worker: on. A citizen's login subscribes them to the case index;"
            " changes go to its outbox (docs/notifications.md)."
        )
    lines.append("  Stop with Ctrl-C.")
    print("\n".join(lines), flush=True)


def _demo_people(demo) -> list[tuple[str, str]]:
    labels = {
        "typical": "Typisk borger (3 systemer, byggesag)",
        "coowner": "Medejer af en ejendom",
        "protected": "Navne- og adressebeskyttet",
        "heavy": "Borger med over 500 sager",
        "nothing": "Borger uden sager",
    }
    return [
        (label, parse_key("cpr", getattr(demo, name)).format()) for name, label in labels.items()
    ]


def _serve_until_signal(server) -> None:
    stop = threading.Event()

    def handle(signum, frame):
        stop.set()

    previous = {s: signal.signal(s, handle) for s in (signal.SIGINT, signal.SIGTERM)}
    thread = threading.Thread(target=server.serve_forever, name="portal", daemon=True)
    thread.start()
    try:
        stop.wait()
    finally:
        server.shutdown()
        for s, h in previous.items():
            signal.signal(s, h)


def _sandbox(args) -> int:
    from borgersag.sandbox.runner import start_sandbox
    from borgersag.sandbox.section import SANDBOX

    config = _load(args)
    settings = config.section(SANDBOX)
    if settings is None:
        raise ConfigError(config.files[0], "sandbox", "a [sandbox] table")
    sandbox = start_sandbox(settings)
    for service in SERVICE_NAMES:
        print(f"{service:<16} {sandbox.url(service)}", flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    stop.wait()
    sandbox.stop()
    return 0


def _sandbox_fault(args) -> int:
    import requests

    from borgersag.sandbox.section import SANDBOX

    config = _load(args)
    settings = config.section(SANDBOX)
    if settings is None:
        raise ConfigError(config.files[0], "sandbox", "a [sandbox] table")
    service = settings.services.get(args.service)
    if service is None:
        print(f"borgersag: unknown sandbox service {args.service!r}", file=sys.stderr)
        return 2
    change: dict[str, object] = {}
    if args.latency_ms is not None:
        change["latency_ms"] = args.latency_ms
    if args.hang is not None:
        change["hang"] = args.hang
    if args.fail is not None:
        change["fail"] = None if args.fail == "none" else args.fail
    if args.hostile is not None:
        change["hostile"] = args.hostile
    url = f"http://{settings.host}:{service.port}/_sandbox/faults"
    try:
        response = (
            requests.put(url, json=change, timeout=3) if change else requests.get(url, timeout=3)
        )
    except requests.ConnectionError:
        print(
            f"borgersag: no sandbox service answers at {url}; is the demo running?", file=sys.stderr
        )
        return 1
    print(json.dumps(response.json(), indent=2, ensure_ascii=False))
    return 0 if response.ok else 1


def _serve(args) -> int:
    from borgersag.runtime.statedir import private_state_dir

    state_dir = private_state_dir()
    # Before the config is loaded: loading it imports the web layer, and prometheus-client
    # picks its multiprocess mode when first imported.
    metrics_dir = prepare_metrics_dir(state_dir, args.bind, args.workers)
    config = _load(args)  # fail fast, in the master, with the one-line error
    from borgersag.web import trusted_hosts
    from borgersag.web.auditing import require_least_privilege

    trusted_hosts(config)  # outside the sandbox the host names are required: say so here
    require_least_privilege(config)  # and the audit log's role may not disable its guards
    settings = gunicorn_settings(args, state_dir)
    limit_malloc_arenas(args.malloc_arenas)  # in the master: the workers fork with it
    if metrics_dir is not None:
        settings["child_exit"] = _metrics_child_exit
    log.info(
        "serving %s on %s with %d worker(s); control socket %s",
        config.portal.municipality,
        args.bind,
        args.workers,
        settings.get("control_socket", "off"),
    )
    gunicorn_app(settings, args.config).run()
    return 0


def _instance_label(bind: str) -> str:
    """A file-name-safe name for the instance listening on ``bind``."""
    return re.sub(r"[^A-Za-z0-9.-]+", "-", bind).strip("-") or "default"


def gunicorn_settings(args, state_dir: Path) -> dict[str, object]:
    """The gunicorn settings ``borgersag serve`` runs with.

    gunicorn 23+ opens a control socket (``gunicornc``) at one path per user
    (``~/.gunicorn/gunicorn.ctl``), so a second instance on the machine would take over
    the first one's. Off unless ``--control-socket``; then one per instance (named after
    its bind address) in the private state folder, mode 0600.
    """
    settings: dict[str, object] = {
        "bind": args.bind,
        "workers": args.workers,
        "threads": args.threads,
        "worker_class": "gthread",
        "accesslog": None,
    }
    if args.control_socket:
        path = state_dir / f"gunicorn-{_instance_label(args.bind)}.ctl"
        if len(str(path)) > _UNIX_SOCKET_PATH_MAX:
            raise ConfigError(
                str(state_dir), "serve --control-socket", "a shorter BORGERSAG_STATE_DIR"
            )
        settings.update(control_socket=str(path), control_socket_mode=0o600)
    else:
        settings["control_socket_disable"] = True
    return settings


_UNIX_SOCKET_PATH_MAX = 100  # sun_path holds 108 bytes on Linux, 104 on macOS


def prepare_metrics_dir(state_dir: Path, bind: str, workers: int) -> Path | None:
    """With several workers, an empty ``PROMETHEUS_MULTIPROC_DIR`` of this instance's own
    in the private state folder, set for the workers to inherit; ``None`` with one."""
    if workers < 2:
        return None
    folder = state_dir / f"metrics-{_instance_label(bind)}"
    if folder.exists():
        shutil.rmtree(folder)  # counts from an earlier run would be added to this one's
    folder.mkdir(mode=0o700)
    os.environ[METRICS_DIR_ENV] = str(folder)
    return folder


def _metrics_child_exit(_server, worker) -> None:
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


def gunicorn_app(settings: dict[str, object], config_dir: Path | None):
    """A gunicorn application that builds the portal in each worker."""
    from gunicorn.app.base import BaseApplication

    class _App(BaseApplication):
        def load_config(self):
            for name, value in settings.items():
                self.cfg.set(name, value)

        def load(self):
            from borgersag.web import create_app

            return create_app(load_config(config_dir))

    return _App()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
