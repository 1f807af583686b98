"""The deterministic generator behind :func:`borgersag.sandbox.data.generate`.

One ``random.Random(seed)`` drives every choice, in a fixed order, so a seed always
yields the same municipality. The demo identities are built first with chosen profiles
(so they exist for every seed); the rest of the population is drawn at random.

The ``hostile`` demo citizen comes last and draws from a second ``random.Random`` derived
from the seed: adding it changed no other record, and changing it never will.
"""

from __future__ import annotations

import datetime as dt
import random
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager

from borgersag.sandbox import catalog
from borgersag.sandbox.data import (
    NOW,
    Address,
    BuildingCase,
    BuildingDocument,
    BuildingStatus,
    Citizen,
    Demo,
    Employee,
    EsdhCase,
    EsdhDocument,
    Municipality,
    Ownership,
    Parcel,
    Property,
    StatusEntry,
)
from borgersag.sandbox.resales import previous_owners

HOUSING_ADAPTATIONS = 2  # open building-system cases for the demo caseworker
RANDOM_CITIZENS = 240
HEAVY_CASES = 520
EARLIEST_CASE = dt.date(2008, 1, 1)
CASE_COUNT_WEIGHTS = (25, 20, 18, 13, 9, 6, 4, 3, 2)  # 0..8 cases per citizen
BUILDING_COUNT_WEIGHTS = (35, 35, 20, 10)  # 0..3 building cases per property
_STATUS = {name: (tilstand, progress) for name, tilstand, progress in catalog.ESDH_STATUSES}
# How the ESDH journalises a permit-system status.
_BUILDING_TO_ESDH = {
    "Modtaget": ("Opstået", None),
    "Afventer dokumentation": ("Opklaring", "Afventer dokumentation fra ansøger"),
    "Under behandling": ("Afventer", "Ansøgningen er fuldt oplyst"),
    "Tilladelse meddelt": ("Afgjort", "Byggetilladelse meddelt"),
    "Afslag": ("Afgjort", "Afslag meddelt"),
    "Afsluttet": ("Afsluttet", "Færdigmeldt"),
}

# Documents a case may gather besides the application and the decision:
# title, KOMBIT type, status, whether the party may see it.
_CASE_DOCUMENTS = (
    ("Journalnotat – telefonsamtale", "Internt notat", "Endeligt", False),
    ("Anmodning om oplysninger", "Brev udgående", "Endeligt", True),
    ("Dokumentation fra borger", "Brev indgående", "Modtaget", True),
    ("Lægeerklæring", "Rapport", "Modtaget", True),
    ("Partshøring", "Brev udgående", "Endeligt", True),
    ("Intern vurdering", "Internt notat", "Endeligt", False),
)
_BUILDING_DOCUMENTS = (
    ("Situationsplan", "Brev indgående", "Modtaget", True),
    ("Partshøring af naboer", "Brev udgående", "Endeligt", True),
    ("Notat om bebyggelsesprocent", "Internt notat", "Endeligt", False),
    ("Supplerende tegninger", "Brev indgående", "Modtaget", True),
)

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


