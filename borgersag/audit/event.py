"""One audit event, and the canonical form its chain hash is computed over.

The canonical form is the only thing the hash chain depends on, so it is fixed here and
documented in docs/audit.md: a JSON object with the keys in :data:`CANONICAL_FIELDS`
plus ``seq`` and ``prev``, serialised with sorted keys, no whitespace, non-ASCII kept
as is and encoded as UTF-8; ``at`` as ISO-8601 in UTC with microseconds
(``2025-03-01T09:15:02.123456+00:00``); lists as JSON arrays. Changing any of this
breaks verification of every row written before the change.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from borgersag.domain.keys import Key
    from borgersag.people.identity import User

__all__ = [
    "ACTOR_TYPES",
    "CANONICAL_FIELDS",
    "GENESIS_HASH",
    "STAFF_VIEW_KINDS",
    "AuditEvent",
    "EventKind",
    "canonical_bytes",
    "chain_hash",
    "mask_subject",
    "source_outcomes",
    "subject_key",
]


class EventKind(StrEnum):
    """What happened."""

    LOOKUP = "lookup"  # an overview for a key was shown
    CASE_VIEW = "case_view"  # one case page was shown
    DOCUMENT = "document"  # a document was downloaded
    LOGIN = "login"
    LOGOUT = "logout"
    REFUSED = "refused"  # access was refused (login or a page); ``detail`` says why
    AUDIT_SEARCH = "audit_search"  # the data-protection officer searched this log
    AUDIT_EXPORT = "audit_export"  # ... and exported one person's rows (GDPR art. 15)
    INDEX_REFRESH = "index_refresh"  # the case index asked the sources (actor: system)
    SOURCE_SWITCH = "source_switch"  # an administrator switched a source off or on; ``detail`` why


STAFF_VIEW_KINDS = (
    EventKind.LOOKUP,
    EventKind.CASE_VIEW,
    EventKind.DOCUMENT,
    EventKind.INDEX_REFRESH,
)
"""The kinds a citizen sees on "Hvem har set mine oplysninger"."""

ACTOR_TYPES = ("caseworker", "citizen", "anonymous", "system")
"""``system``: the municipality's own service (the case index's refresh), not a person."""

GENESIS_HASH = "0" * 64
"""The previous-hash of the very first row."""

CANONICAL_FIELDS = (
    "at",
    "kind",
    "actor_type",
    "actor_id",
    "actor_name",
    "actor_unit",
    "actor_roles",
    "subject",
    "purpose",
    "sources",
    "case_ids",
    "request_id",
    "detail",
)
"""The event fields covered by the hash, besides ``seq`` and ``prev``. Fixed."""

_SUBJECT_RE = re.compile(r"^[a-z]+:\S.*$")
_OUTCOME_RE = re.compile(r"^[a-z_]{1,32}$")


@dataclass(frozen=True, slots=True, repr=False)
class AuditEvent:
    """One thing a person did or was refused, as the audit log records it.

    ``subject`` is the key looked at as ``"<kind>:<value>"`` (see :func:`subject_key`),
    or ``""`` when there is none (login, logout). ``persons`` are the keys
    (``"cpr:…"``) of every person whose data was shown — the subject, the parties of the
    cases shown, a property's owners —, kept in ``audit_person`` beside the row
    (:mod:`borgersag.audit.persons`) and not part of the chain hash; they are stored
    sorted, each once. ``sources`` pairs each source asked
    with its outcome (``ok``, ``empty``, ``failed``, ``timeout``, ``stale``,
    ``disabled``, …: a :class:`~borgersag.domain.model.SourceStatus` value). ``at`` is set by
    the log when left out. The ``repr`` leaves out the subject and names.
    """

    kind: EventKind
    actor_type: str
    actor_id: str = ""
    actor_name: str = ""
    actor_unit: str = ""
    actor_roles: tuple[str, ...] = ()
    subject: str = ""
    purpose: str = ""
    sources: tuple[tuple[str, str], ...] = ()
    case_ids: tuple[str, ...] = ()
    request_id: str = ""
    detail: str = ""
    at: dt.datetime | None = field(default=None)
    persons: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        set_ = object.__setattr__
        set_(self, "kind", EventKind(self.kind))
        if self.actor_type not in ACTOR_TYPES:
            raise ValueError(f"actor_type must be one of {', '.join(ACTOR_TYPES)}")
        set_(self, "actor_roles", tuple(self.actor_roles))
        set_(self, "case_ids", tuple(self.case_ids))
        set_(self, "sources", tuple((name, outcome) for name, outcome in self.sources))
        for name in ("actor_id", "actor_name", "actor_unit", "subject", "purpose"):
            _check_text(name, getattr(self, name))
        for name in ("request_id", "detail"):
            _check_text(name, getattr(self, name))
        for value in (*self.actor_roles, *self.case_ids, *(n for n, _ in self.sources)):
            _check_text("a list item", value)
        if self.subject and not _SUBJECT_RE.match(self.subject):
            raise ValueError("subject must be '' or '<key kind>:<value>', e.g. 'cpr:…'")
        for _, outcome in self.sources:
            if not isinstance(outcome, str) or not _OUTCOME_RE.match(outcome):
                raise ValueError("a source outcome must be a short word such as 'ok' or 'failed'")
        if self.at is not None:
            set_(self, "at", utc(self.at))
        if isinstance(self.persons, str):
            raise ValueError("persons must be a list of keys, not one string")
        for person in self.persons:
            _check_text("a person", person)
            if not _SUBJECT_RE.match(person):
                raise ValueError("a person must be '<key kind>:<value>', e.g. 'cpr:…'")
        set_(self, "persons", tuple(sorted(set(self.persons))))

    def __repr__(self) -> str:
        return (
            f"AuditEvent(kind={self.kind.value!r}, actor_type={self.actor_type!r},"
            f" request_id={self.request_id!r})"
        )

    @classmethod
    def for_user(cls, kind: EventKind | str, user: User | None, **fields: Any) -> AuditEvent:
        """An event whose actor is ``user`` (``None``: anonymous, e.g. a refused login).

        A caseworker is identified by medarbejdernummer, a citizen by the pseudonymous
        user id, never the CPR number. ``fields`` are the other :class:`AuditEvent` fields.
        """
        if user is None:
            return cls(kind, "anonymous", **fields)
        actor_type = "caseworker" if user.is_caseworker else "citizen"
        actor = {
            "actor_id": user.medarbejdernummer or user.id,
            "actor_name": user.name,
            "actor_unit": user.unit,
            "actor_roles": user.roles,
        }
        return cls(kind, actor_type, **{**actor, **fields})

    def canonical_fields(self) -> dict[str, Any]:
        """The hashed fields in their canonical (JSON) shape; ``at`` must be set."""
        if self.at is None:
            raise ValueError("the event has no time yet")
        return {
            "at": iso_utc(self.at),
            "kind": self.kind.value,
            "actor_type": self.actor_type,
            "actor_id": self.actor_id,
            "actor_name": self.actor_name,
            "actor_unit": self.actor_unit,
            "actor_roles": list(self.actor_roles),
            "subject": self.subject,
            "purpose": self.purpose,
            "sources": [[name, outcome] for name, outcome in self.sources],
            "case_ids": list(self.case_ids),
            "request_id": self.request_id,
            "detail": self.detail,
            "persons": list(self.persons),
        }


def _check_text(name: str, value: Any) -> None:
    if not isinstance(value, str):
        raise ValueError(f"{name} must be a string")
    if "\x00" in value:
        raise ValueError(f"{name} must not contain NUL characters")


def utc(moment: dt.datetime) -> dt.datetime:
    """``moment`` in UTC; a naive datetime is refused (its zone would be a guess)."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("audit times must be timezone-aware")
    return moment.astimezone(dt.UTC)


