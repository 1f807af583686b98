"""The ``[notify]`` config table: which channels tell citizens of news, and how often.

``[notify.email]`` (SMTP), ``[notify.sms]`` (NemSMS) and ``[notify.digital_post]``
(Digital Post, MeMo by CPR number) each configure one channel; a channel without its
``host``/``url`` is not offered.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from borgersag.config.section import Section, SectionContext
from borgersag.sdk.errors import ConfigError
from borgersag.sdk.settings import Setting, validate_table

__all__ = [
    "CHANNELS",
    "NOTIFY",
    "NOTIFY_SETTINGS",
    "EmailSettings",
    "HttpChannelSettings",
    "NotifySettings",
]

CHANNELS = ("email", "sms", "digital_post")
"""The channels, in the order they are shown."""
SMS_LIMIT = 160

NOTIFY_SETTINGS: tuple[Setting, ...] = (
    Setting(
        "enabled",
        bool,
        "Send the notification outbox's news to the citizens (needs [index] enabled).",
        default=False,
    ),
    Setting(
        "municipality",
        str,
        "The municipality's name as the messages say it, e.g. 'Sandby Kommune'.",
        default="Kommunen",
    ),
    Setting(
        "portal_url",
        str,
        "The portal's public address the messages point to, e.g. 'https://sager.sandby.dk'"
        " (no personal data is ever added to it).",
        default="http://127.0.0.1:8000",
    ),
    Setting(
        "default_channels",
        list,
        "The channels of a subscriber who has not chosen (any of email, sms, digital_post;"
        " e-mail and SMS also need the citizen's address).",
        default=["digital_post"],
    ),
    Setting(
        "per_case_minutes",
        int,
        "News of a case waits until this many minutes after the last message about it.",
        default=15,
    ),
    Setting(
        "per_person_minutes",
        int,
        "A citizen gets at most one message per channel in this many minutes; news waits"
        " and goes in the next one.",
        default=60,
    ),
    Setting(
        "retries",
        int,
        "Times a message that could not be delivered is tried again before it is failed.",
        default=4,
    ),
    Setting(
        "retry_delay_seconds",
        int,
        "Wait before the first retry; each further retry waits twice as long.",
        default=60,
    ),
    Setting(
        "lost_after_seconds",
        int,
        "A message still 'sending' after this long was left by a worker that died: it is"
        " sent again with the same message id (the receiver deduplicates on it).",
        default=300,
    ),
)

EMAIL_SETTINGS: tuple[Setting, ...] = (
    Setting("host", str, "SMTP server; empty: no e-mail channel.", default=""),
    Setting("port", int, "SMTP port.", default=25),
    Setting("sender", str, "The From address.", default="noreply@kommune.invalid"),
    Setting("starttls", bool, "Use STARTTLS before sending.", default=False),
    Setting("timeout_seconds", float, "Time limit of each SMTP step.", default=10.0),
)

HTTP_SETTINGS: tuple[Setting, ...] = (
    Setting("url", str, "Base URL of the service; empty: channel off.", default=""),
    Setting("api_key", str, "The key sent in X-Api-Key.", default="", secret=True),
    Setting("timeout_seconds", float, "Time limit of each request.", default=10.0),
)

DIGITAL_POST_EXTRA: tuple[Setting, ...] = (
    Setting("sender_cvr", str, "The municipality's CVR number (MeMo sender).", default="00000000"),
)


@dataclass(frozen=True, slots=True)
class EmailSettings:
    """``[notify.email]``."""

    host: str = ""
    port: int = 25
    sender: str = "noreply@kommune.invalid"
    starttls: bool = False
    timeout_seconds: float = 10.0


@dataclass(frozen=True, slots=True)
class HttpChannelSettings:
    """``[notify.sms]`` or ``[notify.digital_post]``."""

    url: str = ""
    api_key: str = field(default="", repr=False)
    timeout_seconds: float = 10.0
    sender_cvr: str = "00000000"


@dataclass(frozen=True, slots=True)
class NotifySettings:
    """The validated ``[notify]`` table."""

    enabled: bool = False
    municipality: str = "Kommunen"
    portal_url: str = "http://127.0.0.1:8000"
    default_channels: tuple[str, ...] = ("digital_post",)
    per_case_minutes: int = 15
    per_person_minutes: int = 60
    retries: int = 4
    retry_delay_seconds: int = 60
    lost_after_seconds: int = 300
    email: EmailSettings = EmailSettings()
    sms: HttpChannelSettings = HttpChannelSettings()
    digital_post: HttpChannelSettings = HttpChannelSettings()

    def offered(self) -> tuple[str, ...]:
        """The channels configured, in :data:`CHANNELS` order."""
        on = {
            "email": bool(self.email.host),
            "sms": bool(self.sms.url),
            "digital_post": bool(self.digital_post.url),
        }
        return tuple(c for c in CHANNELS if on[c])


def validate_notify_settings(raw: Any, context: SectionContext) -> NotifySettings:
    """The validated ``[notify]`` table; :class:`ConfigError` names the wrong key."""
    from borgersag.notify.texts import sms_text  # the text must fit an SMS

    file = context.file
    raw = dict(raw or {})
    email_raw = raw.pop("email", {})
    sms_raw = raw.pop("sms", {})
    post_raw = raw.pop("digital_post", {})
    table = validate_table(NOTIFY_SETTINGS, raw, file, "notify.")
    wrong = [c for c in table["default_channels"] if c not in CHANNELS]
    if wrong:
        raise ConfigError(file, "notify.default_channels", f"channels among {', '.join(CHANNELS)}")
    table["default_channels"] = tuple(dict.fromkeys(table["default_channels"]))
    url = urlsplit(table["portal_url"])
    if url.scheme not in ("http", "https") or not url.netloc or url.query or url.fragment:
        raise ConfigError(file, "notify.portal_url", "an http(s) address without query")
    if not table["municipality"].strip():
        raise ConfigError(file, "notify.municipality", "the municipality's name")
    email = EmailSettings(**validate_table(EMAIL_SETTINGS, email_raw, file, "notify.email."))
    sms = HttpChannelSettings(**validate_table(HTTP_SETTINGS, sms_raw, file, "notify.sms."))
    post = HttpChannelSettings(
        **validate_table(HTTP_SETTINGS + DIGITAL_POST_EXTRA, post_raw, file, "notify.digital_post.")
    )
    for key, channel in (("sms", sms), ("digital_post", post)):
        if channel.url and urlsplit(channel.url).scheme not in ("http", "https"):
            raise ConfigError(file, f"notify.{key}.url", "an http(s) address")
    settings = NotifySettings(**table, email=email, sms=sms, digital_post=post)
    if len(sms_text(settings)) > SMS_LIMIT:
        raise ConfigError(
            file, "notify.municipality", f"a name short enough for an SMS of {SMS_LIMIT} characters"
        )
    return settings


NOTIFY: Section[NotifySettings] = Section(
    "notify",
    validate_notify_settings,
    NOTIFY_SETTINGS,
    subtables={
        "email": EMAIL_SETTINGS,
        "sms": HTTP_SETTINGS,
        "digital_post": HTTP_SETTINGS + DIGITAL_POST_EXTRA,
    },
)
"""The ``[notify]`` section, registered in ``borgersag.config_sections``."""
