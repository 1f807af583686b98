"""The lean send path behind :meth:`borgersag.sdk.http.SourceSession.request`.

``requests.Session.request`` does, on every call, work a source session does not need
each time: it reads the process environment for proxies, ``NO_PROXY``, a CA bundle and
``~/.netrc`` (iterating ``os.environ`` several times), and merges and extracts cookies
through :mod:`http.cookiejar` even when there are none. Measured on the fan-out
benchmark that was about half of the client's own CPU time per call, all of it holding
the GIL that the other calls of the lookup wait for.

:func:`send` builds the same :class:`~requests.PreparedRequest` and sends it through the
same adapter (so ``responses`` and every adapter-level mock keep working), with the
environment read once per host (:class:`Environment`) and the cookie machinery used only
when there are cookies. Requests with cookies, positional arguments or keywords it does
not know go the ordinary ``requests.Session.request`` way, with the same environment.
"""

from __future__ import annotations

import functools
import os
import threading
from datetime import timedelta
from time import perf_counter
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from requests.cookies import RequestsCookieJar, extract_cookies_to_jar
from requests.hooks import dispatch_hook
from requests.models import PreparedRequest, Response
from requests.sessions import merge_hooks, merge_setting
from requests.structures import CaseInsensitiveDict
from requests.utils import get_encoding_from_headers, get_environ_proxies, get_netrc_auth

if TYPE_CHECKING:
    import requests

__all__ = ["Environment", "build_response_lean", "lean", "send"]

# The keywords requests.Session.request takes that the lean path handles itself.
_LEAN_KEYWORDS = frozenset(
    {
        "params",
        "data",
        "headers",
        "files",
        "auth",
        "timeout",
        "allow_redirects",
        "proxies",
        "hooks",
        "stream",
        "verify",
        "cert",
        "json",
    }
)


class Environment:
    """What ``requests`` would read from the environment for a URL — proxies (after
    ``NO_PROXY``), ``~/.netrc`` credentials and ``REQUESTS_CA_BUNDLE`` /
    ``CURL_CA_BUNDLE`` — read once per scheme and host, not on every request.

    A change to the environment after a host's first request is not seen by that
    session (the portal's environment is set before it starts)."""

    def __init__(self) -> None:
        self.ca_bundle = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE")
        self._hosts: dict[tuple[str, str], tuple[dict[str, str], Any]] = {}
        self._lock = threading.Lock()

    def for_url(self, url: str) -> tuple[dict[str, str], Any]:
        """``(proxies, netrc_auth)`` for ``url``'s scheme and host."""
        parts = urlsplit(url)
        where = (parts.scheme.lower(), parts.netloc.lower())
        found = self._hosts.get(where)
        if found is None:
            found = (get_environ_proxies(url), get_netrc_auth(url))
            with self._lock:
                self._hosts[where] = found
        return found

    def settings(self, session: requests.Session, url: str, kwargs: dict[str, Any]):
        """``(auth, proxies, verify, cert)`` for a request, merged as
        ``requests.Session.request`` merges them with ``trust_env`` on."""
        env_proxies, netrc = self.for_url(url)
        auth = kwargs.get("auth")
        if not auth and not session.auth and netrc:
            auth = netrc
        proxies = {**env_proxies, **(kwargs.get("proxies") or {})}
        proxies = _merged(proxies, session.proxies)
        verify = kwargs.get("verify")
        if (verify is True or verify is None) and self.ca_bundle:
            verify = self.ca_bundle
        verify = session.verify if verify is None else verify
        cert = kwargs.get("cert")
        cert = session.cert if cert is None else cert
        return auth, proxies, verify, cert


def _merged(given: Any, default: Any) -> Any:
    """``requests.sessions.merge_setting`` for plain dicts, without its generic (and slow)
    key-value conversions: ``given`` over ``default``, keys set to ``None`` left out."""
    if given is None:
        return default
    if default is None or not isinstance(given, dict) or not isinstance(default, dict):
        return merge_setting(given, default)
    merged = {**default, **given}
    return {k: v for k, v in merged.items() if v is not None}


