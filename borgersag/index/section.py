"""The ``[index]`` and ``[worker]`` config tables: the case index and the task queue.

``[index]`` says whether the case index runs, where its database is, how often each
source is asked again, how long a closed case's facts are kept and which changes
inform the citizen (``inform``, refined per area or progress by ``[index.rules.<name>]``).
``[worker]`` says where the task queue lives (an SQLite file or Redis) and how jobs are
retried.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.engine import URL

from borgersag.audit.section import parse_audit_url
from borgersag.config.section import Section, SectionContext, frozen_mapping
from borgersag.domain.model import Progress
from borgersag.runtime.statedir import NotPrivate, private_state_dir
from borgersag.sdk.errors import ConfigError
from borgersag.sdk.settings import Setting, validate_table

__all__ = [
    "CHANGE_KINDS",
    "INDEX",
    "INDEX_RULE_SETTINGS",
    "INDEX_SETTINGS",
    "INDEX_SOURCE_SETTINGS",
    "WORKER",
    "WORKER_SETTINGS",
    "IndexSettings",
    "InformRule",
    "WorkerSettings",
    "index_url",
    "queue_location",
]

CHANGE_KINDS = ("status", "decision", "document", "deadline")
"""What change detection reports: a new status or progress step, a decision, a new
document the citizen may see, a new or moved deadline."""

DEFAULT_INDEX_NAME = "borgersag-index.sqlite3"
DEFAULT_QUEUE_NAME = "borgersag-queue.sqlite3"

INDEX_SETTINGS: tuple[Setting, ...] = (
    Setting(
        "enabled",
        bool,
        "Keep the case index: subscribed citizens' cases are refreshed in the background"
        " and changes are written to the notification outbox.",
        default=False,
    ),
    Setting(
        "url",
        str,
        "Where the index is kept: 'postgresql://user@host/db' (production) or"
        " 'sqlite:////var/lib/borgersag/index.sqlite3'. Empty: borgersag-index.sqlite3"
        " in the private state folder (demo only).",
        default="",
        secret=True,
    ),
    Setting(
        "key",
        str,
        "The key that seals subscribers' CPR numbers in the index (and keys their lookup"
        " hash): at least 32 characters, from the environment (${ENV_VAR}). Empty: derived"
        " from portal.secret_key.",
        default="",
        secret=True,
    ),
    Setting(
        "subscribe_on_login",
        bool,
        "Subscribe every citizen who signs in (the municipality's choice); otherwise only"
        " citizens subscribed by 'borgersag index subscribe' or on the settings page under Mine"
        " sager (with [notify] enabled).",
        default=False,
    ),
    Setting(
        "refresh_minutes",
        int,
        "Ask the sources again for a subscriber after this many minutes (per source in"
        " [index.sources.<name>]).",
        default=60,
    ),
    Setting(
        "closed_retention_days",
        int,
        "Keep the facts of a closed case this many days after it closed; 0 drops them at"
        " the first refresh after closing.",
        default=90,
    ),
    Setting(
        "inform",
        list,
        "The changes that inform the citizen unless a rule says otherwise: any of status,"
        " decision, document, deadline.",
        default=list(CHANGE_KINDS),
    ),
    Setting(
        "receipt_statuses",
        list,
        "Source status texts that say the municipality received what the citizen sent (an"
        " application, an appeal): a move to one is the citizen's own doing and not told.",
        default=["Modtaget"],
    ),
    Setting(
        "fetch_details",
        bool,
        "Also fetch each open visible case's details at a refresh, to notice new documents"
        " that a source's search does not list (one more call per open case).",
        default=False,
    ),
)

INDEX_RULE_SETTINGS: tuple[Setting, ...] = (
    Setting("area", str, "The case's area (fagområde), exactly; empty: any.", default=""),
    Setting(
        "progress",
        str,
        "The case's progress after the change (opstaaet, oplyst, afgjort, afsluttet); empty: any.",
        default="",
    ),
    Setting(
        "status_text",
        str,
        "The source's own status text after the change, exactly; empty: any.",
        default="",
    ),
    Setting(
        "inform",
        list,
        "The changes that inform the citizen for such a case (an empty list: none).",
        default=[],
    ),
)

INDEX_SOURCE_SETTINGS: tuple[Setting, ...] = (
    Setting(
        "refresh_minutes",
        int,
        "Ask this source again for a subscriber after this many minutes.",
        default=60,
    ),
)

WORKER_SETTINGS: tuple[Setting, ...] = (
    Setting(
        "queue",
        str,
        "Where jobs wait: 'sqlite:////path/queue.sqlite3' (one machine) or"
        " 'redis://host:6379/2' (several machines share the work). Empty:"
        " borgersag-queue.sqlite3 in the private state folder.",
        default="",
        secret=True,
    ),
    Setting("threads", int, "Jobs run at once by one 'borgersag worker'.", default=2),
    Setting(
        "retries",
        int,
        "Times a failed job is tried again (a source down, the database away).",
        default=5,
    ),
    Setting(
        "retry_delay_seconds",
        int,
        "Wait before the first retry; each further retry waits twice as long.",
        default=10,
    ),
)


@dataclass(frozen=True, slots=True)
class InformRule:
    """Which changes inform the citizen for cases of one area, progress or status."""

    name: str
    area: str = ""
    progress: str = ""
    status_text: str = ""
    inform: tuple[str, ...] = ()

    def matches(self, area: str | None, progress: str, status_text: str | None) -> bool:
        """Whether a case in this state falls under the rule."""
        return (
            (not self.area or self.area == area)
            and (not self.progress or self.progress == progress)
            and (not self.status_text or self.status_text == status_text)
        )


@dataclass(frozen=True, slots=True)
class IndexSettings:
    """The validated ``[index]`` table with its rules and per-source intervals."""

    enabled: bool = False
    url: str = field(default="", repr=False)
    key: str = field(default="", repr=False)
    subscribe_on_login: bool = False
    refresh_minutes: int = 60
    closed_retention_days: int = 90
    inform: tuple[str, ...] = CHANGE_KINDS
    receipt_statuses: tuple[str, ...] = ("Modtaget",)
    fetch_details: bool = False
    rules: tuple[InformRule, ...] = ()
    source_minutes: Mapping[str, int] = field(default_factory=dict)

    def informs(self, area: str | None, progress: str, status_text: str | None) -> frozenset[str]:
        """The change kinds that inform for a case in this state: the first rule that
        matches (in the order of the files), else ``inform``."""
        for rule in self.rules:
            if rule.matches(area, progress, status_text):
                return frozenset(rule.inform)
        return frozenset(self.inform)

    @property
    def receipts(self) -> frozenset[str]:
        """:attr:`receipt_statuses` in lower case, as change detection compares them."""
        return frozenset(v.lower() for v in self.receipt_statuses)

    def minutes_for(self, source: str) -> int:
        """How many minutes a source's answer for a subscriber is fresh enough."""
        return self.source_minutes.get(source, self.refresh_minutes)


