"""The portal killed with SIGKILL in the middle of a burst of lookups loses no audit row.

The real thing: ``borgersag serve`` (gunicorn, two worker processes sharing one SQLite
audit file) against the sandbox, a caseworker logged in through the sandbox identity
provider, eight threads posting lookups through the JSON API. After some answers have
arrived the whole process group is killed. Every lookup the client got a 201 for (its
request id is in the answer's X-Request-ID) must have its audit row, exactly once, and
the hash chain must still verify.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests

from borgersag.sandbox.idp_people import demo_staff

from support.audit_db import audit_key_settings, keyed_log

pytestmark = pytest.mark.slow

ANSWERS_BEFORE_KILL = 40


def toml_value(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    return '"' + str(value).replace("\\", "\\\\").replace('"', '\\"') + '"'


def write_toml(path: Path, tables: dict[str, dict]) -> None:
    """A tiny TOML writer for flat tables (enough for a test config)."""
    lines = []
    for name, table in tables.items():
        lines.append(f"[{name}]")
        lines += [f"{key} = {toml_value(value)}" for key, value in table.items()]
        lines.append("")
    path.write_text("\n".join(lines), encoding="utf-8")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until_up(url: str, process: subprocess.Popen, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"the portal exited early:\n{process.stdout.read()}")
        try:
            if requests.get(f"{url}/log-ind", timeout=1).status_code == 200:
                return
        except requests.RequestException:
            time.sleep(0.2)
    raise AssertionError("the portal did not start in time")


def login(url: str, sandbox) -> requests.Session:
    """Log a caseworker in through the sandbox's municipal identity provider."""
    browser = requests.Session()
    started = browser.get(f"{url}/log-ind/medarbejder", allow_redirects=False, timeout=10)
    person = demo_staff(sandbox.municipality)[0]
    answer = requests.post(
        started.headers["Location"], data={"sub": person.sub}, allow_redirects=False, timeout=10
    )
    done = browser.get(answer.headers["Location"], allow_redirects=False, timeout=10)
    assert done.status_code == 303, done.status_code
    return browser


def test_sigkill_mid_burst_loses_no_audit_row(sandbox, tmp_path):
    audit_url = f"sqlite:///{tmp_path / 'audit.sqlite3'}"
    config = tmp_path / "config"
    config.mkdir()
    tables = {
        "portal": {
            "secret_key": "kill-test-secret",
            "cache_ttl_seconds": 0.0,
            "trusted_hosts": ["127.0.0.1"],  # outside the sandbox the Host must be named
        },
        "sessions": {"backend": "sqlite", "path": str(tmp_path / "sessions.sqlite3")},
        "audit": {"url": audit_url, **audit_key_settings(tmp_path / "keys")},
        "limits": {"lookups_per_minute": 0},
    }
    for login_name, table in sandbox.auth_config().items():
        tables[f"auth.{login_name}"] = table
    for name, table in sandbox.source_config().items():
        tables[f"sources.{name}"] = table
    write_toml(config / "portal.toml", tables)

    port = free_port()
    url = f"http://127.0.0.1:{port}"
    process = subprocess.Popen(
        [sys.executable, "-m", "borgersag.cli.main", "serve", "--config", str(config),
         "--bind", f"127.0.0.1:{port}", "--workers", "2", "--threads", "4"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
        env={**os.environ, "TMPDIR": str(tmp_path), "BORGERSAG_STATE_DIR": str(tmp_path / "state")},
    )  # fmt: skip
    try:
        wait_until_up(url, process)
        browser = login(url, sandbox)
        citizens = [c.cpr for c in sandbox.municipality.citizens[:50]]
        answered: list[str] = []
        lock = threading.Lock()
        killed = threading.Event()

        def lookup(i: int) -> None:
            try:
                response = browser.post(
                    f"{url}/api/v1/overviews",
                    json={"kind": "cpr", "value": citizens[i % len(citizens)]},
                    timeout=10,
                )
            except requests.RequestException:
                return  # cut off by the kill: the client never got an answer
            if response.status_code == 201:
                with lock:
                    # the server's id: the one its audit row carries
                    answered.append(response.headers["X-Request-ID"])
                    if len(answered) >= ANSWERS_BEFORE_KILL and not killed.is_set():
                        killed.set()
                        os.killpg(process.pid, signal.SIGKILL)

        with ThreadPoolExecutor(max_workers=8) as pool:
            list(pool.map(lookup, range(400)))
        assert killed.is_set(), f"only {len(answered)} lookups were answered before the end"
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)
        process.stdout.close()

    log = keyed_log(audit_url, tmp_path / "keys")  # the workers' keys and witness
    try:
        result = log.verify()
        assert result.ok, result.report()
        recorded = [r.event.request_id for r in log.recent(10_000)]
    finally:
        log.close()
    missing = [rid for rid in answered if rid not in recorded]
    assert not missing, f"{len(missing)} answered lookups have no audit row"
    assert all(recorded.count(rid) == 1 for rid in answered)
    assert len(answered) >= ANSWERS_BEFORE_KILL
