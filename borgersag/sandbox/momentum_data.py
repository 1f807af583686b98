"""The sandbox employment system's data: courses (forløb) and responsible caseworkers.

:func:`build_momentum` derives it from a :class:`~.data.Municipality` with its own
``random.Random(seed * 7907 + 11)``, so the main generator (and every record it makes)
is untouched, and the same municipality always gives the same courses.

Who gets a course: working-age citizens (18–67) with an ESDH case in KLE 15
(employment), plus a random share of the others. The demo identities are fixed:
``typical`` has one open sygedagpenge course, ``heavy`` a closed sygedagpenge course
followed by an open jobafklaring course, and ``nothing`` (and ``coowner_partner`` and
``hostile``) none. The demo caseworker is the primary responsible caseworker
("Koordinerende sagsbehandler") of ``typical`` and :data:`DEMO_CASEWORKER_CITIZENS` - 1
others, so "Mit skrivebord" has employment courses to show.
"""

from __future__ import annotations

import datetime as dt
import random
import uuid
from dataclasses import dataclass, field

from borgersag.sandbox import catalog
from borgersag.sandbox.data import NOW, Citizen, Municipality

__all__ = [
    "DEMO_CASEWORKER_CITIZENS",
    "TARGET_GROUPS",
    "Course",
    "EmploymentCitizen",
    "Meeting",
    "MomentumData",
    "Responsibility",
    "StatusChange",
    "TargetGroup",
    "actor_id",
    "build_momentum",
]

DEMO_CASEWORKER_CITIZENS = 6
RANDOM_SHARE = 0.12  # of working-age citizens without a KLE 15 case
_ACTOR_NAMESPACE = uuid.UUID("5d6f2f0e-8a57-4c1e-9a35-6d6f6d656e74")


@dataclass(frozen=True, slots=True)
class TargetGroup:
    """A målgruppe: code, name, the course title, the usual meeting and a fixed deadline."""

    code: str
    name: str
    course_title: str
    meeting: str
    end_reasons: tuple[str, ...]
    weight: int
    deadline: tuple[str, int] | None = None  # (title, days after start)


TARGET_GROUPS = {
    g.code: g
    for g in (
        TargetGroup(
            "DP",
            "Dagpengemodtager",
            "Dagpengeforløb",
            "Jobsamtale",
            ("I job", "Påbegyndt uddannelse", "Selvforsørgende"),
            25,
        ),
        TargetGroup(
            "KH",
            "Jobparat kontanthjælpsmodtager",
            "Kontanthjælpsforløb",
            "Jobsamtale",
            ("I job", "Selvforsørgende", "Flyttet fra kommunen"),
            15,
        ),
        TargetGroup(
            "AKH",
            "Aktivitetsparat kontanthjælpsmodtager",
            "Kontanthjælpsforløb",
            "Opfølgningssamtale",
            ("Overgået til ressourceforløb", "I job", "Selvforsørgende"),
            10,
        ),
        TargetGroup(
            "SDP",
            "Sygedagpengemodtager",
            "Sygedagpengeforløb",
            "Sygeopfølgningssamtale",
            ("Raskmeldt", "Overgået til jobafklaringsforløb", "I job"),
            25,
            ("Revurdering efter 22 uger", 154),
        ),
        TargetGroup(
            "JAF",
            "Jobafklaringsforløb",
            "Jobafklaringsforløb",
            "Møde i rehabiliteringsteamet",
            ("Raskmeldt", "Overgået til ressourceforløb", "Visiteret til fleksjob"),
            10,
        ),
        TargetGroup(
            "RF",
            "Ressourceforløb",
            "Ressourceforløb",
            "Koordinerende møde",
            ("Visiteret til fleksjob", "Overgået til førtidspension", "I job"),
            8,
        ),
        TargetGroup(
            "FJ",
            "Visiteret til fleksjob",
            "Fleksjobforløb",
            "Opfølgningssamtale",
            ("Ansat i fleksjob", "Overgået til førtidspension"),
            7,
        ),
    )
}

# Status names in the order a course passes them; "Afsluttet" ends it.
STATUSES = ("Oprettet", "Under afklaring", "Afklaret", "Visiteret", "Afsluttet")


@dataclass(frozen=True, slots=True)
class StatusChange:
    """One entry of a course's status history."""

    status: str
    date: dt.date


@dataclass(frozen=True, slots=True)
class Meeting:
    """A meeting on a course: held (in the past) or planned."""

    date: dt.date
    title: str
    held: bool


