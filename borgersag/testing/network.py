"""A socket guard: any real network connection attempt during a test is caught and recorded.

``responses`` answers what ``requests`` asks; the guard catches the rest — a connector
that opens its own ``urllib``/``http.client``/``httpx`` connection, resolves a host
name, or talks to a socket directly. The attempt raises :class:`UnrecordedNetworkAccess`
(a ``BaseException``, so a connector's ``except Exception`` cannot hide it) and is kept
in :attr:`NetworkGuard.attempts`, so a test can fail even when something swallowed it.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from typing import Any
from unittest import mock

__all__ = ["NetworkGuard", "UnrecordedNetworkAccess", "no_network"]

_INET = (socket.AF_INET, socket.AF_INET6)


class UnrecordedNetworkAccess(BaseException):
    """Raised when code under test tries to reach the network."""


class NetworkGuard:
    """What :func:`no_network` caught: one human-readable line per attempt."""

    def __init__(self) -> None:
        self.attempts: list[str] = []

    def refuse(self, what: str) -> UnrecordedNetworkAccess:
        """Record an attempt and return the exception to raise."""
        self.attempts.append(what)
        return UnrecordedNetworkAccess(
            f"network access during a test: {what}. Only what the test recorded may be"
            " asked (register it on the responses mock)."
        )


@contextmanager
def no_network() -> Iterator[NetworkGuard]:
    """Refuse real network connections (IPv4/IPv6 connects and host name lookups) inside
    the block; yields the :class:`NetworkGuard` holding the attempts."""
    guard = NetworkGuard()
    real_connect = socket.socket.connect
    real_connect_ex = socket.socket.connect_ex

    def connect(sock: socket.socket, address: Any) -> Any:
        if sock.family in _INET:
            raise guard.refuse(f"connect to {address!r}")
        return real_connect(sock, address)

    def connect_ex(sock: socket.socket, address: Any) -> Any:
        if sock.family in _INET:
            raise guard.refuse(f"connect to {address!r}")
        return real_connect_ex(sock, address)

    def lookup(name: str) -> Any:
        def refuse(host: Any, *args: Any, **kwargs: Any) -> Any:
            raise guard.refuse(f"{name}({host!r})")

        return refuse

    with ExitStack() as stack:
        stack.enter_context(mock.patch.object(socket.socket, "connect", connect))
        stack.enter_context(mock.patch.object(socket.socket, "connect_ex", connect_ex))
        for name in ("getaddrinfo", "gethostbyname", "gethostbyname_ex", "create_connection"):
            stack.enter_context(mock.patch.object(socket, name, lookup(name)))
        yield guard
