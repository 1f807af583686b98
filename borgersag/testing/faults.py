"""What the conformance suite does to one endpoint of the recorded backend.

Each function returns a ``prepare(mock)`` callable for ``ConformanceSuite._run``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import requests
import responses

from borgersag import FatalError, ForbiddenError, NotFound, SourceError
from borgersag.testing import backend as fake

__all__ = ["CLIENT_FAULTS", "NOT_JSON", "RETRIABLE_FAULTS", "fault", "garbage", "json_body"]

Prepare = Callable[[responses.RequestsMock], None]

RETRIABLE_FAULTS: tuple[tuple[str, Any], ...] = (
    ("HTTP 500", 500),
    ("HTTP 502", 502),
    ("HTTP 503", 503),
    ("HTTP 504", 504),
    ("HTTP 429", 429),
    ("a read timeout", lambda: requests.ReadTimeout("konformitetstest: intet svar")),
    ("a refused connection", lambda: requests.ConnectionError("konformitetstest: afvist")),
)
"""Faults after which asking again may help: each must become a ``RetriableError``."""

CLIENT_FAULTS: tuple[tuple[int, tuple[type[SourceError], ...]], ...] = (
    (400, (FatalError,)),
    (401, (ForbiddenError,)),
    (403, (ForbiddenError,)),
    (404, (NotFound, FatalError)),
    (409, (FatalError,)),
    (422, (FatalError,)),
)
"""4xx answers and the classified errors each may become."""

HTML = "<!DOCTYPE html><html><body><h1>Systemet er lukket for vedligeholdelse</h1></body></html>"
NOT_JSON = object()
"""Marks an endpoint whose recorded answer is not a static JSON body."""


def fault(target: fake.Endpoint, what: Any) -> Prepare:
    """``target`` answers with status ``what`` (an int) or raises ``what()``."""
    if callable(what):
        return _replace(target, lambda like: fake.answer(like, what()))
    if what >= 500:
        body, content_type = HTML, "text/html"
    else:
        body, content_type = '{"fejl": "konformitetstest"}', "application/json"
    return _replace(
        target, lambda like: fake.answer(like, body, status=what, content_type=content_type)
    )


def body(target: fake.Endpoint, text: str, content_type: str) -> Prepare:
    """``target`` answers 200 with ``text``."""
    return _replace(
        target, lambda like: fake.answer(like, text, status=200, content_type=content_type)
    )


def json_body(target: fake.Endpoint, value: Any) -> Prepare:
    """``target`` answers with ``value`` as JSON (status and matchers as recorded)."""
    text = json.dumps(value)
    return _replace(target, lambda like: fake.answer(like, text, keep_match=True))


def garbage(recorded: Any) -> list[tuple[str, str, str, bool]]:
    """``(label, body, content type, must fail)`` for one endpoint's garbage answers.

    JSON of the recorded body's own type but empty (``{}`` for an object, ``[]`` for a
    list) may also give valid records: some APIs leave out empty lists.
    """
    text = json.dumps(recorded) if recorded is not NOT_JSON else '{"sager": [{"id": 1}]}'
    cases = [
        ("an HTML page", HTML, "text/html", True),
        ("an empty body", "", "application/json", True),
        ("truncated JSON", text[: max(1, len(text) // 2)], "application/json", True),
    ]
    for other in ([], {}, "tekst", None, 42, True):
        same_type = recorded is not NOT_JSON and type(other) is type(recorded)
        cases.append(
            (f"the JSON {json.dumps(other)}", json.dumps(other), "application/json", not same_type)
        )
    return cases


def _replace(target: fake.Endpoint, make: Callable[[Any], Any]) -> Prepare:
    return lambda mock: fake.replace_endpoint(mock, target, make)
