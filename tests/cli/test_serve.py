"""``borgersag serve``: gunicorn's control socket is per instance or off, and several
workers share one metrics folder of their instance's own."""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from borgersag.cli.main import METRICS_DIR_ENV, gunicorn_app, gunicorn_settings, prepare_metrics_dir

REPO = Path(__file__).resolve().parent.parent.parent


@pytest.fixture
def state(state_dir):
    """The private state folder ``serve`` uses (this test run's, see ``state_dir``)."""
    from borgersag.runtime.statedir import private_state_dir

    assert private_state_dir() == state_dir
    return state_dir


def serve_args(bind: str, *, control_socket: bool = False, workers: int = 1):
    return argparse.Namespace(
        bind=bind, workers=workers, threads=4, control_socket=control_socket, config=None
    )


def test_the_control_socket_is_off_unless_asked_for(state):
    settings = gunicorn_settings(serve_args("127.0.0.1:8000"), state)
    assert settings["control_socket_disable"] is True and "control_socket" not in settings
    cfg = gunicorn_app(settings, None).cfg
    assert cfg.control_socket_disable is True


def test_two_instances_get_two_control_sockets_in_the_private_folder(state):
    one = gunicorn_settings(serve_args("127.0.0.1:8000", control_socket=True), state)
    two = gunicorn_settings(serve_args("127.0.0.1:8001", control_socket=True), state)
    assert one["control_socket"] != two["control_socket"]
    for settings in (one, two):
        path = Path(settings["control_socket"])
        assert path.parent == state and path.name.endswith(".ctl")
        cfg = gunicorn_app(settings, None).cfg
        assert cfg.control_socket == str(path) and not cfg.control_socket_disable
        assert cfg.control_socket_mode == 0o600
    home = Path.home() / ".gunicorn" / "gunicorn.ctl"
    assert str(home) not in (one["control_socket"], two["control_socket"])


def test_several_workers_get_an_empty_metrics_folder_of_their_instance(state, monkeypatch):
    # set, then removed: the monkeypatch then removes what prepare_metrics_dir sets, so
    # later tests in this process do not read metrics from a folder that is gone
    monkeypatch.setenv(METRICS_DIR_ENV, "")
    monkeypatch.delenv(METRICS_DIR_ENV)
    assert prepare_metrics_dir(state, "127.0.0.1:8000", 1) is None
    assert METRICS_DIR_ENV not in os.environ
    folder = prepare_metrics_dir(state, "127.0.0.1:8000", 4)
    assert folder.parent == state and os.environ[METRICS_DIR_ENV] == str(folder)
    (folder / "counter_123.db").write_bytes(b"old run")
    assert prepare_metrics_dir(state, "127.0.0.1:8000", 4) == folder
    assert list(folder.iterdir()) == []  # an earlier run's counts are not added on
    assert prepare_metrics_dir(state, "127.0.0.1:8001", 4) != folder


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.slow
def test_two_real_instances_run_side_by_side_with_their_own_sockets(tmp_path, state):
    config = tmp_path / "config"
    config.mkdir()
    for name in ("portal.toml", "sources.toml"):
        shutil.copy(REPO / "config" / name, config / name)
    (config / "metrics.toml").write_text("[metrics]\nenabled = true\n")
    ports = [_free_port(), _free_port()]

    def serve(port: int) -> subprocess.Popen:
        command = ["serve", "--config", str(config), "--bind", f"127.0.0.1:{port}"]
        command += ["--workers", "2", "--threads", "2", "--control-socket"]
        return subprocess.Popen(
            [sys.executable, "-m", "borgersag.cli.main", *command],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

    procs = [serve(port) for port in ports]
    try:
        for port in ports:
            _wait_until_alive(port)
        sockets = {state / f"gunicorn-127.0.0.1-{port}.ctl" for port in ports}
        # gunicorn opens its control socket in a thread of its own, maybe after the
        # workers already answer
        until = time.monotonic() + 30
        while not all(path.is_socket() for path in sockets) and time.monotonic() < until:
            time.sleep(0.2)
        assert len(sockets) == 2 and all(path.is_socket() for path in sockets)
        for port in ports:
            scrape = requests.get(f"http://127.0.0.1:{port}/metrics", timeout=5)
            # the workers' numbers, read from the instance's multiprocess folder
            assert scrape.status_code == 200 and "borgersag_source_breaker_open" in scrape.text
            assert (state / f"metrics-127.0.0.1-{port}").is_dir()
    finally:
        for proc in procs:
            proc.send_signal(signal.SIGTERM)
        for proc in procs:
            proc.wait(timeout=30)


def _wait_until_alive(port: int) -> None:
    until = time.monotonic() + 60  # a loaded CI machine boots gunicorn workers slowly
    while time.monotonic() < until:
        try:
            if requests.get(f"http://127.0.0.1:{port}/healthz", timeout=5).status_code == 200:
                return
        except (requests.ConnectionError, requests.Timeout):
            pass
        time.sleep(0.2)
    raise AssertionError(f"borgersag serve on port {port} did not come up")


def test_serve_outside_the_sandbox_without_host_names_stops_with_one_line(tmp_path, capsys):
    from borgersag.cli.main import main

    (tmp_path / "portal.toml").write_text(
        "[portal]\nsecret_key = 'x'\n[auth.caseworker]\nissuer = 'https://login.kommune.test'"
        "\nclient_id = 'c'\nclient_secret = 's'\n"
    )
    assert main(["serve", "--config", str(tmp_path), "--bind", "127.0.0.1:1"]) == 2
    error = capsys.readouterr().err.strip()
    assert "\n" not in error and "portal.trusted_hosts" in error and "public_url" in error
