"""Previous owners for the sandbox ownership register: some properties changed hands.

:func:`previous_owners` gives some properties an earlier owner whose ownership ended the
day the current owners' purchase took effect, so the register has history to send
(``virkningTil``) and the portal a previous owner to keep out of the new owner's building
cases. Drawn after everything else from its own ``random.Random``: no other record moves.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Collection, Sequence

from borgersag.sandbox.data import Citizen, Ownership

__all__ = ["previous_owners"]

RESOLD_SHARE = 0.25  # of the properties bought since EARLIEST_SALE
EARLIEST_SALE = dt.date(2000, 1, 1)


def previous_owners(
    ownerships: Sequence[Ownership],
    citizens: Sequence[Citizen],
    exclude: Collection[str],
    rng: random.Random,
) -> list[Ownership]:
    """Earlier ownerships for about a quarter of the properties bought since 2000: a
    citizen who was an adult then (not a current owner, none of ``exclude``) owned the
    whole property for 3–15 years until the current owners' ``since``."""
    bought: dict[int, Ownership] = {}
    for own in ownerships:
        bought.setdefault(own.bfe, own)
    owners = {(o.bfe, o.cpr) for o in ownerships}
    earlier: list[Ownership] = []
    for bfe, own in bought.items():
        if own.since < EARLIEST_SALE or rng.random() >= RESOLD_SHARE:
            continue
        start = own.since - dt.timedelta(days=rng.randint(3 * 365, 15 * 365))
        adults = [
            c
            for c in citizens
            if c.cpr not in exclude
            and (bfe, c.cpr) not in owners
            and c.birth_date.replace(year=c.birth_date.year + 18, day=1) <= start
        ]
        if adults:
            seller = rng.choice(adults)
            earlier.append(Ownership(seller.cpr, bfe, (1, 1), start, until=own.since))
    return earlier
