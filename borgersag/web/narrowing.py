"""Narrowing a long list of cases: a search, filters, an order and pages, from GET.

A person with 532 cases cannot read them on one page, so the caseworker overview, Mit
skrivebord and Mine sager take the same few query parameters and show one page of the
cases that match. Plain Python over the cases a page already holds: narrowing asks no
system, and on the caseworker pages it is a view of the same kept lookup — it writes no
audit row of its own (the lookup's row lists every case the lookup put in front of the
user, whichever page they read).

The parameters never hold a key: the overview is addressed by its opaque token, and a
search text shaped like a CPR number is refused (:class:`BadNarrowing`) rather than
carried on into links. ``q`` searches titles and case numbers, every word must match.

===========  ============================================================
``q``        search text, at most :data:`MAX_QUERY` characters
``status``   ``aabne`` or ``afsluttede`` (empty: both)
``omraade``  one fagområde, as the overview names it
``system``   one source, by its name (caseworker pages only)
``sorter``   ``aendret``, ``frist`` or ``oprettet``, as the page offers (empty: the
             page's own order — fagområder on the overview, deadlines on the desk)
``side``     the page, from 1; past the last page shows the last
===========  ============================================================
"""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, fields, replace
from enum import StrEnum
from typing import Generic, Protocol, TypeVar

from flask_babel import gettext, ngettext
from flask_babel import lazy_gettext as _l

from borgersag.domain.keys import looks_like_cpr
from borgersag.domain.model import Case

__all__ = [
    "MAX_QUERY",
    "NO_AREA",
    "BadNarrowing",
    "Listed",
    "Narrowing",
    "Page",
    "Shown",
    "Sort",
    "State",
    "case_changed",
    "case_systems",
    "narrow",
    "narrowed",
    "parse_narrowing",
]

MAX_QUERY = 100
MAX_PAGE = 10_000
NO_AREA = "Øvrige sager"
"""The area of a case that names none (the same words :meth:`Overview.by_area` uses)."""


class Listed(Protocol):
    """What narrowing reads of a case: a caseworker's :class:`Case` and a citizen's
    :class:`~borgersag.people.citizen_view.CitizenCase` both have it."""

    @property
    def id(self) -> str: ...
    @property
    def title(self) -> str: ...
    @property
    def sagsnummer(self) -> str: ...
    @property
    def area(self) -> str | None: ...
    @property
    def opened(self) -> dt.date | None: ...
    @property
    def is_open(self) -> bool: ...


T = TypeVar("T", bound=Listed)


class Sort(StrEnum):
    """The orders a list can be read in; each page offers some of them."""

    CHANGED = "aendret"
    DEADLINE = "frist"
    OPENED = "oprettet"

    @property
    def label(self) -> str:
        """What the choice reads as."""
        return str(_SORT_LABELS[self])


_SORT_LABELS = {
    Sort.CHANGED: _l("Seneste ændring"),
    Sort.DEADLINE: _l("Frist"),
    Sort.OPENED: _l("Oprettet"),
}


class State(StrEnum):
    """Open or closed cases; the empty choice means both."""

    ALL = ""
    OPEN = "aabne"
    CLOSED = "afsluttede"