@dataclass(frozen=True, slots=True)
class Course:
    """An employment course (forløb) in one target group."""

    id: str
    citizen_id: str
    case_number: str
    target_group: TargetGroup
    start: dt.date
    end: dt.date | None
    history: tuple[StatusChange, ...]
    meetings: tuple[Meeting, ...]
    end_reason: str | None = None

    @property
    def status(self) -> str:
        """The current status name."""
        return self.history[-1].status

    @property
    def next_meeting(self) -> Meeting | None:
        """The planned meeting, if any."""
        return next((m for m in self.meetings if not m.held), None)

    @property
    def next_deadline(self) -> tuple[str, dt.date] | None:
        """The target group's fixed deadline when it still lies ahead of an open course."""
        if self.end is not None or self.target_group.deadline is None:
            return None
        title, days = self.target_group.deadline
        due = self.start + dt.timedelta(days=days)
        return (title, due) if due > NOW else None


@dataclass(frozen=True, slots=True)
class Responsibility:
    """That an employee is (or was) responsible for a citizen; ``primary`` is role 1."""

    id: str
    citizen_id: str
    medarbejdernummer: str
    name: str
    code: str
    primary: bool
    start: dt.date
    end: dt.date | None = None


DEFAULT_DUTY = "Beskæftigelsessagsbehandler"
RESPONSIBILITIES = {
    "Beskæftigelsessagsbehandler": "BESKAFTIGELSESSAGSBEHANDLER",
    "Koordinerende sagsbehandler": "KOORDINERENDE_SAGSBEHANDLER",
    "Ydelsesmedarbejder": "YDELSESMEDARBEJDER",
    "Virksomhedskonsulent": "VIRKSOMHEDSKONSULENT",
}


@dataclass(frozen=True, slots=True)
class EmploymentCitizen:
    """A citizen known to the employment system, with courses and responsible staff."""

    id: str
    cpr: str
    courses: tuple[Course, ...]
    caseworkers: tuple[Responsibility, ...]


@dataclass(frozen=True)
class MomentumData:
    """Everything the sandbox employment system serves, with lookups."""

    citizens: tuple[EmploymentCitizen, ...]
    _index: dict = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        index: dict = {"cpr": {}, "id": {}, "course": {}, "worker": {}}
        for person in self.citizens:
            index["cpr"][person.cpr] = person
            index["id"][person.id] = person
            for course in person.courses:
                index["course"][course.id] = (person, course)
            for duty in person.caseworkers:
                if duty.end is None:
                    index["worker"].setdefault(duty.medarbejdernummer, {})[person.id] = person
        object.__setattr__(self, "_index", index)

    def by_cpr(self, cpr: str) -> EmploymentCitizen | None:
        """The citizen with this ten-digit CPR number, if the system knows them."""
        return self._index["cpr"].get(cpr)

    def citizen(self, citizen_id: str) -> EmploymentCitizen | None:
        """A citizen by the system's id."""
        return self._index["id"].get(citizen_id)

    def course(self, course_id: str) -> tuple[EmploymentCitizen, Course] | None:
        """A course and its citizen by the course id."""
        return self._index["course"].get(course_id)

    def citizens_of(self, medarbejdernummer: str) -> list[EmploymentCitizen]:
        """Citizens the employee is currently responsible for (any role), in order."""
        return list(self._index["worker"].get(medarbejdernummer, {}).values())


def actor_id(medarbejdernummer: str) -> str:
    """The employee's stable actor id in the employment system."""
    return str(uuid.uuid5(_ACTOR_NAMESPACE, medarbejdernummer))


def build_momentum(municipality: Municipality) -> MomentumData:
    """The employment system's data for ``municipality`` (deterministic)."""
    return _Builder(municipality).build()


