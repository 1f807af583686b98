"""The private state folder: named by BORGERSAG_STATE_DIR or in the temp folder; private."""

from __future__ import annotations

import stat

import pytest

from borgersag.runtime.statedir import STATE_DIR_ENV, NotPrivate, private_state_dir


def test_the_environment_names_the_state_folder_and_it_is_made_private(tmp_path, monkeypatch):
    monkeypatch.setenv(STATE_DIR_ENV, str(tmp_path / "state"))
    folder = private_state_dir()
    assert folder == tmp_path / "state"
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700


def test_a_named_folder_open_to_others_is_refused_with_the_reason(tmp_path, monkeypatch):
    open_folder = tmp_path / "open"
    open_folder.mkdir()
    open_folder.chmod(0o755)
    monkeypatch.setenv(STATE_DIR_ENV, str(open_folder))
    with pytest.raises(NotPrivate, match="not a private folder"):
        private_state_dir()
