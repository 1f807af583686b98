"""The sandbox municipality's data: plain records and lookups, no Flask, no network.

:func:`generate` builds a whole municipality from a seed (see :mod:`.generator`); this
module holds the record types and :class:`Municipality`, which the three sandbox
services read from. All dates lie on or before :data:`NOW`, a fixed "today", so the data
does not change with the calendar (deadlines of open cases may lie after it).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, replace

__all__ = [
    "NOW",
    "Address",
    "BuildingCase",
    "BuildingDocument",
    "BuildingStatus",
    "Citizen",
    "Demo",
    "Employee",
    "EsdhCase",
    "EsdhDocument",
    "Municipality",
    "Ownership",
    "Parcel",
    "Property",
    "StatusEntry",
]

NOW = dt.date(2026, 11, 1)
"""The sandbox's fixed "today"."""


@dataclass(frozen=True, slots=True)
class Address:
    """A Danish postal address."""

    street: str
    number: int
    floor: str | None
    postnummer: str
    by: str

    @property
    def line(self) -> str:
        """Street, number and floor: ``Birkevej 12, 1. th.``."""
        floor = f", {self.floor}" if self.floor else ""
        return f"{self.street} {self.number}{floor}"

    def __str__(self) -> str:
        return f"{self.line}, {self.postnummer} {self.by}"


@dataclass(frozen=True, slots=True)
class Citizen:
    """A person in the CPR register. ``cpr`` is ten digits."""

    cpr: str
    first_name: str
    last_name: str
    gender: str  # "M" or "K", matching the CPR number's last digit
    birth_date: dt.date
    address: Address
    protected: bool = False  # navne- og adressebeskyttelse

    @property
    def name(self) -> str:
        """Full name."""
        return f"{self.first_name} {self.last_name}"

    @property
    def cpr_dashed(self) -> str:
        """``DDMMYY-SSSS``, as SBSYS writes it."""
        return f"{self.cpr[:6]}-{self.cpr[6:]}"

    @property
    def age(self) -> int:
        """Age in whole years on :data:`NOW`."""
        born = self.birth_date
        return NOW.year - born.year - ((NOW.month, NOW.day) < (born.month, born.day))


@dataclass(frozen=True, slots=True)
class Employee:
    """A caseworker: medarbejdernummer, login initials and organisation unit."""

    medarbejdernummer: str
    name: str
    logon_id: str
    unit: str
    kle_groups: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class StatusEntry:
    """One entry of an ESDH case's status history (SBSYS status plus SF1470 progress)."""

    name: str
    date: dt.date
    tilstand: str  # SBSYS SagsTilstand: Aktiv / Afsluttet
    progress: str  # opstaaet / oplyst / afgjort / afsluttet
    comment: str | None = None


@dataclass(frozen=True, slots=True)
class EsdhDocument:
    """A journalised document with its KOMBIT type, status and sensitivity."""

    id: int
    identity: str
    file_id: int
    title: str
    art: str  # KOMBIT document type, e.g. "Brev indgående"
    status: str  # e.g. "Modtaget", "Under udarbejdelse", "Endeligt"
    sensitivity: int  # 0-3, see catalog.SENSITIVITY_CODES
    party_may_see: bool
    date: dt.date
    behandler: str  # medarbejdernummer
    content: str


@dataclass(frozen=True, slots=True)
class EsdhCase:
    """A case in the SBSYS-style ESDH."""

    id: int
    identity: str
    nummer: str
    title: str
    kle: str
    kle_title: str
    facet: str
    area: str
    template: str
    party_cpr: str
    opened: dt.date
    history: tuple[StatusEntry, ...]
    sensitivity: int
    caseworker: str  # medarbejdernummer
    created_by: str  # medarbejdernummer
    unit: str
    deadline: dt.date | None
    documents: tuple[EsdhDocument, ...]
    external_refs: tuple[tuple[str, str], ...] = ()  # (system, case number)
    parcels: tuple[tuple[int, int, str], ...] = ()  # (bfe, ejerlavskode, matrikelnummer)
    protected: bool = False  # SBSYS ErBeskyttet

    @property
    def status(self) -> StatusEntry:
        """The current status."""
        return self.history[-1]

    @property
    def closed(self) -> dt.date | None:
        """When the case was closed, if it is."""
        done = [s.date for s in self.history if s.progress == "afsluttet"]
        return done[0] if done else None

    @property
    def decided(self) -> bool:
        """Whether a decision has been made (SBSYS ErBesluttet)."""
        return any(s.progress in ("afgjort", "afsluttet") for s in self.history)

    @property
    def last_changed(self) -> dt.date:
        """The latest status or document date."""
        dates = [self.history[-1].date, *(d.date for d in self.documents)]
        return max(dates)


