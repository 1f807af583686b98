"""The HTTP session the engine hands each connector.

:class:`SourceSession` is a ``requests.Session`` bound to one source: a base URL, timeouts,
a connection pool sized to the fan-out, the request id of the lookup it serves, optional
auth, and errors classified into :mod:`borgersag.sdk.errors` so connectors do not each
reinvent that. The auth helpers a session can carry are in :mod:`borgersag.sdk.credentials`.
"""

from __future__ import annotations

import contextvars
from typing import Any
from urllib.parse import urljoin

import requests
from requests.adapters import HTTPAdapter

from borgersag.sdk.errors import FatalError, ForbiddenError, NotFound, RetriableError, SourceTimeout
from borgersag.sdk.problems import problem_reasons

__all__ = ["SourceSession", "classify", "decode_json", "request_id"]

request_id: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "borgersag_request_id", default=None
)
"""The id of the lookup being served; sent to sources as ``X-Request-ID``."""

USER_AGENT = "borgersag/0.1"


class SourceSession(requests.Session):
    """A session for one source. Paths are joined to ``base_url``.

    :meth:`call` (and :meth:`get_json` / :meth:`post_json`) raise classified errors:
    connection problems, timeouts, 429 and 5xx are :class:`RetriableError`; 401/403 are
    :class:`ForbiddenError`; 404 is :class:`NotFound`; other 4xx and bodies that are not
    the JSON promised are :class:`FatalError`.
    """

    def __init__(
        self,
        base_url: str,
        *,
        source: str,
        timeout: float = 3.0,
        connect_timeout: float = 1.0,
        pool_size: int = 10,
        auth: requests.auth.AuthBase | None = None,
        verify: bool | str = True,
        cert: str | tuple[str, str] | None = None,
    ):
        super().__init__()
        self.base_url = base_url if base_url.endswith("/") else base_url + "/"
        self.source = source
        self.timeout = (min(connect_timeout, timeout), timeout)
        self.auth = auth
        self.verify = verify
        self.cert = cert
        self.headers["User-Agent"] = USER_AGENT
        self.headers["Accept"] = "application/json"
        adapter = HTTPAdapter(pool_connections=1, pool_maxsize=pool_size, max_retries=0)
        self.mount("http://", adapter)
        self.mount("https://", adapter)

    def url(self, path: str) -> str:
        """Absolute URL for ``path`` relative to the base URL."""
        return urljoin(self.base_url, path.lstrip("/"))

    def request(self, method, url, *args, **kwargs):  # type: ignore[override]
        """Send a request with the source's timeout and the current request id."""
        kwargs.setdefault("timeout", self.timeout)
        rid = request_id.get()
        if rid:
            headers = dict(kwargs.pop("headers", None) or {})
            headers.setdefault("X-Request-ID", rid)
            kwargs["headers"] = headers
        if not url.startswith(("http://", "https://")):
            url = self.url(url)
        return super().request(method, url, *args, **kwargs)

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


def classify(response: requests.Response, source: str) -> None:
    """Raise the classified error for a non-2xx response (no-op for 2xx)."""
    code = response.status_code
    if 200 <= code < 300:
        return
    if code == 429 or code >= 500:
        raise RetriableError(f"{source} svarede med fejl {code}.", status_code=code)
    if code in (401, 403):
        raise ForbiddenError(f"{source} nægtede adgang (HTTP {code}).", status_code=code)
    if code == 404:
        raise NotFound(f"{source} kender ikke det efterspurgte.", status_code=code)
    reasons = problem_reasons(response)
    said = f": {reasons}" if reasons else ""
    raise FatalError(f"{source} afviste forespørgslen (HTTP {code}){said}.", status_code=code)


def decode_json(response: requests.Response, source: str, where: str = "") -> Any:
    """Decode a JSON body or raise :class:`FatalError` naming the source (and ``where``:
    which request, in words that hold no key value)."""
    try:
        return response.json()
    except ValueError:
        media = response.headers.get("Content-Type", "ukendt type").split(";")[0]
        on = f", på {where}" if where else ""
        raise FatalError(
            f"{source} sendte et svar, der ikke er gyldig JSON ({media}, "
            f"{len(response.content)} bytes){on}."
        ) from None
