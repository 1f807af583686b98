"""Configuration: TOML files in a directory, declared, validated at start-up.

A config directory holds ``*.toml`` files, read in name order and merged by top-level
table (the same table in two files is an error). The tables:

``[portal]``
    the municipality's name and the engine's limits (see :data:`PORTAL_SETTINGS`).
``[auth]``
    how people sign in: ``[auth.citizen]`` (MitID through a broker) and
    ``[auth.caseworker]`` (the municipality's OpenID provider), see
    :data:`CITIZEN_LOGIN_SETTINGS` and :data:`CASEWORKER_LOGIN_SETTINGS`.
``[roles.<name>]``
    the role catalogue: what each caseworker role may do (:data:`ROLE_SETTINGS`).
``[sessions]``
    where sessions live and how long they last (``borgersag.web.sessions``).
``[limits]``
    rate limits on login and lookups (``borgersag.web.limits``).
``[audit]``
    where the audit log is kept and for how long (``borgersag.audit``).
``[citizen]``
    what citizens see in "Mine sager" (``borgersag.people.citizen_view``).
``[sandbox]``
    present when the sandbox municipality should run in-process (demo, tests).
``[sources.<name>]``
    one named source instance: ``type`` (a connector type), the common keys in
    :data:`SOURCE_SETTINGS` and the connector type's own settings.

String values may be ``"${ENV_VAR}"`` so secrets stay out of files. Every error is a
:class:`~borgersag.sdk.errors.ConfigError` whose message is one line: file, key, expected.
"""

from __future__ import annotations

import re
import secrets
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from borgersag.sdk.errors import ConfigError
from borgersag.sdk.settings import Setting, interpolate, validate_table

__all__ = [
    "AUTH_SETTINGS",
    "CASEWORKER_LOGIN_SETTINGS",
    "CITIZEN_LOGIN_SETTINGS",
    "PORTAL_SETTINGS",
    "ROLE_SETTINGS",
    "SOURCE_SETTINGS",
    "Config",
    "SourceConfig",
    "default_config_dir",
    "load_config",
]

PORTAL_SETTINGS: tuple[Setting, ...] = (
    Setting(
        "municipality",
        str,
        "Name of the municipality shown in the header.",
        default="Sandkasse Kommune",
    ),
    Setting(
        "deadline_seconds",
        float,
        "Overall deadline for one overview: sources that have not answered by then"
        " are shown as 'svarede ikke i tide'.",
        default=4.0,
    ),
    Setting(
        "source_timeout_seconds",
        float,
        "Default per-source HTTP timeout (a source may set its own timeout_seconds).",
        default=3.0,
    ),
    Setting(
        "cache_ttl_seconds",
        float,
        "How long a source's answer for a key is reused without asking again.",
        default=60.0,
    ),
    Setting(
        "stale_max_age_seconds",
        float,
        "How old a cached answer may be to be shown (marked stale) when the source"
        " fails. 0 turns stale answers off.",
        default=3600.0,
    ),
    Setting("max_workers", int, "Threads for the fan-out to sources.", default=32),
    Setting(
        "secret_key",
        str,
        "Flask secret key; use ${ENV_VAR}. Empty: a random key per start (sessions"
        " end on restart).",
        default="",
        secret=True,
    ),
    Setting(
        "overview_ttl_seconds",
        float,
        "How long an overview's opaque address stays valid.",
        default=1800.0,
    ),
    Setting(
        "purposes",
        list,
        "The purposes (formål) a caseworker can choose on the lookup form; they are kept"
        " with the overview for the audit log. Empty: the form asks for none.",
        default=[
            "Sagsbehandling",
            "Borgerhenvendelse",
            "Partshøring eller aktindsigt",
            "Kontrol og opfølgning",
        ],
    ),
    Setting(
        "purpose_required",
        bool,
        "Whether a lookup must name one of the purposes.",
        default=False,
    ),
)

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

ROLE_SETTINGS: tuple[Setting, ...] = (
    Setting("title", str, "Name of the role shown to people.", default=""),
    Setting(
        "permissions",
        list,
        "What the role may do: opslag, administration, se_beskyttet_adresse, se_kollegers_sager.",
    ),
    Setting(
        "members",
        list,
        "Medarbejdernumre given this role even when the provider sends no roles claim.",
        default=[],
    ),
    Setting("kle_subjects", list, "KLE prefixes the role may see; empty: all.", default=[]),
    Setting("units", list, "Units whose cases the role may see; empty: all.", default=[]),
    Setting(
        "max_sensitivity",
        str,
        "Highest sensitivity the role may see (ikke_fortrolig,"
        " fortrolige_personoplysninger, foelsomme_personoplysninger, vip); empty: all.",
        default="",
    ),
)

SOURCE_SETTINGS: tuple[Setting, ...] = (
    Setting("type", str, "The connector type (an entry point in borgersag.connectors)."),
    Setting("title", str, "Name shown to people, e.g. 'SBSYS (ESDH)'.", default=""),
    Setting("enabled", bool, "Whether the source is asked at all.", default=True),
    Setting("timeout_seconds", float, "HTTP timeout for this source.", default=0.0),
)

