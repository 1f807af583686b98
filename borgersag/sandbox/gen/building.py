"""The building-permit system: building cases on properties, with history and documents,
and the ESDH's journalised copies of some of them (referring to the permit's number)."""

from __future__ import annotations

import datetime as dt
import random

from borgersag.sandbox import catalog
from borgersag.sandbox.data import (
    NOW,
    BuildingCase,
    BuildingDocument,
    BuildingStatus,
    Citizen,
    EsdhCase,
    Property,
    StatusEntry,
)
from borgersag.sandbox.gen.context import Context
from borgersag.sandbox.gen.esdh import STATUS, Esdh
from borgersag.sandbox.gen.ownership import OwnershipRegister
from borgersag.sandbox.gen.people import People

__all__ = ["BUILDING_COUNT_WEIGHTS", "HOUSING_ADAPTATIONS", "PermitSystem"]

HOUSING_ADAPTATIONS = 2  # open building-system cases for the demo caseworker
BUILDING_COUNT_WEIGHTS = (35, 35, 20, 10)  # 0..3 building cases per property
# How the ESDH journalises a permit-system status.
_BUILDING_TO_ESDH = {
    "Modtaget": ("Opstået", None),
    "Afventer dokumentation": ("Opklaring", "Afventer dokumentation fra ansøger"),
    "Under behandling": ("Afventer", "Ansøgningen er fuldt oplyst"),
    "Tilladelse meddelt": ("Afgjort", "Byggetilladelse meddelt"),
    "Afslag": ("Afgjort", "Afslag meddelt"),
    "Afsluttet": ("Afsluttet", "Færdigmeldt"),
}


class PermitSystem:
    """Draws building cases (kept in :attr:`cases`); journalised ones go to ``esdh`` too."""

    def __init__(self, ctx: Context, register: OwnershipRegister, esdh: Esdh):
        self.ctx = ctx
        self.register = register
        self.esdh = esdh
        self.cases: list[BuildingCase] = []
        self._serial: dict[int, int] = {}

    def maybe_cases(self, prop: Property) -> None:
        """None to three cases (drawn) on ``prop``, applied for by its first owner."""
        count = self.ctx.rng.choices(range(len(BUILDING_COUNT_WEIGHTS)), BUILDING_COUNT_WEIGHTS)[0]
        if count:
            owner = self.register.owner(prop)
            self.cases_on(prop, owner, count=count, journalise_first=None)

    def cases_on(
        self,
        prop: Property,
        applicant: Citizen,
        *,
        count: int,
        journalise_first: bool | None,
        title: str | None = None,
        caseworker: str | None = None,
    ) -> None:
        """``count`` building cases; ``title`` and ``caseworker`` replace the drawn ones.

        ``journalise_first``: whether the first is journalised in the ESDH too (``None``:
        drawn, as for the others).
        """
        rng = self.ctx.rng
        chosen_title, chosen_worker = title, caseworker
        since = self.register.owned_since(prop)
        for i in range(count):
            kind, kle = rng.choices(catalog.BUILDING_TYPES, catalog.BUILDING_TYPE_WEIGHTS)[0]
            received = self.ctx.date_between(max(since, dt.date(2016, 1, 1)), NOW - dt.timedelta(3))
            history = self._history(received)
            caseworker = chosen_worker or self.ctx.caseworker("Byggeri og Miljø")
            year = received.year
            self._serial[year] = self._serial.get(year, 0) + rng.randint(1, 9)
            sagsnummer = f"BYG-{year}-{self._serial[year]:05d}"
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
            documents = self._documents(kind, history)
            if esdh is not None:  # the application was journalised with its date
                esdh = self.esdh.journalised(esdh, {d.title: d.date for d in documents})
            self.cases.append(
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
                    documents=documents,
                    esdh_case_id=esdh.id if esdh else None,
                    esdh_nummer=esdh.nummer if esdh else None,
                )
            )

    def housing_adaptations(self, caseworker: str, people: People) -> None:
        """Open housing-adaptation cases (boligindretning, SEL § 116) in the building-permit
        system for ``caseworker`` (the demo caseworker, in Sundhed og Omsorg), so their
        "Mit skrivebord" spans that system too. Own ``random.Random``, drawn last."""
        owners = {o.bfe: o.cpr for o in self.register.ownerships}
        citizens = {c.cpr: c for c in people.citizens}
        made = 0
        with self.ctx.drawing_from(random.Random(self.ctx.seed * 7919 + 2)):
            for prop in self.register.properties:
                if made == HOUSING_ADAPTATIONS:
                    break
                owner = citizens.get(owners.get(prop.bfe, ""))
                if owner is None or owner.age < 60:
                    continue
                before = len(self.cases)
                self.cases_on(
                    prop,
                    owner,
                    count=1,
                    journalise_first=False,
                    title=f"Boligindretning (SEL § 116), {prop.address.line}",
                    caseworker=caseworker,
                )
                if self.cases[before].history[-1].name == "Afsluttet":
                    self.cases.pop(before)  # only open ones make the point
                else:
                    made += 1

    def _history(self, received: dt.date) -> tuple[BuildingStatus, ...]:
        rng = self.ctx.rng
        names = ["Modtaget"]
        if rng.random() < 0.5:
            names.append("Afventer dokumentation")
        names.append("Under behandling")
        names.append("Tilladelse meddelt" if rng.random() < 0.85 else "Afslag")
        names.append("Afsluttet")
        dates = self.ctx.dates_after(received, len(names), (3, 60))
        keep = len(names) if rng.random() < 0.6 else rng.randint(1, len(names) - 1)
        return tuple(
            BuildingStatus(name, date)
            for name, date in list(zip(names, dates, strict=True))[:keep]
            if date <= NOW
        )

    def _documents(
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
        dates = sorted(self.ctx.date_between(history[0].date, history[-1].date) for _ in plan)
        docs = []
        for (title, type_, public), date in zip(plan, dates, strict=True):
            doc_id = self.ctx.next_doc_id()
            text = f"{title} vedrørende {kind.lower()}.\n\nSandkasse Kommune, Byggeri og Miljø."
            docs.append(BuildingDocument(doc_id, title, type_, date, public, text))
        return tuple(docs)

    def _journalise(
        self, prop, parcel, applicant, kle, title, sagsnummer, history, caseworker, deadline
    ) -> EsdhCase:
        """The ESDH's copy of a building case, referring to the permit system's number."""
        entries = []
        for status in history:
            name, comment = _BUILDING_TO_ESDH[status.name]
            tilstand, progress = STATUS[name]
            entries.append(StatusEntry(name, status.date, tilstand, progress, comment))
        subject = catalog.Subject(kle, catalog.BUILDING_KLE_TITLES[kle], ())
        return self.esdh.add_case(
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
