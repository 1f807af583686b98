"""The wall-clock guard behind :class:`borgersag.sdk.http.SourceSession`.

requests' timeouts are per read: a source that sends a byte a second never trips them.
Here every request a session sends carries a :class:`Guard` with an absolute limit; one
watchdog thread per process shuts the request's connection down when the limit passes,
which makes the thread blocked reading from it return at once. The session's adapter
(:class:`GuardedAdapter`) uses connections that tell the current guard which socket to
shut, and untell it when they go back to the pool, so a guard firing late can never cut
another request's connection.
"""

from __future__ import annotations

import contextlib
import heapq
import itertools
import os
import socket
import threading
import time
from typing import Any
from urllib.parse import urlsplit

from requests.adapters import HTTPAdapter
from requests.models import PreparedRequest, Response
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

from borgersag.sdk.sending import build_response_lean

__all__ = ["Guard", "GuardedAdapter", "unwatch", "watch"]


class Guard:
    """One request's wall-clock limit; when it passes, its connection is shut down."""

    def __init__(self, until: float):
        self.until = until
        self.expired = False
        self._done = False
        self._connection: HTTPConnection | None = None
        self._lock = threading.Lock()

    def attach(self, connection: HTTPConnection) -> None:
        with self._lock:
            self._connection = connection
            connection._borgersag_guard = self  # type: ignore[attr-defined]
            late = self.expired
        if late:
            _shut(connection)

    def detach(self, connection: HTTPConnection) -> None:
        """The connection goes back to the pool: another request may use it now."""
        with self._lock:
            if self._connection is connection:
                self._connection = None

    def finish(self) -> None:
        with self._lock:
            self._done = True
            self._connection = None

    @property
    def done(self) -> bool:
        return self._done

    def expire(self) -> None:
        with self._lock:
            if self._done:
                return
            self.expired = True
            connection = self._connection
        if connection is not None:
            _shut(connection)


def _shut(connection: HTTPConnection) -> None:
    """Wake a thread blocked reading from ``connection``: shutting the socket down makes
    its ``recv`` return at once (closing it from another thread would not).

    An answer with ``Connection: close`` takes the socket with it (http.client sets the
    connection's ``sock`` to ``None`` and reads on from the response), so the socket the
    request was sent on is kept too, and shut down when ``sock`` is gone.
    """
    sock = getattr(connection, "sock", None) or getattr(connection, "_borgersag_sock", None)
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)


_current = threading.local()


class _Watchdog:
    """One daemon thread per process that expires guards when their time comes."""

    def __init__(self) -> None:
        self._heap: list[tuple[float, int, Guard]] = []
        self._order = itertools.count()
        self._cond = threading.Condition()
        self._thread: threading.Thread | None = None

    def watch(self, guard: Guard) -> None:
        with self._cond:
            heapq.heappush(self._heap, (guard.until, next(self._order), guard))
            if self._thread is None or not self._thread.is_alive():  # first use, or a fork
                self._thread = threading.Thread(
                    target=self._loop, name="borgersag-http-watchdog", daemon=True
                )
                self._thread.start()
            # Wake the thread only when it would wake too late: this guard is now the first
            # to expire, or the one it sleeps for is finished (then it may sleep for a
            # time that is no longer anyone's). A lookup's calls share one deadline, and
            # waking it for each would cost every request a thread switch for nothing.
            head = self._heap[0][2]
            if head is guard or head.done:
                self._cond.notify()

    def _loop(self) -> None:
        while True:
            with self._cond:
                while self._heap and self._heap[0][2].done:
                    heapq.heappop(self._heap)
                if not self._heap:
                    self._cond.wait()
                    continue
                wait = self._heap[0][0] - time.monotonic()
                if wait > 0:
                    self._cond.wait(wait)
                    continue
                guard = heapq.heappop(self._heap)[2]
            guard.expire()


_WATCHDOG = _Watchdog()


