"""Whether an overview is all there, in the words its reader needs: the one place that says so.

An overview is whole and fresh only when every source that should have answered did,
just now, with everything. Any other source — switched off, paused by its circuit
breaker, failed, timed out, refused, answered from an old copy, cut off at its limit or
with records that could not be read — is one of the overview's
:attr:`~borgersag.domain.model.Overview.shortfalls`, and puts a page-level
:class:`Notice` above the cases: one line per source naming the system and what it
means for the reader ("Sagerne fra SBSYS mangler: systemet er slået fra. Der kan være
flere sager end dem, du ser."), and what to do.

The caseworker overview, Mit skrivebord, the status fragment the page streams, the JSON
API (:func:`notice_to_json`) and the citizen's Mine sager all take their notice from
here. A citizen's notice (:func:`citizen_notice`) names no system and no technical
state; it says that cases may be missing and why in plain words.

Rows are marked too (:class:`RowMarks`): a case that came from an old copy, or from an
answer that was cut off at the source's limit, carries a short mark beside its title.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from flask_babel import gettext
from flask_babel import lazy_gettext as _l

from borgersag.domain.model import Case, Overview, SourceResult, SourceStatus
from borgersag.web.present import join_da
from borgersag.web.wording import age_text, partial_text

__all__ = [
    "CITIZEN_STALE_MARK",
    "Notice",
    "NoticeLine",
    "RowMarks",
    "announce_incomplete",
    "caseworker_notice",
    "citizen_notice",
    "notice_to_json",
]

OVERVIEW_HEADING = "Oversigten er ikke komplet"
CITIZEN_HEADING = _l("Nogle af dine sager kan mangle lige nu")
CITIZEN_STALE_MARK = _l("Vist fra et tidligere opslag")
STALE_MARK = "Gemt svar"
TRUNCATED_MARK = "Afkortet svar"

_WHY_MISSING = {
    SourceStatus.DISABLED: "systemet er slået fra",
    SourceStatus.CIRCUIT_OPEN: "systemet er sat på pause efter gentagne fejl",
    SourceStatus.FAILED: "systemet kunne ikke svare",
    SourceStatus.TIMEOUT: "systemet svarede ikke i tide",
    SourceStatus.FORBIDDEN: "systemet afviste portalens adgang",
}
_MAY_BE_MORE = "Der kan være flere sager end dem, du ser."
_RETRY = "Prøv at lave opslaget igen om lidt."
_ADVICE = {
    SourceStatus.DISABLED: "Et system, der er slået fra, tændes igen af en administrator.",
    SourceStatus.FORBIDDEN: "Kontakt din systemadministrator om adgangen.",
    SourceStatus.CIRCUIT_OPEN: _RETRY,
    SourceStatus.FAILED: _RETRY,
    SourceStatus.TIMEOUT: _RETRY,
    SourceStatus.STALE: _RETRY,
}


@dataclass(frozen=True, slots=True)
class NoticeLine:
    """What one source's shortfall means: ``text`` for the page, ``short`` for the
    sentence a screen reader hears when the overview is done."""

    source: str
    title: str
    status: SourceStatus
    text: str
    short: str


@dataclass(frozen=True, slots=True)
class Notice:
    """The page-level notice: a heading, one line per source (none for a citizen's
    notice, which names no systems: see ``texts``), and what to do."""

    heading: str
    lines: tuple[NoticeLine, ...]
    advice: str
    texts: tuple[str, ...] = ()

    @property
    def paragraphs(self) -> tuple[str, ...]:
        """The notice's sentences in order, as the page shows them."""
        return self.texts or tuple(line.text for line in self.lines)


def caseworker_notice(overview: Overview, heading: str = OVERVIEW_HEADING) -> Notice | None:
    """The notice for a caseworker's page, naming every system that did not answer
    whole and fresh; ``None`` when the overview is complete and fresh."""
    lines = tuple(_line(r) for r in overview.shortfalls)
    if not lines:
        return None
    advice = " ".join(dict.fromkeys(_ADVICE[r.status] for r in lines if r.status in _ADVICE))
    return Notice(heading, lines, advice)