@dataclass(frozen=True, slots=True)
class Parcel:
    """A cadastral parcel (jordstykke)."""

    ejerlavskode: int
    ejerlavsnavn: str
    matrikelnummer: str

    @property
    def key_text(self) -> str:
        """``2000351-12a``, the canonical matrikel key value."""
        return f"{self.ejerlavskode}-{self.matrikelnummer}"


@dataclass(frozen=True, slots=True)
class Property:
    """A property (bestemt fast ejendom) with its BFE number, address and parcels."""

    bfe: int
    address: Address
    parcels: tuple[Parcel, ...]


@dataclass(frozen=True, slots=True)
class Ownership:
    """That a citizen owns ``share`` of a property since a date — or owned it, until the
    day the sale took effect (``until``, the next owner's ``since``)."""

    cpr: str
    bfe: int
    share: tuple[int, int]  # (tæller, nævner)
    since: dt.date
    until: dt.date | None = None

    @property
    def current(self) -> bool:
        """Whether the citizen still owns it."""
        return self.until is None


@dataclass(frozen=True, slots=True)
class BuildingStatus:
    """One entry of a building case's status history."""

    name: str
    date: dt.date


@dataclass(frozen=True, slots=True)
class BuildingDocument:
    """A document in the building-permit system."""

    id: int
    title: str
    type: str  # Ansøgning, Tegning, Indgående brev, Udgående brev, Afgørelse, Notat
    date: dt.date
    public: bool  # whether the applicant may see it
    content: str


@dataclass(frozen=True, slots=True)
class BuildingCase:
    """A case in the building-permit system, keyed by BFE and parcel."""

    sagsnummer: str
    bfe: int
    parcel: Parcel
    type: str
    kle: str
    title: str
    received: dt.date
    history: tuple[BuildingStatus, ...]
    applicant_name: str
    caseworker: str  # medarbejdernummer
    deadline: dt.date | None
    documents: tuple[BuildingDocument, ...]
    esdh_case_id: int | None = None
    esdh_nummer: str | None = None

    @property
    def status(self) -> BuildingStatus:
        """The current status."""
        return self.history[-1]


@dataclass(frozen=True, slots=True)
class Demo:
    """Named, stable identities for the demo and tests (CPR numbers are ten digits).

    * ``typical`` — cases in several areas, owns a property with building cases, one of
      them also journalised in the ESDH (a lookup shows all three systems and a join);
    * ``coowner`` — owns a property together with ``coowner_partner`` (1/2 each);
    * ``protected`` — has name and address protection;
    * ``heavy`` — has hundreds of ESDH cases;
    * ``nothing`` — a valid citizen with no cases anywhere and no property;
    * ``hostile`` — back-end text with markup (``<script>``, ``<img onerror>``, an
      attribute breakout) in an ESDH case's title, status comment and document titles
      and in a building case's title on their property: the portal must escape it;
    * ``caseworker`` — the medarbejdernummer of the caseworker with the most cases.
    """

    typical: str
    coowner: str
    coowner_partner: str
    protected: str
    heavy: str
    nothing: str
    hostile: str
    caseworker: str

    def as_dict(self) -> dict[str, str]:
        """The identities by name."""
        return {name: getattr(self, name) for name in self.__dataclass_fields__}


