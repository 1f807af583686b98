"""Who an overview is about: the person facts the sources know of its subject.

A case source knows a person as a party on its cases (:class:`~borgersag.domain.model.Party`:
name, address, name and address protection); a person register, where one is
configured, answers person facts only (:class:`Person`), never cases. :func:`person_facts`
puts both together for the header of an overview by CPR number, the register first;
:func:`known_to_sources` says whether any source knows the subject at all, so an
overview of a mistyped but valid number reads "Ingen af kommunens systemer kender …"
instead of looking like an overview of a person with no cases.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass
from typing import TYPE_CHECKING

from borgersag.domain.keys import CPR, Key

if TYPE_CHECKING:
    from borgersag.domain.model import Overview

__all__ = ["Person", "PersonFacts", "known_to_sources", "person_facts"]


@dataclass(frozen=True, slots=True)
class Person:
    """What a person register says about one person (a CPR key): the name and address
    it holds, and whether the person has name and address protection. ``source`` is the
    register's instance name, set by the engine."""

    key: Key
    name: str | None = None
    address: str | None = None
    protected: bool = False
    source: str | None = None


@dataclass(frozen=True, slots=True)
class PersonFacts:
    """The header of an overview by CPR: the person as the sources know them.

    ``address`` is already masked ("Adressebeskyttet") when the person is protected and
    the viewer may not see it; ``sources`` are the instance names the facts came from,
    the person register first."""

    key: CPR
    name: str | None
    address: str | None
    protected: bool
    sources: tuple[str, ...]

    @property
    def birth_date(self) -> dt.date:
        """The birth date read from the CPR number."""
        return self.key.birth_date

    def age(self, today: dt.date) -> int:
        """Whole years on ``today``."""
        born = self.birth_date
        return today.year - born.year - ((today.month, today.day) < (born.month, born.day))


def person_facts(overview: Overview, *, masked_address: str | None = None) -> PersonFacts | None:
    """The facts about ``overview``'s subject (a CPR key), or ``None`` for another kind.

    A person register's answer (``overview.persons``) comes first; parties on the cases
    with the subject's CPR number fill in what it does not say — the name and address
    given most often. Any source flagging protection makes the person protected; then,
    with ``masked_address`` given (the viewer may not see it), that is the address.
    """
    subject = overview.subject
    if not isinstance(subject, CPR):
        return None
    persons = [p for p in overview.persons if p.key == subject]
    parties = [
        (case, party) for case in overview.cases for party in case.parties if party.key == subject
    ]
    names: Counter[str] = Counter(p.name for _, p in parties if p.name)
    addresses: Counter[str] = Counter(p.address for _, p in parties if p.address)
    name = next((p.name for p in persons if p.name), None) or _most(names)
    address = next((p.address for p in persons if p.address), None) or _most(addresses)
    protected = any(p.protected for p in persons) or any(p.protected for _, p in parties)
    if protected and masked_address is not None:
        address = masked_address
    sources = dict.fromkeys(p.source for p in persons if p.source)
    for case, _ in parties:
        sources.update(dict.fromkeys(s.source for s in case.all_sources))
    return PersonFacts(subject, name, address, protected, tuple(sources))


def known_to_sources(overview: Overview) -> bool:
    """Whether any source knows the subject: a case, a related key (a property owned, a
    property's owners) or a person register's answer."""
    return bool(overview.cases or overview.expansions or overview.persons)


def _most(counts: Counter[str]) -> str | None:
    return counts.most_common(1)[0][0] if counts else None