def citizen_notice(shortfalls: Iterable[SourceResult]) -> Notice | None:
    """The notice for a citizen: what may be missing, in plain words and without the
    names of the municipality's systems; ``None`` when nothing is."""
    # a citizen's own cases do not come from a person register: its silence costs none
    results = [r for r in shortfalls if not r.person_register]
    if not results:
        return None
    texts = []
    if any(not r.status.answered for r in results):
        texts.append(
            gettext(
                "Vi kunne ikke hente sager fra alle kommunens systemer lige nu. Det betyder"
                " ikke, at du ikke har sager der."
            )
        )
    if any(r.status is SourceStatus.STALE for r in results):
        texts.append(
            gettext(
                "Nogle sager vises, som de så ud ved et tidligere opslag, fordi et af"
                " kommunens systemer ikke svarede. De er mærket »%(mark)s«, og"
                " der kan være sket nyt i dem siden.",
                mark=str(CITIZEN_STALE_MARK),
            )
        )
    if any(r.status.answered and r.partial for r in results):
        texts.append(
            gettext(
                "Vi kunne ikke vise alle dine sager fra et af kommunens systemer. Nogle sager"
                " kan mangle – det betyder ikke, at de ikke findes."
            )
        )
    return Notice(
        str(CITIZEN_HEADING),
        (),
        gettext("Prøv igen senere. Kontakt kommunen, hvis du savner en sag."),
        tuple(texts),
    )


def announce_incomplete(notice: Notice) -> str:
    """The sentence a screen reader hears when an incomplete overview is done."""
    return (
        f"Oversigten er færdig, men ikke komplet: {join_da(line.short for line in notice.lines)}."
    )


def notice_to_json(notice: Notice | None) -> dict[str, Any] | None:
    """The notice for the JSON API: heading, one item per source, advice."""
    if notice is None:
        return None
    return {
        "heading": notice.heading,
        "items": [
            {
                "source": line.source,
                "title": line.title,
                "status": line.status.value,
                "text": line.text,
            }
            for line in notice.lines
        ],
        "advice": notice.advice,
    }


class RowMarks:
    """The short mark of a case row that did not come fresh and whole: ``Gemt svar``
    (from an old copy) or ``Afkortet svar`` (from an answer cut off at the source's
    limit); built once per page, asked once per row."""

    def __init__(self, overview: Overview, *, stale: str = STALE_MARK, cut: bool = True):
        self._stale = stale
        self._cut = (
            {r.source for r in overview.sources if r.status.answered and r.truncated}
            if cut
            else set()
        )

    def __call__(self, case: Any) -> str | None:
        """The mark of ``case`` (a :class:`Case`, or a citizen's case with ``stale``)."""
        if isinstance(case, Case):
            if any(p.stale for p in case.all_sources):
                return self._stale
            if any(p.source in self._cut for p in case.all_sources):
                return TRUNCATED_MARK
            return None
        return self._stale if getattr(case, "stale", False) else None


def _line(result: SourceResult) -> NoticeLine:
    title = result.title or result.source
    status = result.status
    if result.person_register and status in (*_WHY_MISSING, SourceStatus.STALE):
        return NoticeLine(result.source, title, status, _register_text(result), f"{title} mangler")
    if result.relation_source and status in _WHY_MISSING:
        text = (
            f"Oplysningerne fra {title} mangler: {_WHY_MISSING[status]}. Sager på de"
            " ejendomme eller nøgler, den ville have fundet, er ikke søgt og kan mangle."
        )
        return NoticeLine(result.source, title, status, text, f"{title} mangler")
    if status in _WHY_MISSING:
        why = _WHY_MISSING[status]
        some = result.case_count or result.relation_count
        text = f"{'Nogle af sagerne' if some else 'Sagerne'} fra {title} mangler: {why}."
        return NoticeLine(
            result.source, title, status, f"{text} {_MAY_BE_MORE}", f"{title} mangler"
        )
    if status is SourceStatus.STALE:
        age = age_text(result.age_seconds)
        fetched = f", hentet {age}," if age else ""
        text = (
            f"Sagerne fra {title} vises fra et gemt svar{fetched} fordi systemet ikke svarede"
            f" nu. De er mærket »{STALE_MARK}«. Nyere ændringer og nye sager kan mangle."
        )
        if result.partial:
            text += " " + partial_text(result)
        return NoticeLine(result.source, title, status, text, f"{title} er et gemt svar")
    text = f"{title}: {partial_text(result)}"
    if result.truncated:
        text += f" Sagerne herfra er mærket »{TRUNCATED_MARK}«."
    return NoticeLine(result.source, title, status, text, f"{title} er ufuldstændigt")


def _register_text(result: SourceResult) -> str:
    """A person register that did not answer fresh: who the person is may be incomplete,
    and above all a protection may not be known."""
    title = result.title or result.source
    if result.status is SourceStatus.STALE:
        age = age_text(result.age_seconds)
        fetched = f", hentet {age}," if age else ""
        return (
            f"Personoplysningerne fra {title} er fra et gemt svar{fetched} fordi systemet ikke"
            " svarede nu. En ny adresse eller en ny navne- og adressebeskyttelse kan mangle."
        )
    return (
        f"Personoplysningerne fra {title} mangler: {_WHY_MISSING[result.status]}. Navn og"
        " adresse står, som sagerne oplyser dem, og en navne- og adressebeskyttelse kan"
        " være ukendt."
    )