def iso_utc(moment: dt.datetime) -> str:
    """The canonical time text: ISO-8601, UTC, microseconds."""
    return utc(moment).isoformat(timespec="microseconds")


def canonical_bytes(seq: int, prev: str, fields: Mapping[str, Any]) -> bytes:
    """The bytes a row's hash is computed over (see the module docstring)."""
    document = {name: fields[name] for name in CANONICAL_FIELDS}
    if fields.get("persons"):  # only when there are any: older rows keep their form
        document["persons"] = sorted(fields["persons"])
    document["seq"] = seq
    document["prev"] = prev
    return json.dumps(
        document, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode("utf-8")


def chain_hash(seq: int, prev: str, fields: Mapping[str, Any], key: bytes | None = None) -> str:
    """HMAC-SHA256 (hex) of the canonical form under ``key``: binds the row's content,
    place and predecessor, and cannot be recomputed without the key.

    Without a key, plain SHA-256: the unkeyed format of logs written before the key
    (and of an :class:`~borgersag.audit.AuditLog` opened without one, in tests).
    """
    document = canonical_bytes(seq, prev, fields)
    if key is None:
        return hashlib.sha256(document).hexdigest()
    return hmac.new(key, document, hashlib.sha256).hexdigest()


def subject_key(key: Key) -> str:
    """The ``subject`` text for a lookup key, e.g. ``"cpr:0101011234"``."""
    return f"{key.kind.value}:{key.value}"


def mask_subject(subject: str) -> str:
    """A subject fit for a terminal or a log: CPR masked (``cpr:010101-xxxx``).

    Other key kinds are shown as their key type formats them; a subject that does not
    parse is hidden entirely.
    """
    from borgersag.domain.keys import InvalidKey, KeyKind, parse_key

    if not subject:
        return "-"
    kind, _, value = subject.partition(":")
    try:
        return f"{kind}:{parse_key(KeyKind(kind), value).mask()}"
    except (ValueError, InvalidKey):
        return f"{kind}:(skjult)"


def source_outcomes(results: Iterable[Any]) -> tuple[tuple[str, str], ...]:
    """``sources`` for an event from an overview's
    :class:`~borgersag.domain.model.SourceResult` s."""
    return tuple((r.source, str(r.status.value)) for r in results)
