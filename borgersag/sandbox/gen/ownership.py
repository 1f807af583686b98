"""The ownership register: properties (BFE) with their parcels, and who owns them since when."""

from __future__ import annotations

import datetime as dt

from borgersag.sandbox import catalog
from borgersag.sandbox.data import NOW, Citizen, Ownership, Parcel, Property
from borgersag.sandbox.gen.context import Context
from borgersag.sandbox.gen.people import People

__all__ = ["OwnershipRegister"]


class OwnershipRegister:
    """Draws properties and ownerships (kept in :attr:`properties`, :attr:`ownerships`).

    Draws the first BFE number when made: make it before anything else draws.
    """

    def __init__(self, ctx: Context, people: People):
        self.ctx = ctx
        self.people = people
        self.properties: list[Property] = []
        self.ownerships: list[Ownership] = []
        self._matrikel_numbers: dict[int, int] = {}
        self._next_bfe = 1_000_000 + ctx.rng.randint(1000, 9000) * 100

    def buy_property(self, owners: list[Citizen], *, since_age: int) -> Property:
        """A new property owned by ``owners`` in equal shares; they live there."""
        rng = self.ctx.rng
        district = rng.choice(catalog.DISTRICTS)
        address = self.people.address(flat=False, district=district)
        parcels = tuple(self._parcel(district) for _ in range(rng.choice((1, 1, 1, 2))))
        self._next_bfe += rng.randint(3, 997)
        prop = Property(self._next_bfe, address, parcels)
        self.properties.append(prop)
        youngest = max(o.birth_date for o in owners)
        earliest = max(youngest.replace(year=youngest.year + since_age, day=1), dt.date(1985, 1, 1))
        since = self.ctx.date_between(earliest, NOW - dt.timedelta(days=60))
        for owner in owners:
            self.ownerships.append(Ownership(owner.cpr, prop.bfe, (1, len(owners)), since))
            if owner.address != address:
                self.people.move(owner, address)
        return prop

    def owner(self, prop: Property) -> Citizen:
        """The property's first owner."""
        cpr = next(o.cpr for o in self.ownerships if o.bfe == prop.bfe)
        return next(c for c in self.people.citizens if c.cpr == cpr)

    def owned_since(self, prop: Property) -> dt.date:
        """When the property's owners bought it."""
        return next(o.since for o in self.ownerships if o.bfe == prop.bfe)

    def _parcel(self, district: catalog.District) -> Parcel:
        rng = self.ctx.rng
        code = district.ejerlavskode
        number = self._matrikel_numbers.get(code, rng.randint(1, 20)) + rng.randint(1, 6)
        self._matrikel_numbers[code] = number
        letters = rng.choice(("", "", "a", "b", "c", "d", "e", "f", "g", "h", "k", "ø"))
        return Parcel(code, district.ejerlavsnavn, f"{number}{letters}")
