"""The Danish wording of a source's state and of ages: the one place that words them.

The engine records facts in each :class:`~borgersag.domain.model.SourceResult` — the
status, ``age_seconds`` (how old a cached or stale answer is), latency, counts, the keys
searched — and at most a technical ``message`` (the source's own error, the limit that
was passed, the key kinds it searches on). This module turns those facts into what
people read: a short label for the badge (:func:`status_label`), one sentence on what
the state means for the overview (:func:`source_explanation`), and ages
(:func:`age_text`). The overview and desk pages, the operations page and the JSON API all
take their texts from here, so a state is worded once and the same way everywhere.

A source that failed is never worded as "no cases": ``empty`` is a source that answered
with nothing; ``failed``, ``timeout`` and ``forbidden`` say the cases from there are
missing (or some of them, when other keys were answered), and so does ``circuit_open``
(a source paused by its circuit breaker after repeated failures). A source that answered
but left out records it could not read, or whose answer may be cut off at its limit, says
so (:func:`partial_text`): "1 sag kunne ikke læses", "Der kan være flere sager end de 2000
viste".
"""

from __future__ import annotations

from typing import Any

from borgersag.domain.model import SourceResult, SourceStatus

__all__ = [
    "age_text",
    "health_still_running",
    "health_timed_out",
    "partial_text",
    "paused",
    "seconds_text",
    "source_explanation",
    "source_texts",
    "status_label",
]

_LABELS = {
    SourceStatus.OK: "Svarede",
    SourceStatus.EMPTY: "Ingen sager",
    SourceStatus.FAILED: "Kunne ikke svare",
    SourceStatus.TIMEOUT: "Svarede ikke i tide",
    SourceStatus.CIRCUIT_OPEN: "Sat på pause",
    SourceStatus.STALE: "Gemt svar",
    SourceStatus.NOT_APPLICABLE: "Ikke spurgt",
    SourceStatus.FORBIDDEN: "Adgang nægtet",
    SourceStatus.DISABLED: "Slået fra",
}

_MISSING = "Sagerne herfra mangler i oversigten."
_REGISTER_MISSING = "Personens oplysninger herfra mangler; navn og adresse kommer kun fra sagerne."
_RELATIONS_MISSING = "Sager på de ejendomme eller nøgler, kilden ville have fundet, kan mangle."
_PARTLY_MISSING = "Svar for nogle nøgler er med, men sagerne for de andre mangler i oversigten."
_UNANSWERED = {
    SourceStatus.FAILED: "",
    SourceStatus.TIMEOUT: "",
    SourceStatus.CIRCUIT_OPEN: (
        "Midlertidigt sat på pause efter gentagne fejl; der er ikke spurgt. "
    ),
    SourceStatus.FORBIDDEN: "Kilden afviste portalens adgang. ",
}


def status_label(status: SourceStatus) -> str:
    """The short label of a state, for a badge or a list: ``"Svarede ikke i tide"``."""
    return _LABELS[status]


