"""ID token verification: the allowlisted algorithms, the signing keys, the claim checks.

Used by :class:`borgersag.people.oidc.Provider` for ID tokens and signed userinfo. The
checks, in order: the algorithm is on :data:`ALLOWED_ALGORITHMS` (asymmetric only: no
``none``, no HS*); the key is chosen by ``kid`` from the provider's JWKS
(:class:`SigningKeys`, cached, refetched on an unknown ``kid`` at most once per
``min_refresh`` seconds) and its type, ``use`` and ``alg`` fit; the signature, ``iss``,
``aud``, ``exp`` and ``at_hash`` (python-jose); ``iat`` neither ahead nor too old; ``azp``;
the ``nonce``. Every failure is a :class:`LoginError` with a stable code.
"""

from __future__ import annotations

import secrets
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from jose import jwt
from jose.exceptions import ExpiredSignatureError, JWTClaimsError, JWTError

__all__ = ["ALLOWED_ALGORITHMS", "LoginError", "SigningKeys", "TokenRules", "verify_jwt"]

ALLOWED_ALGORITHMS = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384")
"""Asymmetric signature algorithms accepted on ID tokens."""

_KEY_TYPES = {"RS": "RSA", "PS": "RSA", "ES": "EC"}


class LoginError(Exception):
    """A login that must not succeed. ``code`` is stable; ``detail`` is for the log.

    ``reason`` is a short Danish phrase safe to show ("ID-tokenet er udløbet").
    """

    def __init__(self, code: str, reason: str, detail: str = "") -> None:
        super().__init__(f"{code}: {detail or reason}")
        self.code = code
        self.reason = reason
        self.detail = detail


@dataclass(frozen=True, slots=True)
class TokenRules:
    """What a token must say about who issued it, for whom, and how fresh it is."""

    client_id: str
    issuer: Callable[[], str]  # read only once the signature's key is known
    leeway: float
    max_token_age: float


class SigningKeys:
    """A provider's JWKS, cached; an unknown ``kid`` refetches it at most once per
    ``min_refresh`` seconds. Thread-safe."""

    def __init__(
        self,
        fetch: Callable[[], Mapping[str, Any]],
        *,
        min_refresh: float,
        clock: Callable[[], float],
    ) -> None:
        self._fetch = fetch
        self.min_refresh = min_refresh
        self.clock = clock
        self._lock = threading.Lock()
        self._jwks: list[dict[str, Any]] = []
        self._jwks_at: float | None = None

    def key_for(self, kid: Any, alg: str) -> dict[str, Any]:
        """The key for ``kid`` that fits ``alg``; :class:`LoginError` when there is none."""
        key = self._find_key(kid, alg)
        if key is None and self._may_refresh_jwks():
            self._load_jwks()
            key = self._find_key(kid, alg)
        if key is None:
            raise LoginError(
                "unknown_key",
                "ID-tokenet var signeret med en ukendt nøgle",
                f"no signing key for kid {str(kid)[:40]!r}",
            )
        return key

    def _may_refresh_jwks(self) -> bool:
        with self._lock:
            last = self._jwks_at
        return last is None or self.clock() - last >= self.min_refresh

    def _load_jwks(self) -> None:
        document = self._fetch()
        keys = document.get("keys")
        if not isinstance(keys, list):
            raise LoginError("discovery", "login-udbyderen er sat forkert op", "jwks without keys")
        with self._lock:
            self._jwks = [k for k in keys if isinstance(k, dict)]
            self._jwks_at = self.clock()

    def _find_key(self, kid: Any, alg: str) -> dict[str, Any] | None:
        with self._lock:
            keys = list(self._jwks)
        wanted_kty = _KEY_TYPES[alg[:2]]
        usable = [
            k
            for k in keys
            if k.get("kty") == wanted_kty
            and k.get("use", "sig") == "sig"
            and k.get("alg", alg) == alg
        ]
        if kid is None:
            return usable[0] if len(usable) == 1 else None
        return next((k for k in usable if k.get("kid") == kid), None)


def verify_jwt(
    token: str,
    *,
    keys: SigningKeys,
    rules: TokenRules,
    now: Callable[[], float],
    nonce: str | None,
    access_token: str | None = None,
    what: str,
) -> dict[str, Any]:
    """The claims of ``token`` (``what`` names it in errors) if it passes every check
    the module docstring lists; ``nonce=None`` skips the nonce (signed userinfo)."""
    try:
        header = jwt.get_unverified_header(token)
    except JWTError:
        raise LoginError("malformed", "ID-tokenet kunne ikke læses", f"{what} malformed") from None
    alg = header.get("alg")
    if alg not in ALLOWED_ALGORITHMS:
        raise LoginError(
            "algorithm",
            "ID-tokenet var signeret på en måde, vi ikke accepterer",
            f"{what} alg {str(alg)[:10]!r} not allowed",
        )
    key = keys.key_for(header.get("kid"), alg)
    try:
        claims = jwt.decode(
            token,
            key,
            algorithms=[alg],
            audience=rules.client_id,
            issuer=rules.issuer(),
            access_token=access_token,
            options={
                "leeway": rules.leeway,
                "require_exp": True,
                "require_iat": True,
                "require_sub": True,
                "require_aud": True,
                "require_iss": True,
                "verify_at_hash": access_token is not None,
            },
        )
    except ExpiredSignatureError:
        raise LoginError("expired", "ID-tokenet er udløbet", f"{what} expired") from None
    except JWTClaimsError as exc:
        text = str(exc).lower()
        code = (
            "issuer"
            if "issuer" in text
            else "audience"
            if "audience" in text
            else "at_hash"
            if "hash" in text
            else "claims"
        )
        reasons = {
            "issuer": "ID-tokenet kom fra en anden udsteder",
            "audience": "ID-tokenet var udstedt til en anden tjeneste",
            "at_hash": "ID-tokenet passede ikke til adgangstokenet",
            "claims": "ID-tokenet manglede nødvendige oplysninger",
        }
        raise LoginError(code, reasons[code], f"{what}: {code}") from None
    except JWTError:
        raise LoginError(
            "signature", "ID-tokenets signatur var ugyldig", f"{what} signature invalid"
        ) from None
    _check_times_and_party(claims, rules, now(), what)
    if nonce is not None:
        sent = claims.get("nonce")
        if not isinstance(sent, str) or not secrets.compare_digest(sent.encode(), nonce.encode()):
            raise LoginError(
                "nonce",
                "ID-tokenet hørte ikke til dette login (nonce)",
                f"{what} nonce mismatch",
            )
    return claims


def _check_times_and_party(
    claims: Mapping[str, Any], rules: TokenRules, now: float, what: str
) -> None:
    iat = claims.get("iat")
    if not isinstance(iat, int | float) or isinstance(iat, bool):
        raise LoginError("claims", "ID-tokenet manglede nødvendige oplysninger", "no iat")
    if iat > now + rules.leeway:
        raise LoginError("iat", "ID-tokenet er udstedt ude i fremtiden", f"{what} iat ahead")
    if iat < now - rules.max_token_age - rules.leeway:
        raise LoginError("expired", "ID-tokenet er for gammelt", f"{what} iat too old")
    audience = claims.get("aud")
    several = isinstance(audience, list) and len(audience) > 1
    azp = claims.get("azp")
    if (several or azp is not None) and azp != rules.client_id:
        raise LoginError("audience", "ID-tokenet var udstedt til en anden tjeneste", f"{what} azp")
