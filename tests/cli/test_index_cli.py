"""``borgersag index``: migrations, subscribing from standard input (never the command
line), counts; and ``borgersag worker`` refuses to run with the index off."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

import borgersag.index
from borgersag.cli.main import main


@pytest.fixture
def config_dir(tmp_path):
    folder = tmp_path / "config"
    folder.mkdir()
    (folder / "portal.toml").write_text(
        "[portal]\nsecret_key = 'cli-test-" + "s" * 32 + "'\n"
        f"[index]\nenabled = true\nurl = 'sqlite:///{tmp_path / 'index.sqlite3'}'\n",
        encoding="utf-8",
    )
    return folder


def run(monkeypatch, capsys, *argv, stdin: str = "") -> tuple[int, str, str]:
    monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


# the newest migration shipped: `index upgrade` brings an empty index to it
NEWEST_MIGRATION = max(
    p.name[:4]
    for p in (Path(borgersag.index.__file__).parent / "migrations" / "versions").glob("0*.py")
)


def test_upgrade_subscribe_unsubscribe_and_status(config_dir, monkeypatch, capsys):
    cfg = ("--config", str(config_dir))
    assert run(monkeypatch, capsys, "index", "status", *cfg)[1].startswith("migration: none")
    code, out, _ = run(monkeypatch, capsys, "index", "upgrade", *cfg)
    assert code == 0 and f"migration {NEWEST_MIGRATION}" in out
    code, out, _ = run(
        monkeypatch, capsys, "index", "subscribe", *cfg, stdin="010101-1234\n\n0202021234\n"
    )
    assert (code, out.strip()) == (0, "OK: 2 subscribed")
    code, out, _ = run(monkeypatch, capsys, "index", "unsubscribe", *cfg, stdin="0101011234\n")
    assert (code, out.strip()) == (0, "OK: 1 unsubscribed")
    status = run(monkeypatch, capsys, "index", "status", *cfg)[1]
    assert f"migration: {NEWEST_MIGRATION} (newest {NEWEST_MIGRATION})" in status
    assert "subscribers: 1" in status


def test_a_bad_line_stops_subscribing_without_repeating_it(config_dir, monkeypatch, capsys):
    code, out, err = run(
        monkeypatch, capsys, "index", "subscribe", "--config", str(config_dir), stdin="3102021234\n"
    )
    assert code == 2 and "linje 1" in err and "3102021234" not in err + out


def test_the_worker_refuses_to_run_with_the_index_off(tmp_path, monkeypatch, capsys):
    folder = tmp_path / "off"
    folder.mkdir()
    (folder / "portal.toml").write_text("[index]\nenabled = false\n", encoding="utf-8")
    code, _, err = run(monkeypatch, capsys, "worker", "--config", str(folder))
    assert code == 2 and "index.enabled" in err
