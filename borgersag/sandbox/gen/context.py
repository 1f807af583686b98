"""What every part of the generator shares, and the order-sensitive drawing helpers.

Every part draws from :attr:`Context.rng`, read at the moment it draws, so
:meth:`Context.drawing_from` can point all of them at another ``random.Random`` for a
while (the hostile citizen, the housing adaptations) without any record drawn from the
main one changing.
"""

from __future__ import annotations

import datetime as dt
import random
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

from borgersag.sandbox.data import NOW, Employee

__all__ = ["Context"]


class Context:
    """The seed, the random numbers, the staff and the shared document id counter."""

    def __init__(self, seed: int):
        self.seed = seed
        self.rng = random.Random(seed)
        self.employees: list[Employee] = []
        self.doc_id = 500001  # the ESDH and the building-permit system share one series

    def next_doc_id(self) -> int:
        """The next document id (ESDH and building documents alike)."""
        self.doc_id += 1
        return self.doc_id

    @contextmanager
    def drawing_from(self, rng: random.Random) -> Iterator[None]:
        """Every part draws from ``rng`` instead of the main generator for a while."""
        main, self.rng = self.rng, rng
        try:
            yield
        finally:
            self.rng = main

    def caseworker(self, unit: str) -> str:
        """A drawn employee of ``unit``; the unit's first employee three times as often."""
        staff = [e for e in self.employees if e.unit == unit]
        weights = [6 if i == 0 else 2 for i in range(len(staff))]
        return self.rng.choices(staff, weights)[0].medarbejdernummer

    def uuid(self) -> str:
        """A drawn version-4 UUID."""
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def date_between(self, start: dt.date, end: dt.date) -> dt.date:
        """A drawn date from ``start`` to ``end``; ``start`` (at most today) when empty."""
        if end <= start:
            return min(start, NOW)
        return start + dt.timedelta(days=self.rng.randint(0, (end - start).days))

    def dates_after(self, start: dt.date, count: int, gap: tuple[int, int]) -> list[dt.date]:
        """``start`` and ``count - 1`` later dates, each ``gap`` days (drawn) after the last."""
        dates = [start]
        for _ in range(count - 1):
            dates.append(dates[-1] + dt.timedelta(days=self.rng.randint(*gap)))
        return dates
