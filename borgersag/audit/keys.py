"""The two secrets the audit log keeps outside its database, and the heads it signs.

``hmac_key_file``
    32 random bytes. Each row's hash is HMAC-SHA256 under this key
    (:func:`~borgersag.audit.event.chain_hash`), so someone who can write the database
    but not read this file cannot re-hash rows after changing one.
``signing_key_file``
    32 random bytes, the seed of an Ed25519 key. It signs the chain's head — ``seq``,
    ``hash`` and the time — at every checkpoint and every few minutes; the signed heads go
    to a witness outside the database (:mod:`borgersag.audit.witness`), and each
    checkpoint row carries one.

Both files are created with mode 0600 by ``borgersag audit init`` when missing, and by
the portal in the sandbox (in its private state folder). A file that others may read,
that is a symbolic link, or that does not hold exactly 32 bytes is refused.
"""

from __future__ import annotations

import errno
import os
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

__all__ = [
    "KEY_BYTES",
    "AuditKeys",
    "KeyFileError",
    "checkpoint_message",
    "create_key_file",
    "head_message",
    "read_key_file",
]

KEY_BYTES = 32

_HEAD_LABEL = b"borgersag-audit-head-v1"
_CHECKPOINT_LABEL = b"borgersag-audit-checkpoint-v1"


class KeyFileError(Exception):
    """A key file is missing, unreadable, not private or of the wrong size; says which."""


def _signed(label: bytes, seq: int, hash_: str, at: str) -> bytes:
    # NUL cannot occur in a decimal number, a hex hash or an ISO time: the fields
    # cannot run into each other.
    return b"\x00".join((label, str(seq).encode(), hash_.encode(), at.encode()))


def head_message(seq: int, hash_: str, at: str) -> bytes:
    """What a signed head's signature covers: the head ``seq``, its ``hash`` and ``at``."""
    return _signed(_HEAD_LABEL, seq, hash_, at)


def checkpoint_message(seq: int, hash_: str, at: str) -> bytes:
    """What a checkpoint's signature covers (a different label: a head cannot be
    replayed as a checkpoint)."""
    return _signed(_CHECKPOINT_LABEL, seq, hash_, at)


def create_key_file(path: Path) -> None:
    """Write 32 random bytes to ``path`` (mode 0600); an existing file is left alone."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    except FileExistsError:
        return
    except OSError as exc:
        raise KeyFileError(f"the key file {path} cannot be created ({exc.strerror})") from None
    try:
        os.write(fd, os.urandom(KEY_BYTES))
        os.fsync(fd)
    finally:
        os.close(fd)


def read_key_file(path: Path) -> bytes:
    """The 32 bytes in ``path``; :class:`KeyFileError` when it is not a private key file."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    except FileNotFoundError:
        raise KeyFileError(
            f"the key file {path} does not exist; 'borgersag audit init' creates it"
        ) from None
    except OSError as exc:
        reason = "it is a symbolic link" if exc.errno == errno.ELOOP else exc.strerror
        raise KeyFileError(f"the key file {path} cannot be read ({reason})") from None
    try:
        info = os.fstat(fd)
        if info.st_mode & 0o077:
            raise KeyFileError(
                f"the key file {path} may be read by others (mode"
                f" {info.st_mode & 0o777:o}); make it 0600"
            )
        data = os.read(fd, KEY_BYTES + 1)
    finally:
        os.close(fd)
    if len(data) != KEY_BYTES:
        raise KeyFileError(f"the key file {path} must hold exactly {KEY_BYTES} bytes")
    return data


@dataclass(frozen=True, slots=True, repr=False)
class AuditKeys:
    """The HMAC key of the chain and the Ed25519 key that signs heads and checkpoints."""

    hmac_key: bytes
    signing_seed: bytes
    _private: Ed25519PrivateKey = field(init=False)

    def __post_init__(self) -> None:
        if len(self.hmac_key) != KEY_BYTES or len(self.signing_seed) != KEY_BYTES:
            raise ValueError(f"audit keys are {KEY_BYTES} bytes each")
        private = Ed25519PrivateKey.from_private_bytes(self.signing_seed)
        object.__setattr__(self, "_private", private)

    def __repr__(self) -> str:
        return "AuditKeys(…)"

    @classmethod
    def from_files(cls, hmac_key_file: Path, signing_key_file: Path) -> AuditKeys:
        """Read both key files (see :func:`read_key_file`)."""
        return cls(read_key_file(hmac_key_file), read_key_file(signing_key_file))

    @property
    def public_key(self) -> Ed25519PublicKey:
        return self._private.public_key()

    def sign(self, message: bytes) -> str:
        """The Ed25519 signature of ``message``, as 128 hex digits."""
        return self._private.sign(message).hex()

    def signature_ok(self, message: bytes, signature: object) -> bool:
        """Whether ``signature`` (hex text, from a hostile store) signs ``message``."""
        if not isinstance(signature, str) or len(signature) != 128:
            return False
        try:
            self.public_key.verify(bytes.fromhex(signature), message)
        except (ValueError, InvalidSignature):
            return False
        return True
