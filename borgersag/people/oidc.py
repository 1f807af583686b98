"""An OpenID Connect relying party: authorization code flow with PKCE, hardened.

One :class:`Provider` per identity provider (the citizens' MitID broker, the
municipality's own for staff). Everything comes from the provider's discovery document,
so any standard provider works with config alone. The ID token is verified with
python-jose the strict way (:mod:`borgersag.people.id_token`):

* the algorithm must be on an allowlist of asymmetric algorithms (no ``none``, no HS*);
* the key is chosen by ``kid`` from the provider's JWKS, cached; an unknown ``kid``
  refetches the JWKS at most once per :attr:`Provider.jwks_min_refresh` seconds;
* the key's type must fit the algorithm, and its ``use``/``alg`` when given;
* ``iss`` is the discovered issuer, ``aud`` holds our client id, ``azp`` (when present,
  or when there are several audiences) is our client id;
* ``exp`` and ``iat`` with a small leeway, and ``iat`` not older than ``max_token_age``;
* ``nonce`` matches the one sent; ``at_hash`` matches the access token when present.

Userinfo, when used, must name the same ``sub``. Errors are :class:`LoginError` with a
stable ``code`` for logs and tests; they never carry token contents or personal data.
"""

from __future__ import annotations

import base64
import hashlib
import ipaddress
import secrets
import threading
import time
import urllib.parse
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import requests

from borgersag.people.id_token import (
    ALLOWED_ALGORITHMS,
    LoginError,
    SigningKeys,
    TokenRules,
    verify_jwt,
)

__all__ = [
    "ALLOWED_ALGORITHMS",
    "LoginError",
    "PendingLogin",
    "Provider",
    "Tokens",
]

_LOOPBACK_HOSTS = ("localhost",)


