"""Classified errors: the engine, not each connector, decides what to do with a failure.

* :class:`RetriableError` — the source may answer if asked again (5xx, 429, timeouts,
  connection refused). The engine retries inside the deadline and may serve a stale answer.
* :class:`FatalError` — asking again will not help (4xx, a body that is not what the API
  promises, a mapping error). Shown as "could not answer" with the message.
* :class:`DataError` — a :class:`FatalError` about one place in a body (raised by
  :class:`~borgersag.sdk.reader.Reader`); inside ``Reader.each`` it costs one record, not
  the answer.
* :class:`NotFound` — the thing asked for does not exist in that source.
* :class:`ConfigError` — the configuration is wrong; start-up stops with one line.

Messages are meant for people: they say what happened and never contain a CPR number.
"""

from __future__ import annotations

__all__ = [
    "ConfigError",
    "DataError",
    "FatalError",
    "ForbiddenError",
    "NotFound",
    "RetriableError",
    "SourceBusy",
    "SourceError",
    "SourceTimeout",
]


class SourceError(Exception):
    """Base class for anything a connector raises about its source."""

    retriable = False

    def __init__(self, message: str, *, status_code: int | None = None):
        super().__init__(message)
        self.message = message
        self.status_code = status_code


class RetriableError(SourceError):
    """The source failed in a way that may pass: 5xx, 429, connection refused."""

    retriable = True


class SourceTimeout(RetriableError):
    """The source did not answer within its timeout."""


class SourceBusy(RetriableError):
    """The portal's own limit on calls to the source was full until the deadline: the
    source was not asked. Not the source's failure, so no circuit breaker counts it."""


class FatalError(SourceError):
    """The source answered, but asking again will not help: 4xx, garbage body, bad data."""


class DataError(FatalError):
    """A body is not what the API promises at ``where`` (a field path, never a value)."""

    def __init__(self, message: str, *, where: str, problem: str):
        super().__init__(message)
        self.where = where
        self.problem = problem


class ForbiddenError(FatalError):
    """The source refused us access (401/403 after authenticating)."""


class NotFound(SourceError):
    """The case or document does not exist in the source."""


class ConfigError(Exception):
    """Configuration is invalid. ``str()`` is one line: file, key, what was expected."""

    def __init__(self, file: str, key: str, expected: str):
        self.file = file
        self.key = key
        self.expected = expected
        super().__init__(f"{file}: {key}: {expected}")
