"""Authentication towards a source: API key, OAuth2 and client certificates.

A connector picks one in :meth:`~borgersag.sdk.connector.Connector.make_auth` (and, for a
client certificate, just declares the settings). Each helper comes with the settings it
needs, so a connector's ``settings_schema`` can include them as they are:

* **API key** — :data:`API_KEY_SETTINGS` + :func:`api_key_auth`: a static key in a header.
* **OAuth2 client credentials** — :data:`OAUTH2_CLIENT_CREDENTIALS_SETTINGS` +
  :func:`oauth2_client_credentials_auth` (:class:`OAuth2ClientCredentials`).
* **OAuth2 password grant** — :data:`OAUTH2_PASSWORD_SETTINGS` + :func:`oauth2_password_auth`
  (:class:`OAuth2PasswordGrant`, what SBSYS uses).
* **Client certificate** (mutual TLS) — :func:`client_certificate_settings`. The default
  ``Connector.validate_settings`` checks the files at start-up and the engine puts the
  certificate on the source's session; combine it with any of the above.

The OAuth2 helpers fetch a token on first use, cache it, renew it shortly before it
expires, and renew it once when the source answers 401 (a token revoked early), then
give up with :class:`~borgersag.sdk.errors.ForbiddenError`. A refused login is a
``ForbiddenError`` that says to check the credentials.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import requests

from borgersag.sdk.errors import (
    ConfigError,
    FatalError,
    ForbiddenError,
    RetriableError,
    SourceTimeout,
)
from borgersag.sdk.http import SourceSession, classify, decode_json
from borgersag.sdk.settings import REQUIRED, Setting

__all__ = [
    "API_KEY_SETTINGS",
    "OAUTH2_CLIENT_CREDENTIALS_SETTINGS",
    "OAUTH2_PASSWORD_SETTINGS",
    "ApiKeyAuth",
    "OAuth2ClientCredentials",
    "OAuth2PasswordGrant",
    "api_key_auth",
    "check_client_certificate",
    "client_certificate",
    "client_certificate_settings",
    "oauth2_client_credentials_auth",
    "oauth2_password_auth",
]

Cert = str | tuple[str, str]


class TokenAuth(requests.auth.AuthBase):
    """Bearer token fetched on first use, cached, and renewed before it expires or on 401.

    The base of the OAuth2 helpers; ``source`` names the source in errors (the engine
    sets it to the configured title). The token request is bounded like every source
    request (wall clock ``timeout``, the current deadline, a size cap): a login service
    that trickles cannot hold the lookup's thread either.
    """

    def __init__(
        self,
        token_url: str,
        *,
        source: str,
        timeout: float = 3.0,
        cert: Cert | None = None,
        verify: bool | str = True,
    ):
        self.token_url = token_url
        self.source = source
        self.timeout = timeout
        self.cert = cert
        self.verify = verify
        self._token: str | None = None
        self._expires = 0.0
        self._lock = threading.Lock()
        self._http: SourceSession | None = None

    def _form(self) -> dict[str, str]:
        raise NotImplementedError

    def token(self, *, renew: bool = False, failed: str | None = None) -> str:
        """A valid access token, fetching a new one when needed (one fetch at a time).

        ``renew`` forces a new token — unless ``failed`` names the token that was refused
        and another thread has already replaced it.
        """
        with self._lock:
            expired = self._token is None or time.monotonic() >= self._expires
            if expired or (renew and (failed is None or failed == self._token)):
                self._fetch()
            assert self._token is not None
            return self._token

    def _fetch(self) -> None:
        if self._http is None:
            self._http = SourceSession(
                self.token_url, source=self.source, timeout=self.timeout, max_concurrent=1
            )
        try:
            response = self._http.post(
                self.token_url,
                data=self._form(),
                cert=self.cert,
                verify=self.verify,
            )
        except (requests.Timeout, SourceTimeout):
            raise SourceTimeout(f"{self.source}: login-tjenesten svarede ikke.") from None
        except requests.ConnectionError:
            raise RetriableError(f"{self.source}: login-tjenesten kunne ikke kontaktes.") from None
        except requests.RequestException as exc:
            raise FatalError(
                f"{self.source}: fejl i login-forespørgslen ({type(exc).__name__})."
            ) from None
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
        ok = isinstance(lifetime, int | float) and not isinstance(lifetime, bool)
        lifetime = lifetime if ok else 300
        self._expires = time.monotonic() + max(float(lifetime) - 30.0, 5.0)

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        request.headers["Authorization"] = f"Bearer {self.token()}"
        request.register_hook("response", self._retry_on_401)
        return request

    def _retry_on_401(self, response: requests.Response, **kwargs: Any) -> requests.Response:
        if response.status_code != 401 or getattr(response.request, "_borgersag_retried", False):
            return response
        refused = str(response.request.headers.get("Authorization", "")).removeprefix("Bearer ")
        retry = response.request.copy()
        retry._borgersag_retried = True  # type: ignore[attr-defined]
        retry.headers["Authorization"] = f"Bearer {self.token(renew=True, failed=refused)}"
        response.content  # noqa: B018 - release the connection before reusing it
        response.close()
        return response.connection.send(retry, **kwargs)


class OAuth2PasswordGrant(TokenAuth):
    """OAuth2 resource-owner password grant, as SBSYS's API uses.

    ``source`` (keyword) is the name errors use; ``timeout``, ``cert`` and ``verify`` apply
    to the token request.
    """

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


class OAuth2ClientCredentials(TokenAuth):
    """OAuth2 client credentials grant (machine-to-machine), with an optional scope.

    ``source`` (keyword) is the name errors use; ``timeout``, ``cert`` and ``verify`` apply
    to the token request.
    """

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


# -- settings and builders ------------------------------------------------------------------

API_KEY_SETTINGS: tuple[Setting, ...] = (
    Setting("api_key", str, "the API key", secret=True),
    Setting("api_key_header", str, "header that carries the API key", default="X-Api-Key"),
)
"""The settings of a connector that sends a static API key in a header; pair with
:func:`api_key_auth` in ``make_auth``."""


def api_key_auth(settings: Mapping[str, Any]) -> ApiKeyAuth:
    """Auth from :data:`API_KEY_SETTINGS`: the bare key in the configured header."""
    return ApiKeyAuth(settings["api_key"], header=settings["api_key_header"], prefix="")


OAUTH2_CLIENT_CREDENTIALS_SETTINGS: tuple[Setting, ...] = (
    Setting("token_url", str, "OAuth2 token URL"),
    Setting("client_id", str, "OAuth2 client id"),
    Setting("client_secret", str, "OAuth2 client secret", secret=True),
    Setting("scope", str, "OAuth2 scopes to ask for, space-separated; empty for none", default=""),
)
"""The settings of the OAuth2 client credentials grant; pair with
:func:`oauth2_client_credentials_auth` in ``make_auth``."""


def oauth2_client_credentials_auth(
    settings: Mapping[str, Any], source: str, *, timeout: float = 3.0
) -> OAuth2ClientCredentials:
    """Auth from :data:`OAUTH2_CLIENT_CREDENTIALS_SETTINGS` (plus the client certificate for
    the token request, when the connector declares one). ``source`` names it in errors."""
    return OAuth2ClientCredentials(
        settings["token_url"],
        settings["client_id"],
        settings["client_secret"],
        settings.get("scope") or None,
        source=source,
        timeout=timeout,
        cert=client_certificate(settings),
    )


OAUTH2_PASSWORD_SETTINGS: tuple[Setting, ...] = (
    Setting("token_url", str, "OAuth2 token URL"),
    Setting("client_id", str, "OAuth2 client id"),
    Setting("client_secret", str, "OAuth2 client secret", secret=True),
    Setting("username", str, "the service user's name"),
    Setting("password", str, "the service user's password", secret=True),
)
"""The settings of the OAuth2 password grant; pair with :func:`oauth2_password_auth`."""


def oauth2_password_auth(
    settings: Mapping[str, Any], source: str, *, timeout: float = 3.0
) -> OAuth2PasswordGrant:
    """Auth from :data:`OAUTH2_PASSWORD_SETTINGS` (plus the client certificate for the token
    request, when the connector declares one). ``source`` names it in errors."""
    return OAuth2PasswordGrant(
        settings["token_url"],
        settings["client_id"],
        settings["client_secret"],
        settings["username"],
        settings["password"],
        source=source,
        timeout=timeout,
        cert=client_certificate(settings),
    )


# -- client certificates --------------------------------------------------------------------


def client_certificate_settings(*, required: bool = True) -> tuple[Setting, Setting]:
    """The settings of a client certificate for mutual TLS: ``client_cert`` and ``client_key``.

    Add them to ``settings_schema`` (``*client_certificate_settings()``); nothing else is
    needed. At start-up the default ``Connector.validate_settings`` checks that the files
    exist, are readable, hold a PEM certificate and its unencrypted private key
    (:func:`check_client_certificate`); the engine then sends the certificate on every
    request of the source, token requests of the OAuth2 helpers included. With
    ``required=False`` an empty ``client_cert`` means no certificate.
    """
    return (
        Setting(
            "client_cert",
            str,
            "path of the client certificate (PEM); it may also hold the private key",
            default=REQUIRED if required else "",
        ),
        Setting(
            "client_key",
            str,
            "path of the certificate's private key (PEM, not password protected);"
            " empty when client_cert holds it",
            default="",
        ),
    )


def client_certificate(settings: Mapping[str, Any]) -> Cert | None:
    """What ``requests`` takes as ``cert`` for validated ``settings``; ``None`` for none."""
    cert = settings.get("client_cert") or ""
    if not cert:
        return None
    key = settings.get("client_key") or ""
    return (cert, key) if key else cert


def check_client_certificate(
    settings: Mapping[str, Any], file: str = "<config>", prefix: str = ""
) -> None:
    """Check the files named by ``client_cert``/``client_key``; :class:`ConfigError` naming
    the key otherwise. A no-op when ``client_cert`` is empty (and ``client_key`` too)."""
    cert_path = settings.get("client_cert") or ""
    key_path = settings.get("client_key") or ""
    if not cert_path:
        if key_path:
            raise ConfigError(
                file, prefix + "client_key", "to be set only together with client_cert"
            )
        return
    cert_pem = _read_pem(cert_path, file, prefix + "client_cert")
    certificate = _load_certificate(cert_pem, cert_path, file, prefix + "client_cert")
    if key_path:
        key_pem, key_key = _read_pem(key_path, file, prefix + "client_key"), "client_key"
    else:
        key_pem, key_key = cert_pem, "client_key"
        if b"PRIVATE KEY-----" not in cert_pem:
            raise ConfigError(
                file,
                prefix + key_key,
                f"the path of the private key ({cert_path} holds only the certificate)",
            )
    _check_key(key_pem, certificate, key_path or cert_path, file, prefix + key_key)


def _read_pem(path: str, file: str, key: str) -> bytes:
    where = Path(path).expanduser()
    if not where.exists():
        raise ConfigError(file, key, f"a readable PEM file, but {path} does not exist")
    if not where.is_file():
        raise ConfigError(file, key, f"a readable PEM file, but {path} is not a file")
    try:
        return where.read_bytes()
    except OSError as exc:
        raise ConfigError(
            file, key, f"a readable PEM file, but {path} cannot be read ({exc.strerror})"
        ) from None


def _load_certificate(pem: bytes, path: str, file: str, key: str) -> Any:
    from cryptography import x509

    if b"-----BEGIN CERTIFICATE-----" not in pem:
        raise ConfigError(file, key, f"a PEM certificate, but {path} holds none")
    try:
        return x509.load_pem_x509_certificate(pem)
    except ValueError:
        raise ConfigError(
            file, key, f"a valid PEM certificate, but {path} cannot be read as one"
        ) from None


def _check_key(pem: bytes, certificate: Any, path: str, file: str, key: str) -> None:
    from cryptography.hazmat.primitives import serialization

    if b"PRIVATE KEY-----" not in pem:
        raise ConfigError(file, key, f"a PEM private key, but {path} holds none")
    if b"ENCRYPTED" in pem:
        raise ConfigError(
            file,
            key,
            f"a private key without a password ({path} is encrypted; requests cannot use it)",
        )
    try:
        private = serialization.load_pem_private_key(pem, password=None)
    except (ValueError, TypeError):
        raise ConfigError(
            file, key, f"a valid PEM private key, but {path} cannot be read as one"
        ) from None
    public = serialization.PublicFormat.SubjectPublicKeyInfo
    encoding = serialization.Encoding.DER
    if private.public_key().public_bytes(encoding, public) != certificate.public_key().public_bytes(
        encoding, public
    ):
        raise ConfigError(file, key, "the private key of client_cert, but it belongs to another")
