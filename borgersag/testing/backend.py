"""The recorded backend and what the conformance suite does to it.

The connector author registers canned answers on a ``responses`` mock; this module
turns that recording into the backends the checks need: one endpoint failing with a
status code, a timeout or a refused connection; one endpoint answering garbage or JSON
of the wrong shape; or every endpoint promising another page forever. An *endpoint* is
a registered method and URL (or URL pattern).
"""

from __future__ import annotations

import copy
import json
import re
import threading
from collections import deque
from collections.abc import Callable, Iterator
from typing import Any

import requests
import responses

__all__ = [
    "TooManyRequests",
    "advertise_more_pages",
    "answer",
    "endpoint",
    "recorded_json",
    "replace_endpoint",
    "rewrite_json",
    "shape_mutations",
    "strict_mock",
    "with_unreadable_record",
]

Endpoint = tuple[str, str]
_UNMATCHED = "Connection refused by Responses"


class TooManyRequests(BaseException):
    """Raised when a call makes more requests than the check allows (an endless loop).

    A ``BaseException``, so a connector's ``except Exception`` cannot hide it.
    """


class _StrictMock(responses.RequestsMock):
    """A ``responses`` mock that refuses unrecorded requests and stops after ``limit``."""

    def __init__(self, limit: int):
        super().__init__(assert_all_requests_are_fired=False)
        self.limit = limit
        self.count = 0
        self._count_lock = threading.Lock()

    def _on_request(self, adapter: Any, request: Any, **kwargs: Any) -> Any:
        with self._count_lock:
            self.count += 1
            over = self.count > self.limit
        if over:
            raise TooManyRequests(f"more than {self.limit} requests; the last: {request.method}")
        return super()._on_request(adapter, request, **kwargs)

    def unrecorded(self) -> list[str]:
        """Requests that matched nothing the test registered."""
        return [
            f"{call.request.method} {call.request.url}"
            for call in self.calls
            if isinstance(call.response, requests.ConnectionError)
            and _UNMATCHED in str(call.response)
        ]


if not hasattr(responses.RequestsMock, "_on_request"):  # pragma: no cover - guards upgrades
    raise ImportError("borgersag.testing needs a responses version with RequestsMock._on_request")


def strict_mock(limit: int = 1000) -> _StrictMock:
    """A ``responses.RequestsMock`` (use it as a context manager) in strict mode: a request
    nothing was registered for fails and is listed by ``unrecorded()``; request number
    ``limit + 1`` raises :class:`TooManyRequests`."""
    return _StrictMock(limit)


def endpoint(response: responses.BaseResponse) -> Endpoint:
    """The method and URL (or URL pattern) a registered response answers."""
    url = response.url
    return response.method, url.pattern if isinstance(url, re.Pattern) else str(url)


def recorded_json(response: responses.BaseResponse) -> tuple[bool, Any]:
    """``(True, value)`` when the registered response has a static JSON body."""
    body = getattr(response, "body", None)
    if not isinstance(response, responses.Response) or not isinstance(body, str | bytes):
        return False, None
    try:
        return True, json.loads(body)
    except ValueError:
        return False, None


def replace_endpoint(
    mock: responses.RequestsMock,
    target: Endpoint,
    make: Callable[[responses.BaseResponse], responses.BaseResponse],
) -> None:
    """Replace every response registered for ``target`` with one built by ``make``."""
    replaced = False

    def change(response: responses.BaseResponse) -> responses.BaseResponse | None:
        nonlocal replaced
        if endpoint(response) != target:
            return response
        if replaced:
            return None
        replaced = True
        return make(response)

    _rebuild(mock, change)


def rewrite_json(mock: responses.RequestsMock, rewrite: Callable[[Any, str | None], Any]) -> None:
    """Pass every JSON body the mock would send through ``rewrite(value, endpoint_url)``
    (static bodies and callback answers alike); ``endpoint_url`` is ``None`` for patterns."""

    def change(response: responses.BaseResponse) -> responses.BaseResponse:
        url = response.url if isinstance(response.url, str) else None
        ok, value = recorded_json(response)
        if ok:
            return answer(response, json.dumps(rewrite(value, url)), keep_match=True)
        if isinstance(response, responses.CallbackResponse):
            original = response.callback

            def callback(request: Any) -> Any:
                result = original(request)
                if isinstance(result, Exception):
                    return result
                status, headers, body = result
                try:
                    value = json.loads(body)
                except (TypeError, ValueError):
                    return result
                return status, headers, json.dumps(rewrite(value, url))

            return responses.CallbackResponse(
                response.method,
                response.url,
                callback=callback,
                content_type=response.content_type,
                match=response.match,
            )
        return response

    _rebuild(mock, change)


def answer(
    like: responses.BaseResponse,
    body: str | bytes | Exception,
    *,
    status: int | None = None,
    content_type: str = "application/json",
    keep_match: bool = False,
) -> responses.Response:
    """A response for the same endpoint as ``like`` with another body (or exception)."""
    return responses.Response(
        like.method,
        like.url,
        body=body,
        status=status if status is not None else (like.status or 200),
        content_type=content_type,
        match=like.match if keep_match else (),
    )