def source_explanation(result: SourceResult, restricted: bool = False) -> str:
    """What a source's state means for the overview, in a sentence or two.

    ``restricted``: cases were hidden by the viewer's data restrictions, so "no cases"
    means none the viewer may see (which source held the hidden ones is not told).
    """
    status = result.status
    if status in _UNANSWERED:
        if result.person_register:
            return _UNANSWERED[status] + _REGISTER_MISSING
        if result.relation_source and not result.relation_count:
            return _UNANSWERED[status] + _RELATIONS_MISSING
        partly = result.case_count or result.relation_count
        return _UNANSWERED[status] + (_PARTLY_MISSING if partly else _MISSING)
    if status is SourceStatus.STALE:
        age = age_text(result.age_seconds)
        shown = f"viser svaret fra {age}" if age else "viser et gemt svar"
        return f"Kilden svarede ikke; {shown}. Nyere ændringer kan mangle."
    if status is SourceStatus.NOT_APPLICABLE:
        return "Der er ikke søgt her: kilden søger ikke på denne nøgletype."
    if status is SourceStatus.DISABLED:
        return "Slået fra af en administrator; der er ikke søgt her."
    if status is SourceStatus.EMPTY:
        text = (
            "Kilden svarede; der er ingen sager herfra, som du har adgang til."
            if restricted
            else "Kilden svarede, og den har ingen sager på nøglen."
        )
    elif result.person_count and not result.case_count:
        text = "Kilden kender personen; dens oplysninger står øverst på siden."
    elif result.relation_count and not result.case_count:
        count = result.relation_count
        text = (
            f"Fandt {count} relateret nøgle." if count == 1 else f"Fandt {count} relaterede nøgler."
        )
    else:
        text = "Sagerne herfra er med i oversigten."
    if result.partial:
        text += " " + partial_text(result)
    if result.age_seconds is not None:  # answered from the cache: say it was not asked now
        age = age_text(result.age_seconds)
        text += f" Svaret blev hentet {age} og er brugt igen."
    return text


def partial_text(result: SourceResult) -> str:
    """What is missing from a source that answered: records it could not read, and
    whether there may be more than it sent; empty when nothing is missing."""
    parts = []
    what = ("post", "poster") if result.relation_count and not result.case_count else None
    if result.unreadable:
        one, many = what or ("sag", "sager")
        n = result.unreadable
        parts.append(
            f"{n} {one if n == 1 else many} kunne ikke læses og mangler i oversigten"
            " – det er meldt i portalens log."
        )
    if result.truncated:
        one, many = what or ("sag", "sager")
        sent = result.at_least or result.case_count or result.relation_count
        if not sent:
            parts.append(f"Der kan være flere {many}, end kilden sendte.")
        elif result.unreadable:  # fewer were shown than were sent
            parts.append(
                f"Der kan være flere {many} end de {sent}, kilden sendte – den sender"
                f" højst {sent} ad gangen."
            )
        else:
            parts.append(
                f"Der kan være flere {many} end de {sent} viste – kilden sender højst"
                f" {sent} ad gangen."
            )
    return " ".join(parts)


def source_texts(result: SourceResult, restricted: bool = False) -> dict[str, Any]:
    """``label`` and ``explanation`` of one source, for the JSON API."""
    return {
        "label": status_label(result.status),
        "explanation": source_explanation(result, restricted),
        "missing": partial_text(result),
    }


def age_text(seconds: float | None) -> str:
    """How long ago: ``"for et øjeblik siden"``, ``"for 30 sekunder siden"``,
    ``"for 14 minutter siden"``, ``"for 2 timer siden"``; empty when unknown."""
    if seconds is None:
        return ""
    seconds = max(0.0, seconds)
    if seconds < 2:
        return "for et øjeblik siden"
    if seconds < 90:
        return f"for {int(seconds)} sekunder siden"
    if seconds < 5400:
        minutes = round(seconds / 60)
        return f"for {minutes} minut{'ter' if minutes != 1 else ''} siden"
    hours = round(seconds / 3600)
    return f"for {hours} time{'r' if hours != 1 else ''} siden"


def seconds_text(seconds: float) -> str:
    """``2.5`` → ``"2,5 s"``: a limit in seconds, with the Danish decimal comma."""
    return f"{seconds:g} s".replace(".", ",")


def health_timed_out(deadline: float) -> str:
    """The operations page: a health check did not answer within the page's deadline."""
    return f"Svarede ikke inden for {seconds_text(deadline)}."


def paused() -> str:
    """The operations page: the source's circuit breaker is open now."""
    return "Midlertidigt sat på pause efter gentagne fejl; prøves igen om lidt."


def health_still_running() -> str:
    """The operations page: the check from an earlier view has not finished yet."""
    return "Svarer ikke: sundhedstjekket fra en tidligere visning kører stadig."
