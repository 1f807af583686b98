"""The named demo identities (``municipality.demo``), the hostile citizen among them.

They are made with chosen profiles, so they exist for every seed: ``typical``,
``coowner`` and ``coowner_partner``, ``protected``, ``heavy`` and ``nothing`` before the
random population, ``hostile`` after it from its own random numbers.
"""

from __future__ import annotations

import datetime as dt
import random
from typing import Protocol

from borgersag.sandbox import catalog
from borgersag.sandbox.data import NOW, StatusEntry
from borgersag.sandbox.gen.building import PermitSystem
from borgersag.sandbox.gen.context import Context
from borgersag.sandbox.gen.esdh import STATUS, Esdh
from borgersag.sandbox.gen.ownership import OwnershipRegister
from borgersag.sandbox.gen.people import People


class Parts(Protocol):
    """The generator's parts the demo identities are drawn through."""

    ctx: Context
    people: People
    register: OwnershipRegister
    esdh: Esdh
    permits: PermitSystem


__all__ = [
    "HEAVY_CASES",
    "HOSTILE_BREAKOUT",
    "HOSTILE_BUILDING_TITLE",
    "HOSTILE_CASE_TITLE",
    "HOSTILE_DOCUMENTS",
    "HOSTILE_IMG",
    "HOSTILE_SCRIPT",
    "HOSTILE_STATUS_COMMENT",
    "make_demo_people",
    "make_hostile_person",
]

HEAVY_CASES = 520

# Markup the hostile citizen's back-end text carries: the portal must show it as text.
HOSTILE_SCRIPT = '<script>alert("sag")</script>'
HOSTILE_IMG = "<img src=x onerror=alert(1)>"
HOSTILE_BREAKOUT = '"><b>fed</b>'
HOSTILE_CASE_TITLE = f"Boligstøtte {HOSTILE_SCRIPT}"
HOSTILE_STATUS_COMMENT = f"Afventer dokumentation {HOSTILE_IMG}"
HOSTILE_BUILDING_TITLE = f"Byggeansøgning {HOSTILE_IMG} {HOSTILE_BREAKOUT}"
# Title, KOMBIT type, status, whether the party may see it: the letter is final and
# visible, so the citizen's pages carry the markup too.
HOSTILE_DOCUMENTS = (
    (f"Ansøgning {HOSTILE_BREAKOUT}", "Brev indgående", "Modtaget", True),
    (
        f"Anmodning om oplysninger {HOSTILE_BREAKOUT} {HOSTILE_SCRIPT}",
        "Brev udgående",
        "Endeligt",
        True,
    ),
)


def make_demo_people(gen: Parts) -> dict[str, str]:
    """The demo identities but ``hostile``: demo role → CPR number."""
    rng = gen.ctx.rng
    people, register, esdh, permits = gen.people, gen.register, gen.esdh, gen.permits
    typical = people.person(38, 55)
    prop = register.buy_property([typical], since_age=30)
    permits.cases_on(prop, typical, count=2, journalise_first=True)
    for group in ("32", "27", "13"):
        esdh.case(typical, group)

    coowner = people.person(30, 45, gender="K")
    partner = people.person(30, 45, gender="M", address=coowner.address)
    prop = register.buy_property([coowner, partner], since_age=28)
    permits.cases_on(prop, coowner, count=1, journalise_first=False)
    esdh.case(coowner, "32")

    protected = people.person(25, 60, protected=True)
    for group in ("27", "32"):
        esdh.case(protected, group)

    heavy = people.person(52, 60)
    groups = ["13", "15", "27", "29", "32"]
    for _ in range(HEAVY_CASES):
        esdh.case(heavy, rng.choice(groups), earliest=dt.date(2000, 1, 1))

    nothing = people.person(20, 70)
    return {
        "typical": typical.cpr,
        "coowner": coowner.cpr,
        "coowner_partner": partner.cpr,
        "protected": protected.cpr,
        "heavy": heavy.cpr,
        "nothing": nothing.cpr,
    }


def make_hostile_person(gen: Parts) -> str:
    """A citizen whose ESDH case and building case carry markup in their texts.

    Case title, status comment, document titles and the building case's title (and
    so its ESDH copy's) hold ``<script>``, ``<img onerror>`` and an attribute
    breakout; everything is shown to the citizen too. Drawn from its own
    ``random.Random`` after everyone else, so no other record changes.
    """
    esdh = gen.esdh
    with gen.ctx.drawing_from(random.Random(gen.ctx.seed * 7919 + 1)):
        person = gen.people.person(35, 60)
        area = catalog.AREAS["32"]
        subject = next(s for s in area.subjects if s.kle == "32.18.06")
        opened = NOW - dt.timedelta(days=45)
        waiting = opened + dt.timedelta(days=9)
        history = (
            StatusEntry("Opstået", opened, *STATUS["Opstået"]),
            StatusEntry("Afventer", waiting, *STATUS["Afventer"], HOSTILE_STATUS_COMMENT),
        )
        caseworker = esdh.quietest_caseworker(area.unit)
        documents = tuple(
            esdh.document(doc, art, status, visible, date, HOSTILE_CASE_TITLE, 0, caseworker)
            for (doc, art, status, visible), date in zip(
                HOSTILE_DOCUMENTS, (opened, waiting), strict=True
            )
        )
        esdh.add_case(
            person,
            area,
            subject,
            HOSTILE_CASE_TITLE,
            "G01",
            history,
            0,
            caseworker,
            NOW + dt.timedelta(days=30),
            documents=documents,
        )

        prop = gen.register.buy_property([person], since_age=25)
        gen.permits.cases_on(
            prop,
            person,
            count=1,
            journalise_first=True,
            title=f"{HOSTILE_BUILDING_TITLE}, {prop.address.line}",
            caseworker=esdh.quietest_caseworker(catalog.AREAS_BUILDING.unit),
        )
    return person.cpr
