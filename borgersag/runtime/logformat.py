"""Log lines as JSON, one object a line, for log collectors (``[portal] log_format``).

Each line holds ``time`` (UTC, ISO 8601), ``level``, ``logger``, ``message`` and
``request_id`` (``null`` outside a request), and ``exception`` with the traceback when
there is one. The CPR mask (:mod:`borgersag.runtime.logmask`) has already masked the
message when the record was made; the whole line is masked once more, so a number in a
traceback does not get through either.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections.abc import Callable

from borgersag.runtime.logmask import mask_cpr

__all__ = ["JsonFormatter", "use_json_lines"]


class JsonFormatter(logging.Formatter):
    """One JSON object per record; ``request_id()`` names the request being served."""

    def __init__(self, request_id: Callable[[], str | None] = lambda: None):
        super().__init__()
        self._request_id = request_id

    def format(self, record: logging.LogRecord) -> str:
        """The record as one line of JSON."""
        line = {
            "time": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": self._request_id(),
        }
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        elif record.exc_text:
            line["exception"] = record.exc_text
        return mask_cpr(json.dumps(line, ensure_ascii=False))


def use_json_lines(request_id: Callable[[], str | None]) -> None:
    """Make every handler of the root logger write JSON lines (one is added if it has
    none). Idempotent: an app built twice in one process changes nothing more."""
    root = logging.getLogger()
    if not root.handlers:
        root.addHandler(logging.StreamHandler())
        root.setLevel(logging.INFO)
    for handler in root.handlers:
        if not isinstance(handler.formatter, JsonFormatter):
            handler.setFormatter(JsonFormatter(request_id))
