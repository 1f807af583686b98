"""Defence in depth for logs: anything shaped like a CPR number is masked.

The code never logs a CPR number on purpose (keys mask themselves in ``repr``, errors
name no values). This catches the mistakes: a library that logs a URL or a body, an
exception message, a future ``log.debug(value)``. It works at record creation, so every
logger and every handler — ours, Flask's, gunicorn's, urllib3's — gets masked text.

Ten digits, or six digits, a dash or space and four digits, whose first six form a real
date (DDMMYY) are masked to ``DDMMYY-xxxx``: the same form the pages use. The birth
date stays, so support can still tell two log lines apart; the serial number does not.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import re
import threading
from collections.abc import Iterator

__all__ = ["install", "mask_cpr", "suspended"]

_CPR_RE = re.compile(r"(?<![0-9])([0-3][0-9])([01][0-9])([0-9]{2})[- ]?([0-9]{4})(?![0-9])")
_lock = threading.Lock()
_original: object | None = None  # the record factory before install()
_suspended = 0  # > 0 inside suspended()


def _is_date(day: str, month: str, year: str) -> bool:
    try:
        dt.date(2000 + int(year), int(month), int(day))
    except ValueError:
        # 29 February in a year that is not a leap year in 2000+yy may still be a real
        # 19yy date; accept it rather than leak a number.
        return (day, month) == ("29", "02")
    return True


def mask_cpr(text: str) -> str:
    """``text`` with every CPR-shaped number masked to ``DDMMYY-xxxx``."""

    def replace(match: re.Match[str]) -> str:
        day, month, year, _serial = match.groups()
        if not _is_date(day, month, year):
            return match[0]
        return f"{day}{month}{year}-xxxx"

    return _CPR_RE.sub(replace, text)


def install() -> None:
    """Mask CPR-shaped numbers in every log record from now on (idempotent)."""
    global _original
    with _lock:
        if _original is not None:
            return
        previous = _original = logging.getLogRecordFactory()

        def factory(*args, **kwargs) -> logging.LogRecord:
            record = previous(*args, **kwargs)
            if _suspended:
                return record
            try:
                message = record.getMessage()
            except Exception:  # a broken format string: leave it to logging to report
                return record
            masked = mask_cpr(message)
            if masked != message:
                record.msg, record.args = masked, ()
            return record

        logging.setLogRecordFactory(factory)


@contextlib.contextmanager
def suspended() -> Iterator[None]:
    """Log unmasked for a while — for tests that prove the code itself leaks nothing.

    Holds also for a mask installed while suspended (an app built inside the test).
    """
    global _suspended
    _suspended += 1
    try:
        yield
    finally:
        _suspended -= 1
