"""The ``[audit]`` config table: where the log lives, how long rows are kept, what
citizens see."""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

from borgersag.audit.errors import AuditUnavailable
from borgersag.audit.witness import Witness, parse_witness
from borgersag.config.section import Section, SectionContext
from borgersag.runtime.statedir import NotPrivate, private_state_dir
from borgersag.sdk.errors import ConfigError
from borgersag.sdk.settings import Setting, validate_table

__all__ = [
    "AUDIT",
    "AUDIT_SETTINGS",
    "DEFAULT_SQLITE_NAME",
    "AuditSettings",
    "default_audit_path",
    "parse_audit_url",
    "resolve_key_files",
    "resolve_witness",
    "retention_cutoff",
    "url_from_settings",
    "validate_audit_settings",
]

DEFAULT_SQLITE_NAME = "borgersag-audit.sqlite3"
SANDBOX_HMAC_KEY_NAME = "audit-hmac.key"
SANDBOX_SIGNING_KEY_NAME = "audit-signing.key"
SANDBOX_WITNESS_SUFFIX = "-audit-witness.jsonl"

AUDIT_SETTINGS: tuple[Setting, ...] = (
    Setting(
        "url",
        str,
        "Where the audit log is kept: a SQLAlchemy URL, 'postgresql://user@host/db'"
        " (production; driver psycopg) or 'sqlite:////var/lib/borgersag/audit.sqlite3'."
        " May hold a password: use ${ENV_VAR}. Empty: borgersag-audit.sqlite3 in a"
        " private folder under the system's temporary directory (demo only: it may be"
        " cleaned at reboot).",
        default="",
        secret=True,
    ),
    Setting(
        "retention_days",
        int,
        "Keep audit rows this many whole days (UTC); 'borgersag audit prune' removes"
        " older days behind a checkpoint. 0 keeps every row forever.",
        default=0,
    ),
    Setting(
        "hmac_key_file",
        str,
        "A file of 32 random bytes (mode 0600) that keys the chain: each row's hash is"
        " HMAC-SHA256 under it, so rows cannot be re-hashed without it. Keep it off the"
        " database server. 'borgersag audit init' creates it when missing. Empty: in the"
        " sandbox audit-hmac.key in the private state folder; elsewhere an error.",
        default="",
    ),
    Setting(
        "signing_key_file",
        str,
        "A file of 32 random bytes (mode 0600): the Ed25519 key that signs the chain's"
        " head for the witness and every retention checkpoint. 'borgersag audit init'"
        " creates it when missing. Empty: in the sandbox audit-signing.key in the private"
        " state folder; elsewhere an error.",
        default="",
    ),
    Setting(
        "witness",
        str,
        "Where signed heads are appended, outside the audit database:"
        " 'file:/absolute/path.jsonl' (JSON lines). Empty: in the sandbox a file beside"
        " the private state folder; elsewhere an error.",
        default="",
    ),
    Setting(
        "head_interval_seconds",
        int,
        "Sign the head and append it to the witness at least this often (on the first"
        " row recorded after the interval), besides at every checkpoint. 0: after every"
        " row.",
        default=300,
    ),
    Setting(
        "clock_tolerance_seconds",
        int,
        "'borgersag audit verify' names a row whose time is more than this many seconds"
        " before the previous row's (a clock set back, or rows moved).",
        default=120,
    ),
    Setting(
        "show_staff_names",
        bool,
        "Whether 'Hvem har set mine oplysninger' shows the staff member's name, or only"
        " their unit.",
        default=False,
    ),
)

_DRIVERS = {"sqlite": "sqlite", "postgresql": "postgresql+psycopg"}
_ACCEPTED = {"sqlite", "sqlite+pysqlite", "postgresql", "postgresql+psycopg"}
_URL_EXAMPLE = "'postgresql://user@host/db' or 'sqlite:////path/to/audit.sqlite3'"


def parse_audit_url(url: str | URL) -> URL:
    """The SQLAlchemy URL for an audit log, with the driver we ship (psycopg) filled in.

    ``ValueError`` (without the URL, which may hold a password) for anything else than
    a SQLite file or PostgreSQL.
    """
    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError):
        raise ValueError(f"a database URL such as {_URL_EXAMPLE}") from None
    if parsed.drivername not in _ACCEPTED:
        raise ValueError(
            f"a sqlite:// or postgresql:// URL (postgresql+psycopg), not {parsed.drivername}://"
        )
    if parsed.get_backend_name() == "sqlite" and parsed.database in (None, "", ":memory:"):
        raise ValueError("a SQLite file path: an in-memory audit log would be lost")
    if parsed.get_backend_name() == "postgresql" and not parsed.host and not parsed.query:
        raise ValueError(f"a PostgreSQL URL with a host, e.g. {_URL_EXAMPLE}")
    return parsed.set(drivername=_DRIVERS.get(parsed.drivername, parsed.drivername))