_NAME_RE = re.compile(r"^[a-z][a-z0-9_-]{0,39}$")


@dataclass(frozen=True, slots=True)
class SourceConfig:
    """One configured source instance; ``settings`` are the connector's own, unvalidated."""

    name: str
    type: str
    title: str
    enabled: bool
    timeout_seconds: float
    settings: Mapping[str, Any]
    file: str


@dataclass(frozen=True, slots=True)
class Config:
    """The validated configuration of one portal."""

    portal: Mapping[str, Any]
    auth: Mapping[str, Any]
    sources: tuple[SourceConfig, ...]
    sandbox: Mapping[str, Any] | None = None
    files: tuple[str, ...] = ()
    origins: Mapping[str, str] = field(default_factory=dict)
    roles: Mapping[str, Any] = field(default_factory=dict)
    sessions: Mapping[str, Any] = field(default_factory=dict)
    limits: Mapping[str, Any] = field(default_factory=dict)
    audit: Mapping[str, Any] = field(default_factory=dict)
    citizen: Any = None  # borgersag.people.citizen_policy.CitizenPolicy

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any], origin: str = "<config>") -> Config:
        """Validate an already-merged mapping (tests build config this way)."""
        return _build(dict(data), {name: origin for name in data}, (origin,))

    def source(self, name: str) -> SourceConfig:
        """The configured source called ``name``."""
        for source in self.sources:
            if source.name == name:
                return source
        raise KeyError(name)


def default_config_dir() -> Path:
    """The config shipped with the package (demo defaults)."""
    installed = resources.files("borgersag") / "default_config"
    if installed.is_dir():
        return Path(str(installed))
    return Path(__file__).resolve().parent.parent.parent / "config"


def load_config(directory: str | Path | None = None) -> Config:
    """Read and validate every ``*.toml`` in ``directory`` (default: the shipped config)."""
    directory = Path(directory) if directory else default_config_dir()
    if not directory.is_dir():
        raise ConfigError(str(directory), "-", "expected a directory of *.toml files")
    files = sorted(directory.glob("*.toml"))
    if not files:
        raise ConfigError(str(directory), "-", "expected at least one *.toml file")
    merged: dict[str, Any] = {}
    origins: dict[str, str] = {}
    for path in files:
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(str(path), "-", f"valid TOML ({exc})") from None
        for table, value in data.items():
            if table == "sources" and isinstance(value, dict):
                for name, source in value.items():
                    key = f"sources.{name}"
                    if key in origins:
                        raise ConfigError(
                            str(path), key, f"defined only once (also in {origins[key]})"
                        )
                    origins[key] = str(path)
                    merged.setdefault("sources", {})[name] = source
                continue
            if table in origins:
                raise ConfigError(str(path), table, f"defined only once (also in {origins[table]})")
            origins[table] = str(path)
            merged[table] = value
    return _build(merged, origins, tuple(str(p) for p in files))


def _build(data: dict[str, Any], origins: dict[str, str], files: tuple[str, ...]) -> Config:
    def origin(key: str) -> str:
        return origins.get(key) or origins.get(key.split(".")[0]) or files[0]

    known = {
        "portal",
        "auth",
        "roles",
        "sessions",
        "limits",
        "audit",
        "citizen",
        "sandbox",
        "sources",
    }
    for table in data:
        if table not in known:
            raise ConfigError(
                origin(table), table, f"unknown table (known: {', '.join(sorted(known))})"
            )
    portal = validate_table(PORTAL_SETTINGS, data.get("portal", {}), origin("portal"), "portal.")
    if not portal["secret_key"]:
        portal["secret_key"] = secrets.token_hex(32)
    portal["purposes"] = _purposes(portal, origin("portal"))
    auth = _auth(data.get("auth", {}), origin("auth"))
    roles = _roles(data.get("roles"), origin("roles"))
    sandbox = data.get("sandbox")
    if sandbox is not None:
        from borgersag.sandbox.runner import validate_sandbox_settings

        sandbox = validate_sandbox_settings(sandbox, origin("sandbox"))
    from borgersag.web.sessions import validate_session_settings

    sessions = validate_session_settings(data.get("sessions", {}), origin("sessions"))
    from borgersag.web.limits import validate_limit_settings

    limits = validate_limit_settings(data.get("limits", {}), origin("limits"))
    from borgersag.audit import validate_audit_settings

    audit = validate_audit_settings(data.get("audit", {}), origin("audit"))
    raw_sources = data.get("sources", {})
    if not isinstance(raw_sources, dict):
        raise ConfigError(origin("sources"), "sources", "a table of named sources")
    sources = []
    for name, raw in raw_sources.items():
        file = origin(f"sources.{name}")
        if not _NAME_RE.match(name):
            raise ConfigError(
                file,
                f"sources.{name}",
                "a name of lowercase letters, digits, - or _ (max 40) starting with a letter",
            )
        if not isinstance(raw, dict):
            raise ConfigError(file, f"sources.{name}", "a table")
        raw = {k: interpolate(v, file, f"sources.{name}.{k}") for k, v in raw.items()}
        common_names = {s.name for s in SOURCE_SETTINGS}
        common = validate_table(
            SOURCE_SETTINGS,
            {k: v for k, v in raw.items() if k in common_names},
            file,
            f"sources.{name}.",
        )
        sources.append(
            SourceConfig(
                name=name,
                type=common["type"],
                title=common["title"] or name,
                enabled=common["enabled"],
                timeout_seconds=common["timeout_seconds"] or portal["source_timeout_seconds"],
                settings={k: v for k, v in raw.items() if k not in common_names},
                file=file,
            )
        )
    from borgersag.people.citizen_policy import validate_citizen_settings

    citizen = validate_citizen_settings(
        data.get("citizen", {}), origin("citizen"), known_sources={s.name for s in sources}
    )
    return Config(
        portal,
        auth,
        tuple(sources),
        sandbox,
        files,
        origins,
        roles=roles,
        sessions=sessions,
        limits=limits,
        audit=audit,
        citizen=citizen,
    )


