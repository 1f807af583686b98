"""Who is signed in: citizens and caseworkers, their roles and data restrictions.

Plain Python, no Flask. How verified claims become a :class:`User` is
:mod:`borgersag.people.claims`.

A :class:`User` is what the web layer keeps in its server-side session. Its ``repr``
never shows the CPR number.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from borgersag.domain.keys import InvalidKey, Key, KeyKind, parse_key
from borgersag.domain.model import Sensitivity
from borgersag.people.permissions import Permission

__all__ = [
    "ASSURANCE_LEVELS",
    "PERMISSIONS",
    "Audience",
    "Restrictions",
    "Role",
    "User",
    "default_roles",
    "pseudonym",
]


class Audience(StrEnum):
    """The two kinds of people who sign in; the value is used in URLs (``/log-ind/<value>``)."""

    CITIZEN = "borger"
    CASEWORKER = "medarbejder"


ASSURANCE_LEVELS = ("low", "substantial", "high")
"""NSIS levels of assurance, weakest first."""

PERMISSIONS = {permission.value: permission.description for permission in Permission}
"""What a caseworker role may grant (the role catalogue's ``permissions``), by name; the
names of :class:`~borgersag.people.permissions.Permission`."""


@dataclass(frozen=True, slots=True)
class Restrictions:
    """KOMBIT-style data restrictions: all must hold for a case to be shown
    (:func:`borgersag.people.restrictions.visible` applies them). Empty tuples mean no limit."""

    kle_prefixes: tuple[str, ...] = ()
    units: tuple[str, ...] = ()
    max_sensitivity: Sensitivity = Sensitivity.VIP

    @property
    def unrestricted(self) -> bool:
        """True when nothing is limited."""
        return not self.kle_prefixes and not self.units and self.max_sensitivity == Sensitivity.VIP


@dataclass(frozen=True, slots=True)
class Role:
    """One entry of the role catalogue (``[roles.<name>]``)."""

    name: str
    title: str
    permissions: frozenset[Permission]
    members: frozenset[str] = frozenset()  # medarbejdernumre given this role by config
    restrictions: Restrictions | None = None

    def __post_init__(self) -> None:
        # Config hands over the catalogue's strings; a name that is no Permission raises.
        object.__setattr__(self, "permissions", frozenset(map(Permission, self.permissions)))


def default_roles() -> dict[str, Role]:
    """The catalogue used when config names no roles."""
    return {
        "sagsbehandler": Role("sagsbehandler", "Sagsbehandler", frozenset({Permission.OPSLAG})),
        "administrator": Role(
            "administrator",
            "Administrator",
            frozenset({Permission.OPSLAG, Permission.ADMINISTRATION}),
        ),
        # Searches the audit log, and looks up no one: the officer checks the others.
        "databeskyttelsesraadgiver": Role(
            "databeskyttelsesraadgiver",
            "Databeskyttelsesrådgiver",
            frozenset({Permission.DATABESKYTTELSE}),
        ),
    }


@dataclass(frozen=True, slots=True)
class User:
    """A signed-in person as the web layer keeps them.

    ``id`` is a pseudonym derived from issuer and subject (stable, never the CPR).
    Citizens carry ``cpr``; caseworkers ``medarbejdernummer``, ``unit``, ``roles``,
    ``permissions`` and ``restrictions``.
    """

    kind: Audience
    id: str
    name: str
    issuer: str = ""
    cpr: Key | None = field(default=None, repr=False)
    assurance: str = ""
    protected: bool = False
    medarbejdernummer: str = ""
    unit: str = ""
    roles: tuple[str, ...] = ()
    permissions: frozenset[Permission] = frozenset()
    restrictions: Restrictions = Restrictions()

    def __post_init__(self) -> None:
        object.__setattr__(self, "permissions", frozenset(map(Permission, self.permissions)))

    @property
    def is_citizen(self) -> bool:
        """True for a citizen signed in with MitID."""
        return self.kind is Audience.CITIZEN

    @property
    def is_caseworker(self) -> bool:
        """True for municipal staff."""
        return self.kind is Audience.CASEWORKER

    def may(self, permission: Permission) -> bool:
        """Whether a caseworker's roles grant ``permission`` (citizens: never)."""
        return self.is_caseworker and permission in self.permissions

    def to_session(self) -> dict[str, Any]:
        """JSON-able form for the server-side session."""
        return {
            "kind": self.kind.value,
            "id": self.id,
            "name": self.name,
            "issuer": self.issuer,
            "cpr": self.cpr.value if self.cpr else None,
            "assurance": self.assurance,
            "protected": self.protected,
            "medarbejdernummer": self.medarbejdernummer,
            "unit": self.unit,
            "roles": list(self.roles),
            "permissions": sorted(self.permissions),
            "restrictions": {
                "kle_prefixes": list(self.restrictions.kle_prefixes),
                "units": list(self.restrictions.units),
                "max_sensitivity": self.restrictions.max_sensitivity.name.lower(),
            },
        }

    @classmethod
    def from_session(cls, data: Mapping[str, Any]) -> User:
        """Inverse of :meth:`to_session`; raises ``ValueError`` on anything unexpected."""
        try:
            restrictions = data.get("restrictions") or {}
            cpr = data.get("cpr")
            return cls(
                kind=Audience(data["kind"]),
                id=str(data["id"]),
                name=str(data["name"]),
                issuer=str(data.get("issuer", "")),
                cpr=parse_key(KeyKind.CPR, cpr) if cpr else None,
                assurance=str(data.get("assurance", "")),
                protected=bool(data.get("protected", False)),
                medarbejdernummer=str(data.get("medarbejdernummer", "")),
                unit=str(data.get("unit", "")),
                roles=tuple(str(r) for r in data.get("roles", ())),
                permissions=Permission.known(data.get("permissions", ())),
                restrictions=Restrictions(
                    kle_prefixes=tuple(restrictions.get("kle_prefixes", ())),
                    units=tuple(restrictions.get("units", ())),
                    max_sensitivity=Sensitivity[
                        str(restrictions.get("max_sensitivity", "vip")).upper()
                    ],
                ),
            )
        except (KeyError, TypeError, InvalidKey, AttributeError) as exc:
            raise ValueError(f"not a session user: {type(exc).__name__}") from None


def pseudonym(issuer: str, sub: str) -> str:
    """A stable user id from issuer and subject that reveals neither."""
    return hashlib.sha256(f"{issuer}\x00{sub}".encode()).hexdigest()[:24]
