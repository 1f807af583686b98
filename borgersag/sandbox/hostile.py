"""Hostile data: what real back ends send on a bad day, for a sandbox service's answers.

A service whose :class:`~borgersag.sandbox.faults.Faults` has ``hostile`` on passes its
honest JSON through these helpers. Which record is spoilt, and how, follows from the
record's own id, so a hostile answer is the same every time it is asked (a test or a
demo can rely on it) and most records stay readable: the point is that one bad record
among good ones must not hide the good ones, and that the portal shows what it can.

The surprises, each seen in real systems (../shared/REFERENCE.md, "SBSYS search paging"):
a null where a value belongs, impossible dates (2024-02-30), status names nobody
mapped, markup in titles, far more records than any page holds, and a body whose
content type is not the JSON it is.
"""

from __future__ import annotations

import zlib

__all__ = [
    "EXTRA_CASES",
    "MARKUP",
    "UNKNOWN_STATUSES",
    "WRONG_CONTENT_TYPE",
    "impossible_date",
    "pick",
    "spoilt",
]

EXTRA_CASES = 3000
"""Copies added to every hostile search answer: thousands of cases, more than a search's
largest page (2000), so a connector must say the answer may be truncated."""
MARKUP = ("<b>Haster</b> ", '<script>alert("sag")</script>', '"><img src=x onerror=alert(1)>')
UNKNOWN_STATUSES = ("Afventer borger (ny proces)", "Til revision?", "Status 47")
WRONG_CONTENT_TYPE = "text/html; charset=iso-8859-1"


def spoilt(record_id: int, every: int, salt: str = "") -> bool:
    """Whether the record with ``record_id`` is one of each ``every`` spoilt ``salt``-wise."""
    return zlib.crc32(f"{salt}:{record_id}".encode()) % every == 0


def impossible_date(stamp: str | None) -> str:
    """``stamp`` (an ISO date or date-time) moved to the 30th of February."""
    if not stamp or len(stamp) < 10:
        return "2024-02-30"
    return f"{stamp[:4]}-02-30{stamp[10:]}"


def pick(record_id: int, options: tuple[str, ...]) -> str:
    """One of ``options``, the same one for the same record every time."""
    return options[zlib.crc32(str(record_id).encode()) % len(options)]
