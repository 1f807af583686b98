"""The people layer's config sections: ``[auth]`` (with its logins), ``[roles]``, ``[citizen]``.

Registered in the entry-point group ``borgersag.config_sections`` (see
:mod:`borgersag.config.section`); read back typed with ``config.section(AUTH)``,
``config.section(ROLES)`` and ``config.section(CITIZEN)``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from borgersag.config.section import Section, SectionContext, from_table
from borgersag.people.citizen_policy import (
    CITIZEN_SETTINGS,
    CitizenPolicy,
    validate_citizen_settings,
)
from borgersag.people.claims import CASEWORKER_PROFILES, CITIZEN_PROFILES
from borgersag.people.identity import ASSURANCE_LEVELS
from borgersag.people.roles import ROLE_SETTINGS, RoleCatalogue, build_roles
from borgersag.sdk.errors import ConfigError
from borgersag.sdk.settings import Setting, validate_table

__all__ = [
    "AUTH",
    "AUTH_SETTINGS",
    "CASEWORKER_LOGIN_SETTINGS",
    "CITIZEN",
    "CITIZEN_LOGIN_SETTINGS",
    "ROLES",
    "AuthSettings",
    "CaseworkerLoginSettings",
    "CitizenLoginSettings",
    "LoginSettings",
    "build_auth",
]

AUTH_SETTINGS: tuple[Setting, ...] = (
    Setting(
        "public_url",
        str,
        "The portal's address as people reach it, e.g. 'https://sager.kommune.dk'; the"
        " login redirect address is built from it. Empty: taken from each request (fine"
        " on one machine; set it behind a proxy).",
        default="",
    ),
    Setting(
        "login_timeout_minutes",
        float,
        "How long a person may take at the identity provider before the login must be"
        " started again.",
        default=10.0,
    ),
)

_LOGIN_COMMON: tuple[Setting, ...] = (
    Setting("issuer", str, "The provider's issuer URL (discovery is read from it)."),
    Setting("client_id", str, "This portal's client id at the provider."),
    Setting(
        "client_secret",
        str,
        "The client secret; use ${ENV_VAR}. Empty: a public client (PKCE only).",
        default="",
        secret=True,
    ),
    Setting("title", str, "Name of the login shown on the button.", default=""),
    Setting("scopes", str, "Scopes to ask for; empty: the profile's.", default=""),
    Setting("acr_values", str, "acr_values to send; empty: the profile's.", default=""),
    Setting(
        "userinfo",
        str,
        "'auto' (ask the userinfo endpoint when a needed claim is not in the ID token),"
        " 'always' or 'never'.",
        default="auto",
    ),
    Setting("timeout_seconds", float, "HTTP timeout towards the provider.", default=5.0),
    Setting("leeway_seconds", float, "Clock skew allowed on exp and iat.", default=60.0),
    Setting(
        "max_token_age_seconds",
        float,
        "An ID token issued longer ago than this is refused.",
        default=600.0,
    ),
    Setting("name_claim", str, "Claim with the person's name; empty: the profile's.", default=""),
)

CITIZEN_LOGIN_SETTINGS: tuple[Setting, ...] = (
    *_LOGIN_COMMON,
    Setting(
        "profile",
        str,
        "Claim names of the MitID broker: nemlog-in, signicat, idura or signaturgruppen.",
        default="signicat",
    ),
    Setting(
        "accepted_assurance",
        list,
        "NSIS levels of assurance accepted: 'low', 'substantial', 'high'.",
        default=["substantial", "high"],
    ),
    Setting("cpr_claim", str, "Claim with the CPR number; empty: the profile's.", default=""),
    Setting(
        "assurance_claim",
        str,
        "Claim with the level of assurance; empty: the profile's.",
        default="",
    ),
    Setting(
        "protection_claim",
        str,
        "Claim saying the person has name and address protection; empty: the profile's.",
        default="",
    ),
)

CASEWORKER_LOGIN_SETTINGS: tuple[Setting, ...] = (
    *_LOGIN_COMMON,
    Setting(
        "profile",
        str,
        "Claim names of the municipality's provider: standard or entra-id.",
        default="standard",
    ),
    Setting("employee_id_claim", str, "Claim with the medarbejdernummer.", default=""),
    Setting("unit_claim", str, "Claim with the organisation unit's name.", default=""),
    Setting("roles_claim", str, "Claim with the list of role names.", default=""),
    Setting("kle_claim", str, "Claim with the KLE prefixes the person may see.", default=""),
    Setting("units_claim", str, "Claim with the units whose cases the person may see.", default=""),
    Setting(
        "max_sensitivity_claim",
        str,
        "Claim with the highest sensitivity the person may see.",
        default="",
    ),
)


@dataclass(frozen=True, slots=True)
class LoginSettings:
    """What every validated login table has (``[auth.citizen]``, ``[auth.caseworker]``).

    A ``<claim>_claim`` setting that is empty means the profile's claim name.
    """

    issuer: str
    client_id: str
    client_secret: str = field(repr=False)
    title: str
    scopes: str
    acr_values: str
    userinfo: str
    timeout_seconds: float
    leeway_seconds: float
    max_token_age_seconds: float
    name_claim: str
    profile: str


@dataclass(frozen=True, slots=True)
class CitizenLoginSettings(LoginSettings):
    """The validated ``[auth.citizen]`` table (see :data:`CITIZEN_LOGIN_SETTINGS`)."""

    accepted_assurance: tuple[str, ...]
    cpr_claim: str
    assurance_claim: str
    protection_claim: str


@dataclass(frozen=True, slots=True)
class CaseworkerLoginSettings(LoginSettings):
    """The validated ``[auth.caseworker]`` table (see :data:`CASEWORKER_LOGIN_SETTINGS`)."""

    employee_id_claim: str
    unit_claim: str
    roles_claim: str
    kle_claim: str
    units_claim: str
    max_sensitivity_claim: str


@dataclass(frozen=True, slots=True)
class AuthSettings:
    """The validated ``[auth]`` table; a login that is not configured is ``None``.

    ``public_url`` has no trailing ``/`` (empty: taken from each request).
    """

    public_url: str
    login_timeout_minutes: float
    citizen: CitizenLoginSettings | None = None
    caseworker: CaseworkerLoginSettings | None = None


_LOGINS: dict[str, tuple[tuple[Setting, ...], type[LoginSettings], Mapping[str, Any]]] = {
    "citizen": (CITIZEN_LOGIN_SETTINGS, CitizenLoginSettings, CITIZEN_PROFILES),
    "caseworker": (CASEWORKER_LOGIN_SETTINGS, CaseworkerLoginSettings, CASEWORKER_PROFILES),
}


def build_auth(raw: Any, file: str) -> AuthSettings:
    """``[auth]`` with its optional ``[auth.citizen]`` and ``[auth.caseworker]`` logins."""
    if raw is None:
        raw = {}
    if not isinstance(raw, Mapping):
        raise ConfigError(file, "auth", "a table")
    raw = dict(raw)
    tables = {name: raw.pop(name, None) for name in _LOGINS}
    auth = validate_table(AUTH_SETTINGS, raw, file, "auth.")
    if auth["public_url"]:
        url = auth["public_url"]
        if not re.match(r"^https?://[^/\s]+/?$", url):
            raise ConfigError(
                file, "auth.public_url", "an address like 'https://sager.kommune.dk' (no path)"
            )
        auth["public_url"] = url.rstrip("/")
    if auth["login_timeout_minutes"] <= 0:
        raise ConfigError(file, "auth.login_timeout_minutes", "a number above 0")
    logins = {
        name: None if table is None else _login(name, table, file) for name, table in tables.items()
    }
    return AuthSettings(**auth, **logins)


def _login(name: str, table: Any, file: str) -> LoginSettings:
    schema, cls, profiles = _LOGINS[name]
    prefix = f"auth.{name}."
    login = validate_table(schema, table, file, prefix)
    if not re.match(r"^https?://[^\s]+$", login["issuer"]):
        raise ConfigError(file, prefix + "issuer", "an https URL, e.g. 'https://login.example.dk'")
    if login["profile"] not in profiles:
        raise ConfigError(file, prefix + "profile", f"one of {', '.join(sorted(profiles))}")
    if login["userinfo"] not in ("auto", "always", "never"):
        raise ConfigError(file, prefix + "userinfo", "one of auto, always, never")
    for level in login.get("accepted_assurance", ()):
        if level not in ASSURANCE_LEVELS:
            raise ConfigError(
                file,
                prefix + "accepted_assurance",
                f"levels among {', '.join(ASSURANCE_LEVELS)}",
            )
    if name == "citizen" and not login["accepted_assurance"]:
        raise ConfigError(file, prefix + "accepted_assurance", "at least one level")
    return from_table(cls, login)


def _auth(raw: Any, context: SectionContext) -> AuthSettings:
    return build_auth(raw, context.file)


def _roles(raw: Any, context: SectionContext) -> RoleCatalogue:
    return build_roles(raw, context.file)


def _citizen(raw: Any, context: SectionContext) -> CitizenPolicy:
    return validate_citizen_settings(
        {} if raw is None else raw, context.file, known_sources=context.source_names
    )


AUTH: Section[AuthSettings] = Section(
    "auth",
    _auth,
    AUTH_SETTINGS,
    subtables={"citizen": CITIZEN_LOGIN_SETTINGS, "caseworker": CASEWORKER_LOGIN_SETTINGS},
)
ROLES: Section[RoleCatalogue] = Section("roles", _roles, subtables={"<name>": ROLE_SETTINGS})
CITIZEN: Section[CitizenPolicy] = Section("citizen", _citizen, CITIZEN_SETTINGS)
