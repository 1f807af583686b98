"""The deterministic generator behind :func:`generate`.

One ``random.Random(seed)`` drives every choice, in a fixed order, so a seed always
yields the same municipality. The demo identities are built first with chosen profiles
(so they exist for every seed); the rest of the population is drawn at random.

The ``hostile`` demo citizen comes last and draws from a second ``random.Random`` derived
from the seed: adding it changed no other record, and changing it never will.

Each back end's records are drawn by a part of :mod:`borgersag.sandbox.gen` — people,
the ownership register, the ESDH, the building-permit system, the demo identities —
all drawing from one shared :class:`~borgersag.sandbox.gen.context.Context`; this module
puts them together in the fixed order.
"""

from __future__ import annotations

import random

from borgersag.sandbox import catalog
from borgersag.sandbox.data import Demo, Municipality
from borgersag.sandbox.gen.building import PermitSystem
from borgersag.sandbox.gen.context import Context
from borgersag.sandbox.gen.demo import make_demo_people, make_hostile_person
from borgersag.sandbox.gen.esdh import Esdh
from borgersag.sandbox.gen.ownership import OwnershipRegister
from borgersag.sandbox.gen.people import People
from borgersag.sandbox.resales import previous_owners

__all__ = ["Generator", "generate"]

RANDOM_CITIZENS = 240
CASE_COUNT_WEIGHTS = (25, 20, 18, 13, 9, 6, 4, 3, 2)  # 0..8 cases per citizen


class Generator:
    """Builds one :class:`Municipality`; use once."""

    def __init__(self, seed: int):
        self.seed = seed
        self.ctx = Context(seed)
        self.people = People(self.ctx)
        self.register = OwnershipRegister(self.ctx, self.people)  # draws the first BFE
        self.esdh = Esdh(self.ctx)
        self.permits = PermitSystem(self.ctx, self.register, self.esdh)

    def build(self) -> Municipality:
        """Employees, demo identities, the random population and their cases, then the
        hostile citizen (whose cases go to quiet caseworkers: the busiest stays busiest)."""
        self.people.make_employees()
        demo = make_demo_people(self)
        for _ in range(RANDOM_CITIZENS):
            self._make_random_person()
        for prop in list(self.register.properties):
            if not any(b.bfe == prop.bfe for b in self.permits.cases):
                self.permits.maybe_cases(prop)
        busiest = self.esdh.busiest_caseworker()
        demo["hostile"] = make_hostile_person(self)
        self.permits.housing_adaptations(busiest, self.people)
        # Previous owners draw from their own random numbers: no other record changes.
        resold = random.Random(self.seed * 7919 + 3)
        self.register.ownerships += previous_owners(
            self.register.ownerships, self.people.citizens, demo.values(), resold
        )
        return Municipality(
            name=catalog.MUNICIPALITY_NAME,
            seed=self.seed,
            citizens=tuple(self.people.citizens),
            employees=tuple(self.ctx.employees),
            cases=tuple(sorted(self.esdh.cases, key=lambda c: c.id)),
            properties=tuple(self.register.properties),
            ownerships=tuple(self.register.ownerships),
            building_cases=tuple(self.permits.cases),
            demo=Demo(caseworker=busiest, **demo),
        )

    def _make_random_person(self) -> None:
        """A child, or an adult who may own a property (perhaps with a partner); then
        0–8 ESDH cases in areas that fit their age."""
        rng = self.ctx.rng
        child = rng.random() < 0.15
        person = self.people.person(0, 17) if child else self.people.person(18, 92, protected=None)
        if not child and rng.random() < 0.4:
            owners = [person]
            if rng.random() < 0.3:
                other = "K" if person.gender == "M" else "M"
                owners.append(self.people.person(18, 92, gender=other, address=person.address))
            self.register.buy_property(owners, since_age=22)
        for _ in range(rng.choices(range(len(CASE_COUNT_WEIGHTS)), CASE_COUNT_WEIGHTS)[0]):
            groups = [
                g for g, area in catalog.AREAS.items() if area.min_age <= person.age <= area.max_age
            ]
            weights = [catalog.AREA_WEIGHTS[g] for g in groups]
            self.esdh.case(person, rng.choices(groups, weights)[0])


def generate(seed: int = 2026) -> Municipality:
    """Build the sandbox municipality; the same seed always gives the same data."""
    return Generator(seed).build()
