"""The lookups every channel calls: look up → restrict → audit → keep, in one place.

Plain Python, no Flask: each use case gets a :class:`~borgersag.lookup.ports.Context`
(portal, audit recorder, overview store, quota, user, settings) and returns plain values
or raises :class:`~borgersag.lookup.channels.Rejected` (input or a key the person may
not look up), :class:`~borgersag.lookup.ports.QuotaExceeded` (too many fan-outs) or
whatever the recorder raises when the audit log is unavailable. The views only turn
HTTP into arguments and these results into pages or JSON.

Every fan-out — a question to every source at once — goes through :func:`fan_out`,
which charges the user's quota first. So a new page that asks every source is rate
limited by construction; ``tests/web/test_limits.py`` proves it for every route the app has.

Order matters and is the same everywhere: the key is checked against the channel's
policy (:data:`~borgersag.lookup.channels.CHANNELS`), the quota charged, the sources
asked, the answer restricted to what the person may see, the access recorded (and
committed) and only then kept or returned. Case details and documents are in
:mod:`borgersag.lookup.cases`.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace

from borgersag.audit import source_outcomes
from borgersag.domain.keys import Key, KeyKind
from borgersag.domain.model import Case, Overview
from borgersag.lookup.channels import Channel, Rejected, authorise, own_key, parse
from borgersag.lookup.engine import LookupProgress
from borgersag.lookup.ports import (
    FAILED,
    PENDING,
    Context,
    LookupSettings,
    StoredOverview,
)
from borgersag.people.citizen_view import CitizenCase, CitizenOverview, citizen_view
from borgersag.people.restrictions import restrict

__all__ = [
    "DESK_PURPOSE",
    "PURPOSE_ERROR",
    "Desk",
    "Kept",
    "MyCases",
    "check_purpose",
    "desk",
    "fan_out",
    "find_case",
    "look_up",
    "my_cases",
    "persons_shown",
    "record_case_view",
    "record_lookup",
    "start_look_up",
    "stored_overview",
]

log = logging.getLogger(__name__)

PURPOSE_ERROR = "Vælg formålet med opslaget."
STARTED_DETAIL = "opslag startet"  # the audit row written before a pending lookup is shown
PARTIAL_DETAIL = "delsvar"  # a row for each update of a pending lookup that shows new cases
ABANDONED_AFTER = 60.0  # seconds past the deadline a pending lookup is given up (a lost worker)
DESK_PURPOSE = "Eget skrivebord"
NO_EMPLOYEE_NUMBER = (
    "Dit login har intet gyldigt medarbejdernummer",
    "Mit skrivebord finder dine sager ud fra dit medarbejdernummer, og dit login"
    " indeholdt ikke et, vi kan bruge. Kontakt din systemadministrator.",
)


@dataclass(frozen=True, slots=True)
class Kept:
    """A lookup's result as kept: its token and what is stored under it."""

    token: str
    entry: StoredOverview


def fan_out(ctx: Context, key: Key) -> Overview:
    """Ask every source about ``key`` — the one way a use case does — charging the
    user's quota first (:class:`~borgersag.lookup.ports.QuotaExceeded`: nobody asked)."""
    return charged_fan_out(ctx, key)(None)


def charged_fan_out(
    ctx: Context, key: Key
) -> Callable[[Callable[[LookupProgress], None] | None], Overview]:
    """:func:`fan_out` in two steps: the quota is charged now, and the returned function
    asks the sources (with a progress listener, or ``None``) when called, in any thread."""
    ctx.quota.charge(ctx.user)

    def ask(on_progress: Callable[[LookupProgress], None] | None) -> Overview:
        if on_progress is None:  # a portal (or a test's) that predates progress works on
            return ctx.portal.lookup(key)
        return ctx.portal.lookup(key, on_progress)

    return ask


def check_purpose(settings: LookupSettings, raw: object) -> str | None:
    """The purpose (formål) a lookup names, or ``None`` when it names none and none is
    required; :class:`Rejected` (field ``purpose``, :data:`PURPOSE_ERROR`) when a required
    one is missing or the value is not one of the configured purposes."""
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        if settings.purpose_required:
            raise Rejected({"purpose": PURPOSE_ERROR})
        return None
    if not isinstance(raw, str) or raw.strip() not in settings.purposes:
        raise Rejected({"purpose": PURPOSE_ERROR})
    return raw.strip()


def look_up(ctx: Context, channel: Channel, kind: object, value: object, purpose: object) -> Kept:
    """A caseworker's lookup through the form or the API: checked, asked, restricted,
    recorded and kept.

    Raises :class:`Rejected`: 400 with every field at fault (kind or value, and
    purpose), or 403 when the key is not one this person may look up (a colleague's
    medarbejdernummer without the permission) — recorded as refused.
    """
    key, chosen = _checked(ctx, channel, kind, value, purpose)
    return keep(ctx, fan_out(ctx, key), chosen)


