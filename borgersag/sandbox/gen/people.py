"""Citizens and staff: CPR numbers, names and addresses, and the municipality's employees."""

from __future__ import annotations

import datetime as dt

from borgersag.sandbox import catalog
from borgersag.sandbox.data import NOW, Address, Citizen, Employee
from borgersag.sandbox.gen.context import Context

__all__ = ["People"]


class People:
    """Draws the citizens (kept in :attr:`citizens`) and the staff (into the context)."""

    def __init__(self, ctx: Context):
        self.ctx = ctx
        self.citizens: list[Citizen] = []
        self._cprs: set[str] = set()
        self._house_numbers: dict[str, int] = {}

    def make_employees(self) -> None:
        """Every unit's staff, with medarbejdernumre rising in steps and unique initials."""
        rng = self.ctx.rng
        number = 10100
        initials: set[str] = set()
        for unit in catalog.UNITS:
            for _ in range(unit.staff):
                gender = rng.choice("MK")
                first = rng.choice(catalog.MALE_NAMES if gender == "M" else catalog.FEMALE_NAMES)
                last = rng.choice(catalog.LAST_NAMES)
                logon = (first[:2] + last[:2]).upper()
                suffix = 1
                while logon in initials:
                    suffix += 1
                    logon = (first[:2] + last[:2]).upper() + str(suffix)
                initials.add(logon)
                number += rng.randint(3, 40)
                self.ctx.employees.append(
                    Employee(f"M{number}", f"{first} {last}", logon, unit.name, unit.kle_groups)
                )

    def person(
        self,
        min_age: int,
        max_age: int,
        *,
        gender: str | None = None,
        protected: bool | None = False,
        address: Address | None = None,
    ) -> Citizen:
        """A new citizen aged ``min_age``–``max_age``; ``protected=None`` draws protection."""
        rng = self.ctx.rng
        gender = gender or rng.choice("MK")
        born = NOW - dt.timedelta(days=rng.randint(min_age * 365 + 1, max_age * 365 + 300))
        cpr = self._cpr(born, gender)
        names = catalog.MALE_NAMES if gender == "M" else catalog.FEMALE_NAMES
        first = rng.choice(names)
        if rng.random() < 0.15:
            first = f"{first} {rng.choice(names)}"
        last = rng.choice(catalog.LAST_NAMES)
        if rng.random() < 0.2:
            last = f"{rng.choice(catalog.MIDDLE_NAMES)} {last}"
        if protected is None:
            protected = rng.random() < 0.02
        citizen = Citizen(
            cpr=cpr,
            first_name=first,
            last_name=last,
            gender=gender,
            birth_date=born,
            address=address or self.address(flat=True),
            protected=protected,
        )
        self.citizens.append(citizen)
        return citizen

    def move(self, citizen: Citizen, address: Address) -> None:
        """The citizen lives at ``address`` from now on (the record is replaced in place)."""
        index = self.citizens.index(citizen)
        self.citizens[index] = Citizen(
            citizen.cpr,
            citizen.first_name,
            citizen.last_name,
            citizen.gender,
            citizen.birth_date,
            address,
            citizen.protected,
        )

    def address(self, *, flat: bool, district: catalog.District | None = None) -> Address:
        """A drawn address; a house (a new number on its street) unless it may be a flat."""
        rng = self.ctx.rng
        district = district or rng.choice(catalog.DISTRICTS)
        street = rng.choice(district.streets)
        if flat and rng.random() < 0.7:
            number = rng.randint(1, 80)
            floor = rng.choice(catalog.FLOORS)
        else:
            number = self._house_numbers.get(street, 0) + rng.randint(1, 4)
            self._house_numbers[street] = number
            floor = None
        return Address(street, number, floor, district.postnummer, district.by)

    def _cpr(self, born: dt.date, gender: str) -> str:
        """A unique CPR number whose 7th digit gives the right century."""
        rng = self.ctx.rng
        while True:
            if born.year >= 2000:
                century_digit = rng.choice("456789")
            elif born.year % 100 >= 37 and rng.random() < 0.1:
                century_digit = rng.choice("49")
            else:
                century_digit = rng.choice("0123")
            last = rng.choice("13579" if gender == "M" else "02468")
            serial = f"{century_digit}{rng.randint(0, 99):02d}{last}"
            cpr = born.strftime("%d%m%y") + serial
            if cpr not in self._cprs:
                self._cprs.add(cpr)
                return cpr