@dataclass(frozen=True)
class Municipality:
    """Everything the sandbox services serve, with lookups by the keys they search by."""

    name: str
    seed: int
    citizens: tuple[Citizen, ...]
    employees: tuple[Employee, ...]
    cases: tuple[EsdhCase, ...]
    properties: tuple[Property, ...]
    ownerships: tuple[Ownership, ...]
    building_cases: tuple[BuildingCase, ...]
    demo: Demo
    _index: dict = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        index: dict = {
            "citizen": {c.cpr: c for c in self.citizens},
            "employee": {e.medarbejdernummer: e for e in self.employees},
            "case": {c.id: c for c in self.cases},
            "cases_by_cpr": {},
            "cases_by_employee": {},
            "document": {},
            "file": {},
            "property": {p.bfe: p for p in self.properties},
            "owned_by": {},
            "owners_of": {},
            "building": {b.sagsnummer: b for b in self.building_cases},
            "building_by_bfe": {},
            "building_by_parcel": {},
        }
        for case in self.cases:
            index["cases_by_cpr"].setdefault(case.party_cpr, []).append(case)
            index["cases_by_employee"].setdefault(case.caseworker, []).append(case)
            for doc in case.documents:
                index["document"][doc.id] = (case, doc)
                index["file"][doc.file_id] = doc
        for own in self.ownerships:
            index["owned_by"].setdefault(own.cpr, []).append(own)
            index["owners_of"].setdefault(own.bfe, []).append(own)
        for b in self.building_cases:
            index["building_by_bfe"].setdefault(b.bfe, []).append(b)
            parcel = (b.parcel.ejerlavskode, b.parcel.matrikelnummer)
            index["building_by_parcel"].setdefault(parcel, []).append(b)
        object.__setattr__(self, "_index", index)

    def citizen(self, cpr: str) -> Citizen | None:
        """The citizen with this ten-digit CPR number."""
        return self._index["citizen"].get(cpr)

    def employee(self, medarbejdernummer: str) -> Employee | None:
        """The employee with this medarbejdernummer."""
        return self._index["employee"].get(medarbejdernummer)

    def case(self, case_id: int) -> EsdhCase | None:
        """One ESDH case by its numeric id."""
        return self._index["case"].get(case_id)

    def set_status(self, case_id: int, entry: StatusEntry) -> EsdhCase | None:
        """Give an ESDH case a new current status (the sandbox's knob for a caseworker's
        change, which the case index must notice); ``None`` for an unknown case.

        The case is replaced everywhere it is looked up; the generated data is untouched
        otherwise, so a sandbox started anew serves the original history again.
        """
        index = self._index
        old = index["case"].get(case_id)
        if old is None:
            return None
        new = replace(old, history=(*old.history, entry))
        index["case"][case_id] = new
        for table, owner in (
            ("cases_by_cpr", old.party_cpr),
            ("cases_by_employee", old.caseworker),
        ):
            index[table][owner] = [new if c.id == case_id else c for c in index[table][owner]]
        for doc in new.documents:
            index["document"][doc.id] = (new, doc)
        return new

    def cases_for(self, cpr: str) -> list[EsdhCase]:
        """ESDH cases where the citizen is primary party, in id order."""
        return list(self._index["cases_by_cpr"].get(cpr, ()))

    def cases_handled_by(self, medarbejdernummer: str) -> list[EsdhCase]:
        """ESDH cases where the employee is responsible caseworker."""
        return list(self._index["cases_by_employee"].get(medarbejdernummer, ()))

    def file(self, file_id: int) -> EsdhDocument | None:
        """A document by its file id."""
        return self._index["file"].get(file_id)

    def property(self, bfe: int) -> Property | None:
        """A property by BFE number."""
        return self._index["property"].get(bfe)

    def ownerships_of(self, cpr: str, *, history: bool = False) -> list[Ownership]:
        """What the citizen owns (with ``history``: also what they owned before)."""
        return [o for o in self._index["owned_by"].get(cpr, ()) if history or o.current]

    def owners_of(self, bfe: int, *, history: bool = False) -> list[Ownership]:
        """Who owns the property (with ``history``: also who owned it before)."""
        return [o for o in self._index["owners_of"].get(bfe, ()) if history or o.current]

    def building_case(self, sagsnummer: str) -> BuildingCase | None:
        """A building case by its sagsnummer."""
        return self._index["building"].get(sagsnummer)

    def building_cases_on_property(self, bfe: int) -> list[BuildingCase]:
        """Building cases on any parcel of the property."""
        return list(self._index["building_by_bfe"].get(bfe, ()))

    def building_cases_on_parcel(
        self, ejerlavskode: int, matrikelnummer: str
    ) -> list[BuildingCase]:
        """Building cases on one parcel."""
        key = (ejerlavskode, matrikelnummer.lower())
        return list(self._index["building_by_parcel"].get(key, ()))
