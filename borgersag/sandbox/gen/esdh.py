"""The ESDH (SBSYS): cases with KLE subjects, status histories, documents and their files."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections import Counter

from borgersag.sandbox import catalog
from borgersag.sandbox.data import NOW, Citizen, EsdhCase, EsdhDocument, StatusEntry
from borgersag.sandbox.gen.context import Context

__all__ = ["EARLIEST_CASE", "STATUS", "Esdh"]

EARLIEST_CASE = dt.date(2008, 1, 1)
STATUS = {name: (tilstand, progress) for name, tilstand, progress in catalog.ESDH_STATUSES}
"""SBSYS status name → (tilstand, progress)."""

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


class Esdh:
    """Draws ESDH cases (kept in :attr:`cases`), with case, document and file ids in series."""

    def __init__(self, ctx: Context):
        self.ctx = ctx
        self.cases: list[EsdhCase] = []
        self._next_case_id = 10001
        self._next_file_id = 900001
        self._serial: dict[int, int] = {}

    def busiest_caseworker(self) -> str:
        """The employee responsible for the most cases (the lowest number on a tie)."""
        counts: dict[str, int] = {}
        for case in self.cases:
            counts[case.caseworker] = counts.get(case.caseworker, 0) + 1
        return max(sorted(counts), key=lambda nr: counts[nr])

    def quietest_caseworker(self, unit: str) -> str:
        """The unit's employee with the fewest cases so far (the lowest number on a tie)."""
        counts = Counter(c.caseworker for c in self.cases)
        staff = [e.medarbejdernummer for e in self.ctx.employees if e.unit == unit]
        return min(staff, key=lambda nr: (counts[nr], nr))

    def case(self, person: Citizen, group: str, *, earliest: dt.date | None = None) -> None:
        """A drawn case in the KLE main group ``group`` with ``person`` as primary party."""
        rng = self.ctx.rng
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
        opened = self.ctx.date_between(start, NOW - dt.timedelta(days=2))
        history = self._history(opened)
        closed = history[-1].progress == "afsluttet"
        deadline = None
        if not closed and rng.random() < 0.6:
            deadline = history[-1].date + dt.timedelta(days=rng.randint(14, 90))
        caseworker = self.ctx.caseworker(area.unit)
        self.add_case(
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

    def _history(self, opened: dt.date) -> tuple[StatusEntry, ...]:
        rng = self.ctx.rng
        names = ["Opstået", "Opklaring", "Afventer", "Afgjort", "Afsluttet"]
        if rng.random() < 0.3:
            names.append("Arkiveret")
        dates = self.ctx.dates_after(opened, len(names), (2, 75))
        old = (NOW - opened).days > 365
        keep = len(names) if rng.random() < (0.85 if old else 0.35) else rng.randint(1, 4)
        entries = []
        for name, date in list(zip(names, dates, strict=True))[:keep]:
            if date > NOW:
                break
            tilstand, progress = STATUS[name]
            comments = catalog.ESDH_STATUS_COMMENTS.get(name)
            comment = rng.choice(comments) if comments else None
            entries.append(StatusEntry(name, date, tilstand, progress, comment))
        return tuple(entries)

    def add_case(
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
        rng = self.ctx.rng
        opened = history[0].date
        year = opened.year
        self._serial[year] = self._serial.get(year, 0) + 1
        nummer = f"{subject.kle}-{facet}-{self._serial[year]}-{year % 100:02d}"
        created_by = caseworker if rng.random() < 0.7 else self.ctx.caseworker(area.unit)
        case = EsdhCase(
            id=self._next_case_id,
            identity=self.ctx.uuid(),
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
            else self._documents(title, history, sensitivity, caseworker, bool(parcels)),
            external_refs=external_refs,
            parcels=parcels,
            protected=sensitivity == 3 or person.protected,
        )
        self._next_case_id += 1
        self.cases.append(case)
        return case

    def journalised(self, case: EsdhCase, originals: dict[str, dt.date]) -> EsdhCase:
        """``case`` with the documents it journalised from another system dated as there:
        a journalised copy keeps the original's date, so the two systems agree on it."""
        documents = tuple(
            dataclasses.replace(d, date=originals[d.title]) if d.title in originals else d
            for d in case.documents
        )
        updated = dataclasses.replace(case, documents=documents)
        self.cases[self.cases.index(case)] = updated
        return updated

    def _documents(
        self, title, history, sensitivity, caseworker, building
    ) -> tuple[EsdhDocument, ...]:
        rng = self.ctx.rng
        first, last = history[0].date, history[-1].date
        first_doc = "Ansøgning om byggetilladelse" if building else "Ansøgning"
        plan = [(first_doc, "Brev indgående", "Modtaget", True)]
        extras = _BUILDING_DOCUMENTS if building else _CASE_DOCUMENTS
        decided = any(s.progress in ("afgjort", "afsluttet") for s in history)
        draft = not decided and rng.random() < 0.4
        wanted = rng.randint(2, 6) - 1 - (decided or draft)
        plan.extend(rng.sample(extras, min(max(wanted, 0), len(extras))))
        dates = sorted(self.ctx.date_between(first, last) for _ in plan)
        if decided:
            plan.append(("Afgørelse", "Brev udgående", "Endeligt", True))
            dates.append(next(s.date for s in history if s.progress in ("afgjort", "afsluttet")))
        elif draft:
            plan.append(("Udkast til afgørelse", "Brev udgående", "Under udarbejdelse", True))
            dates.append(last)
        return tuple(
            self.document(
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

    def document(
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
        doc_id = self.ctx.next_doc_id()
        self._next_file_id += 1
        content = (
            f"{content_title or title}\n\nSag: {case_title}\nDato: {date.isoformat()}\n\n"
            "Dokumentet er genereret af Sandkasse Kommunes testdata."
        )
        return EsdhDocument(
            id=doc_id,
            identity=self.ctx.uuid(),
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