@functools.lru_cache(maxsize=512)
def _prepared_url(url: str) -> str:
    """The URL as ``PreparedRequest.prepare_url`` writes it (quoted, IDNA host): the same
    few URLs come back on every lookup."""
    prepared = PreparedRequest()
    prepared.prepare_url(url, None)
    return prepared.url  # type: ignore[return-value]


def lean(session: requests.Session, args: tuple, kwargs: dict[str, Any]) -> bool:
    """Whether :func:`send` handles this request (no cookies in play, known keywords)."""
    return not args and _LEAN_KEYWORDS.issuperset(kwargs) and not session.cookies


def send(
    session: requests.Session, env: Environment, method: str, url: str, kwargs: dict[str, Any]
) -> requests.Response:
    """``session.request(method, url, **kwargs)`` (``stream=True``) without the
    per-request environment reads and empty cookie work; see the module docstring."""
    auth, proxies, verify, cert = env.settings(session, url, kwargs)
    prepared = PreparedRequest()
    prepared.prepare_method(method.upper())
    params = _merged(kwargs.get("params"), session.params)
    if params or not isinstance(url, str):
        prepared.prepare_url(url, params)
    else:
        prepared.url = _prepared_url(url)
    prepared.prepare_headers(
        merge_setting(kwargs.get("headers"), session.headers, dict_class=CaseInsensitiveDict)
    )
    prepared._cookies = RequestsCookieJar()  # none: the session's jar is empty
    prepared.prepare_body(kwargs.get("data"), kwargs.get("files"), kwargs.get("json"))
    prepared.prepare_auth(merge_setting(auth, session.auth), url)
    prepared.prepare_hooks(merge_hooks(kwargs.get("hooks"), session.hooks))

    sending = {
        "stream": True,
        "timeout": kwargs.get("timeout"),
        "verify": verify,
        "cert": cert,
        "proxies": proxies,
    }
    adapter = session.get_adapter(url=prepared.url)
    started = perf_counter()
    response = adapter.send(prepared, **sending)
    response.elapsed = timedelta(seconds=perf_counter() - started)
    response = dispatch_hook("response", prepared.hooks, response, **sending)
    for earlier in response.history:  # a hook (a 401 retry) may have made history
        _keep_cookies(session, earlier)
    _keep_cookies(session, response)
    if response.is_redirect:
        response = _redirected(session, response, prepared, sending, kwargs)
    return response


def _keep_cookies(session: requests.Session, response: requests.Response) -> None:
    """A cookie the source sets is kept, as a session keeps it (then requests take the
    ordinary path, which sends it)."""
    if "set-cookie" in response.headers:
        extract_cookies_to_jar(session.cookies, response.request, response.raw)


def _redirected(session, response, prepared, sending, kwargs) -> requests.Response:
    """What ``requests.Session.send`` does with a 3xx: follow it (the session decides
    where: :meth:`~borgersag.sdk.http.SourceSession.get_redirect_target`) or note it."""
    if not kwargs.get("allow_redirects", True):
        response._next = next(  # type: ignore[attr-defined]
            session.resolve_redirects(response, prepared, yield_requests=True, **sending), None
        )
        return response
    history = list(session.resolve_redirects(response, prepared, **sending))
    if not history:
        return response
    history.insert(0, response)
    last = history.pop()
    last.history = history
    return last


def build_response_lean(adapter: Any, request: PreparedRequest, raw: Any) -> requests.Response:
    """``HTTPAdapter.build_response`` without parsing for cookies an answer that sets
    none (the cookie jar's parser is a large part of a small answer's cost)."""
    response = Response()
    response.status_code = getattr(raw, "status", None)  # type: ignore[assignment]
    response.headers = CaseInsensitiveDict(getattr(raw, "headers", {}))
    response.encoding = get_encoding_from_headers(response.headers)
    response.raw = raw
    response.reason = raw.reason
    url = request.url
    response.url = url.decode("utf-8") if isinstance(url, bytes) else url  # type: ignore[assignment]
    response.request = request
    response.connection = adapter
    return response
