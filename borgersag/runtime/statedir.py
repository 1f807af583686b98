"""The private folder for the embedded defaults' files (session store, audit log).

Without configured paths, borgersag keeps its SQLite files in the folder named by the
environment variable ``BORGERSAG_STATE_DIR``, or else in ``<tempdir>/borgersag-<uid>/``.
Whoever controls that folder could read sessions or
rewrite the audit log, so a folder another user could have planted — not ours, a
symlink, or open to others — is refused rather than used.
"""

from __future__ import annotations

import os
import stat
import tempfile
from pathlib import Path

__all__ = ["STATE_DIR_ENV", "NotPrivate", "private_state_dir"]

STATE_DIR_ENV = "BORGERSAG_STATE_DIR"


class NotPrivate(OSError):
    """The folder cannot be created or is not private to this user; says which and why."""


def private_state_dir() -> Path:
    """``$BORGERSAG_STATE_DIR`` or ``<tempdir>/borgersag-<uid>``, created with mode 0700
    if missing, checked if not."""
    uid = os.getuid() if hasattr(os, "getuid") else 0
    named = os.environ.get(STATE_DIR_ENV, "").strip()
    folder = Path(named) if named else Path(tempfile.gettempdir()) / f"borgersag-{uid}"
    try:
        folder.mkdir(mode=0o700, exist_ok=True)
        info = os.lstat(folder)
    except OSError as exc:
        raise NotPrivate(f"The folder {folder} cannot be created ({exc.strerror})") from None
    mine = not hasattr(os, "getuid") or info.st_uid == uid
    if not stat.S_ISDIR(info.st_mode) or not mine or info.st_mode & 0o077:
        raise NotPrivate(
            f"The folder {folder} is not a private folder of this user (it must be a"
            " directory owned by the portal's user with mode 0700); remove it"
        )
    return folder
