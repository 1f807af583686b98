"""Helpers of the senders' tests (tests/notify/): a case index with the senders pointed at
a sandbox, the sandbox's inboxes, and a case moved so that the next refresh has news."""

from __future__ import annotations

from typing import Any

import requests

from borgersag.config.loader import Config
from borgersag.index.refresh import Refresher
from borgersag.index.sealing import CprSeal
from borgersag.index.section import INDEX
from borgersag.index.store import IndexStore
from borgersag.lookup.portal import Portal
from borgersag.notify.delivery import Deliverer
from borgersag.notify.section import NOTIFY
from borgersag.notify.senders import build_senders
from borgersag.notify.store import NotifyStore
from borgersag.people.sections import CITIZEN

from support.index_helpers import SECRET, Recorded, raw_config, set_status

EMAIL = "borger@example.org"
PHONE = "+4522334455"
QUICK = {"per_case_minutes": 0, "per_person_minutes": 0, "retries": 2, "retry_delay_seconds": 0}


def notify_tables(sandbox, **overrides: Any) -> dict:
    """A ``[notify]`` table on ``sandbox``'s channels, no throttling, quick retries."""
    return {
        "enabled": True,
        "municipality": "Sandby Kommune",
        "portal_url": "https://sager.sandby.example",
        **QUICK,
        **sandbox.notify_config(),
        **overrides,
    }


def open_case(sandbox, cpr: str):
    """An open ESDH case of ``cpr`` in the sandbox."""
    return next(c for c in sandbox.municipality.cases_for(cpr) if c.status.progress != "afsluttet")


def move_on(sandbox, index: IndexStore, subscriber_id: int, case) -> str:
    """Move ``case`` to a status other than the one the index holds, as a caseworker
    would; the next refresh finds news. Returns the new status."""
    (facts,) = [f for f in index.facts(subscriber_id).values() if f.sagsnummer == case.nummer]
    status = next(s for s in ("Opklaring", "Afventer") if s != facts.status_text)
    set_status(sandbox, f"sbsys/{case.id}", status, date="2026-12-07")
    return status


def inbox(sandbox, service: str) -> list[dict]:
    """What a sandbox channel (``smtp``, ``nemsms``, ``digitalpost``) delivered."""
    answer = requests.get(f"{sandbox.url(service)}_sandbox/messages", timeout=5)
    assert answer.status_code == 200, answer.text
    return answer.json()["messages"]


def clear_inboxes(sandbox) -> None:
    """Empty every channel's inbox."""
    for service in ("smtp", "nemsms", "digitalpost"):
        requests.delete(f"{sandbox.url(service)}_sandbox/messages", timeout=5)


class Setup:
    """A refresher and a deliverer over one index database, on ``sandbox``."""

    def __init__(self, sandbox, url: str, citizen: dict | None = None, **notify: Any):
        self.sandbox = sandbox
        tables = raw_config(sandbox, citizen=citizen)
        tables["notify"] = notify_tables(sandbox, **notify)
        self.config = Config.from_mapping(tables)
        self.portal = Portal.from_config(self.config)
        self.index = IndexStore.open(url, CprSeal(SECRET))
        self.index.upgrade()
        self.store = NotifyStore(self.index)
        self.settings = self.config.section(NOTIFY)
        self.refresher = Refresher(
            self.portal,
            self.index,
            Recorded(),
            self.config.section(CITIZEN),
            self.config.section(INDEX),
        )
        clear_inboxes(sandbox)

    def deliverer(self, senders=None, **kwargs) -> Deliverer:
        """A deliverer with the configured senders (or ``senders``)."""
        return Deliverer(
            self.store, self.settings, senders or build_senders(self.settings), **kwargs
        )

    def subscribed(self, cpr: str, channels=("email", "sms", "digital_post")) -> int:
        """Subscribe ``cpr`` with e-mail and phone given, and take the baseline."""
        subscriber_id = self.index.subscribe(cpr)
        self.store.save_contact(subscriber_id, tuple(channels), EMAIL, PHONE)
        self.refresher.refresh(subscriber_id)
        return subscriber_id

    def open_case(self, cpr: str):
        """An open ESDH case of ``cpr`` in the sandbox."""
        m = self.sandbox.municipality
        return next(c for c in m.cases_for(cpr) if c.status.progress != "afsluttet")

    def news(self, subscriber_id: int, case) -> str:
        """A caseworker moves ``case`` to another status; the next refresh finds it.
        Returns the new status."""
        status = move_on(self.sandbox, self.index, subscriber_id, case)
        self.refresher.refresh(subscriber_id)
        return status

    def close(self) -> None:
        self.portal.close()
        self.index.close()