def _checked(
    ctx: Context, channel: Channel, kind: object, value: object, purpose: object
) -> tuple[Key, str | None]:
    """The key and purpose of a lookup, checked and authorised (see :func:`look_up`)."""
    errors: dict[str | None, str] = {}
    key = chosen = None
    try:
        key = parse(channel, kind, value)
    except Rejected as exc:
        errors.update(exc.errors)
    try:
        chosen = check_purpose(ctx.settings, purpose)
    except Rejected as exc:
        errors.update(exc.errors)
    if errors or key is None:
        raise Rejected(errors)
    try:
        key = authorise(channel, ctx.user, key)
    except Rejected:
        ctx.record(
            "refused",
            user=ctx.user,
            subject=key,
            detail=f"opslag af {key.kind.label.lower()} afvist ({channel.value})",
        )
        raise
    return key, chosen


def keep(ctx: Context, overview: Overview, purpose: str | None, token: str | None = None) -> Kept:
    """Keep what the user may see of ``overview``: restrict, record (committed), store
    (under ``token``: the final state of a pending lookup).

    The one way a lookup's result is kept: hidden cases are dropped here, before anything
    can link to them, and nothing is stored when the audit record fails.
    """
    view = restrict(overview, ctx.user)
    found = view.overview
    record_lookup(ctx, found.subject, found, found.cases, purpose, persons=persons_shown(found))
    entry = StoredOverview(found, view.hidden_count, purpose)
    return Kept(ctx.overviews.put_entry(ctx.user.id, entry, token=token), entry)


def start_look_up(
    ctx: Context,
    channel: Channel,
    kind: object,
    value: object,
    purpose: object,
    *,
    in_background: Callable[[Callable[[], None]], None],
) -> str:
    """:func:`look_up` that returns at once: the token of a *pending* overview which
    fills in as the sources answer, the fan-out running in ``in_background``.

    Checked, authorised and charged as :func:`look_up` (the same refusals, raised here),
    then recorded (committed) as started before the token exists. Each update is
    restricted like a final overview, and one that shows cases not shown before is
    recorded (committed, detail :data:`PARTIAL_DETAIL`) before it is kept; the final
    overview is kept by :func:`keep`, replacing it. If an update cannot be recorded the
    page stays as it was; if the end cannot, the lookup is kept as failed, showing nothing.
    """
    key, chosen = _checked(ctx, channel, kind, value, purpose)
    ask = charged_fan_out(ctx, key)
    ctx.record("lookup", user=ctx.user, subject=key, purpose=chosen, detail=STARTED_DETAIL)
    started = time.time()
    nothing = Overview(subject=key, cases=(), sources=(), generated_at=dt.datetime.now(dt.UTC))
    pending = StoredOverview(nothing, 0, chosen, PENDING, started=started)
    token = ctx.overviews.put_entry(ctx.user.id, pending)
    shown: set[str] = set()

    def update(progress: LookupProgress) -> None:
        view = restrict(progress.overview, ctx.user)
        found = view.overview
        if not {c.id for c in found.cases} <= shown:
            record_lookup(
                ctx,
                key,
                found,
                found.cases,
                chosen,
                detail=PARTIAL_DETAIL,
                persons=persons_shown(found),
            )
            shown.update(c.id for c in found.cases)
        entry = StoredOverview(found, view.hidden_count, chosen, PENDING, progress.waiting, started)
        ctx.overviews.put_entry(ctx.user.id, entry, token=token)

    def run() -> None:
        try:
            keep(ctx, ask(update), chosen, token)
        except Exception:
            log.exception("a pending lookup could not be completed; it is kept as failed")
            failed = StoredOverview(nothing, 0, chosen, FAILED, started=started)
            ctx.overviews.put_entry(ctx.user.id, failed, token=token)

    in_background(run)
    return token


def stored_overview(ctx: Context, token: str) -> StoredOverview | None:
    """The user's overview under ``token``, or ``None`` (unknown, expired, another's).

    The rules are applied again with the user's current rights, so a token made under
    wider rights (an earlier login) shows no more than the user may see now.
    """
    entry = ctx.overviews.entry(token, ctx.user.id)
    if entry is None:
        return None
    view = restrict(entry.overview, ctx.user)
    state = entry.state
    abandoned = ctx.settings.page_deadline_seconds + ABANDONED_AFTER
    if state == PENDING and time.time() - (entry.started or 0.0) > abandoned:
        state = FAILED  # the worker asking the sources is gone (restarted, say)
    if state == FAILED:
        return StoredOverview(replace(view.overview, cases=()), 0, entry.purpose, FAILED)
    return StoredOverview(
        view.overview,
        entry.hidden_count + view.hidden_count,
        entry.purpose,
        state,
        entry.waiting if state == PENDING else (),
        entry.started,
    )


def find_case(overview: Overview, case_id: str) -> Case | None:
    """The case in ``overview`` with ``case_id`` (its own id or a joined source's id)."""
    for case in overview.cases:
        if case.id == case_id or case_id in case.also_known_as:
            return case
    return None


