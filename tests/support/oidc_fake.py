"""A fake OpenID provider behind ``responses``, for login tests that need hostile tokens.

It serves discovery, JWKS, token, userinfo and end-session endpoints for one issuer,
checks the client's credentials and the PKCE verifier like a real provider, and hands
out whatever ID token a test builds — well-formed or hostile.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import json
import secrets
import time
import urllib.parse
from dataclasses import dataclass, field
from typing import Any

import responses
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from jose import jwk, jwt


@functools.lru_cache(maxsize=4)
def rsa_pem(name: str) -> bytes:
    """A private RSA key in PEM, one per ``name`` (cached: generation is slow)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def public_pem(name: str) -> bytes:
    """The public half of :func:`rsa_pem`."""
    private = serialization.load_pem_private_key(rsa_pem(name), password=None)
    return private.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def b64url(data: bytes | str) -> str:
    """Base64url without padding."""
    if isinstance(data, str):
        data = data.encode()
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


@dataclass
class FakeProvider:
    """One issuer. ``install(rsps)`` registers its endpoints on a ``RequestsMock``."""

    issuer: str = "https://mitid.test"
    client_id: str = "borgersag"
    client_secret: str = "s3cret"
    kid: str = "key-1"
    userinfo_claims: dict[str, Any] | None = None
    codes: dict[str, dict[str, Any]] = field(default_factory=dict)
    jwks_calls: int = 0
    token_calls: int = 0
    userinfo_calls: int = 0
    pkce_failures: int = 0

    def install(self, rsps: responses.RequestsMock) -> None:
        """Register discovery, JWKS, token, userinfo and logout on ``rsps``."""
        rsps.add(
            responses.GET,
            f"{self.issuer}/.well-known/openid-configuration",
            json={
                "issuer": self.issuer,
                "authorization_endpoint": f"{self.issuer}/authorize",
                "token_endpoint": f"{self.issuer}/token",
                "userinfo_endpoint": f"{self.issuer}/userinfo",
                "jwks_uri": f"{self.issuer}/jwks",
                "end_session_endpoint": f"{self.issuer}/logout",
                "id_token_signing_alg_values_supported": ["RS256"],
                "token_endpoint_auth_methods_supported": ["client_secret_basic"],
            },
        )
        rsps.add_callback(responses.GET, f"{self.issuer}/jwks", callback=self._jwks)
        rsps.add_callback(responses.POST, f"{self.issuer}/token", callback=self._token)
        rsps.add_callback(responses.GET, f"{self.issuer}/userinfo", callback=self._userinfo)

    # --- tokens ---------------------------------------------------------------------------

    def claims(self, nonce: str, **extra: Any) -> dict[str, Any]:
        """A valid set of ID token claims for ``nonce``; ``extra`` adds or replaces."""
        now = int(time.time())
        base = {
            "iss": self.issuer,
            "aud": self.client_id,
            "sub": "c0ffee-0001",
            "iat": now,
            "exp": now + 300,
            "nonce": nonce,
        }
        base.update(extra)
        return {k: v for k, v in base.items() if v is not None}

    def sign(
        self,
        claims: dict[str, Any],
        *,
        key: str = "provider",
        kid: str | None = None,
        alg: str = "RS256",
    ) -> str:
        """``claims`` signed with the named RSA key (the provider's own by default)."""
        headers = {"kid": kid if kid is not None else self.kid}
        return jwt.encode(claims, rsa_pem(key).decode(), algorithm=alg, headers=headers)

    def issue_code(self, id_token: str, challenge: str, *, access_token: str | None = None) -> str:
        """A one-time code that the token endpoint exchanges for ``id_token``."""
        code = secrets.token_urlsafe(16)
        self.codes[code] = {
            "id_token": id_token,
            "challenge": challenge,
            "access_token": access_token or secrets.token_urlsafe(16),
            "used": False,
        }
        return code

    # --- endpoints ------------------------------------------------------------------------

    def _jwks(self, request: Any) -> tuple[int, dict[str, str], str]:
        self.jwks_calls += 1
        public = jwk.construct(public_pem("provider").decode(), "RS256").to_dict()
        public.update(kid=self.kid, use="sig", alg="RS256")
        return 200, {"Content-Type": "application/json"}, json.dumps({"keys": [public]})

    def _token(self, request: Any) -> tuple[int, dict[str, str], str]:
        self.token_calls += 1
        form = dict(urllib.parse.parse_qsl(request.body))
        expected = (
            "Basic " + base64.b64encode(f"{self.client_id}:{self.client_secret}".encode()).decode()
        )
        if request.headers.get("Authorization") != expected:
            return 401, {}, json.dumps({"error": "invalid_client"})
        grant = self.codes.get(form.get("code", ""))
        if grant is None or grant["used"]:
            return 400, {}, json.dumps({"error": "invalid_grant"})
        grant["used"] = True
        verifier = form.get("code_verifier", "")
        if b64url(hashlib.sha256(verifier.encode()).digest()) != grant["challenge"]:
            self.pkce_failures += 1
            return 400, {}, json.dumps({"error": "invalid_grant"})
        body = {
            "access_token": grant["access_token"],
            "token_type": "Bearer",
            "expires_in": 300,
            "id_token": grant["id_token"],
        }
        return 200, {"Content-Type": "application/json"}, json.dumps(body)

    def _userinfo(self, request: Any) -> tuple[int, dict[str, str], str]:
        self.userinfo_calls += 1
        if not request.headers.get("Authorization", "").startswith("Bearer "):
            return 401, {}, ""
        return 200, {"Content-Type": "application/json"}, json.dumps(self.userinfo_claims or {})


def authorization_params(location: str) -> dict[str, str]:
    """The query parameters of an authorization redirect."""
    return dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(location).query))


def start(client, audience: str = "borger") -> dict[str, str]:
    """Start a login on the portal; the authorization request's parameters."""
    response = client.get(f"/log-ind/{audience}")
    assert response.status_code == 303, response.status_code
    return authorization_params(response.location)


def finish(
    client, provider: FakeProvider, params: dict[str, str], token: str, *, state: str | None = None
):
    """Come back to the portal with a code for ``token``; the portal's response."""
    code = provider.issue_code(token, params["code_challenge"])
    query = urllib.parse.urlencode({"code": code, "state": state or params["state"]})
    return client.get(f"/log-ind/svar?{query}")
