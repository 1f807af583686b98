"""SBSYS-shaped sources that cost (next to) nothing: the fan-out benchmark's servers.

The sandbox's werkzeug apps spend a millisecond or more of their own on every request,
which the fan-out benchmark would count against the client. These servers answer from
bytes built once: one asyncio loop in a process of its own, one listening socket per
source, HTTP/1.1 keep-alive, and each answer sent when the source's latency has passed
since its request arrived. The loop measures its own work per request (parsing the
request and writing the answer, the latency's wait left out), so the benchmark can print
what the servers cost.
"""

from __future__ import annotations

import asyncio
import json
import multiprocessing
import threading
import time
from contextlib import ExitStack

TOKEN_BODY = json.dumps({"access_token": "bench", "token_type": "Bearer", "expires_in": 3600})


def _answer(body: bytes, status: bytes = b"200 OK") -> bytes:
    head = (
        b"HTTP/1.1 " + status + b"\r\nContent-Type: application/json; charset=utf-8\r\n"
        b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n"
    )
    return head + body


class _Source(asyncio.Protocol):
    """One client connection to one source: answers each request after the latency."""

    def __init__(self, latency: float, answers: dict[bytes, bytes], work: dict[str, float]):
        self.latency = latency
        self.answers = answers
        self.work = work
        self.buffer = b""
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport):  # type: ignore[override]
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        started = time.perf_counter()
        self.buffer += data
        while True:
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                break
            head = self.buffer[:end]
            length = 0
            lowered = head.lower()
            at = lowered.find(b"\r\ncontent-length:")
            if at >= 0:
                line_end = lowered.find(b"\r\n", at + 2)
                length = int(lowered[at + 17 : line_end if line_end >= 0 else None])
            total = end + 4 + length
            if len(self.buffer) < total:
                break
            path = head.split(b" ", 2)[1].split(b"?", 1)[0]
            self.buffer = self.buffer[total:]
            answer = self.answers.get(path) or _answer(b'{"error": "not found"}', b"404 Not Found")
            asyncio.get_running_loop().call_later(self.latency, self._send, answer)
            self.work["requests"] += 1
        self._count(started)

    def _send(self, answer: bytes) -> None:
        started = time.perf_counter()
        if self.transport is not None and not self.transport.is_closing():
            self.transport.write(answer)
        self._count(started)

    def _count(self, started: float) -> None:
        spent = time.perf_counter() - started
        self.work["seconds"] += spent
        self.work["worst"] = max(self.work["worst"], spent)


def _serve(latencies_ms: list[int], search_body: bytes, conn) -> None:
    """Child process: one listening socket per latency; sends back the ports, then
    answers ``"work"`` with the servers' own work so far and stops on ``"stop"``."""
    answers = {
        b"/connect/token": _answer(TOKEN_BODY.encode()),
        b"/api/sag/search": _answer(search_body),
    }
    work = {"requests": 0, "seconds": 0.0, "worst": 0.0}
    loop = asyncio.new_event_loop()

    async def start() -> list[int]:
        ports = []
        for ms in latencies_ms:
            server = await loop.create_server(
                lambda ms=ms: _Source(ms / 1000, answers, work), "127.0.0.1", 0, backlog=256
            )
            ports.append(server.sockets[0].getsockname()[1])
        return ports

    ports = loop.run_until_complete(start())
    conn.send(ports)

    def control() -> None:
        while True:
            try:
                message = conn.recv()
            except EOFError:
                message = "stop"
            if message == "work":
                conn.send({**work, "cpu": time.process_time()})
            else:
                loop.call_soon_threadsafe(loop.stop)
                return

    threading.Thread(target=control, daemon=True).start()
    loop.run_forever()


class QuietSources:
    """The servers' process, seen from the benchmark: their URLs and their cost."""

    def __init__(self, stack: ExitStack, latencies_ms: list[int], search_body: bytes):
        self._conn, child = multiprocessing.Pipe()
        process = multiprocessing.get_context("spawn").Process(
            target=_serve, args=(latencies_ms, search_body, child), daemon=True
        )
        process.start()
        stack.callback(process.join, 5)
        stack.callback(self._conn.send, "stop")
        self.urls = [f"http://127.0.0.1:{port}/" for port in self._conn.recv()]

    def work(self) -> dict[str, float]:
        """The servers' own work so far: ``requests`` answered, ``seconds`` spent parsing
        and writing in all (wall clock), ``worst`` single read or write, and ``cpu``: the
        process's CPU seconds (the loop's waiting costs none)."""
        self._conn.send("work")
        return self._conn.recv()
