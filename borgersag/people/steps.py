"""The steps a citizen sees a case go through, fitting the kind of case.

Every source's progress is one of SF1470's four stages (:class:`Progress`). Most cases
move towards a decision, and the citizen reads the four as Modtaget, Under behandling,
Afgjort, Afsluttet (the ``afgoerelse`` model, the texts of
:func:`~borgersag.people.citizen_view.step_label`). A course of meetings — a jobcentre
*forløb* — has no decision to wait for: once it is "visiteret" or "aktiv" it runs, with
meetings still to come. Its ``forloeb`` model has three steps, Modtaget, I gang and
Afsluttet, and never says a decision is on its way. Which model a case gets is
``[case_kinds.<name>] steps`` (:mod:`borgersag.people.case_kinds`).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from flask_babel import LazyString, gettext
from flask_babel import lazy_gettext as _l

from borgersag.domain.model import Progress, ProgressStep
from borgersag.people.citizen_view import step_explanation, step_label

__all__ = ["Stage", "Steps", "citizen_steps"]


@dataclass(frozen=True, slots=True)
class _Step:
    label: str | LazyString  # lazy: translated when the steps are made, in a request
    explanation: str | LazyString
    progresses: tuple[Progress, ...]


_FORLOEB = (
    _Step(
        _l("Modtaget"),
        _l("Kommunen har modtaget sagen og er ved at planlægge dit forløb."),
        (Progress.OPSTAAET,),
    ),
    _Step(
        _l("I gang"),
        _l(
            "Dit forløb er i gang. Du får besked om møder og aftaler, efterhånden som de"
            " bliver lagt."
        ),
        (Progress.OPLYST, Progress.AFGJORT),
    ),
    _Step(
        _l("Afsluttet"),
        _l("Forløbet er afsluttet. Kommunen arbejder ikke længere på det."),
        (Progress.AFSLUTTET,),
    ),
)


def _model(name: str) -> tuple[_Step, ...]:
    if name == "forloeb":
        return _FORLOEB
    return tuple(_Step(step_label(p), step_explanation(p), (p,)) for p in Progress)


@dataclass(frozen=True, slots=True)
class Stage:
    """One step as the case page lists it."""

    number: int
    label: str
    explanation: str
    reached: bool
    current: bool
    date: dt.date | None


@dataclass(frozen=True, slots=True)
class Steps:
    """A case's steps under its model, and where it is."""

    model: str
    stages: tuple[Stage, ...]

    @property
    def current(self) -> Stage:
        """The step the case is at."""
        return next(s for s in self.stages if s.current)

    @property
    def text(self) -> str:
        """``"Trin 2 af 3: I gang"``."""
        return gettext(
            "Trin %(step)s af %(steps)s: %(label)s",
            step=self.current.number,
            steps=len(self.stages),
            label=self.current.label,
        )


def citizen_steps(
    progress: Progress, history: tuple[ProgressStep, ...], model: str = "afgoerelse"
) -> Steps:
    """The steps of a case at ``progress`` with ``history``, under ``model``: each
    reached or not, dated the first day the case reached it."""
    first: dict[Progress, dt.date] = {}
    for step in sorted(history, key=lambda s: s.date):
        first.setdefault(step.progress, step.date)
    stages = []
    for number, step in enumerate(_model(model), start=1):
        dates = [first[p] for p in step.progresses if p in first]
        stages.append(
            Stage(
                number=number,
                label=str(step.label),
                explanation=str(step.explanation),
                reached=min(p.step for p in step.progresses) <= progress.step,
                current=progress in step.progresses,
                date=min(dates, default=None),
            )
        )
    return Steps(model, tuple(stages))