@dataclass(frozen=True, slots=True)
class WorkerSettings:
    """The validated ``[worker]`` table."""

    queue: str = field(default="", repr=False)
    threads: int = 2
    retries: int = 5
    retry_delay_seconds: int = 10


def _kinds(values: list[str], file: str, key: str) -> tuple[str, ...]:
    wrong = [v for v in values if v not in CHANGE_KINDS]
    if wrong:
        raise ConfigError(file, key, f"change kinds among {', '.join(CHANGE_KINDS)}")
    return tuple(dict.fromkeys(values))


def validate_index_settings(raw: Any, context: SectionContext) -> IndexSettings:
    """The validated ``[index]`` table; :class:`ConfigError` names the key that is wrong."""
    file = context.file
    raw = {} if raw is None else raw
    if not isinstance(raw, Mapping):
        raise ConfigError(file, "index", "a table")
    raw = dict(raw)
    rules_raw, sources_raw = raw.pop("rules", {}), raw.pop("sources", {})
    table = validate_table(INDEX_SETTINGS, raw, file, "index.")
    if table["url"]:
        try:
            parse_audit_url(table["url"])
        except ValueError as exc:
            raise ConfigError(file, "index.url", str(exc)) from None
    if table["key"] and len(table["key"]) < 32:
        raise ConfigError(file, "index.key", "at least 32 characters")
    if table["refresh_minutes"] < 1:
        raise ConfigError(file, "index.refresh_minutes", "1 or more")
    table["inform"] = _kinds(table["inform"], file, "index.inform")
    receipts = table["receipt_statuses"]
    if not all(isinstance(v, str) and 0 < len(v.strip()) <= 200 for v in receipts):
        raise ConfigError(file, "index.receipt_statuses", "status texts of 1-200 characters")
    table["receipt_statuses"] = tuple(dict.fromkeys(v.strip() for v in receipts))
    rules = []
    for name, rule_raw in _tables(rules_raw, file, "index.rules"):
        prefix = f"index.rules.{name}."
        rule = validate_table(INDEX_RULE_SETTINGS, rule_raw, file, prefix)
        if rule["progress"] and rule["progress"] not in {p.value for p in Progress}:
            raise ConfigError(file, prefix + "progress", ", ".join(p.value for p in Progress))
        rule["inform"] = _kinds(rule["inform"], file, prefix + "inform")
        rules.append(InformRule(name, **rule))
    minutes = {}
    for name, source_raw in _tables(sources_raw, file, "index.sources"):
        if name not in context.source_names:
            raise ConfigError(file, f"index.sources.{name}", "the name of a [sources.<name>]")
        value = validate_table(INDEX_SOURCE_SETTINGS, source_raw, file, f"index.sources.{name}.")
        if value["refresh_minutes"] < 1:
            raise ConfigError(file, f"index.sources.{name}.refresh_minutes", "1 or more")
        minutes[name] = value["refresh_minutes"]
    return IndexSettings(**table, rules=tuple(rules), source_minutes=frozen_mapping(minutes))