@dataclass(frozen=True, slots=True)
class PendingLogin:
    """What the relying party remembers between redirect and callback (in the session)."""

    state: str
    nonce: str
    verifier: str
    created: float

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form."""
        return {
            "state": self.state,
            "nonce": self.nonce,
            "verifier": self.verifier,
            "created": self.created,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> PendingLogin:
        """Inverse of :meth:`to_dict`."""
        return cls(
            str(data["state"]), str(data["nonce"]), str(data["verifier"]), float(data["created"])
        )


@dataclass(frozen=True, slots=True)
class Tokens:
    """The verified outcome of a login: the claims and what logout may need."""

    claims: dict[str, Any]
    id_token: str
    access_token: str | None


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def pkce_challenge(verifier: str) -> str:
    """The S256 code challenge for ``verifier`` (RFC 7636)."""
    return _b64url(hashlib.sha256(verifier.encode("ascii")).digest())


def _is_loopback(url: str) -> bool:
    host = urllib.parse.urlsplit(url).hostname or ""
    if host in _LOOPBACK_HOSTS:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _require_https(url: Any, what: str) -> str:
    if not isinstance(url, str) or not url:
        raise LoginError("discovery", "login-udbyderen er sat forkert op", f"{what} missing")
    scheme = urllib.parse.urlsplit(url).scheme
    if scheme == "https" or (scheme == "http" and _is_loopback(url)):
        return url
    raise LoginError(
        "discovery", "login-udbyderen er sat forkert op", f"{what} must use https: {url}"
    )


class Provider:
    """One OpenID provider as seen by this relying party. Thread-safe.

    ``http`` is a ``requests.Session`` (tests pass one; ``responses`` can mock it).
    """

    def __init__(
        self,
        issuer: str,
        client_id: str,
        client_secret: str = "",
        *,
        scopes: str = "openid",
        acr_values: str = "",
        timeout: float = 5.0,
        leeway: float = 60.0,
        max_token_age: float = 600.0,
        jwks_min_refresh: float = 60.0,
        metadata_ttl: float = 3600.0,
        http: requests.Session | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.issuer = issuer.rstrip("/")
        self.client_id = client_id
        self.client_secret = client_secret
        self.scopes = scopes if "openid" in scopes.split() else f"openid {scopes}".strip()
        self.acr_values = acr_values
        self.timeout = timeout
        self.leeway = leeway
        self.max_token_age = max_token_age
        self.jwks_min_refresh = jwks_min_refresh
        self.metadata_ttl = metadata_ttl
        self.http = http or requests.Session()
        self.clock = clock
        self._lock = threading.Lock()
        self._metadata: dict[str, Any] | None = None
        self._metadata_at = 0.0
        self._keys = SigningKeys(
            lambda: self._get_json(self.metadata()["jwks_uri"], "jwks"),
            min_refresh=jwks_min_refresh,
            clock=clock,
        )

    # --- discovery ------------------------------------------------------------------

    def metadata(self) -> dict[str, Any]:
        """The discovery document, fetched once and cached for ``metadata_ttl`` seconds."""
        with self._lock:
            fresh = self._metadata and self.clock() - self._metadata_at < self.metadata_ttl
            if fresh:
                return self._metadata  # type: ignore[return-value]
        document = self._get_json(f"{self.issuer}/.well-known/openid-configuration", "discovery")
        if str(document.get("issuer", "")).rstrip("/") != self.issuer:
            raise LoginError(
                "discovery",
                "login-udbyderen er sat forkert op",
                "the discovery document names another issuer",
            )
        for name in ("authorization_endpoint", "token_endpoint", "jwks_uri"):
            _require_https(document.get(name), name)
        for name in ("userinfo_endpoint", "end_session_endpoint"):
            if document.get(name):
                _require_https(document[name], name)
        with self._lock:
            self._metadata = document
            self._metadata_at = self.clock()
        return document

    def origins(self) -> set[str]:
        """Origins the browser is sent to (for the CSP ``form-action``), if known."""
        found = {self._origin(self.issuer)}
        if self._metadata:
            for name in ("authorization_endpoint", "end_session_endpoint"):
                if self._metadata.get(name):
                    found.add(self._origin(self._metadata[name]))
        return found

    @staticmethod
    def _origin(url: str) -> str:
        parts = urllib.parse.urlsplit(url)
        return f"{parts.scheme}://{parts.netloc}"

    # --- the flow -------------------------------------------------------------------

    def begin(self, redirect_uri: str) -> tuple[str, PendingLogin]:
        """The authorization URL to send the browser to, and what to remember."""
        endpoint = self.metadata()["authorization_endpoint"]
        pending = PendingLogin(
            state=secrets.token_urlsafe(32),
            nonce=secrets.token_urlsafe(32),
            verifier=secrets.token_urlsafe(64),
            created=self.clock(),
        )
        params = {
            "response_type": "code",
            "client_id": self.client_id,
            "redirect_uri": redirect_uri,
            "scope": self.scopes,
            "state": pending.state,
            "nonce": pending.nonce,
            "code_challenge": pkce_challenge(pending.verifier),
            "code_challenge_method": "S256",
        }
        if self.acr_values:
            params["acr_values"] = self.acr_values
        separator = "&" if urllib.parse.urlsplit(endpoint).query else "?"
        return f"{endpoint}{separator}{urllib.parse.urlencode(params)}", pending

    def finish(self, code: str, redirect_uri: str, pending: PendingLogin) -> Tokens:
        """Exchange ``code`` (with the PKCE verifier) and verify the ID token."""
        if not code or len(code) > 2048:
            raise LoginError("code", "login-svaret manglede en kode", "no or oversized code")
        metadata = self.metadata()
        data = {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": redirect_uri,
            "code_verifier": pending.verifier,
        }
        auth = None
        methods = metadata.get("token_endpoint_auth_methods_supported") or ["client_secret_basic"]
        if not self.client_secret:
            data["client_id"] = self.client_id
        elif "client_secret_basic" in methods:
            auth = (
                urllib.parse.quote(self.client_id, safe=""),
                urllib.parse.quote(self.client_secret, safe=""),
            )
        else:
            data.update(client_id=self.client_id, client_secret=self.client_secret)
        try:
            response = self.http.post(
                metadata["token_endpoint"],
                data=data,
                auth=auth,
                headers={"Accept": "application/json"},
                timeout=self.timeout,
            )
        except requests.RequestException as exc:
            raise LoginError(
                "unavailable", "login-udbyderen svarede ikke", type(exc).__name__
            ) from None
        body = self._json_body(response, "token")
        if response.status_code != 200:
            error = body.get("error") if isinstance(body.get("error"), str) else "unknown"
            raise LoginError(
                "token_refused",
                "login-udbyderen afviste koden (den kan være brugt før eller udløbet)",
                f"token endpoint answered {response.status_code} {error[:40]}",
            )
        id_token = body.get("id_token")
        if not isinstance(id_token, str) or not id_token:
            raise LoginError("token", "login-svaret manglede et ID-token", "no id_token")
        access_token = (
            body.get("access_token") if isinstance(body.get("access_token"), str) else None
        )
        claims = self.verify_id_token(id_token, nonce=pending.nonce, access_token=access_token)
        return Tokens(claims=claims, id_token=id_token, access_token=access_token)

    def userinfo(self, access_token: str | None, sub: str) -> dict[str, Any]:
        """Claims from the userinfo endpoint; its ``sub`` must be the ID token's."""
        endpoint = self.metadata().get("userinfo_endpoint")
        if not endpoint or not access_token:
            raise LoginError(
                "userinfo",
                "login-udbyderen gav ikke de nødvendige oplysninger",
                "no userinfo endpoint or no access token",
            )
        try:
            response = self.http.get(
                endpoint,
                headers={"Authorization": f"Bearer {access_token}"},
                timeout=self.timeout,
            )
        except requests.RequestException as exc:
            raise LoginError(
                "unavailable", "login-udbyderen svarede ikke", type(exc).__name__
            ) from None
        if response.status_code != 200:
            raise LoginError(
                "userinfo",
                "login-udbyderen gav ikke de nødvendige oplysninger",
                f"userinfo answered {response.status_code}",
            )
        if response.headers.get("Content-Type", "").startswith("application/jwt"):
            claims = self._verify_jwt(response.text.strip(), nonce=None, what="userinfo")
        else:
            claims = self._json_body(response, "userinfo")
        if not isinstance(claims.get("sub"), str) or not secrets.compare_digest(
            claims["sub"].encode(), sub.encode()
        ):
            raise LoginError(
                "userinfo_sub",
                "oplysningerne fra login-udbyderen hørte til en anden person",
                "userinfo sub differs from the ID token's",
            )
        return claims

    def end_session_url(self, post_logout_redirect_uri: str, state: str = "") -> str | None:
        """RP-initiated logout URL, or ``None`` when the provider offers none.

        No ``id_token_hint``: a citizen's ID token holds the CPR number, and it must not
        travel in a URL (browser history, the provider's access logs).
        """
        try:
            endpoint = self.metadata().get("end_session_endpoint")
        except LoginError:
            return None
        if not endpoint:
            return None
        params = {"client_id": self.client_id, "post_logout_redirect_uri": post_logout_redirect_uri}
        if state:
            params["state"] = state
        separator = "&" if urllib.parse.urlsplit(endpoint).query else "?"
        return f"{endpoint}{separator}{urllib.parse.urlencode(params)}"

    # --- verification ---------------------------------------------------------------

    def verify_id_token(
        self, token: str, *, nonce: str, access_token: str | None = None
    ) -> dict[str, Any]:
        """Verify an ID token as the module docstring says; returns its claims."""
        return self._verify_jwt(token, nonce=nonce, access_token=access_token, what="id_token")

    def _verify_jwt(
        self, token: str, *, nonce: str | None, access_token: str | None = None, what: str
    ) -> dict[str, Any]:
        rules = TokenRules(
            client_id=self.client_id,
            issuer=self._metadata_issuer,
            leeway=self.leeway,
            max_token_age=self.max_token_age,
        )
        return verify_jwt(
            token,
            keys=self._keys,
            rules=rules,
            now=self.clock,
            nonce=nonce,
            access_token=access_token,
            what=what,
        )

    def _metadata_issuer(self) -> str:
        return str(self.metadata()["issuer"])

    # --- HTTP -----------------------------------------------------------------------

    def _get_json(self, url: str, what: str) -> dict[str, Any]:
        try:
            response = self.http.get(
                url, headers={"Accept": "application/json"}, timeout=self.timeout
            )
        except requests.RequestException as exc:
            raise LoginError(
                "unavailable", "login-udbyderen svarede ikke", f"{what}: {type(exc).__name__}"
            ) from None
        if response.status_code != 200:
            raise LoginError(
                "unavailable",
                "login-udbyderen svarede ikke",
                f"{what} answered {response.status_code}",
            )
        return self._json_body(response, what)

    @staticmethod
    def _json_body(response: requests.Response, what: str) -> dict[str, Any]:
        try:
            body = response.json()
        except ValueError:
            body = None
        if not isinstance(body, dict):
            raise LoginError(
                "unavailable", "login-udbyderen svarede uforståeligt", f"{what} body is not JSON"
            )
        return body