def _rebuild(
    mock: responses.RequestsMock,
    change: Callable[[responses.BaseResponse], responses.BaseResponse | None],
) -> None:
    registered = list(mock.registered())
    mock.reset()
    for response in registered:
        new = change(response)
        if new is not None:
            mock.add(new)


# -- a backend that never ends --------------------------------------------------------------


def _norm(name: str) -> str:
    return re.sub(r"[^a-zæøå]", "", name.lower())


_TOTALS = {
    "total",
    "totalcount",
    "count",
    "totalresults",
    "totalhits",
    "totalitems",
    "totalelements",
    "totalsize",
    "totalpages",
    "pages",
    "pagecount",
    "numfound",
    "antal",
    "antalialt",
    "totalantal",
    "samletantal",
    "antalsider",
}
_MORE = {"hasmore", "hasnext", "hasnextpage", "more", "moreresults", "harflere", "flere"}
_NEXT = {"next", "nextpage", "nextlink", "nexturl", "odatanextlink", "naeste", "næste"}
ENDLESS_TOTAL = 10**9


def advertise_more_pages(value: Any, url: str | None) -> Any:
    """``value`` changed to promise more: totals and page counts become huge, "has more"
    flags true, and empty "next" links point back at ``url`` (the same endpoint)."""
    if isinstance(value, list):
        return [advertise_more_pages(v, url) for v in value]
    if not isinstance(value, dict):
        return value
    result = {}
    for key, item in value.items():
        name = _norm(key)
        if name in _TOTALS and isinstance(item, int) and not isinstance(item, bool):
            item = ENDLESS_TOTAL
        elif name in _MORE and isinstance(item, bool):
            item = True
        elif name in _NEXT and url is not None and (item is None or isinstance(item, str)):
            item = item or url
        elif name in _NEXT and url is not None and isinstance(item, dict) and "href" in item:
            item = {**item, "href": item["href"] or url}
        else:
            item = advertise_more_pages(item, url)
        result[key] = item
    return result


# -- JSON of the wrong shape ----------------------------------------------------------------


def shape_mutations(value: Any, limit: int) -> Iterator[tuple[str, Any]]:
    """Copies of ``value`` with one field removed, null, or of another type; breadth first
    (shallow fields before deep ones), at most ``limit``. Lists are entered at index 0."""
    queue: deque[tuple[tuple[Any, ...], Any]] = deque([((), value)])
    produced = 0
    while queue:
        path, node = queue.popleft()
        if path:
            where = _where(path)
            changes: list[tuple[str, Any]] = []
            if isinstance(path[-1], str):
                changes.append((f"{where} removed", _REMOVE))
            if node is not None:
                changes.append((f"{where} is null", None))
            wrong = _wrong_type(node)
            changes.append((f"{where} is {json.dumps(wrong)}", wrong))
            for description, new in changes:
                if produced >= limit:
                    return
                produced += 1
                yield description, _changed(value, path, new)
        if isinstance(node, dict):
            queue.extend(((*path, key), child) for key, child in node.items())
        elif isinstance(node, list) and node:
            queue.append(((*path, 0), node[0]))


_REMOVE = object()


def with_unreadable_record(value: Any) -> tuple[str, int, Any] | None:
    """``value`` with an unreadable record inserted among its valid ones, or ``None``.

    The record list is the first list of objects found breadth first (``Results``,
    ``data.sager``); the unreadable record is a copy of its first record with every
    field of another type (a text becomes ``7``, anything else ``"x"``), put at index 1.
    Returns ``(where the list is, the inserted index, the changed value)``.
    """
    queue: deque[tuple[tuple[Any, ...], Any]] = deque([((), value)])
    while queue:
        path, node = queue.popleft()
        if isinstance(node, list) and node and isinstance(node[0], dict):
            broken = {key: _wrong_type(child) for key, child in node[0].items()}
            result = copy.deepcopy(value)
            target = result
            for step in path:
                target = target[step]
            target.insert(1, broken)
            return (_where(path) or "svaret"), 1, result
        if isinstance(node, dict):
            queue.extend(((*path, key), child) for key, child in node.items())
        elif isinstance(node, list) and node:
            queue.append(((*path, 0), node[0]))
    return None


def _wrong_type(node: Any) -> Any:
    if isinstance(node, str):
        return 7
    return "x"  # for objects, lists, numbers, booleans and null


def _changed(value: Any, path: tuple[Any, ...], new: Any) -> Any:
    result = copy.deepcopy(value)
    parent = result
    for step in path[:-1]:
        parent = parent[step]
    if new is _REMOVE:
        del parent[path[-1]]
    else:
        parent[path[-1]] = new
    return result


def _where(path: tuple[Any, ...]) -> str:
    text = ""
    for step in path:
        text += f"[{step}]" if isinstance(step, int) else (f".{step}" if text else str(step))
    return text
