"""The HTTP session the engine hands each connector.

:class:`SourceSession` is a ``requests.Session`` bound to one source: a base URL, timeouts,
a connection pool, the request id of the lookup it serves, optional auth, and errors
classified into :mod:`borgersag.sdk.errors` so connectors do not each reinvent that. The
auth helpers a session can carry are in :mod:`borgersag.sdk.credentials`.

Every request is bounded, whatever the source does:

* **Wall clock.** A request ends within ``min(timeout, time left until call_deadline)``
  seconds — connecting, waiting for a slot, the headers and the whole body — not only per
  read: a watchdog shuts the connection down when the limit passes, so a source that
  trickles a byte a second frees its thread on time (:class:`SourceTimeout`).
* **Size.** The body is read streamed and counted: more than ``max_response_bytes``
  (``max_document_bytes`` inside :func:`document_download`) is a :class:`FatalError`
  naming the source and the cap, refused up front when ``Content-Length`` says so.
* **Concurrency.** At most ``max_concurrent`` requests to the source are in flight (a
  bulkhead shared by every thread using the session, so a connector's parallel calls are
  bounded too); a request that gets no slot in time is a
  :class:`~borgersag.sdk.errors.SourceBusy`.

The body is read whole before :meth:`SourceSession.request` returns, so
``response.content``, ``.text`` and ``.json()`` work as with an ordinary session.
"""

from __future__ import annotations

import contextlib
import contextvars
import threading
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import urljoin, urlsplit

import orjson
import requests
from urllib3.exceptions import ReadTimeoutError

from borgersag.sdk.errors import (
    FatalError,
    ForbiddenError,
    NotFound,
    RetriableError,
    SourceBusy,
    SourceTimeout,
)
from borgersag.sdk.problems import problem_reasons
from borgersag.sdk.sending import Environment, lean, send
from borgersag.sdk.watchdog import Guard, GuardedAdapter, unwatch, watch

__all__ = [
    "DEFAULT_MAX_CONCURRENT",
    "DEFAULT_MAX_DOCUMENT_BYTES",
    "DEFAULT_MAX_RESPONSE_BYTES",
    "SourceSession",
    "call_deadline",
    "classify",
    "deadline_in",
    "decode_json",
    "document_download",
    "request_id",
    "size_text",
    "time_left",
]

request_id: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "borgersag_request_id", default=None
)
"""The id of the lookup being served; sent to sources as ``X-Request-ID``."""

call_deadline: contextvars.ContextVar[float | None] = contextvars.ContextVar(
    "borgersag_call_deadline", default=None
)
"""When (a :func:`time.monotonic` value) the work being served must be done: every request
made under it ends by then. The engine sets it for each call of a lookup; the case page,
the download and the operations page set their own (see :func:`deadline_in`)."""

_downloading: contextvars.ContextVar[bool] = contextvars.ContextVar(
    "borgersag_document_download", default=False
)

USER_AGENT = "borgersag/0.1"
DEFAULT_MAX_RESPONSE_BYTES = 10 * 1024 * 1024
DEFAULT_MAX_DOCUMENT_BYTES = 50 * 1024 * 1024
DEFAULT_MAX_CONCURRENT = 8
_CHUNK = 64 * 1024


def time_left() -> float | None:
    """Seconds until :data:`call_deadline` (may be negative), or ``None`` when none is set."""
    until = call_deadline.get()
    return None if until is None else until - time.monotonic()


@contextlib.contextmanager
def deadline_in(seconds: float) -> Iterator[float]:
    """Run the block under a deadline ``seconds`` from now (or an earlier one already set);
    yields the deadline as a :func:`time.monotonic` value."""
    until = time.monotonic() + seconds
    outer = call_deadline.get()
    if outer is not None:
        until = min(until, outer)
    token = call_deadline.set(until)
    try:
        yield until
    finally:
        call_deadline.reset(token)


@contextlib.contextmanager
def document_download() -> Iterator[None]:
    """Requests in the block may answer up to the source's ``max_document_bytes`` (a
    document's content) instead of ``max_response_bytes``."""
    token = _downloading.set(True)
    try:
        yield
    finally:
        _downloading.reset(token)


def size_text(size: int) -> str:
    """``10485760`` → ``"10 MB"``, ``1536`` → ``"1,5 kB"``: a size cap in words (1 MB = 2²⁰)."""
    for unit, scale in (("MB", 1024 * 1024), ("kB", 1024)):
        if size >= scale:
            return f"{round(size / scale, 1):g} {unit}".replace(".", ",")
    return f"{size} bytes"


