"""Loopback HTTP servers that misbehave like real back ends do: trickle, flood, hang.

Raw sockets, so each can do what a well-behaved server library would not: send a byte a
second, claim or send 50 MB, or accept a connection and never answer. Every server runs
in its own daemon threads; use it as a context manager (``with Misbehaving("trickle") as
server: server.url``) so it is closed after the test.
"""

from __future__ import annotations

import contextlib
import json
import socket
import threading
import time
from typing import Any

MB = 1024 * 1024

MODES = (
    "ok",
    "trickle",
    "trickle_headers",
    "trickle_close",
    "huge",
    "huge_declared",
    "hang",
    "redirect",
)


class Misbehaving:
    """A loopback HTTP server in one of :data:`MODES`.

    * ``ok``: answers ``body`` (JSON) at once.
    * ``trickle``: sends the headers, then a byte of its JSON body every ``interval``
      seconds — each read is quick, the answer never ends in time.
    * ``trickle_headers``: the same with the status line and headers.
    * ``trickle_close``: like ``trickle``, but as an HTTP/1.0 server or a proxy answers:
      ``Connection: close`` and a body that ends when the connection does (the client's
      HTTP library then hands the socket to the response).
    * ``huge``: ``size`` bytes of a JSON list, chunked, no ``Content-Length``.
    * ``huge_declared``: says ``Content-Length: size`` and starts sending.
    * ``hang``: accepts the connection and says nothing.
    * ``redirect``: answers ``302`` to ``location`` (another server, say).
    """

    def __init__(
        self,
        mode: str,
        *,
        body: Any = None,
        interval: float = 0.2,
        size: int = 50 * MB,
        delay: float = 0.0,
        location: str = "",
    ):
        assert mode in MODES, mode
        self.mode = mode
        self.body = json.dumps(body if body is not None else {"ok": True}).encode()
        self.interval = interval
        self.size = size
        self.delay = delay
        self.location = location
        self.requests = 0
        self.peak = 0  # the most requests answered at once
        self._answering = 0
        self._closed = threading.Event()
        self._lock = threading.Lock()
        self._conns: list[socket.socket] = []
        self._listener = socket.create_server(("127.0.0.1", 0), backlog=128)
        self._listener.settimeout(0.2)
        self.url = f"http://127.0.0.1:{self._listener.getsockname()[1]}/"
        threading.Thread(target=self._accept, daemon=True, name=f"misbehaving-{mode}").start()

    def __enter__(self) -> Misbehaving:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Stop accepting and drop every open connection."""
        self._closed.set()
        self._listener.close()
        with self._lock:
            for conn in self._conns:
                with contextlib.suppress(OSError):
                    conn.close()

    def _accept(self) -> None:
        while not self._closed.is_set():
            try:
                conn, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            with self._lock:
                self._conns.append(conn)
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        try:
            while not self._closed.is_set():
                if not self._read_request(conn):
                    return
                with self._lock:
                    self.requests += 1
                    self._answering += 1
                    self.peak = max(self.peak, self._answering)
                try:
                    if self.delay:
                        time.sleep(self.delay)
                    getattr(self, f"_{self.mode}")(conn)
                finally:
                    with self._lock:
                        self._answering -= 1
        except OSError:
            pass
        finally:
            with self._lock:
                if conn in self._conns:
                    self._conns.remove(conn)
            conn.close()

    def _read_request(self, conn: socket.socket) -> bool:
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = conn.recv(65536)
            if not chunk:
                return False
            data += chunk
        head, _, rest = data.partition(b"\r\n\r\n")
        length = 0
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value.strip())
        while len(rest) < length:
            chunk = conn.recv(65536)
            if not chunk:
                return False
            rest += chunk
        return True

    def _head(self, length: int | None) -> bytes:
        lines = ["HTTP/1.1 200 OK", "Content-Type: application/json"]
        lines.append(
            f"Content-Length: {length}" if length is not None else "Transfer-Encoding: chunked"
        )
        return ("\r\n".join(lines) + "\r\n\r\n").encode()

    def _ok(self, conn: socket.socket) -> None:
        conn.sendall(self._head(len(self.body)) + self.body)

    def _trickle(self, conn: socket.socket) -> None:
        conn.sendall(self._head(len(self.body)))
        self._drip(conn, self.body)

    def _trickle_close(self, conn: socket.socket) -> None:
        conn.sendall(
            b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n"
        )
        self._drip(conn, self.body)

    def _trickle_headers(self, conn: socket.socket) -> None:
        self._drip(conn, self._head(len(self.body)) + self.body)

    def _drip(self, conn: socket.socket, data: bytes) -> None:
        for i in range(len(data)):
            if self._closed.wait(self.interval):
                return
            conn.sendall(data[i : i + 1])

    def _huge(self, conn: socket.socket) -> None:
        conn.sendall(self._head(None))
        piece = b'{"n": 1234567890, "title": "' + b"x" * 990 + b'"},'
        block = b"[" + piece * 64
        sent = 0
        while sent < self.size and not self._closed.is_set():
            conn.sendall(b"%x\r\n%s\r\n" % (len(block), block))
            sent += len(block)
            block = piece * 64
        conn.sendall(b"0\r\n\r\n")

    def _huge_declared(self, conn: socket.socket) -> None:
        conn.sendall(self._head(self.size))
        block = b" " * 65536
        sent = 0
        while sent < self.size and not self._closed.is_set():
            conn.sendall(block)
            sent += len(block)

    def _redirect(self, conn: socket.socket) -> None:
        head = f"HTTP/1.1 302 Found\r\nLocation: {self.location}\r\nContent-Length: 0\r\n\r\n"
        conn.sendall(head.encode())

    def _hang(self, conn: socket.socket) -> None:
        self._closed.wait()


def _serve_apart(mode: str, options: dict[str, Any], conn: Any) -> None:
    with Misbehaving(mode, **options) as server:
        conn.send(server.url)
        conn.recv()  # until the parent says stop (or goes away)


class MisbehavingProcess:
    """A :class:`Misbehaving` server in a process of its own, so its sending (50 MB at
    loopback speed, say) does not compete for the test process's GIL: a real back end is
    another machine. Same use: ``with MisbehavingProcess("huge") as server: server.url``.
    """

    def __init__(self, mode: str, **options: Any):
        import multiprocessing

        self._conn, child = multiprocessing.Pipe()
        self._process = multiprocessing.get_context("spawn").Process(
            target=_serve_apart, args=(mode, options, child), daemon=True
        )
        self._process.start()
        self.url: str = self._conn.recv()

    def __enter__(self) -> MisbehavingProcess:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Stop the server and its process."""
        with contextlib.suppress(OSError, EOFError, BrokenPipeError):
            self._conn.send("stop")
        self._process.join(5)
        if self._process.is_alive():
            self._process.kill()


def timed(fn: Any) -> tuple[Any, float]:
    """``fn()``'s result — or the exception it raised — and how long it took."""
    started = time.monotonic()
    try:
        return fn(), time.monotonic() - started
    except Exception as exc:
        return exc, time.monotonic() - started