class _Builder:
    def __init__(self, m: Municipality):
        self.m = m
        self.rng = random.Random(m.seed * 7907 + 11)
        self.serial = 0
        self.jobcenter = [e for e in m.employees if e.unit == catalog.AREAS["15"].unit]
        self.ydelse = [e for e in m.employees if e.unit == catalog.AREAS["32"].unit]

    def build(self) -> MomentumData:
        m, rng, demo = self.m, self.rng, self.m.demo
        none = {demo.nothing, demo.coowner_partner, demo.hostile}
        employment_cases = {c.party_cpr for c in m.cases if c.kle.startswith("15.")}
        people: list[EmploymentCitizen] = []
        for person in m.citizens:
            draw = rng.random()
            if person.cpr in none:
                continue
            if person.cpr == demo.typical:
                plan = [("SDP", True)]
            elif person.cpr == demo.heavy:
                plan = [("SDP", False), ("JAF", True)]
            elif 18 <= person.age <= 67 and (person.cpr in employment_cases or draw < RANDOM_SHARE):
                plan = self._random_plan()
            else:
                continue
            people.append(self._citizen(person, plan))
        desk = self._demo_desk(people)
        return MomentumData(
            tuple(
                EmploymentCitizen(p.id, p.cpr, p.courses, self._caseworkers(p, p.id in desk))
                for p in people
            )
        )

    def _random_plan(self) -> list[tuple[str, bool]]:
        rng = self.rng
        groups = list(TARGET_GROUPS)
        weights = [TARGET_GROUPS[g].weight for g in groups]
        count = 2 if rng.random() < 0.25 else 1
        plan = [(rng.choices(groups, weights)[0], False) for _ in range(count)]
        plan[-1] = (plan[-1][0], rng.random() < 0.65)
        return plan

    def _citizen(self, person: Citizen, plan: list[tuple[str, bool]]) -> EmploymentCitizen:
        """Courses from the newest backwards, so each ends before the next starts."""
        rng = self.rng
        citizen_id = self._uuid()
        courses: list[Course] = []
        next_start = NOW
        for code, is_open in reversed(plan):
            if is_open:
                start, end = NOW - dt.timedelta(days=rng.randint(20, 500)), None
            else:
                end = next_start - dt.timedelta(days=rng.randint(5, 240))
                start = end - dt.timedelta(days=rng.randint(60, 400))
            courses.append(self._course(citizen_id, TARGET_GROUPS[code], start, end))
            next_start = start
        return EmploymentCitizen(citizen_id, person.cpr, tuple(reversed(courses)), ())

    def _course(
        self, citizen_id: str, group: TargetGroup, start: dt.date, end: dt.date | None
    ) -> Course:
        rng = self.rng
        self.serial += 1
        history = [StatusChange(STATUSES[0], start)]
        day = start
        for status, gap in zip(STATUSES[1:4], ((1, 5), (5, 20), (1, 10)), strict=True):
            day += dt.timedelta(days=rng.randint(*gap))
            if day > (end or NOW):
                break
            history.append(StatusChange(status, day))
        if end is not None:
            history.append(StatusChange("Afsluttet", end))
        meetings = []
        day = start + dt.timedelta(days=rng.randint(10, 21))
        while day <= (end or NOW):
            meetings.append(Meeting(day, group.meeting, True))
            day += dt.timedelta(days=rng.randint(28, 56))
        meetings = meetings[-8:]
        if end is None:
            meetings.append(
                Meeting(NOW + dt.timedelta(days=rng.randint(3, 35)), group.meeting, False)
            )
        return Course(
            id=self._uuid(),
            citizen_id=citizen_id,
            case_number=f"BF-{start.year}-{self.serial:06d}",
            target_group=group,
            start=start,
            end=end,
            history=tuple(history),
            meetings=tuple(meetings),
            end_reason=rng.choice(group.end_reasons) if end else None,
        )

    def _demo_desk(self, people: list[EmploymentCitizen]) -> set[str]:
        """Ids of the citizens whose primary caseworker is the demo caseworker."""
        typical = next(p for p in people if p.cpr == self.m.demo.typical)
        others = [
            p
            for p in people
            if p is not typical and p.cpr != self.m.demo.heavy and p.courses[-1].end is None
        ]
        chosen = self.rng.sample(others, min(DEMO_CASEWORKER_CITIZENS - 1, len(others)))
        return {typical.id, *(p.id for p in chosen)}

    def _caseworkers(self, person: EmploymentCitizen, desk: bool) -> tuple[Responsibility, ...]:
        rng, first = self.rng, person.courses[0].start
        demo = self.m.demo.caseworker
        jobcenter = [e for e in self.jobcenter if e.medarbejdernummer != demo]
        duties: list[Responsibility] = []
        since = first
        if rng.random() < 0.25 and (NOW - first).days > 60:  # an earlier one, now ended
            since = first + dt.timedelta(days=rng.randint(20, (NOW - first).days - 20))
            earlier = rng.choice(jobcenter)
            duties.append(self._duty(person, earlier.medarbejdernummer, True, first, since))
        if desk:
            duties.append(self._duty(person, demo, True, since, name="Koordinerende sagsbehandler"))
            helper = rng.choice(jobcenter).medarbejdernummer
            duties.append(self._duty(person, helper, False, since))
        else:
            duties.append(self._duty(person, rng.choice(jobcenter).medarbejdernummer, True, since))
        if self.ydelse and rng.random() < 0.4:
            worker = rng.choice(self.ydelse).medarbejdernummer
            duties.append(self._duty(person, worker, False, since, name="Ydelsesmedarbejder"))
        if rng.random() < 0.15:
            worker = rng.choice(jobcenter).medarbejdernummer
            duties.append(self._duty(person, worker, False, since, name="Virksomhedskonsulent"))
        return tuple(duties)

    def _duty(self, person, number, primary, start, end=None, *, name=DEFAULT_DUTY):
        """A :class:`Responsibility` of employee ``number`` for ``person``."""
        code = RESPONSIBILITIES[name]
        return Responsibility(self._uuid(), person.id, number, name, code, primary, start, end)

    def _uuid(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))
