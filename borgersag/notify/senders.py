"""The senders: one small interface, three channels.

A :class:`Sender` delivers one :class:`Outgoing` message and returns, or raises
:class:`DeliveryError` (``retriable`` says whether trying again may help). Every sender
is bounded in time (each SMTP step and each HTTP request has a limit) and in what it
reads back (the project's :class:`~borgersag.sdk.http.SourceSession` caps the body), and
passes the message's own id so that the receiving service delivers a message sent twice
once: ``Message-ID`` for e-mail, ``messageId`` for NemSMS, MeMo's ``messageUUID`` for
Digital Post.

To add a channel: a class with ``channel`` and ``send``, a settings table in
:mod:`borgersag.notify.section` and a line in :func:`build_senders`.
"""

from __future__ import annotations

import base64
import smtplib
import ssl
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Protocol

from borgersag.notify.section import HttpChannelSettings, NotifySettings
from borgersag.notify.texts import email_text, sms_text, subject
from borgersag.sdk.errors import FatalError, RetriableError, SourceError
from borgersag.sdk.http import SourceSession

__all__ = [
    "DeliveryError",
    "DigitalPostSender",
    "EmailSender",
    "NemSmsSender",
    "Outgoing",
    "Sender",
    "build_senders",
]

MAX_ANSWER_BYTES = 64 * 1024


class DeliveryError(Exception):
    """A message was not delivered; ``retriable``: trying again later may help."""

    def __init__(self, message: str, *, retriable: bool = True):
        super().__init__(message)
        self.retriable = retriable


@dataclass(frozen=True, slots=True, repr=False)
class Outgoing:
    """One message to one citizen on one channel: ``to`` is the e-mail address, the phone
    number or the CPR number (Digital Post) — never logged (see ``__repr__``)."""

    message_id: str
    channel: str
    to: str = field(repr=False)

    def __repr__(self) -> str:
        return f"Outgoing({self.message_id!r}, {self.channel!r})"


class Sender(Protocol):
    """Delivers messages on one channel."""

    channel: str

    def send(self, message: Outgoing) -> None:
        """Deliver ``message`` or raise :class:`DeliveryError`."""


class EmailSender:
    """E-mail over SMTP (stdlib :mod:`smtplib`), each step bounded by ``timeout_seconds``."""

    channel = "email"

    def __init__(self, settings: NotifySettings):
        self.settings = settings

    def send(self, message: Outgoing) -> None:
        email = self.settings.email
        mail = EmailMessage()
        mail["From"] = email.sender
        mail["To"] = message.to
        mail["Subject"] = subject(self.settings)
        mail["Message-ID"] = f"<{message.message_id}@borgersag>"
        mail["Auto-Submitted"] = "auto-generated"
        mail.set_content(email_text(self.settings))
        try:
            with smtplib.SMTP(email.host, email.port, timeout=email.timeout_seconds) as smtp:
                if email.starttls:
                    smtp.starttls(context=ssl.create_default_context())
                smtp.send_message(mail)
        except smtplib.SMTPRecipientsRefused:
            raise DeliveryError("the SMTP server refused the address", retriable=False) from None
        except smtplib.SMTPResponseException as exc:
            retriable = not 500 <= exc.smtp_code < 600
            raise DeliveryError(f"SMTP {exc.smtp_code}", retriable=retriable) from None
        except TimeoutError:
            raise DeliveryError("the SMTP server did not answer in time") from None
        except (OSError, smtplib.SMTPException) as exc:
            raise DeliveryError(f"SMTP: {type(exc).__name__}") from None


class _HttpSender:
    """What NemSMS and Digital Post share: a bounded session and error mapping."""

    channel = ""
    path = ""
    title = ""

    def __init__(self, settings: NotifySettings, channel: HttpChannelSettings):
        self.settings = settings
        self.session = SourceSession(
            channel.url,
            source=self.title,
            timeout=channel.timeout_seconds,
            connect_timeout=min(3.0, channel.timeout_seconds),
            max_response_bytes=MAX_ANSWER_BYTES,
            max_concurrent=4,
        )
        if channel.api_key:
            self.session.headers["X-Api-Key"] = channel.api_key

    def body(self, message: Outgoing) -> dict:
        raise NotImplementedError

    def send(self, message: Outgoing) -> None:
        try:
            self.session.call("POST", self.path, json=self.body(message))
        except RetriableError as exc:
            raise DeliveryError(str(exc)) from None
        except FatalError as exc:
            raise DeliveryError(str(exc), retriable=False) from None
        except SourceError as exc:  # forbidden, not found: a setting is wrong
            raise DeliveryError(str(exc), retriable=False) from None

    def close(self) -> None:
        """Close the HTTP connections."""
        self.session.close()


class NemSmsSender(_HttpSender):
    """NemSMS: the neutral text (at most 160 characters) to the citizen's phone."""

    channel = "sms"
    path = "sms"
    title = "NemSMS"

    def __init__(self, settings: NotifySettings):
        super().__init__(settings, settings.sms)

    def body(self, message: Outgoing) -> dict:
        return {
            "messageId": message.message_id,
            "recipient": message.to,
            "text": sms_text(self.settings),
        }


class DigitalPostSender(_HttpSender):
    """Digital Post: a MeMo-shaped message to the citizen's CPR number."""

    channel = "digital_post"
    path = "memo"
    title = "Digital Post"

    def __init__(self, settings: NotifySettings):
        super().__init__(settings, settings.digital_post)

    def body(self, message: Outgoing) -> dict:
        text = email_text(self.settings).encode()
        return {
            "memoVersion": 1.1,
            "messageHeader": {
                "messageType": "DIGITALPOST",
                "messageUUID": message.message_id,
                "label": subject(self.settings),
                "mandatory": False,
                "legalNotification": False,
                "sender": {
                    "senderID": self.settings.digital_post.sender_cvr,
                    "idType": "CVR",
                    "label": self.settings.municipality,
                },
                "recipient": {"recipientID": message.to, "idType": "CPR"},
            },
            "messageBody": {
                "mainDocument": {
                    "label": subject(self.settings),
                    "file": [
                        {
                            "encodingFormat": "text/plain",
                            "filename": "besked.txt",
                            "language": "da",
                            "content": base64.b64encode(text).decode(),
                        }
                    ],
                }
            },
        }


def build_senders(settings: NotifySettings) -> dict[str, Sender]:
    """The senders of the channels ``settings`` configures."""
    made: dict[str, Sender] = {}
    if settings.email.host:
        made["email"] = EmailSender(settings)
    if settings.sms.url:
        made["sms"] = NemSmsSender(settings)
    if settings.digital_post.url:
        made["digital_post"] = DigitalPostSender(settings)
    return made
