"""The witness: an append-only place outside the audit database for signed heads.

A signed head says "at time T the log's row ``seq`` had hash H", signed with the audit
signing key (:mod:`borgersag.audit.keys`). Someone who rewrites, cuts or swaps the
database cannot change what the witness already holds, so ``borgersag audit verify``
compares the chain with it: a witnessed row that is missing (a cut tail) or has another
hash (a swapped or rewritten log) is named.

The interface is two methods, :class:`Witness`; shipped is :class:`FileWitness` (one
JSON object a line, ``witness = "file:/path"``). Anything that can append and read back
will do — a file on another machine's share, a second database — and the file is best
kept where the audit database's administrators cannot write.

Reading trusts nothing: only the last :data:`MAX_READ_BYTES` of the file are read, a
line longer than :data:`MAX_LINE_BYTES` or not a well-formed head is reported by its
line number and skipped, and the signature is checked by the caller.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

__all__ = [
    "MAX_LINE_BYTES",
    "MAX_READ_BYTES",
    "FileWitness",
    "SignedHead",
    "Witness",
    "WitnessRead",
    "WitnessUnavailable",
    "parse_witness",
]

MAX_READ_BYTES = 32 * 1024 * 1024
MAX_LINE_BYTES = 2048

_HEX64 = re.compile(r"[0-9a-f]{64}")
_KINDS = ("head", "checkpoint")


class WitnessUnavailable(Exception):
    """The witness cannot be written or read; says which and why."""


@dataclass(frozen=True, slots=True)
class SignedHead:
    """``seq`` had ``hash`` at ``at`` (ISO-8601 UTC); ``signature`` 128 hex digits.

    ``kind`` is ``head`` (the newest row at that time) or ``checkpoint`` (a retention
    run's anchor). ``line`` is where it was read (0 for one not read from a witness).
    """

    kind: str
    seq: int
    hash: str
    at: str
    signature: str
    line: int = 0

    def to_json(self) -> str:
        return json.dumps(
            {
                "kind": self.kind,
                "seq": self.seq,
                "hash": self.hash,
                "at": self.at,
                "signature": self.signature,
            },
            separators=(",", ":"),
            sort_keys=True,
        )

    @classmethod
    def from_json(cls, text: str, line: int) -> SignedHead:
        """A head from one witness line; ``ValueError`` for anything else."""
        document = json.loads(text)
        if not isinstance(document, dict):
            raise ValueError("not an object")
        kind, seq, hash_ = document.get("kind"), document.get("seq"), document.get("hash")
        at, signature = document.get("at"), document.get("signature")
        if kind not in _KINDS or not isinstance(seq, int) or isinstance(seq, bool) or seq < 0:
            raise ValueError("no kind or seq")
        if not isinstance(hash_, str) or not _HEX64.fullmatch(hash_):
            raise ValueError("no hash")
        if not isinstance(at, str) or len(at) > 40 or not isinstance(signature, str):
            raise ValueError("no time or signature")
        return cls(kind, seq, hash_, at, signature[:200], line)


@dataclass(frozen=True, slots=True)
class WitnessRead:
    """What a witness holds: the well-formed heads, and a problem line for each bad one."""

    heads: tuple[SignedHead, ...]
    problems: tuple[str, ...] = ()


class Witness(Protocol):
    """Somewhere outside the audit database that signed heads are appended to."""

    description: str

    def append(self, head: SignedHead) -> None:
        """Store ``head`` durably; :class:`WitnessUnavailable` if it cannot."""

    def read(self) -> WitnessRead:
        """Every head stored (the newest part, when there are very many)."""


class FileWitness:
    """A JSON-lines file, appended to with ``O_APPEND`` and fsynced (mode 0600)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.description = f"file {path}"

    def append(self, head: SignedHead) -> None:
        line = (head.to_json() + "\n").encode("ascii")
        flags = os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_NOFOLLOW
        try:
            fd = os.open(self.path, flags, 0o600)
        except OSError as exc:
            raise WitnessUnavailable(
                f"the witness {self.description} cannot be opened ({exc.strerror})"
            ) from None
        try:
            _check_private(fd, self.description)
            os.write(fd, line)  # one write of a short line: appended whole
            os.fsync(fd)
        except OSError as exc:
            raise WitnessUnavailable(
                f"the witness {self.description} cannot be written ({exc.strerror})"
            ) from None
        finally:
            os.close(fd)

    def read(self) -> WitnessRead:
        try:
            fd = os.open(self.path, os.O_RDONLY | os.O_NOFOLLOW)
        except FileNotFoundError:
            return WitnessRead(())
        except OSError as exc:
            raise WitnessUnavailable(
                f"the witness {self.description} cannot be read ({exc.strerror})"
            ) from None
        problems: list[str] = []
        try:
            _check_private(fd, self.description)
        except WitnessUnavailable:
            os.close(fd)
            raise
        with os.fdopen(fd, "rb") as file:
            size = os.fstat(fd).st_size
            skipped = size > MAX_READ_BYTES
            if skipped:
                file.seek(size - MAX_READ_BYTES)
                file.readline()  # the rest of a line cut in two
                problems.append(
                    f"the witness {self.description} is larger than"
                    f" {MAX_READ_BYTES // (1024 * 1024)} MiB: only its newest part was read"
                )
            heads: list[SignedHead] = []
            number = 0
            while raw := file.readline(MAX_LINE_BYTES + 1):
                number += 1
                if len(raw) > MAX_LINE_BYTES and not raw.endswith(b"\n"):
                    while raw and not raw.endswith(b"\n"):  # the rest of the long line
                        raw = file.readline(MAX_LINE_BYTES + 1)
                    problems.append(f"witness line {number}: too long, skipped")
                    continue
                if not raw.strip():
                    continue
                try:
                    heads.append(SignedHead.from_json(raw.decode("utf-8"), number))
                except (ValueError, UnicodeDecodeError):
                    problems.append(f"witness line {number}: not a signed head, skipped")
        return WitnessRead(tuple(heads), tuple(problems))


def _check_private(fd: int, description: str) -> None:
    """Refuse a witness file someone else owns or may write (it could be edited)."""
    info = os.fstat(fd)
    if hasattr(os, "getuid") and info.st_uid != os.getuid():
        raise WitnessUnavailable(f"the witness {description} belongs to another user")
    if info.st_mode & 0o022:
        raise WitnessUnavailable(f"the witness {description} may be written by others")


def parse_witness(spec: str) -> Witness:
    """The witness a ``[audit] witness`` value names: ``file:/absolute/path``."""
    kind, _, rest = spec.partition(":")
    if kind == "file" and rest.startswith("/"):
        return FileWitness(Path(rest))
    raise ValueError("'file:/absolute/path/witness.jsonl'")