class Generator:
    """Builds one :class:`Municipality`; use once."""

    def __init__(self, seed: int):
        self.seed = seed
        self.rng = random.Random(seed)
        self.citizens: list[Citizen] = []
        self.employees: list[Employee] = []
        self.cases: list[EsdhCase] = []
        self.properties: list[Property] = []
        self.ownerships: list[Ownership] = []
        self.building_cases: list[BuildingCase] = []
        self._cprs: set[str] = set()
        self._house_numbers: dict[str, int] = {}
        self._matrikel_numbers: dict[int, int] = {}
        self._next_case_id = 10001
        self._next_doc_id = 500001
        self._next_file_id = 900001
        self._next_bfe = 1_000_000 + self.rng.randint(1000, 9000) * 100
        self._esdh_serial: dict[int, int] = {}
        self._building_serial: dict[int, int] = {}

    # -- top level ------------------------------------------------------------------------

    def build(self) -> Municipality:
        """Employees, demo identities, the random population and their cases, then the
        hostile citizen (whose cases go to quiet caseworkers: the busiest stays busiest)."""
        self._make_employees()
        demo = self._make_demo_people()
        for _ in range(RANDOM_CITIZENS):
            self._make_random_person()
        for prop in list(self.properties):
            if not any(b.bfe == prop.bfe for b in self.building_cases):
                self._maybe_building_cases(prop)
        counts: dict[str, int] = {}
        for case in self.cases:
            counts[case.caseworker] = counts.get(case.caseworker, 0) + 1
        busiest = max(sorted(counts), key=lambda nr: counts[nr])
        demo["hostile"] = self._make_hostile_person()
        self._make_housing_adaptations(busiest)
        resold = random.Random(self.seed * 7919 + 3)
        self.ownerships += previous_owners(self.ownerships, self.citizens, demo.values(), resold)
        return Municipality(
            name=catalog.MUNICIPALITY_NAME,
            seed=self.seed,
            citizens=tuple(self.citizens),
            employees=tuple(self.employees),
            cases=tuple(sorted(self.cases, key=lambda c: c.id)),
            properties=tuple(self.properties),
            ownerships=tuple(self.ownerships),
            building_cases=tuple(self.building_cases),
            demo=Demo(caseworker=busiest, **demo),
        )

    def _make_demo_people(self) -> dict[str, str]:
        rng = self.rng
        typical = self._person(38, 55)
        prop = self._buy_property([typical], since_age=30)
        self._building_cases(prop, typical, count=2, journalise_first=True)
        for group in ("32", "27", "13"):
            self._esdh_case(typical, group)

        coowner = self._person(30, 45, gender="K")
        partner = self._person(30, 45, gender="M", address=coowner.address)
        prop = self._buy_property([coowner, partner], since_age=28)
        self._building_cases(prop, coowner, count=1, journalise_first=False)
        self._esdh_case(coowner, "32")

        protected = self._person(25, 60, protected=True)
        for group in ("27", "32"):
            self._esdh_case(protected, group)

        heavy = self._person(52, 60)
        groups = ["13", "15", "27", "29", "32"]
        for _ in range(HEAVY_CASES):
            self._esdh_case(heavy, rng.choice(groups), earliest=dt.date(2000, 1, 1))

        nothing = self._person(20, 70)
        return {
            "typical": typical.cpr,
            "coowner": coowner.cpr,
            "coowner_partner": partner.cpr,
            "protected": protected.cpr,
            "heavy": heavy.cpr,
            "nothing": nothing.cpr,
        }

    def _make_hostile_person(self) -> str:
        """A citizen whose ESDH case and building case carry markup in their texts.

        Case title, status comment, document titles and the building case's title (and
        so its ESDH copy's) hold ``<script>``, ``<img onerror>`` and an attribute
        breakout; everything is shown to the citizen too. Drawn from its own
        ``random.Random`` after everyone else, so no other record changes.
        """
        with self._drawing_from(random.Random(self.seed * 7919 + 1)):
            person = self._person(35, 60)
            area = catalog.AREAS["32"]
            subject = next(s for s in area.subjects if s.kle == "32.18.06")
            opened = NOW - dt.timedelta(days=45)
            waiting = opened + dt.timedelta(days=9)
            history = (
                StatusEntry("Opstået", opened, *_STATUS["Opstået"]),
                StatusEntry("Afventer", waiting, *_STATUS["Afventer"], HOSTILE_STATUS_COMMENT),
            )
            caseworker = self._quietest_caseworker(area.unit)
            documents = tuple(
                self._esdh_document(
                    doc, art, status, visible, date, HOSTILE_CASE_TITLE, 0, caseworker
                )
                for (doc, art, status, visible), date in zip(
                    HOSTILE_DOCUMENTS, (opened, waiting), strict=True
                )
            )
            self._add_case(
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

            prop = self._buy_property([person], since_age=25)
            self._building_cases(
                prop,
                person,
                count=1,
                journalise_first=True,
                title=f"{HOSTILE_BUILDING_TITLE}, {prop.address.line}",
                caseworker=self._quietest_caseworker(catalog.AREAS_BUILDING.unit),
            )
        return person.cpr

    def _make_housing_adaptations(self, caseworker: str) -> None:
        """Open housing-adaptation cases (boligindretning, SEL § 116) in the building-permit
        system for ``caseworker`` (the demo caseworker, in Sundhed og Omsorg), so their
        "Mit skrivebord" spans that system too. Own ``random.Random``, drawn last."""
        owners = {o.bfe: o.cpr for o in self.ownerships}
        people = {c.cpr: c for c in self.citizens}
        made = 0
        with self._drawing_from(random.Random(self.seed * 7919 + 2)):
            for prop in self.properties:
                if made == HOUSING_ADAPTATIONS:
                    break
                owner = people.get(owners.get(prop.bfe, ""))
                if owner is None or owner.age < 60:
                    continue
                before = len(self.building_cases)
                self._building_cases(
                    prop,
                    owner,
                    count=1,
                    journalise_first=False,
                    title=f"Boligindretning (SEL § 116), {prop.address.line}",
                    caseworker=caseworker,
                )
                if self.building_cases[before].history[-1].name == "Afsluttet":
                    self.building_cases.pop(before)  # only open ones make the point
                else:
                    made += 1

    @contextmanager
    def _drawing_from(self, rng: random.Random) -> Iterator[None]:
        """Every helper draws from ``rng`` instead of the main generator for a while."""
        main, self.rng = self.rng, rng
        try:
            yield
        finally:
            self.rng = main

    def _quietest_caseworker(self, unit: str) -> str:
        """The unit's employee with the fewest cases so far (the lowest number on a tie)."""
        counts = Counter(c.caseworker for c in self.cases)
        staff = [e.medarbejdernummer for e in self.employees if e.unit == unit]
        return min(staff, key=lambda nr: (counts[nr], nr))

    def _make_random_person(self) -> None:
        rng = self.rng
        child = rng.random() < 0.15
        person = self._person(0, 17) if child else self._person(18, 92, protected=None)
        if not child and rng.random() < 0.4:
            owners = [person]
            if rng.random() < 0.3:
                other = "K" if person.gender == "M" else "M"
                owners.append(self._person(18, 92, gender=other, address=person.address))
            self._buy_property(owners, since_age=22)
        for _ in range(rng.choices(range(len(CASE_COUNT_WEIGHTS)), CASE_COUNT_WEIGHTS)[0]):
            groups = [
                g for g, area in catalog.AREAS.items() if area.min_age <= person.age <= area.max_age
            ]
            weights = [catalog.AREA_WEIGHTS[g] for g in groups]
            self._esdh_case(person, rng.choices(groups, weights)[0])

    # -- people ---------------------------------------------------------------------------

    def _make_employees(self) -> None:
        rng = self.rng
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
                self.employees.append(
                    Employee(f"M{number}", f"{first} {last}", logon, unit.name, unit.kle_groups)
                )

    def _person(
        self,
        min_age: int,
        max_age: int,
        *,
        gender: str | None = None,
        protected: bool | None = False,
        address: Address | None = None,
    ) -> Citizen:
        rng = self.rng
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
            address=address or self._address(flat=True),
            protected=protected,
        )
        self.citizens.append(citizen)
        return citizen

    def _cpr(self, born: dt.date, gender: str) -> str:
        """A unique CPR number whose 7th digit gives the right century."""
        rng = self.rng
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

    def _address(self, *, flat: bool, district: catalog.District | None = None) -> Address:
        rng = self.rng
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

    # -- property -------------------------------------------------------------------------

    def _buy_property(self, owners: list[Citizen], *, since_age: int) -> Property:
        """A new property owned by ``owners`` in equal shares; they live there."""
        rng = self.rng
        district = rng.choice(catalog.DISTRICTS)
        address = self._address(flat=False, district=district)
        parcels = tuple(self._parcel(district) for _ in range(rng.choice((1, 1, 1, 2))))
        self._next_bfe += rng.randint(3, 997)
        prop = Property(self._next_bfe, address, parcels)
        self.properties.append(prop)
        youngest = max(o.birth_date for o in owners)
        earliest = max(youngest.replace(year=youngest.year + since_age, day=1), dt.date(1985, 1, 1))
        since = self._date_between(earliest, NOW - dt.timedelta(days=60))
        for owner in owners:
            self.ownerships.append(Ownership(owner.cpr, prop.bfe, (1, len(owners)), since))
            if owner.address != address:
                index = self.citizens.index(owner)
                moved = Citizen(
                    owner.cpr,
                    owner.first_name,
                    owner.last_name,
                    owner.gender,
                    owner.birth_date,
                    address,
                    owner.protected,
                )
                self.citizens[index] = moved
        return prop

    def _parcel(self, district: catalog.District) -> Parcel:
        rng = self.rng
        code = district.ejerlavskode
        number = self._matrikel_numbers.get(code, rng.randint(1, 20)) + rng.randint(1, 6)
        self._matrikel_numbers[code] = number
        letters = rng.choice(("", "", "a", "b", "c", "d", "e", "f", "g", "h", "k", "ø"))
        return Parcel(code, district.ejerlavsnavn, f"{number}{letters}")

    def _maybe_building_cases(self, prop: Property) -> None:
        count = self.rng.choices(range(len(BUILDING_COUNT_WEIGHTS)), BUILDING_COUNT_WEIGHTS)[0]
        if count:
            owner = self._owner(prop)
            self._building_cases(prop, owner, count=count, journalise_first=None)

    def _owner(self, prop: Property) -> Citizen:
        cpr = next(o.cpr for o in self.ownerships if o.bfe == prop.bfe)
        return next(c for c in self.citizens if c.cpr == cpr)

    def _building_cases(
        self,
        prop: Property,
        applicant: Citizen,
        *,
        count: int,
        journalise_first: bool | None,
        title: str | None = None,
        caseworker: str | None = None,
    ) -> None:
        """``count`` building cases; ``title`` and ``caseworker`` replace the drawn ones."""
        rng = self.rng
        chosen_title, chosen_worker = title, caseworker
        since = next(o.since for o in self.ownerships if o.bfe == prop.bfe)
        for i in range(count):
            kind, kle = rng.choices(catalog.BUILDING_TYPES, catalog.BUILDING_TYPE_WEIGHTS)[0]
            received = self._date_between(max(since, dt.date(2016, 1, 1)), NOW - dt.timedelta(3))
            history = self._building_history(received)
            caseworker = chosen_worker or self._caseworker("Byggeri og Miljø")
            year = received.year
            self._building_serial[year] = self._building_serial.get(year, 0) + rng.randint(1, 9)
            sagsnummer = f"BYG-{year}-{self._building_serial[year]:05d}"
            open_ = history[-1].name != "Afsluttet"
            deadline = received + dt.timedelta(days=rng.randint(40, 120)) if open_ else None
            journalise = rng.random() < 0.5 if journalise_first is None or i else journalise_first
            parcel = rng.choice(prop.parcels)
            title = chosen_title or f"{kind}, {prop.address.line}"
            esdh = None
            if journalise:
                esdh = self._journalise(
                    prop, parcel, applicant, kle, title, sagsnummer, history, caseworker, deadline
                )
            self.building_cases.append(
                BuildingCase(
                    sagsnummer=sagsnummer,
                    bfe=prop.bfe,
                    parcel=parcel,
                    type=kind,
                    kle=kle,
                    title=title,
                    received=received,
                    history=history,
                    applicant_name=applicant.name,
                    caseworker=caseworker,
                    deadline=deadline,
                    documents=self._building_documents(kind, history),
                    esdh_case_id=esdh.id if esdh else None,
                    esdh_nummer=esdh.nummer if esdh else None,
                )
            )

    def _building_history(self, received: dt.date) -> tuple[BuildingStatus, ...]:
        rng = self.rng
        names = ["Modtaget"]
        if rng.random() < 0.5:
            names.append("Afventer dokumentation")
        names.append("Under behandling")
        names.append("Tilladelse meddelt" if rng.random() < 0.85 else "Afslag")
        names.append("Afsluttet")
        dates = self._dates_after(received, len(names), (3, 60))
        keep = len(names) if rng.random() < 0.6 else rng.randint(1, len(names) - 1)
        return tuple(
            BuildingStatus(name, date)
            for name, date in list(zip(names, dates, strict=True))[:keep]
            if date <= NOW
        )

    def _building_documents(
        self, kind: str, history: tuple[BuildingStatus, ...]
    ) -> tuple[BuildingDocument, ...]:
        plan = [
            ("Ansøgning om byggetilladelse", "Ansøgning", True),
            ("Situationsplan", "Tegning", True),
        ]
        statuses = [s.name for s in history]
        if "Afventer dokumentation" in statuses:
            plan.append(("Anmodning om supplerende oplysninger", "Udgående brev", True))
        if "Under behandling" in statuses:
            plan.append(("Notat om bebyggelsesprocent", "Notat", False))
        if "Tilladelse meddelt" in statuses:
            plan.append(("Byggetilladelse", "Afgørelse", True))
        if "Afslag" in statuses:
            plan.append(("Afslag på byggetilladelse", "Afgørelse", True))
        if "Afsluttet" in statuses:
            plan.append(("Færdigmelding", "Indgående brev", True))
        dates = sorted(self._date_between(history[0].date, history[-1].date) for _ in plan)
        docs = []
        for (title, type_, public), date in zip(plan, dates, strict=True):
            self._next_doc_id += 1
            text = f"{title} vedrørende {kind.lower()}.\n\nSandkasse Kommune, Byggeri og Miljø."
            docs.append(BuildingDocument(self._next_doc_id, title, type_, date, public, text))
        return tuple(docs)

    def _journalise(
        self, prop, parcel, applicant, kle, title, sagsnummer, history, caseworker, deadline
    ) -> EsdhCase:
        """The ESDH's copy of a building case, referring to the permit system's number."""
        entries = []
        for status in history:
            name, comment = _BUILDING_TO_ESDH[status.name]
            tilstand, progress = _STATUS[name]
            entries.append(StatusEntry(name, status.date, tilstand, progress, comment))
        subject = catalog.Subject(kle, catalog.BUILDING_KLE_TITLES[kle], ())
        return self._add_case(
            applicant,
            catalog.AREAS_BUILDING,
            subject,
            f"Byggesag – {title}",
            "G01",
            tuple(entries),
            0,
            caseworker,
            deadline,
            external_refs=(("Byggesag", sagsnummer),),
            parcels=((prop.bfe, parcel.ejerlavskode, parcel.matrikelnummer),),
        )

    # -- ESDH cases -----------------------------------------------------------------------

    def _esdh_case(self, person: Citizen, group: str, *, earliest: dt.date | None = None) -> None:
        rng = self.rng
        area = catalog.AREAS[group]
        subject = rng.choice(area.subjects)
        sensitivity = rng.choices(range(4), area.sensitivity_weights)[0]
        if sensitivity >= 2 and subject.sensitive_titles:
            title = rng.choice(subject.sensitive_titles)
        else:
            title = rng.choice(subject.titles)
        adult_from = person.birth_date.replace(day=1)
        if area.min_age:
            adult_from = adult_from.replace(year=adult_from.year + area.min_age)
        start = max(adult_from, earliest or EARLIEST_CASE)
        opened = self._date_between(start, NOW - dt.timedelta(days=2))
        history = self._esdh_history(opened)
        closed = history[-1].progress == "afsluttet"
        deadline = None
        if not closed and rng.random() < 0.6:
            deadline = history[-1].date + dt.timedelta(days=rng.randint(14, 90))
        caseworker = self._caseworker(area.unit)
        self._add_case(
            person,
            area,
            subject,
            title,
            rng.choice(subject.facets),
            history,
            sensitivity,
            caseworker,
            deadline,
        )

    def _esdh_history(self, opened: dt.date) -> tuple[StatusEntry, ...]:
        rng = self.rng
        names = ["Opstået", "Opklaring", "Afventer", "Afgjort", "Afsluttet"]
        if rng.random() < 0.3:
            names.append("Arkiveret")
        dates = self._dates_after(opened, len(names), (2, 75))
        old = (NOW - opened).days > 365
        keep = len(names) if rng.random() < (0.85 if old else 0.35) else rng.randint(1, 4)
        entries = []
        for name, date in list(zip(names, dates, strict=True))[:keep]:
            if date > NOW:
                break
            tilstand, progress = _STATUS[name]
            comments = catalog.ESDH_STATUS_COMMENTS.get(name)
            comment = rng.choice(comments) if comments else None
            entries.append(StatusEntry(name, date, tilstand, progress, comment))
        return tuple(entries)

    def _add_case(
        self,
        person,
        area,
        subject,
        title,
        facet,
        history,
        sensitivity,
        caseworker,
        deadline,
        *,
        external_refs=(),
        parcels=(),
        documents=None,
    ) -> EsdhCase:
        """A new ESDH case; its documents are drawn unless ``documents`` gives them."""
        rng = self.rng
        opened = history[0].date
        year = opened.year
        self._esdh_serial[year] = self._esdh_serial.get(year, 0) + 1
        nummer = f"{subject.kle}-{facet}-{self._esdh_serial[year]}-{year % 100:02d}"
        created_by = caseworker if rng.random() < 0.7 else self._caseworker(area.unit)
        case = EsdhCase(
            id=self._next_case_id,
            identity=self._uuid(),
            nummer=nummer,
            title=title,
            kle=subject.kle,
            kle_title=subject.kle_title,
            facet=facet,
            area=area.name,
            template=area.template,
            party_cpr=person.cpr,
            opened=opened,
            history=history,
            sensitivity=sensitivity,
            caseworker=caseworker,
            created_by=created_by,
            unit=area.unit,
            deadline=deadline,
            documents=documents
            if documents is not None
            else self._esdh_documents(title, history, sensitivity, caseworker, bool(parcels)),
            external_refs=external_refs,
            parcels=parcels,
            protected=sensitivity == 3 or person.protected,
        )
        self._next_case_id += 1
        self.cases.append(case)
        return case

    def _esdh_documents(
        self, title, history, sensitivity, caseworker, building
    ) -> tuple[EsdhDocument, ...]:
        rng = self.rng
        first, last = history[0].date, history[-1].date
        first_doc = "Ansøgning om byggetilladelse" if building else "Ansøgning"
        plan = [(first_doc, "Brev indgående", "Modtaget", True)]
        extras = _BUILDING_DOCUMENTS if building else _CASE_DOCUMENTS
        decided = any(s.progress in ("afgjort", "afsluttet") for s in history)
        draft = not decided and rng.random() < 0.4
        wanted = rng.randint(2, 6) - 1 - (decided or draft)
        plan.extend(rng.sample(extras, min(max(wanted, 0), len(extras))))
        dates = sorted(self._date_between(first, last) for _ in plan)
        if decided:
            plan.append(("Afgørelse", "Brev udgående", "Endeligt", True))
            dates.append(next(s.date for s in history if s.progress in ("afgjort", "afsluttet")))
        elif draft:
            plan.append(("Udkast til afgørelse", "Brev udgående", "Under udarbejdelse", True))
            dates.append(last)
        return tuple(
            self._esdh_document(
                f"{doc_title} – {title}" if art == "Brev udgående" else doc_title,
                art,
                status,
                visible,
                date,
                title,
                sensitivity,
                caseworker,
                content_title=doc_title,
            )
            for (doc_title, art, status, visible), date in zip(plan, dates, strict=True)
        )

    def _esdh_document(
        self,
        title,
        art,
        status,
        visible,
        date,
        case_title,
        sensitivity,
        caseworker,
        *,
        content_title=None,
    ) -> EsdhDocument:
        """One journalised document with the next document and file ids."""
        self._next_doc_id += 1
        self._next_file_id += 1
        content = (
            f"{content_title or title}\n\nSag: {case_title}\nDato: {date.isoformat()}\n\n"
            "Dokumentet er genereret af Sandkasse Kommunes testdata."
        )
        return EsdhDocument(
            id=self._next_doc_id,
            identity=self._uuid(),
            file_id=self._next_file_id,
            title=title,
            art=art,
            status=status,
            sensitivity=sensitivity,
            party_may_see=visible,
            date=date,
            behandler=caseworker,
            content=content,
        )

    # -- helpers --------------------------------------------------------------------------

    def _caseworker(self, unit: str) -> str:
        staff = [e for e in self.employees if e.unit == unit]
        weights = [6 if i == 0 else 2 for i in range(len(staff))]
        return self.rng.choices(staff, weights)[0].medarbejdernummer

    def _uuid(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def _date_between(self, start: dt.date, end: dt.date) -> dt.date:
        if end <= start:
            return min(start, NOW)
        return start + dt.timedelta(days=self.rng.randint(0, (end - start).days))

    def _dates_after(self, start: dt.date, count: int, gap: tuple[int, int]) -> list[dt.date]:
        dates = [start]
        for _ in range(count - 1):
            dates.append(dates[-1] + dt.timedelta(days=self.rng.randint(*gap)))
        return dates
