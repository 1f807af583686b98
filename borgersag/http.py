"""The HTTP session the engine hands each connector.

:class:`SourceSession` is a ``requests.Session`` bound to one source: a base URL, timeouts,
a connection pool sized to the fan-out, the request id of the lookup it serves, optional
auth, and errors classified into :mod:`borgersag.errors` so connectors do not each
reinvent that. Auth helpers: :class:`OAuth2PasswordGrant` (SBSYS style),
:class:`OAuth2ClientCredentials` and :class:`ApiKeyAuth`.
"""

from __future__ import annotations

import contextvars
import threading
import time
from typing import Any
from urllib.parse import urljoin

import requests
from requests.adapters import HTTPAdapter

from .errors import FatalError, ForbiddenError, NotFound, RetriableError, SourceTimeout
from .settings import Setting

__all__ = [
    "API_KEY_SETTINGS",
    "ApiKeyAuth",
    "OAuth2ClientCredentials",
    "OAuth2PasswordGrant",
    "SourceSession",
    "api_key_auth",
    "request_id",
]

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

    def get_json(self, path: str, **kwargs: Any) -> Any:
        """GET ``path`` and return the decoded JSON body."""
        return decode_json(self.call("GET", path, **kwargs), self.source)

    def post_json(self, path: str, body: Any, **kwargs: Any) -> Any:
        """POST ``body`` as JSON to ``path`` and return the decoded JSON body."""
        return decode_json(self.call("POST", path, json=body, **kwargs), self.source)


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
    raise FatalError(f"{source} afviste forespørgslen (HTTP {code}).", status_code=code)


def decode_json(response: requests.Response, source: str) -> Any:
    """Decode a JSON body or raise :class:`FatalError` naming the source."""
    try:
        return response.json()
    except ValueError:
        media = response.headers.get("Content-Type", "ukendt type").split(";")[0]
        raise FatalError(
            f"{source} sendte et svar, der ikke er gyldig JSON ({media}, "
            f"{len(response.content)} bytes)."
        ) from None


class _TokenAuth(requests.auth.AuthBase):
    """Bearer token fetched on first use, cached, and renewed before it expires or on 401."""

    def __init__(self, token_url: str, *, source: str, timeout: float = 3.0):
        self.token_url = token_url
        self.source = source
        self.timeout = timeout
        self._token: str | None = None
        self._expires = 0.0
        self._lock = threading.Lock()

    def _form(self) -> dict[str, str]:
        raise NotImplementedError

    def token(self, *, renew: bool = False) -> str:
        """A valid access token, fetching a new one when needed (one fetch at a time)."""
        with self._lock:
            if renew or self._token is None or time.monotonic() > self._expires:
                self._fetch()
            assert self._token is not None
            return self._token

    def _fetch(self) -> None:
        try:
            response = requests.post(self.token_url, data=self._form(), timeout=self.timeout)
        except requests.Timeout:
            raise SourceTimeout(f"{self.source}: login-tjenesten svarede ikke.") from None
        except requests.ConnectionError:
            raise RetriableError(f"{self.source}: login-tjenesten kunne ikke kontaktes.") from None
        if response.status_code in (400, 401, 403):
            raise ForbiddenError(
                f"{self.source}: login blev afvist (HTTP {response.status_code}); tjek"
                " klient-id, hemmelighed og bruger i konfigurationen.",
                status_code=response.status_code,
            )
        classify(response, self.source)
        body = decode_json(response, self.source)
        if not isinstance(body, dict) or not isinstance(body.get("access_token"), str):
            raise FatalError(f"{self.source}: login-svaret mangler access_token.")
        self._token = body["access_token"]
        lifetime = body.get("expires_in", 300)
        lifetime = lifetime if isinstance(lifetime, int | float) else 300
        self._expires = time.monotonic() + max(float(lifetime) - 30.0, 5.0)

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        request.headers["Authorization"] = f"Bearer {self.token()}"
        request.register_hook("response", self._retry_on_401)
        return request

    def _retry_on_401(self, response: requests.Response, **kwargs: Any) -> requests.Response:
        if response.status_code != 401 or getattr(response.request, "_borgersag_retried", False):
            return response
        retry = response.request.copy()
        retry._borgersag_retried = True  # type: ignore[attr-defined]
        retry.headers["Authorization"] = f"Bearer {self.token(renew=True)}"
        response.content  # noqa: B018 - release the connection before reusing it
        response.close()
        return response.connection.send(retry, **kwargs)


class OAuth2PasswordGrant(_TokenAuth):
    """OAuth2 resource-owner password grant, as SBSYS's API uses."""

    def __init__(
        self,
        token_url: str,
        client_id: str,
        client_secret: str,
        username: str,
        password: str,
        **kwargs: Any,
    ):
        super().__init__(token_url, **kwargs)
        self._credentials = {
            "grant_type": "password",
            "client_id": client_id,
            "client_secret": client_secret,
            "username": username,
            "password": password,
        }

    def _form(self) -> dict[str, str]:
        return self._credentials


class OAuth2ClientCredentials(_TokenAuth):
    """OAuth2 client credentials grant."""

    def __init__(
        self,
        token_url: str,
        client_id: str,
        client_secret: str,
        scope: str | None = None,
        **kwargs: Any,
    ):
        super().__init__(token_url, **kwargs)
        self._credentials = {
            "grant_type": "client_credentials",
            "client_id": client_id,
            "client_secret": client_secret,
        }
        if scope:
            self._credentials["scope"] = scope

    def _form(self) -> dict[str, str]:
        return self._credentials


class ApiKeyAuth(requests.auth.AuthBase):
    """A static API key sent in a header (default ``Authorization: Bearer <key>``)."""

    def __init__(self, key: str, header: str = "Authorization", prefix: str = "Bearer "):
        self.key = key
        self.header = header
        self.prefix = prefix

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        request.headers[self.header] = f"{self.prefix}{self.key}"
        return request


API_KEY_SETTINGS: tuple[Setting, ...] = (
    Setting("api_key", str, "the API key", secret=True),
    Setting("api_key_header", str, "header that carries the API key", default="X-Api-Key"),
)
"""The settings of a connector that sends a static API key in a header; pair with
:func:`api_key_auth` in ``make_auth``."""


def api_key_auth(settings: Any) -> ApiKeyAuth:
    """Auth from :data:`API_KEY_SETTINGS`: the bare key in the configured header."""
    return ApiKeyAuth(settings["api_key"], header=settings["api_key_header"], prefix="")
