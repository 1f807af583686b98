"""OAuth2 client credentials for sandbox services: a token endpoint and a Bearer check.

Momentum and OS2mo (behind Keycloak) both hand out tokens for a client id and secret;
:class:`ClientCredentials` gives a sandbox service the same: ``install(app)`` adds the
token endpoint (marked public) and ``POST /_sandbox/revoke-tokens``, and
:meth:`~ClientCredentials.authorize` is the service's ``authorize`` hook.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Mapping

from flask import Flask, jsonify, request

from borgersag.sandbox.service import json_error

__all__ = ["TOKEN_LIFETIME", "ClientCredentials"]

TOKEN_LIFETIME = 3600


class ClientCredentials:
    """Issues Bearer tokens for one client at ``token_path`` and checks them.

    The client authenticates in the form (``client_id``, ``client_secret``) or with
    HTTP Basic, as RFC 6749 allows both.
    """

    def __init__(
        self, credentials: Mapping[str, str], token_path: str, lifetime: int = TOKEN_LIFETIME
    ):
        self.client_id = credentials["client_id"]
        self.client_secret = credentials["client_secret"]
        self.token_path = "/" + token_path.lstrip("/")
        self.lifetime = lifetime
        self._tokens: dict[str, float] = {}
        self._lock = threading.Lock()

    def install(self, app: Flask) -> None:
        """Add the token endpoint (public) and ``POST /_sandbox/revoke-tokens`` to ``app``."""
        app.config["SANDBOX_PUBLIC_PATHS"].add(self.token_path)
        app.add_url_rule(self.token_path, "oauth_token", self._token_endpoint, methods=["POST"])
        app.add_url_rule(
            "/_sandbox/revoke-tokens", "revoke_tokens", self._revoke_endpoint, methods=["POST"]
        )

    def authorize(self):
        """The ``authorize`` hook: a 401 JSON error unless a valid Bearer token is sent."""
        header = request.headers.get("Authorization", "")
        if not header.startswith("Bearer ") or not self.valid(header[7:].strip()):
            return json_error(
                401, f"Adgang kræver et gyldigt Bearer-token fra {self.token_path.lstrip('/')}."
            )
        return None

    def issue(self) -> str:
        """A new access token."""
        token = secrets.token_urlsafe(24)
        with self._lock:
            self._tokens[token] = time.monotonic() + self.lifetime
        return token

    def valid(self, token: str) -> bool:
        """Whether ``token`` was issued here and has not expired or been revoked."""
        with self._lock:
            expires = self._tokens.get(token)
        return expires is not None and expires > time.monotonic()

    def revoke_all(self) -> int:
        """Forget every token (the next call gets 401); returns how many there were."""
        with self._lock:
            count = len(self._tokens)
            self._tokens.clear()
        return count

    def _token_endpoint(self):
        form = request.form
        if form.get("grant_type") != "client_credentials":
            return jsonify(
                {
                    "error": "unsupported_grant_type",
                    "error_description": "Only grant_type=client_credentials is supported.",
                }
            ), 400
        client_id, secret = form.get("client_id", ""), form.get("client_secret", "")
        if request.authorization and request.authorization.type == "basic":
            client_id = request.authorization.username or ""
            secret = request.authorization.password or ""
        ok = secrets.compare_digest(client_id.encode(), self.client_id.encode())
        ok &= secrets.compare_digest(secret.encode(), self.client_secret.encode())
        if not ok:
            return jsonify(
                {"error": "invalid_client", "error_description": "Wrong client id or secret."}
            ), 401
        return jsonify(
            {"access_token": self.issue(), "token_type": "Bearer", "expires_in": self.lifetime}
        )

    def _revoke_endpoint(self):
        return jsonify({"revoked": self.revoke_all()})