class SourceSession(requests.Session):
    """A session for one source. Paths are joined to ``base_url``.

    :meth:`call` (and :meth:`get_json` / :meth:`post_json`) raise classified errors:
    connection problems, timeouts, 429 and 5xx are :class:`RetriableError`; 401/403 are
    :class:`ForbiddenError`; 404 is :class:`NotFound`; other 4xx and bodies that are not
    the JSON promised are :class:`FatalError`. A request that passes its time limit is a
    :class:`SourceTimeout`, one whose body passes the size cap a :class:`FatalError`, one
    that finds every slot of the bulkhead taken until its limit a :class:`SourceBusy`
    — raised by every request method, :meth:`get` and :meth:`post` too.
    """

    def __init__(
        self,
        base_url: str,
        *,
        source: str,
        timeout: float = 3.0,
        connect_timeout: float = 1.0,
        pool_size: int | None = None,
        auth: requests.auth.AuthBase | None = None,
        verify: bool | str = True,
        cert: str | tuple[str, str] | None = None,
        max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES,
        max_document_bytes: int = DEFAULT_MAX_DOCUMENT_BYTES,
        max_concurrent: int = DEFAULT_MAX_CONCURRENT,
    ):
        super().__init__()
        # The environment (proxies, NO_PROXY, ~/.netrc, a CA bundle) is read once per host
        # by our own send path instead of on every request (borgersag.sdk.sending).
        self.trust_env = False
        self._environment = Environment()
        self.base_url = base_url if base_url.endswith("/") else base_url + "/"
        self.source = source
        self.timeout = (min(connect_timeout, timeout), timeout)
        self.auth = auth
        self.verify = verify
        self.cert = cert
        self.max_response_bytes = max_response_bytes
        self.max_document_bytes = max_document_bytes
        self.max_concurrent = max(1, max_concurrent)
        self._slots = threading.BoundedSemaphore(self.max_concurrent)
        self.headers["User-Agent"] = USER_AGENT
        self.headers["Accept"] = "application/json"
        adapter = GuardedAdapter(
            pool_connections=1, pool_maxsize=pool_size or self.max_concurrent, max_retries=0
        )
        self.mount("http://", adapter)
        self.mount("https://", adapter)

    def url(self, path: str) -> str:
        """Absolute URL for ``path`` relative to the base URL."""
        return urljoin(self.base_url, path.lstrip("/"))

    def limit(self) -> float:
        """The wall-clock limit a request started now has: the source's timeout, or the
        time left until :data:`call_deadline` when that is sooner."""
        left = time_left()
        return self.timeout[1] if left is None else min(self.timeout[1], left)

    def request(self, method, url, *args, **kwargs):  # type: ignore[override]
        """Send a request with the current request id, bounded in time, size and
        concurrency (see the module docstring); the body is read before this returns."""
        limit = self.limit()
        if limit <= 0:
            raise self._timed_out(limit)
        started = time.monotonic()
        if not self._slots.acquire(timeout=limit):
            raise SourceBusy(
                f"{self.source} er optaget: {self.max_concurrent} forespørgsler var i gang,"
                f" og ingen blev færdig inden for {_seconds(limit)} s."
            )
        try:
            left = limit - (time.monotonic() - started)
            if left <= 0:
                raise self._timed_out(limit)
            return self._bounded(method, url, left, limit, args, kwargs)
        finally:
            self._slots.release()

    def get_redirect_target(self, resp):  # type: ignore[override]
        """Follow a redirect only on the same server (scheme, host and port).

        The session's credentials — an API key header, a client certificate — would go
        along to any other host; a back end that redirects elsewhere gets its 3xx answer
        back as an error instead (:func:`classify`)."""
        target = super().get_redirect_target(resp)
        if target is None:
            return None
        here, there = urlsplit(resp.url), urlsplit(urljoin(resp.url, target))
        if (here.scheme, here.netloc) != (there.scheme, there.netloc):
            return None
        return target

    def _bounded(self, method, url, left: float, limit: float, args, kwargs):
        given = kwargs.pop("timeout", None) or self.timeout
        connect, read = given if isinstance(given, tuple) else (given, given)
        kwargs["timeout"] = (min(connect, left), min(read, left))
        kwargs["stream"] = True
        rid = request_id.get()
        if rid:
            headers = dict(kwargs.pop("headers", None) or {})
            headers.setdefault("X-Request-ID", rid)
            kwargs["headers"] = headers
        if not url.startswith(("http://", "https://")):
            url = self.url(url)
        guard = Guard(time.monotonic() + left)
        outer = watch(guard)
        try:
            if lean(self, args, kwargs):
                response = send(self, self._environment, method, url, kwargs)
            else:  # cookies in play: the ordinary way, with the environment as read
                auth, proxies, verify, cert = self._environment.settings(self, url, kwargs)
                kwargs.update(auth=auth, proxies=proxies, verify=verify, cert=cert)
                response = super().request(method, url, *args, **kwargs)
            self._read_body(response, guard, limit)
            return response
        except requests.RequestException as exc:
            if guard.expired or _is_read_timeout(exc):
                raise self._timed_out(limit) from None
            raise
        finally:
            unwatch(guard, outer)

    def _read_body(self, response: requests.Response, guard: Guard, limit: float) -> None:
        cap = self.max_document_bytes if _downloading.get() else self.max_response_bytes
        declared = response.headers.get("Content-Length", "")
        if declared.isdigit() and int(declared) > cap:
            response.close()
            raise self._too_large(cap)
        # Pieces, joined once complete: an answer refused half-way never becomes one big
        # block (which the allocator would keep from the system long after).
        pieces: list[bytes] = []
        size = 0
        try:
            for chunk in response.iter_content(_CHUNK):
                pieces.append(chunk)
                size += len(chunk)
                if size > cap:
                    raise self._too_large(cap)
                if guard.expired or time.monotonic() >= guard.until:
                    raise self._timed_out(limit)
        except BaseException:
            pieces.clear()
            response.close()  # never hand a half-read connection back to the pool
            raise
        response._content = b"".join(pieces)

    def _timed_out(self, limit: float) -> SourceTimeout:
        return SourceTimeout(
            f"{self.source} svarede ikke inden for tidsgrænsen på {_seconds(max(limit, 0))} s."
        )

    def _too_large(self, cap: int) -> FatalError:
        return FatalError(
            f"{self.source} svarede med mere end {size_text(cap)}; svaret er ikke læst."
        )

    def call(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        """Send a request and raise a classified error unless the answer is 2xx."""
        try:
            response = self.request(method, path, **kwargs)
        except requests.Timeout:
            raise SourceTimeout(f"{self.source} svarede ikke inden for tidsgrænsen.") from None
        except requests.ConnectionError:
            raise RetriableError(f"{self.source} kunne ikke kontaktes.") from None
        except requests.RequestException as exc:
            raise FatalError(
                f"{self.source}: fejl i forespørgslen ({type(exc).__name__})."
            ) from None
        classify(response, self.source)
        return response

    def call_json(self, method: str, path: str, *, where: str = "", **kwargs: Any) -> Any:
        """:meth:`call`, then the decoded JSON body; a body that is not JSON is a
        :class:`FatalError` naming the source and ``where`` (the request, without values)."""
        return decode_json(self.call(method, path, **kwargs), self.source, where)

    def get_json(self, path: str, **kwargs: Any) -> Any:
        """GET ``path`` and return the decoded JSON body."""
        return self.call_json("GET", path, **kwargs)

    def post_json(self, path: str, body: Any, **kwargs: Any) -> Any:
        """POST ``body`` as JSON to ``path`` and return the decoded JSON body."""
        return self.call_json("POST", path, json=body, **kwargs)


def _seconds(value: float) -> str:
    return f"{round(value, 1):g}".replace(".", ",")


def _is_read_timeout(exc: BaseException) -> bool:
    """requests wraps a read timeout met while streaming the body in a ConnectionError."""
    return isinstance(exc, requests.Timeout) or any(
        isinstance(arg, ReadTimeoutError) for arg in exc.args
    )


def classify(response: requests.Response, source: str) -> None:
    """Raise the classified error for a non-2xx response (no-op for 2xx)."""
    code = response.status_code
    if 200 <= code < 300:
        return
    if 300 <= code < 400:
        raise FatalError(
            f"{source} sendte forespørgslen videre til en anden server (HTTP {code});"
            " det følges ikke, så portalens adgang ikke kommer andre i hænde.",
            status_code=code,
        )
    if code == 429 or code >= 500:
        raise RetriableError(f"{source} svarede med fejl {code}.", status_code=code)
    if code in (401, 403):
        raise ForbiddenError(f"{source} nægtede adgang (HTTP {code}).", status_code=code)
    if code == 404:
        raise NotFound(f"{source} kender ikke det efterspurgte.", status_code=code)
    reasons = problem_reasons(response)
    said = f": {reasons}" if reasons else ""
    raise FatalError(f"{source} afviste forespørgslen (HTTP {code}){said}.", status_code=code)


_UTF8 = frozenset({"utf-8", "utf8"})


def decode_json(response: requests.Response, source: str, where: str = "") -> Any:
    """Decode a JSON body or raise :class:`FatalError` naming the source (and ``where``:
    which request, in words that hold no key value).

    A UTF-8 body (or one that names no charset) is decoded with orjson — 2-3× faster than
    the standard library on a large answer, and the GIL the lookup's other calls wait
    for is held that much shorter; anything orjson refuses (another charset, NaN, an
    integer past 64 bits, broken UTF-8) is decoded as ``response.json()`` decodes it."""
    if (response.encoding or "utf-8").lower() in _UTF8 and response.content:
        try:
            return orjson.loads(response.content)
        except orjson.JSONDecodeError:
            pass  # the standard decoder decides, and words the error as before
    try:
        return response.json()
    except ValueError:
        media = response.headers.get("Content-Type", "ukendt type").split(";")[0]
        on = f", på {where}" if where else ""
        raise FatalError(
            f"{source} sendte et svar, der ikke er gyldig JSON ({media}, "
            f"{len(response.content)} bytes){on}."
        ) from None
