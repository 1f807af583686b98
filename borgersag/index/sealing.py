"""Subscribers' CPR numbers at rest: found by a keyed hash, kept sealed.

The index is personal data outside the audit log, so a CPR number is never stored in
clear: ``cpr_hash`` is an HMAC-SHA-256 under a key derived from ``[index] key`` (or
``portal.secret_key``), which finds a subscriber without decrypting anyone, and
``cpr_sealed`` is the number encrypted with Fernet (AES-CBC with an HMAC) under a
second key derived from the same secret. Whoever reads the database without the key
learns neither the numbers nor whether a given person subscribed.
"""

from __future__ import annotations

import base64
import hashlib
import hmac

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

__all__ = ["CprSeal", "SealBroken"]


class SealBroken(ValueError):
    """A sealed CPR number does not open with this key (the key changed, or tampering)."""


def _derive(secret: str, info: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=info).derive(secret.encode())


class CprSeal:
    """Hash and seal CPR numbers (ten digits) under one secret."""

    def __init__(self, secret: str):
        if not secret:
            raise ValueError("the index needs a key ([index] key or portal.secret_key)")
        self._mac_key = _derive(secret, b"borgersag index cpr hash")
        self._fernet = Fernet(base64.urlsafe_b64encode(_derive(secret, b"borgersag index seal")))

    def __repr__(self) -> str:
        return "CprSeal(…)"

    def lookup_hash(self, cpr: str) -> str:
        """The keyed hash a subscriber is found by (hex)."""
        return hmac.new(self._mac_key, cpr.encode(), hashlib.sha256).hexdigest()

    def seal(self, cpr: str) -> str:
        """The CPR number encrypted (a Fernet token, text)."""
        return self._fernet.encrypt(cpr.encode()).decode("ascii")

    def open(self, sealed: str) -> str:
        """The CPR number back; :class:`SealBroken` when it does not decrypt."""
        try:
            return self._fernet.decrypt(sealed.encode("ascii")).decode()
        except (InvalidToken, UnicodeError, ValueError):
            raise SealBroken("a subscriber's sealed CPR number does not open") from None
