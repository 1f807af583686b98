"""What the messages say: one neutral text, the same for every change.

An SMS or an e-mail can be read by anyone near the phone or the inbox, so it names no
CPR number, no name, no case, no title and no kind of change — only that there is news
and where to read it. The link is the portal's own address: nothing personal is put in it.
Digital Post is the citizen's secured mailbox, but the message says no more than the
others: the portal shows the case behind the login.
"""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import urlsplit

if TYPE_CHECKING:  # the settings check the SMS text's length: no import cycle
    from borgersag.notify.section import NotifySettings

__all__ = ["email_text", "mine_sager_url", "sms_text", "subject"]


def mine_sager_url(settings: NotifySettings) -> str:
    """The portal's "Mine sager" page (no query, nothing personal)."""
    return settings.portal_url.rstrip("/") + "/mine-sager"


def _portal_name(settings: NotifySettings) -> str:
    return urlsplit(settings.portal_url).netloc


def sms_text(settings: NotifySettings) -> str:
    """The SMS (at most 160 characters, checked when the config is read)."""
    return (
        f"Der er nyt i en af dine sager hos {settings.municipality}."
        f" Log ind på {_portal_name(settings)} for at se det."
    )


def subject(settings: NotifySettings) -> str:
    """The e-mail's and the Digital Post message's title."""
    return f"Nyt i dine sager hos {settings.municipality}"


def email_text(settings: NotifySettings) -> str:
    """The e-mail's and the Digital Post message's body (plain text)."""
    return (
        "Hej\n\n"
        f"Der er nyt i en af dine sager hos {settings.municipality}.\n"
        f"Log ind med MitID på {mine_sager_url(settings)} for at se det.\n\n"
        "Du får denne besked, fordi du har bedt om at høre om nyt i dine sager."
        " Du kan slå beskederne fra under Mine sager > Indstillinger.\n\n"
        f"Venlig hilsen\n{settings.municipality}\n"
    )