def _purposes(portal: Mapping[str, Any], file: str) -> list[str]:
    """``portal.purposes`` trimmed and checked: no blanks, no repeats, one when required.

    A list, like the other list settings, so a validated table validates again.
    """
    purposes = [p.strip() for p in portal["purposes"]]
    if any(not p for p in purposes):
        raise ConfigError(file, "portal.purposes", "purposes that are not empty")
    if len(set(purposes)) != len(purposes):
        raise ConfigError(file, "portal.purposes", "each purpose only once")
    if portal["purpose_required"] and not purposes:
        raise ConfigError(
            file, "portal.purposes", "at least one purpose when purpose_required is true"
        )
    return purposes


def _auth(raw: Any, file: str) -> dict[str, Any]:
    """``[auth]`` with its optional ``[auth.citizen]`` and ``[auth.caseworker]`` logins."""
    if not isinstance(raw, Mapping):
        raise ConfigError(file, "auth", "a table")
    raw = dict(raw)
    logins = {name: raw.pop(name, None) for name in ("citizen", "caseworker")}
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
    from borgersag.people.identity import ASSURANCE_LEVELS, CASEWORKER_PROFILES, CITIZEN_PROFILES

    schemas = {"citizen": CITIZEN_LOGIN_SETTINGS, "caseworker": CASEWORKER_LOGIN_SETTINGS}
    profiles = {"citizen": CITIZEN_PROFILES, "caseworker": CASEWORKER_PROFILES}
    for name, table in logins.items():
        if table is None:
            auth[name] = None
            continue
        prefix = f"auth.{name}."
        login = validate_table(schemas[name], table, file, prefix)
        if not re.match(r"^https?://[^\s]+$", login["issuer"]):
            raise ConfigError(
                file, prefix + "issuer", "an https URL, e.g. 'https://login.example.dk'"
            )
        if login["profile"] not in profiles[name]:
            raise ConfigError(
                file, prefix + "profile", f"one of {', '.join(sorted(profiles[name]))}"
            )
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
        auth[name] = login
    return auth


def _roles(raw: Any, file: str) -> dict[str, Any]:
    """The role catalogue ``[roles.<name>]`` (default: sagsbehandler and administrator)."""
    from borgersag.domain.model import Sensitivity
    from borgersag.people.identity import PERMISSIONS, Restrictions, Role, default_roles

    if raw is None:
        return default_roles()
    if not isinstance(raw, Mapping) or not raw:
        raise ConfigError(file, "roles", "a table of named roles, e.g. [roles.sagsbehandler]")
    roles = {}
    for name, table in raw.items():
        prefix = f"roles.{name}."
        if not _NAME_RE.match(name):
            raise ConfigError(file, f"roles.{name}", "a name of lowercase letters, digits, - or _")
        role = validate_table(ROLE_SETTINGS, table, file, prefix)
        unknown = [p for p in role["permissions"] if p not in PERMISSIONS]
        if unknown:
            raise ConfigError(
                file, prefix + "permissions", f"permissions among {', '.join(PERMISSIONS)}"
            )
        restrictions = None
        if role["kle_subjects"] or role["units"] or role["max_sensitivity"]:
            try:
                maximum = (
                    Sensitivity[role["max_sensitivity"].upper()]
                    if role["max_sensitivity"]
                    else Sensitivity.VIP
                )
            except KeyError:
                names = ", ".join(level.name.lower() for level in Sensitivity)
                raise ConfigError(file, prefix + "max_sensitivity", f"one of {names}") from None
            restrictions = Restrictions(tuple(role["kle_subjects"]), tuple(role["units"]), maximum)
        roles[name] = Role(
            name=name,
            title=role["title"] or name.capitalize(),
            permissions=frozenset(role["permissions"]),
            members=frozenset(role["members"]),
            restrictions=restrictions,
        )
    return roles