class BadNarrowing(ValueError):
    """A query parameter the page cannot use: ``field`` names the form field, ``message``
    says what is wrong and what to do."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


@dataclass(frozen=True, slots=True)
class Narrowing:
    """What the reader asked to see: the parsed, valid query parameters."""

    q: str = ""
    status: State = State.ALL
    omraade: str = ""
    system: str = ""
    sorter: Sort | None = None  # None: the page's own order
    side: int = 1

    @property
    def filtered(self) -> bool:
        """Whether a search or filter leaves cases out."""
        return bool(self.q or self.status or self.omraade or self.system)

    def query(self, **changes: object) -> dict[str, str | int]:
        """The query parameters for a link to this view (with ``changes``), leaving out
        those at their defaults so links stay short."""
        chosen = replace(self, **changes) if changes else self
        args: dict[str, str | int] = {}
        for f in fields(chosen):
            value = getattr(chosen, f.name)
            if value in (None, "", State.ALL) or (f.name == "side" and value == 1):
                continue
            args[f.name] = str(value) if isinstance(value, StrEnum) else value
        return args


_CPR_CANDIDATE = re.compile(r"(?<![0-9])[0-9]{6}[\s./-]?[0-9]{4}(?![0-9])")


def _has_cpr(text: str) -> bool:
    return any(looks_like_cpr(m.group()) for m in _CPR_CANDIDATE.finditer(text))


def parse_narrowing(
    args: Mapping[str, str],
    *,
    sorts: Sequence[Sort],
    areas: Iterable[str] = (),
    systems: Iterable[str] | None = None,
    states: bool = True,
) -> Narrowing:
    """The :class:`Narrowing` that ``args`` (a request's query) asks for.

    ``sorts`` are the orders the page offers, ``areas`` the fagområder there are and
    ``systems`` the source names a reader may filter by (``None``: no system filter on
    this page; the parameter is ignored), ``states`` whether it offers open or closed.
    Parameters a page does not know are ignored.
    Raises :class:`BadNarrowing` for a value the page cannot use.
    """
    q = " ".join(args.get("q", "").split())
    if len(q) > MAX_QUERY:
        raise BadNarrowing(
            "q",
            gettext("Søgeteksten må højst være %(count)s tegn. Gør den kortere.", count=MAX_QUERY),
        )
    if _has_cpr(q):
        raise BadNarrowing(
            "q",
            gettext(
                "Søgefeltet finder sager på titel og sagsnummer, ikke på CPR-nummer."
                " Skriv ikke et CPR-nummer her."
            ),
        )
    try:
        status = State(args.get("status", "") if states else "")
    except ValueError:
        raise BadNarrowing("status", gettext("Vælg åbne, afsluttede eller alle sager.")) from None
    omraade = args.get("omraade", "")
    if omraade and omraade not in set(areas):
        raise BadNarrowing(
            "omraade", gettext("Fagområdet findes ikke i oversigten. Vælg et fra listen.")
        )
    system = args.get("system", "") if systems is not None else ""
    if system and system not in set(systems or ()):
        raise BadNarrowing(
            "system", gettext("Systemet findes ikke i oversigten. Vælg et fra listen.")
        )
    sorter: Sort | None = None
    if args.get("sorter"):
        try:
            sorter = Sort(args["sorter"])
        except ValueError:
            sorter = None
        if sorter not in sorts:
            raise BadNarrowing("sorter", gettext("Vælg en af sorteringerne på listen."))
    raw_page = args.get("side", "1") or "1"
    if not (raw_page.isascii() and raw_page.isdigit()) or not 1 <= int(raw_page) <= MAX_PAGE:
        raise BadNarrowing("side", gettext("Sidetallet skal være et helt tal fra 1 og opefter."))
    return Narrowing(q, status, omraade, system, sorter, int(raw_page))


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    """One page of the cases that match: ``items``, and where they stand among them."""

    items: list[T]
    matching: int  # cases that match the search and filters
    total: int  # cases before narrowing
    number: int  # this page, from 1
    pages: int
    per_page: int
    areas: Mapping[str, int] = field(default_factory=dict)  # matching cases per area
    open_areas: Mapping[str, int] = field(default_factory=dict)  # … of them open

    @property
    def open_count(self) -> int:
        """How many of the matching cases are open."""
        return sum(self.open_areas.values())

    @property
    def first(self) -> int:
        """The position of the page's first case among the matching, from 1 (0: none)."""
        return (self.number - 1) * self.per_page + 1 if self.items else 0

    @property
    def last(self) -> int:
        """The position of the page's last case among the matching."""
        return self.first + len(self.items) - 1 if self.items else 0

    @property
    def summary(self) -> str:
        """``"Viser 1–25 af 532 sager"`` (and of how many before narrowing)."""
        n = self.matching
        if not self.items:
            text = gettext("Ingen sager passer på søgningen")
        elif self.first == 1 and self.last == n:
            text = ngettext("Viser %(num)d sag", "Viser %(num)d sager", n)
        else:
            text = ngettext(
                "Viser %(first)d–%(last)d af %(num)d sag",
                "Viser %(first)d–%(last)d af %(num)d sager",
                n,
                first=self.first,
                last=self.last,
            )
        if n != self.total:
            text += " " + gettext("(ud af %(total)d i alt)", total=self.total)
        return text

    def numbers(self, around: int = 2) -> list[int | None]:
        """The page numbers a pager shows: the first, the last and those near this one;
        ``None`` where some are left out."""
        wanted = {1, self.pages, *range(self.number - around, self.number + around + 1)}
        shown = sorted(n for n in wanted if 1 <= n <= self.pages)
        out: list[int | None] = []
        for n in shown:
            if out and n - (out[-1] or 0) > 1:
                out.append(None)
            out.append(n)
        return out


def case_changed(case: Case) -> dt.date | None:
    """The latest date something happened on a caseworker's case (not a deadline)."""
    dates = [step.date for step in case.progress_history]
    dates += [e.date for e in case.events if e.kind == "status"]
    dates += [d for d in (case.opened, case.decided, case.closed) if d]
    return max(dates, default=None)


def case_systems(case: Case) -> Iterable[str]:
    """The source names that hold a caseworker's case."""
    return (p.source for p in case.all_sources)


def _words(text: str) -> list[str]:
    return text.casefold().split()


def _newest(day: dt.date | None) -> int:
    return -(day or dt.date.min).toordinal()


def narrow(
    cases: Sequence[T],
    how: Narrowing,
    *,
    per_page: int,
    changed: Callable[[T], dt.date | None],
    systems: Callable[[T], Iterable[str]],
) -> Page[T]:
    """One page of ``cases`` narrowed as ``how`` says.

    ``cases`` come in the page's own order, which stays when ``how.sorter`` is ``None``.
    ``changed`` and ``systems`` read a case's latest change and its sources (caseworker
    cases and a citizen's differ). A page past the last shows the last.
    """
    words = _words(how.q)
    matching = _sorted(
        [case for case in cases if _matches(case, how, words, systems)], how.sorter, changed
    )
    pages = max(1, -(-len(matching) // per_page))
    number = min(how.side, pages)
    start = (number - 1) * per_page
    areas = Counter(case.area or NO_AREA for case in matching)
    return Page(
        matching[start : start + per_page],
        len(matching),
        len(cases),
        number,
        pages,
        per_page,
        dict(sorted(areas.items())),
        Counter(case.area or NO_AREA for case in matching if case.is_open),
    )


def _matches(
    case: T, how: Narrowing, words: list[str], systems: Callable[[T], Iterable[str]]
) -> bool:
    if how.status is State.OPEN and not case.is_open:
        return False
    if how.status is State.CLOSED and case.is_open:
        return False
    if how.omraade and (case.area or NO_AREA) != how.omraade:
        return False
    if how.system and how.system not in set(systems(case)):
        return False
    if words:
        text = f"{case.title} {case.sagsnummer}".casefold()
        return all(word in text for word in words)
    return True


def _deadline(case: Listed) -> dt.date | None:
    # a citizen's case carries no deadline field; it then sorts as one without
    return getattr(case, "deadline", None)


def _sorted(cases: list[T], sorter: Sort | None, changed: Callable[[T], dt.date | None]) -> list[T]:
    if sorter is None:
        return cases
    if sorter is Sort.CHANGED:
        return sorted(cases, key=lambda c: (_newest(changed(c)), c.id))
    if sorter is Sort.OPENED:
        return sorted(cases, key=lambda c: (_newest(c.opened), c.id))
    # Sort.DEADLINE: open cases first, by deadline, soonest first; those without after
    return sorted(
        cases,
        key=lambda c: (not c.is_open, _deadline(c) is None, _deadline(c) or dt.date.max, c.id),
    )


@dataclass(frozen=True, slots=True)
class Shown(Generic[T]):
    """What a page's narrowing form, summary and pager are drawn from
    (``templates/_narrowing.html``)."""

    how: Narrowing
    page: Page[T]
    error: BadNarrowing | None
    link: Callable[..., str]  # link(**changes): this view with ``changes``, e.g. side=2
    reset: str  # this view with nothing narrowed
    sorts: Sequence[Sort] = ()
    own_order: str = ""  # what the page's own order reads as ("Fagområde")
    areas: Sequence[tuple[str, int]] = ()  # (area, cases) to filter by
    systems: Sequence[tuple[str, str]] = ()  # (source name, title) to filter by
    states: bool = True  # offer open / closed
    citizen: bool = False  # a citizen's words: "Igangværende" for open
    hidden: Mapping[str, str] = field(default_factory=dict)  # form fields to carry on
    search_hint: str = "Titel eller sagsnummer"

    @property
    def status(self) -> int:
        """The HTTP status of the page: 400 when a parameter could not be used."""
        return 400 if self.error else 200

    @property
    def sort_label(self) -> str:
        """What the list is ordered by now."""
        return self.how.sorter.label if self.how.sorter else self.own_order


def narrowed(
    cases: Sequence[T],
    args: Mapping[str, str],
    url: Callable[..., str],
    *,
    per_page: int,
    changed: Callable[[T], dt.date | None],
    systems_of: Callable[[T], Iterable[str]],
    sorts: Sequence[Sort] = (),
    own_order: str = "",
    systems: Sequence[tuple[str, str]] | None = None,
    states: bool = True,
    citizen: bool = False,
    hidden: Mapping[str, str] | None = None,
    search_hint: str = "Titel eller sagsnummer",
) -> Shown[T]:
    """One page of ``cases`` as the query ``args`` ask, for a page whose links
    ``url(**query)`` builds; the other arguments are what the page offers (see
    :class:`Shown`). ``systems`` (name, title) enables the system filter. A parameter
    that cannot be used shows the cases un-narrowed with the error (:attr:`Shown.status`
    400)."""
    counts = Counter(case.area or NO_AREA for case in cases)
    carried = dict(hidden or {})
    try:
        how = parse_narrowing(
            args,
            sorts=sorts,
            areas=counts,
            systems=[name for name, _ in systems] if systems is not None else None,
            states=states,
        )
        error = None
    except BadNarrowing as exc:
        how, error = Narrowing(), exc
    page = narrow(cases, how, per_page=per_page, changed=changed, systems=systems_of)

    def link(**changes: object) -> str:
        return url(**carried, **how.query(**changes))

    return Shown(
        how,
        page,
        error,
        link,
        url(**carried),
        sorts,
        own_order,
        sorted(counts.items()),
        systems or (),
        states,
        citizen,
        carried,
        search_hint,
    )