def _after_fork() -> None:
    """A forked worker starts with no watchdog thread and an unheld lock of its own."""
    global _WATCHDOG
    _WATCHDOG = _Watchdog()


os.register_at_fork(after_in_child=_after_fork)


def watch(guard: Guard) -> Guard | None:
    """Guard the requests this thread sends until :func:`unwatch`: when ``guard.until``
    passes, the connection in use is shut down. Returns the guard it replaces (a request
    made while preparing another, such as a token fetch), for :func:`unwatch`."""
    _WATCHDOG.watch(guard)
    outer = getattr(_current, "guard", None)
    _current.guard = guard
    return outer


def unwatch(guard: Guard, outer: Guard | None = None) -> None:
    """The thread's request is over: its guard no longer fires; ``outer`` guards again."""
    _current.guard = outer
    guard.finish()


class _Guarded:
    """For a urllib3 connection class: tell the thread's guard which connection (and
    socket) a request goes out on."""

    sock: Any

    def request(self, *args: Any, **kwargs: Any) -> None:
        guard = getattr(_current, "guard", None)
        if guard is not None:
            guard.attach(self)  # type: ignore[arg-type]
        super().request(*args, **kwargs)  # type: ignore[misc]
        self._borgersag_sock = self.sock  # see _shut: the answer may take the socket


class GuardedHTTPConnection(_Guarded, HTTPConnection):
    pass


class GuardedHTTPSConnection(_Guarded, HTTPSConnection):
    pass


def _put_conn(pool: HTTPConnectionPool, conn: Any) -> None:
    guard = getattr(conn, "_borgersag_guard", None)
    if guard is not None:
        guard.detach(conn)
        conn._borgersag_guard = None


class GuardedHTTPPool(HTTPConnectionPool):
    ConnectionCls = GuardedHTTPConnection

    def _put_conn(self, conn: Any) -> None:
        _put_conn(self, conn)
        super()._put_conn(conn)


class GuardedHTTPSPool(HTTPSConnectionPool):
    ConnectionCls = GuardedHTTPSConnection

    def _put_conn(self, conn: Any) -> None:
        _put_conn(self, conn)
        super()._put_conn(conn)


class GuardedAdapter(HTTPAdapter):
    """An adapter whose connections a :class:`Guard` can shut down."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        # (scheme, host, verify, cert) → pool: requests looks the pool up anew on every
        # request (parsing the URL and normalising a pool key, ~30 µs); a source's session
        # asks the same one or two hosts every time.
        self._pools: dict[tuple[Any, ...], HTTPConnectionPool] = {}
        super().__init__(*args, **kwargs)

    def get_connection_with_tls_context(
        self, request: PreparedRequest, verify: Any, proxies: Any = None, cert: Any = None
    ) -> HTTPConnectionPool:
        """The pool for the request's host, remembered while it is open (not through a
        proxy: those are looked up as requests does)."""
        if proxies:
            return super().get_connection_with_tls_context(request, verify, proxies, cert)
        parts = urlsplit(request.url or "")
        key = (parts.scheme.lower(), parts.netloc.lower(), verify, cert)
        try:
            pool = self._pools.get(key)
        except TypeError:  # an unhashable verify or cert (a list): no remembering
            return super().get_connection_with_tls_context(request, verify, proxies, cert)
        if pool is None or pool.pool is None:  # not yet, or closed (evicted, closed adapter)
            pool = super().get_connection_with_tls_context(request, verify, proxies, cert)
            self._pools[key] = pool
        return pool

    def close(self) -> None:
        self._pools.clear()
        super().close()

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {
            "http": GuardedHTTPPool,
            "https": GuardedHTTPSPool,
        }

    def build_response(self, req: PreparedRequest, resp: Any) -> Response:
        """As requests builds it; an answer without ``Set-Cookie`` skips the cookie parser."""
        headers = getattr(resp, "headers", None)
        if headers is None or "set-cookie" in headers:
            return super().build_response(req, resp)
        return build_response_lean(self, req, resp)