def _tables(raw: Any, file: str, key: str) -> list[tuple[str, Any]]:
    if not isinstance(raw, Mapping):
        raise ConfigError(file, key, "a table of tables")
    return list(raw.items())


def validate_worker_settings(raw: Any, context: SectionContext) -> WorkerSettings:
    """The validated ``[worker]`` table."""
    file = context.file
    table = validate_table(WORKER_SETTINGS, {} if raw is None else raw, file, "worker.")
    queue = table["queue"]
    if queue and not queue.startswith(("sqlite:///", "redis://", "rediss://")):
        raise ConfigError(
            file, "worker.queue", "'sqlite:////path/queue.sqlite3' or 'redis://host:6379/2'"
        )
    if table["threads"] < 1:
        raise ConfigError(file, "worker.threads", "1 or more")
    return WorkerSettings(**table)


INDEX: Section[IndexSettings] = Section(
    "index",
    validate_index_settings,
    INDEX_SETTINGS,
    subtables={"rules.<name>": INDEX_RULE_SETTINGS, "sources.<name>": INDEX_SOURCE_SETTINGS},
)
"""The ``[index]`` section, registered in ``borgersag.config_sections``."""

WORKER: Section[WorkerSettings] = Section("worker", validate_worker_settings, WORKER_SETTINGS)
"""The ``[worker]`` section, registered in ``borgersag.config_sections``."""


def _state_file(name: str, what: str) -> str:
    try:
        return str(private_state_dir() / name)
    except NotPrivate as exc:
        raise ConfigError("<state folder>", what, f"a private folder: {exc}") from None


def index_url(settings: IndexSettings) -> URL:
    """The database URL of the index (the private default file when ``url`` is empty)."""
    if settings.url:
        return parse_audit_url(settings.url)
    return URL.create("sqlite", database=_state_file(DEFAULT_INDEX_NAME, "index.url"))


def queue_location(settings: WorkerSettings) -> str:
    """``worker.queue``, or the private default SQLite file's URL when it is empty."""
    return settings.queue or "sqlite:///" + _state_file(DEFAULT_QUEUE_NAME, "worker.queue")
