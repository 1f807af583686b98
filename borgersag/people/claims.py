"""Claims to users: the claim names of each broker's profile, and the checks on them.

:mod:`borgersag.people.oidc` verifies the tokens; this module turns verified claims into
a :class:`~borgersag.people.identity.User` with the claim names of a *profile* (one per
broker or staff provider, every name overridable in config), checks the citizen's level of
assurance, and gives caseworkers their roles and data restrictions — the narrower of what
the claims and the role catalogue say. Plain Python, no Flask.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from borgersag.domain.keys import InvalidKey, KeyKind, parse_key
from borgersag.domain.model import Sensitivity
from borgersag.people.identity import (
    ASSURANCE_LEVELS,
    Audience,
    Restrictions,
    Role,
    User,
    pseudonym,
)

__all__ = [
    "CASEWORKER_PROFILES",
    "CITIZEN_PROFILES",
    "ClaimProfile",
    "IdentityRefused",
    "assurance_level",
    "caseworker_from_claims",
    "citizen_from_claims",
    "narrower",
]


class IdentityRefused(Exception):
    """Verified claims that must not sign in, e.g. too low assurance or no role.

    ``code`` is stable (tests, logs); ``message`` is the Danish text shown to the person.
    Neither contains personal data.
    """

    def __init__(self, code: str, message: str) -> None:
        super().__init__(code)
        self.code = code
        self.message = message


@dataclass(frozen=True, slots=True)
class ClaimProfile:
    """The claim names one broker or identity provider uses.

    Citizen profiles use ``cpr``, ``name``, ``assurance`` and ``protection``; caseworker
    profiles use ``employee_id``, ``name``, ``unit``, ``roles``, ``kle``, ``units`` and
    ``max_sensitivity``. An empty name means the provider has no such claim.
    """

    title: str
    scopes: str = "openid profile"
    name: str = "name"
    cpr: str = ""
    assurance: str = ""
    protection: str = ""
    employee_id: str = ""
    unit: str = ""
    roles: str = ""
    kle: str = ""
    units: str = ""
    max_sensitivity: str = ""
    acr_values: str = ""

    def with_overrides(self, overrides: Mapping[str, str]) -> ClaimProfile:
        """This profile with some claim names replaced (config ``*_claim`` keys)."""
        values = {k: v for k, v in overrides.items() if v}
        return ClaimProfile(**{**_profile_fields(self), **values})


def _profile_fields(profile: ClaimProfile) -> dict[str, str]:
    return {name: getattr(profile, name) for name in ClaimProfile.__slots__}


CITIZEN_PROFILES: dict[str, ClaimProfile] = {
    # NemLog-in 3 speaks OIOSAML 3; through a SAML→OIDC bridge the attribute names stay.
    "nemlog-in": ClaimProfile(
        title="NemLog-in (OIOSAML 3-navne via OIDC-bro)",
        name="https://data.gov.dk/model/core/eid/fullName",
        cpr="https://data.gov.dk/model/core/eid/cprNumber",
        assurance="https://data.gov.dk/concept/core/nsis/loa",
    ),
    "signicat": ClaimProfile(
        title="Signicat (MitID)",
        scopes="openid profile nin mitid-extra",
        cpr="nin",
        assurance="mitid_loa",
        protection="mitid_name_and_address_protection",
    ),
    "idura": ClaimProfile(
        title="Idura, tidligere Criipto (MitID)",
        scopes="openid ssn",
        cpr="cprNumberIdentifier",
        assurance="acr",
        acr_values="urn:grn:authn:dk:mitid:substantial",
    ),
    "signaturgruppen": ClaimProfile(
        title="Signaturgruppen Broker (NemLog-in)",
        scopes="openid nemlogin",
        name="nemlogin.name",
        cpr="nemlogin.cpr",
        assurance="loa",
    ),
}
"""Ready-made claim names for MitID brokers (docs/identity.md says where they come from)."""


CASEWORKER_PROFILES: dict[str, ClaimProfile] = {
    "standard": ClaimProfile(
        title="Kommunens identitetsudbyder (borgersags standardnavne)",
        scopes="openid profile",
        employee_id="medarbejdernummer",
        unit="organisationsenhed",
        roles="roles",
        kle="kle_emner",
        units="enheder",
        max_sensitivity="max_foelsomhed",
    ),
    "entra-id": ClaimProfile(
        title="Microsoft Entra ID (app-roller i 'roles')",
        scopes="openid profile",
        employee_id="employeeid",
        unit="department",
        roles="roles",
    ),
}


def assurance_level(value: Any) -> str | None:
    """The NSIS level named by a claim value, or ``None``.

    Accepts the forms brokers use: ``https://data.gov.dk/concept/core/nsis/loa/Substantial``,
    ``…/nsis/Substantial``, ``SUBSTANTIAL``, ``urn:grn:authn:dk:mitid:substantial``.
    """
    if not isinstance(value, str) or not value.strip():
        return None
    last = value.strip().rstrip("/").replace(":", "/").rsplit("/", 1)[-1].lower()
    return last if last in ASSURANCE_LEVELS else None


def _text(claims: Mapping[str, Any], name: str) -> str:
    if not name:
        return ""
    value = claims.get(name)
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    return ""


def _truthy(claims: Mapping[str, Any], name: str) -> bool:
    value = claims.get(name) if name else None
    if isinstance(value, bool):
        return value
    return isinstance(value, str) and value.strip().lower() in ("true", "1", "yes", "ja")


def _strings(claims: Mapping[str, Any], name: str) -> tuple[str, ...] | None:
    """A claim holding a list of strings (or one space/comma separated string)."""
    if not name or name not in claims:
        return None
    value = claims[name]
    if isinstance(value, str):
        value = value.replace(",", " ").split()
    if not isinstance(value, list | tuple):
        return None
    return tuple(str(v).strip() for v in value if isinstance(v, str) and v.strip())


LOW_ASSURANCE_MESSAGE = (
    "Du er logget ind med MitID på sikringsniveau {level}. Mine sager viser personlige"
    " oplysninger og kræver derfor mindst sikringsniveau betydelig. Du kan hæve dit"
    " sikringsniveau i MitID-appen ved at scanne chippen i dit pas, eller ved at kontakte"
    " Borgerservice."
)


_LEVEL_DA = {"low": "lav", "substantial": "betydelig", "high": "høj"}


def citizen_from_claims(
    claims: Mapping[str, Any],
    profile: ClaimProfile,
    *,
    issuer: str,
    accepted_assurance: Sequence[str] = ("substantial", "high"),
) -> User:
    """A citizen from verified claims, or :class:`IdentityRefused`.

    The level of assurance must be one of ``accepted_assurance``; the CPR claim must hold a
    valid CPR number. Nothing about the person is put in the exception.
    """
    level = assurance_level(claims.get(profile.assurance)) if profile.assurance else None
    if level not in accepted_assurance:
        shown = _LEVEL_DA.get(level or "", "ukendt")
        raise IdentityRefused("assurance", LOW_ASSURANCE_MESSAGE.format(level=shown))
    raw_cpr = _text(claims, profile.cpr)
    if not raw_cpr:
        raise IdentityRefused(
            "missing_cpr",
            "Dit login indeholdt ikke et CPR-nummer, så vi kan ikke finde dine sager."
            " Hvis du ikke har et dansk CPR-nummer, kan du kontakte kommunen direkte.",
        )
    try:
        cpr = parse_key(KeyKind.CPR, raw_cpr)
    except InvalidKey:
        raise IdentityRefused(
            "invalid_cpr",
            "Dit login indeholdt ikke et gyldigt CPR-nummer. Kontakt kommunen.",
        ) from None
    sub = _text(claims, "sub")
    return User(
        kind=Audience.CITIZEN,
        id=pseudonym(issuer, sub),
        name=_text(claims, profile.name) or "Borger",
        issuer=issuer,
        cpr=cpr,
        assurance=level or "",
        protected=_truthy(claims, profile.protection),
    )


def caseworker_from_claims(
    claims: Mapping[str, Any],
    profile: ClaimProfile,
    *,
    issuer: str,
    catalogue: Mapping[str, Role],
) -> User:
    """A caseworker from verified claims and the role catalogue, or :class:`IdentityRefused`.

    Roles are those named in the roles claim that the catalogue knows, plus those whose
    ``members`` list the medarbejdernummer. Restrictions come from the claims when the
    provider sends them, otherwise from the first role that sets them.
    """
    employee_id = _text(claims, profile.employee_id)
    if not employee_id:
        raise IdentityRefused(
            "missing_employee_id",
            "Dit login indeholdt ikke et medarbejdernummer. Kontakt din systemadministrator.",
        )
    named = set(_strings(claims, profile.roles) or ())
    roles = [
        role for name, role in catalogue.items() if name in named or employee_id in role.members
    ]
    if not roles:
        raise IdentityRefused(
            "no_role",
            "Du er logget ind, men har ingen rolle i borgersag, så du kan ikke slå sager op."
            " Kontakt din systemadministrator for at få rollen sagsbehandler.",
        )
    permissions = frozenset().union(*(role.permissions for role in roles))
    from_roles = next((role.restrictions for role in roles if role.restrictions), Restrictions())
    from_claims = _restrictions_from_claims(claims, profile) or Restrictions()
    restrictions = narrower(from_roles, from_claims)
    return User(
        kind=Audience.CASEWORKER,
        id=pseudonym(issuer, _text(claims, "sub")),
        name=_text(claims, profile.name) or employee_id,
        issuer=issuer,
        medarbejdernummer=employee_id,
        unit=_text(claims, profile.unit),
        roles=tuple(role.name for role in roles),
        permissions=permissions,
        restrictions=restrictions,
    )


def narrower(a: Restrictions, b: Restrictions) -> Restrictions:
    """Restrictions that hold both ``a`` and ``b``: a claim never widens a role's limits.

    Empty means "no limit" on that dimension, so the other side's limit applies; where
    both limit KLE subjects, only prefixes inside both remain (none left: nothing).
    """

    def within(prefix: str, limits: tuple[str, ...]) -> bool:
        parts = prefix.rstrip(".").split(".")
        return any(parts[: len(lim.rstrip(".").split("."))] == lim.rstrip(".").split(".")
                   for lim in limits)  # fmt: skip

    if a.kle_prefixes and b.kle_prefixes:
        kle = tuple(
            dict.fromkeys(
                [p for p in a.kle_prefixes if within(p, b.kle_prefixes)]
                + [p for p in b.kle_prefixes if within(p, a.kle_prefixes)]
            )
        ) or ("-",)  # both limit, nothing in common: a prefix no case has
    else:
        kle = a.kle_prefixes or b.kle_prefixes
    if a.units and b.units:
        units = tuple(u for u in a.units if u in b.units) or ("-",)
    else:
        units = a.units or b.units
    return Restrictions(kle, units, min(a.max_sensitivity, b.max_sensitivity))


def _restrictions_from_claims(
    claims: Mapping[str, Any], profile: ClaimProfile
) -> Restrictions | None:
    kle = _strings(claims, profile.kle)
    units = _strings(claims, profile.units)
    raw_max = _text(claims, profile.max_sensitivity)
    if kle is None and units is None and not raw_max:
        return None
    try:
        maximum = Sensitivity[raw_max.upper()] if raw_max else Sensitivity.VIP
    except KeyError:
        # An unknown value must not widen access: fall back to the narrowest level.
        maximum = Sensitivity.IKKE_FORTROLIG
    return Restrictions(kle_prefixes=kle or (), units=units or (), max_sensitivity=maximum)