@dataclass(frozen=True, slots=True)
class Desk:
    """ "Mit skrivebord": the kept lookup and its cases in the order the page shows them."""

    kept: Kept
    open_cases: tuple[Case, ...]  # with a deadline first (soonest first), then newest
    closed_count: int
    systems: frozenset[str]


def desk(ctx: Context) -> Desk:
    """The caseworker's own cases in every system: a lookup on their own
    medarbejdernummer, kept and audited like any other (purpose :data:`DESK_PURPOSE`).

    Raises :class:`Rejected` (400, titled) when the sign-in holds no usable number.
    """
    own = own_key(ctx.user, KeyKind.MEDARBEJDER)
    if own is None:
        title, text = NO_EMPLOYEE_NUMBER
        raise Rejected({None: text}, title=title)
    kept = keep(ctx, fan_out(ctx, authorise(Channel.DESK, ctx.user, own)), DESK_PURPOSE)
    cases = kept.entry.overview.cases
    with_deadline = sorted((c for c in cases if c.is_open and c.deadline), key=_deadline)
    without = sorted(
        (c for c in cases if c.is_open and not c.deadline),
        key=lambda c: c.opened or dt.date.min,
        reverse=True,
    )
    return Desk(
        kept,
        (*with_deadline, *without),
        sum(1 for c in cases if not c.is_open),
        frozenset(c.source for c in cases),
    )


def _deadline(case: Case) -> dt.date:
    return case.deadline or dt.date.max


@dataclass(frozen=True, slots=True)
class MyCases:
    """A citizen's lookup: what they may see, and the overview it was made from (whose
    cases the details are merged with; never shown)."""

    view: CitizenOverview
    overview: Overview


def my_cases(ctx: Context, *, recorded: bool = False) -> MyCases:
    """The signed-in citizen's own cases; the key comes from their sign-in only.

    With ``recorded`` (the list page) the lookup is recorded, committed, before
    anything is returned; a case or document page records its own access instead.
    """
    own = own_key(ctx.user, KeyKind.CPR)
    if own is None:
        raise Rejected({None: "Dit login indeholder intet CPR-nummer."}, status=403)
    key = authorise(Channel.CITIZEN, ctx.user, own)
    overview = fan_out(ctx, key)
    view = citizen_view(overview, key, ctx.settings.citizen)
    if recorded:
        record_lookup(ctx, key, overview, view.cases, None)
    return MyCases(view, overview)


def record_lookup(
    ctx: Context,
    subject: Key,
    overview: Overview,
    shown: Iterable[Case | CitizenCase],
    purpose: str | None,
    detail: str = "",
    *,
    persons: Iterable[Key] = (),
) -> None:
    """Record (committed) that ``ctx.user`` looked ``subject`` up and was shown ``shown``
    and the data of ``persons`` (see :func:`persons_shown`), with what every source
    answered; raises when the record could not be written."""
    ctx.record(
        "lookup",
        user=ctx.user,
        subject=subject,
        purpose=purpose,
        sources=source_outcomes(overview.sources),
        case_ids=[case.id for case in shown],
        detail=detail,
        persons=persons,
    )


def persons_shown(overview: Overview, case: Case | None = None) -> tuple[Key, ...]:
    """The persons (CPR keys) whose data a page shows, besides its subject.

    The overview page (``case`` ``None``): every CPR key ``overview`` names (a property's
    owners, the persons it was widened to) and the parties and CPR subjects of each of its
    cases. One of its cases: that case's parties and CPR subjects — and, when the overview
    is a property's (a BFE or matrikel lookup), the owners it names, whose property the
    case is about (a building case names its applicant, not the owner's CPR number).
    Each once, in the order found."""
    property_lookup = overview.subject.kind in (KeyKind.BFE, KeyKind.MATRIKEL)
    keys: list[Key] = []
    if case is None or property_lookup:
        keys.extend(expansion.key for expansion in overview.expansions)
    for shown in overview.cases if case is None else (case,):
        keys.extend(_case_persons(shown))
    return tuple(dict.fromkeys(key for key in keys if key.kind is KeyKind.CPR))


def _case_persons(case: Case) -> Iterable[Key]:
    yield from (party.key for party in case.parties)
    yield from case.subjects


def record_case_view(
    ctx: Context,
    case: Case | CitizenCase,
    subject: Key | None,
    purpose: str | None,
    *,
    failed: bool,
    persons: Iterable[Key] = (),
) -> None:
    """Record (committed) that ``ctx.user`` opened ``case`` (under all its joined ids),
    showing the data of ``persons`` (its parties), and whether its source answered for
    the details."""
    ctx.record(
        "case_view",
        user=ctx.user,
        subject=subject,
        purpose=purpose,
        sources=[(case.source, "failed" if failed else "ok")],
        case_ids=[case.id, *case.also_known_as],
        persons=persons,
    )