@dataclass(frozen=True, slots=True)
class AuditSettings:
    """The validated ``[audit]`` table (see :data:`AUDIT_SETTINGS`)."""

    url: str = field(repr=False)
    retention_days: int
    show_staff_names: bool
    hmac_key_file: str = ""
    signing_key_file: str = ""
    witness: str = ""
    head_interval_seconds: int = 300
    clock_tolerance_seconds: int = 120


def validate_audit_settings(raw: Any, file: str = "<config>") -> AuditSettings:
    """The validated ``[audit]`` table; :class:`ConfigError` names the key that is wrong."""
    settings = validate_table(AUDIT_SETTINGS, raw, file, "audit.")
    if settings["url"]:
        try:
            parse_audit_url(settings["url"])
        except ValueError as exc:
            raise ConfigError(file, "audit.url", str(exc)) from None
    for name in ("retention_days", "head_interval_seconds", "clock_tolerance_seconds"):
        if settings[name] < 0:
            raise ConfigError(file, f"audit.{name}", "0 or more")
    for name in ("hmac_key_file", "signing_key_file"):
        if settings[name] and not Path(settings[name]).is_absolute():
            raise ConfigError(file, f"audit.{name}", "an absolute path")
    if settings["witness"]:
        try:
            parse_witness(settings["witness"])
        except ValueError as exc:
            raise ConfigError(file, "audit.witness", str(exc)) from None
    return AuditSettings(**settings)


def _build(raw: Any, context: SectionContext) -> AuditSettings:
    return validate_audit_settings({} if raw is None else raw, context.file)


AUDIT: Section[AuditSettings] = Section("audit", _build, AUDIT_SETTINGS)
"""The ``[audit]`` section, registered in ``borgersag.config_sections``."""


def default_audit_path() -> Path:
    """``<tempdir>/borgersag-<uid>/borgersag-audit.sqlite3`` in a private folder
    (:func:`borgersag.runtime.statedir.private_state_dir`): whoever controls the folder could
    rewrite the log file before the chain is checked."""
    try:
        return private_state_dir() / DEFAULT_SQLITE_NAME
    except NotPrivate as exc:
        raise AuditUnavailable(f"{exc}; or set [audit] url.") from None


def retention_cutoff(days: int, now: dt.datetime | None = None) -> dt.datetime | None:
    """Rows before this moment are due for removal; ``None`` when ``days`` is 0.

    The start of the UTC day ``days`` days ago: nothing younger than ``days`` days is
    removed, and whole days go at a time. At 15 June 12:00 UTC with ``days = 30`` the
    cutoff is 16 May 00:00 UTC.
    """
    if days <= 0:
        return None
    now = (now or dt.datetime.now(dt.UTC)).astimezone(dt.UTC)
    return (now - dt.timedelta(days=days)).replace(hour=0, minute=0, second=0, microsecond=0)


def url_from_settings(settings: AuditSettings) -> URL:
    """The URL the validated settings point at (the private default when empty)."""
    if settings.url:
        return parse_audit_url(settings.url)
    return URL.create("sqlite", database=str(default_audit_path()))


def _state_dir() -> Path:
    try:
        return private_state_dir()
    except NotPrivate as exc:
        raise AuditUnavailable(f"{exc}; or set the [audit] key files and witness.") from None


def _required(key: str, what: str) -> ConfigError:
    return ConfigError(
        "[audit]",
        f"audit.{key}",
        f"{what} is required outside the sandbox (see docs/audit.md, 'Keys and the witness')",
    )


def resolve_key_files(settings: AuditSettings, *, sandbox: bool) -> tuple[Path, Path]:
    """The HMAC key file and the signing key file the settings name; in the sandbox an
    empty setting means a file in the private state folder. :class:`ConfigError` for an
    empty one outside the sandbox."""
    paths = []
    for key, default in (
        ("hmac_key_file", SANDBOX_HMAC_KEY_NAME),
        ("signing_key_file", SANDBOX_SIGNING_KEY_NAME),
    ):
        value = getattr(settings, key)
        if value:
            paths.append(Path(value))
        elif sandbox:
            paths.append(_state_dir() / default)
        else:
            raise _required(key, "a key file (32 random bytes, mode 0600)")
    return paths[0], paths[1]


def resolve_witness(settings: AuditSettings, *, sandbox: bool) -> Witness:
    """The witness the settings name; in the sandbox an empty setting means a file beside
    the private state folder: ``<state folder>-audit-witness.jsonl`` for the default
    database, ``<state folder>-audit-witness-<8 hex digits>.jsonl`` for another one (a
    digest of its URL: each database's chain has a witness of its own)."""
    if settings.witness:
        return parse_witness(settings.witness)
    if not sandbox:
        raise _required("witness", "a witness ('file:/path/witness.jsonl')")
    folder = _state_dir()
    name = folder.name + SANDBOX_WITNESS_SUFFIX
    if settings.url:
        url = parse_audit_url(settings.url).render_as_string(hide_password=True)
        digest = hashlib.sha256(url.encode()).hexdigest()[:8]
        name = name.replace(".jsonl", f"-{digest}.jsonl")
    return parse_witness(f"file:{folder.parent / name}")
