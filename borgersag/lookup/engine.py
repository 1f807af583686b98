"""The engine: fan out one lookup to every source, under one deadline, and join.

For a subject key the engine

1. asks, in parallel, every case source that serves the key's kind and every relation
   source that can expand it (CPR → parcels the person owns);
2. as each relation answer arrives, asks the case sources serving the new keys (one hop);
3. stops waiting at the overall deadline: a source still busy is reported as
   ``timeout`` (or ``stale`` when an older cached answer exists), and its calls end by
   then too (:data:`~borgersag.sdk.http.call_deadline` bounds every request they make);
4. returns an :class:`~borgersag.domain.model.Overview` with one
   :class:`~borgersag.domain.model.SourceResult` per configured source and the joined cases.

Whoever wants the first answers at once passes ``on_progress``: it is called with a
:class:`LookupProgress` when the calls are sent and again each time more sources are settled
(every call done, and none can follow: no relation answer is still to come that could
send it a search), with those sources' results and cases joined so far.

It never raises because a source failed: failures are SourceResults.

No source can take the shared pool: each has at most its ``max_concurrent`` calls in
flight (a call beyond that waits for a slot without a thread, and one that gets none
before the deadline is ``Busy`` and may be answered from the stale cache), the
pool has the sum of those limits as threads, and a source that keeps failing is paused by
its circuit breaker (:mod:`borgersag.lookup.breaker`), reported as ``circuit_open``.
"""

from __future__ import annotations

import contextvars
import datetime as dt
import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field, replace
from typing import Any

from borgersag.domain.join import join_cases
from borgersag.domain.keys import Key
from borgersag.domain.model import Case, Overview, SourceResult, SourceStatus
from borgersag.domain.person import Person
from borgersag.domain.relations import Expansion, Relation
from borgersag.lookup.breaker import Breakers
from borgersag.lookup.cache import ResultCache
from borgersag.sdk.connector import Connector
from borgersag.sdk.errors import (
    FatalError,
    ForbiddenError,
    RetriableError,
    SourceBusy,
    SourceError,
    SourceTimeout,
)
from borgersag.sdk.http import DEFAULT_MAX_CONCURRENT, call_deadline
from borgersag.sdk.records import Records

__all__ = ["Busy", "CircuitOpen", "Engine", "LookupProgress", "max_concurrent"]

log = logging.getLogger(__name__)

_RESERVE_SHARE = 0.05  # of the deadline, kept for summarising after the sources ...
_RESERVE_MAX = 0.2  # ... but never more than this many seconds
_WAITING_POLL_SECONDS = 0.05  # how often a lookup looks for a free slot for its waiting calls


class CircuitOpen(SourceError):
    """The source's circuit breaker is open: it was not asked."""


class Busy(SourceBusy):
    """The source had its ``max_concurrent`` calls in flight until the lookup's deadline:
    this call never started."""


def max_concurrent(source: Connector) -> int:
    """The source's bulkhead: how many calls may be in flight to it at once."""
    return max(1, int(getattr(source.http, "max_concurrent", DEFAULT_MAX_CONCURRENT)))


@dataclass(frozen=True, slots=True)
class LookupProgress:
    """A lookup under way: the settled sources' results and cases (``overview``, whose
    ``sources`` holds only those), and the sources still being asked as (name, title)."""

    overview: Overview
    waiting: tuple[tuple[str, str], ...]


@dataclass(slots=True)
class _Call:
    """One question to one source: search or relations, for one key."""

    source: str
    op: str  # "search" | "relations"
    key: Key
    started: float
    value: list[Any] | None = None
    error: SourceError | None = None
    latency: float | None = None
    stale_age: float | None = None
    timed_out: bool = False
    cached_age: float | None = None  # answered from the cache, fetched this long ago
    reason: str | None = None  # for searches on an expanded key


@dataclass(slots=True)
class _Lookup:
    calls: list[_Call] = field(default_factory=list)
    pending: dict[Future, _Call] = field(default_factory=dict)
    expansions: list[Expansion] = field(default_factory=list)
    seen_keys: set[Key] = field(default_factory=set)
    calls_until: float | None = None  # the lookup's deadline as a time.monotonic() value
    waiting: list[_Call] = field(default_factory=list)  # for a source at its limit


class Engine:
    """Fan-out, key expansion, deadline, cache and join over a set of connectors."""

    def __init__(
        self,
        sources: dict[str, Connector],
        *,
        deadline: float = 4.0,
        cache: ResultCache | None = None,
        breakers: Breakers | None = None,
        disabled: set[str] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ):
        self.sources = sources
        self.deadline = deadline
        self.cache = cache or ResultCache(ttl=0)
        self.breakers = breakers or Breakers(threshold=0)
        self.disabled: frozenset[str] = frozenset(disabled or ())
        # The newest answer of each source in this process, for the operations page.
        self.last_results: dict[str, tuple[dt.datetime, SourceResult]] = {}
        self._clock = clock
        self._in_flight: dict[str, int] = dict.fromkeys(sources, 0)
        self._in_flight_lock = threading.Lock()
        # Every source may fill its bulkhead at once and no call ever waits for a thread.
        workers = max(1, sum(max_concurrent(s) for s in sources.values()))
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="fanout")

    def close(self) -> None:
        """Stop the worker threads (calls still running are abandoned)."""
        self._pool.shutdown(wait=False, cancel_futures=True)

    # -- the lookup --------------------------------------------------------------------

    def overview(
        self, key: Key, on_progress: Callable[[LookupProgress], None] | None = None
    ) -> Overview:
        """Ask every applicable source about ``key`` and return the joined overview;
        ``on_progress`` hears of each source as it is settled (module docstring)."""
        started = self._clock()
        deadline = self.deadline
        outer = call_deadline.get()
        if outer is not None:  # a page's own deadline, sooner than the lookup's
            deadline = max(0.0, min(deadline, outer - time.monotonic()))
        # The calls end at the deadline; the engine stops waiting a little before it:
        # summarising, joining and a busy machine's thread switches must fit in the
        # deadline too, and they are then done before the late calls are cut and wake.
        calls_until = time.monotonic() + deadline
        deadline -= min(_RESERVE_MAX, deadline * _RESERVE_SHARE)
        until = started + deadline
        lookup = _Lookup(seen_keys={key}, calls_until=calls_until)
        for name, source in self._active():
            if source.expands(key.kind):
                self._submit(lookup, name, "relations", key)
            if source.serves(key.kind):
                self._submit(lookup, name, "search", key)
            if source.describes(key.kind):  # person facts, about the subject only
                self._submit(lookup, name, "person", key)
        reported: set[str] | None = None  # the settled sources on_progress has heard of
        while lookup.pending or lookup.waiting:
            if on_progress is not None:
                on_progress, reported = self._report(lookup, key, reported, on_progress)
            remaining = until - self._clock()
            if remaining <= 0:
                break
            if lookup.waiting:
                self._start_waiting(lookup)
                # a slot may free up in another lookup, which no future here announces
                remaining = min(remaining, _WAITING_POLL_SECONDS)
            if not lookup.pending:
                time.sleep(remaining)
                continue
            done, _ = wait(list(lookup.pending), timeout=remaining, return_when=FIRST_COMPLETED)
            for future in done:
                call = lookup.pending.pop(future)
                call.value, call.error, call.latency, call.cached_age = future.result()
                if call.error is not None:
                    self._fallback_to_stale(call)
                if call.op == "relations" and call.value:
                    self._expand(lookup, call)
        for call in lookup.pending.values():
            call.timed_out = True
            self._fallback_to_stale(call)
        for call in lookup.waiting:
            limit = max_concurrent(self.sources[call.source])
            call.error = Busy(f"Optaget: {limit} kald til kilden var i gang hele opslaget.")
            call.latency = 0.0
            self._fallback_to_stale(call)
        results = [
            self._source_result(name, source, lookup) for name, source in self.sources.items()
        ]
        cases = self._collect_cases(lookup)
        persons = _persons(lookup, None)
        now = dt.datetime.now(dt.UTC)
        for result in results:
            if result.status not in (SourceStatus.NOT_APPLICABLE, SourceStatus.DISABLED):
                self.last_results[result.source] = (now, result)
        log.info(
            "overview kind=%s sources=%d cases=%d unavailable=%d in %.0f ms",
            key.kind,
            len(results),
            len(cases),
            sum(
                1
                for r in results
                if not r.status.answered
                and r.status not in (SourceStatus.NOT_APPLICABLE, SourceStatus.DISABLED)
            ),
            (self._clock() - started) * 1000,
        )
        return Overview(
            subject=key,
            cases=tuple(cases),
            sources=tuple(results),
            generated_at=dt.datetime.now(dt.UTC),
            expansions=tuple(lookup.expansions),
            persons=persons,
        )

    def _report(
        self,
        lookup: _Lookup,
        key: Key,
        reported: set[str] | None,
        on_progress: Callable[[LookupProgress], None],
    ) -> tuple[Callable[[LookupProgress], None] | None, set[str]]:
        """Call ``on_progress`` once at the start (``reported`` is ``None``) and again when
        more sources are settled; returns the listener (``None`` once it has raised: that
        is logged, and it is not called again) and the sources it has now heard of."""
        busy = [*lookup.pending.values(), *lookup.waiting]
        more_to_come = any(c.op == "relations" for c in busy)
        settled = {
            name
            for name, source in self.sources.items()
            if name in self.disabled
            or (
                all(c.source != name for c in busy)
                and not (more_to_come and source.key_kinds)  # a relation may yet send a search
            )
        }
        if reported is not None and settled <= reported:
            return on_progress, reported
        results = [
            self._source_result(name, source, lookup)
            for name, source in self.sources.items()
            if name in settled
        ]
        progress = LookupProgress(
            Overview(
                subject=key,
                cases=tuple(self._collect_cases(lookup, only=settled)),
                sources=tuple(results),
                generated_at=dt.datetime.now(dt.UTC),
                expansions=tuple(lookup.expansions),
                persons=_persons(lookup, settled),
            ),
            tuple((n, s.display_name) for n, s in self.sources.items() if n not in settled),
        )
        try:
            on_progress(progress)
        except Exception:
            log.exception("a lookup's progress listener failed; it is not called again")
            return None, settled
        return on_progress, settled

    def _active(self):
        return [(n, s) for n, s in self.sources.items() if n not in self.disabled]

    def _expand(self, lookup: _Lookup, call: _Call) -> None:
        for relation in call.value or []:
            if not isinstance(relation, Relation) or relation.key in lookup.seen_keys:
                continue
            lookup.seen_keys.add(relation.key)
            lookup.expansions.append(Expansion.of(relation, call.source))
            if not relation.search:
                continue  # shown, not searched (a property's owners on a property lookup)
            for name, source in self._active():
                if source.serves(relation.key.kind):
                    self._submit(lookup, name, "search", relation.key, reason=relation.reason)

    def _submit(self, lookup: _Lookup, name: str, op: str, key: Key, reason: str | None = None):
        call = _Call(name, op, key, self._clock(), reason=reason)
        lookup.calls.append(call)
        if not self._start(lookup, call):
            # The source has its limit of calls in flight (this lookup's own, say: a person
            # owning twelve parcels makes twelve searches): wait for a slot, not fail.
            lookup.waiting.append(call)

    def _start_waiting(self, lookup: _Lookup) -> None:
        """Start the waiting calls whose source has a free slot now, oldest first."""
        still = []
        for call in lookup.waiting:
            if not self._start(lookup, call):
                still.append(call)
        lookup.waiting = still

    def _start(self, lookup: _Lookup, call: _Call) -> bool:
        """Submit ``call`` if its source has a free slot; ``False`` when it has none."""
        name = call.source
        limit = max_concurrent(self.sources[name])
        with self._in_flight_lock:
            if self._in_flight.get(name, 0) >= limit:
                return False
            self._in_flight[name] = self._in_flight.get(name, 0) + 1
        call.started = self._clock()
        context = contextvars.copy_context()
        context.run(call_deadline.set, lookup.calls_until)
        future = self._pool.submit(context.run, self._run_counted, call)
        lookup.pending[future] = call
        return True

    def in_flight(self, name: str) -> int:
        """How many calls to source ``name`` are running now (late ones included)."""
        with self._in_flight_lock:
            return self._in_flight.get(name, 0)

    def _run_counted(self, call: _Call) -> tuple[Any, ...]:
        """Worker: :meth:`_run`, counted in the source's calls in flight until it ends."""
        try:
            return self._run(call)
        finally:
            with self._in_flight_lock:
                self._in_flight[call.source] -= 1

    def _run(self, call: _Call) -> tuple[list[Any] | None, SourceError | None, float, float | None]:
        """Worker: ask the source (through the cache), retrying once on a retriable error.

        Returns (value, error, latency, cached age) instead of touching ``call``, so a call that
        outlives the deadline cannot change a lookup that has already been answered.
        """
        source = self.sources[call.source]
        method = {"search": source.search, "relations": source.relations}.get(
            call.op, source.person
        )
        cache_key = (call.source, call.op, call.key)
        value: list[Any] | None = None
        error: SourceError | None = None
        cached_age: float | None = None
        attempts = 2
        for attempt in range(attempts):
            try:
                hit = self.cache.get_or_compute(cache_key, lambda: self._ask(call, method))
                value, error = hit.value, None
                cached_age = hit.age if hit.cached else None
                break
            except (SourceTimeout, SourceBusy) as exc:
                error = exc
                break
            except RetriableError as exc:
                error = exc
                until = call_deadline.get()
                if until is not None and until - time.monotonic() < 0.1:
                    break  # no time for another try
                if attempt + 1 < attempts:
                    time.sleep(0.05)
            except SourceError as exc:
                error = exc
                break
            except Exception as exc:
                log.exception("connector %s raised an unclassified error", call.source)
                error = FatalError(
                    f"{source.display_name}: uventet fejl i connectoren ({type(exc).__name__})."
                )
                break
        if error is not None:
            log.warning("source %s failed: %s", call.source, error.message)
        return value, error, self._clock() - call.started, cached_age

    def _ask(self, call: _Call, method: Callable[[Key], Any]) -> Records:
        """One call through the source's circuit breaker (not for cache hits)."""
        if not self.breakers.allow(call.source):
            open_for = _seconds_da(self.breakers.open_seconds)
            raise CircuitOpen(f"Sat på pause efter gentagne fejl; prøves igen inden {open_for} s.")
        try:
            value = _records(method(call.key))
        except SourceBusy:
            raise  # the portal's own limit was full: says nothing about the source
        except RetriableError:  # timeouts included
            self.breakers.failed(call.source)
            raise
        except Exception:
            self.breakers.succeeded(call.source)  # it answered, if not well: not an outage
            raise
        self.breakers.succeeded(call.source)
        return value

    def _fallback_to_stale(self, call: _Call) -> None:
        hit = self.cache.stale((call.source, call.op, call.key))
        if hit is not None:
            call.value = hit.value
            call.stale_age = hit.age

    # -- summarising -------------------------------------------------------------------

    def _source_result(self, name: str, source: Connector, lookup: _Lookup) -> SourceResult:
        """Facts about one source in this lookup; the web layer words them
        (``borgersag.web.wording``). ``message`` is at most a technical detail: the
        source's error, the limit that passed, the key kinds it searches on."""
        result = self._summary(name, source, lookup)
        if source.key_kinds:
            return result
        if source.relation_kinds:
            return replace(result, relation_source=True)
        if source.person_kinds:
            return replace(result, person_register=True)
        return result

    def _summary(self, name: str, source: Connector, lookup: _Lookup) -> SourceResult:
        """:meth:`_source_result` before a source without cases of its own (a relation
        source, a person register) is marked as one."""
        title = source.display_name
        if name in self.disabled and any(
            source.serves(k.kind) or source.expands(k.kind) or source.describes(k.kind)
            for k in lookup.seen_keys
        ):
            # switched off where it would have been asked: its cases are missing
            return SourceResult(name, title, SourceStatus.DISABLED)
        calls = [c for c in lookup.calls if c.source == name]
        keys = tuple(dict.fromkeys(c.key for c in calls))
        if not calls:
            kinds = ", ".join(sorted(k.label for k in source.key_kinds | source.relation_kinds))
            return SourceResult(
                name,
                title,
                SourceStatus.NOT_APPLICABLE,
                f"Søger på {kinds}." if kinds else "",
            )
        latency = max((c.latency for c in calls if c.latency is not None), default=None)
        latency_ms = round(latency * 1000, 1) if latency is not None else None
        # a case found through two keys (BFE and matrikel) is one case
        case_count = len(
            {
                getattr(case, "id", n)
                for c in calls
                if c.op == "search"
                for n, case in enumerate(c.value or [])
            }
        )
        relation_count = sum(len(c.value or []) for c in calls if c.op == "relations")
        person_count = sum(len(c.value or []) for c in calls if c.op == "person")
        failed = [c for c in calls if c.timed_out or c.error is not None]
        stale = [c for c in failed if c.stale_age is not None]
        answers = [c.value for c in calls if isinstance(c.value, Records)]
        truncated = [a for a in answers if a.truncated]
        common = dict(
            latency_ms=latency_ms,
            case_count=case_count,
            relation_count=relation_count,
            person_count=person_count,
            keys_searched=keys,
            unreadable=sum(a.unreadable for a in answers),
            truncated=bool(truncated),
            # each truncated answer is a floor of its own; their sum might count a case twice
            at_least=max((a.at_least or len(a) for a in truncated), default=None),
        )
        if failed and len(stale) == len(failed):
            age = max(c.stale_age or 0.0 for c in stale)
            return SourceResult(
                name,
                title,
                SourceStatus.STALE,
                self._failure(source, failed[0]),
                age_seconds=round(age, 1),
                **common,
            )
        if failed:
            first = failed[0]
            if isinstance(first.error, CircuitOpen):
                status = SourceStatus.CIRCUIT_OPEN
            elif first.timed_out or isinstance(first.error, SourceTimeout):
                status = SourceStatus.TIMEOUT
            elif isinstance(first.error, ForbiddenError):
                status = SourceStatus.FORBIDDEN
            else:
                status = SourceStatus.FAILED
            return SourceResult(name, title, status, self._failure(source, first), **common)
        if all(c.cached_age is not None for c in calls):
            # Honest about reuse: the source was not asked just now.
            age = max(c.cached_age or 0.0 for c in calls)
            common.update(latency_ms=None, age_seconds=round(age, 1))
        # records that could not be read are not "no cases"
        found = case_count or relation_count or person_count or common["unreadable"]
        status = SourceStatus.OK if found else SourceStatus.EMPTY
        return SourceResult(name, title, status, _caveat(source), **common)

    def _failure(self, source: Connector, call: _Call) -> str:
        """The technical detail of a failed call: the limit it passed, or its error."""
        if call.timed_out:
            return f"Intet svar inden for opslagets frist på {_seconds_da(self.deadline)} s."
        if isinstance(call.error, SourceTimeout):
            limit = _seconds_da(source.http.timeout[1])
            return f"Intet svar inden for kildens tidsgrænse på {limit} s."
        return call.error.message if call.error else "Ukendt fejl."

    def _collect_cases(self, lookup: _Lookup, only: set[str] | None = None) -> list[Case]:
        by_id: dict[str, Case] = {}
        stale_sources = {c.source for c in lookup.calls if c.stale_age is not None}
        for call in lookup.calls:
            if (
                call.op != "search"
                or not call.value
                or (only is not None and call.source not in only)
            ):
                continue
            for case in call.value:
                if not isinstance(case, Case) or case.id in by_id:
                    continue
                if call.reason:
                    case = replace(case, reason=call.reason)
                if call.source in stale_sources and call.stale_age is not None:
                    case = replace(case, provenance=replace(case.provenance, stale=True))
                by_id[case.id] = case
        return join_cases(by_id.values())


def _persons(lookup: _Lookup, only: set[str] | None) -> tuple[Person, ...]:
    """What person registers answered, each marked with the register it came from."""
    return tuple(
        replace(person, source=call.source)
        for call in lookup.calls
        if call.op == "person" and call.value and (only is None or call.source in only)
        for person in call.value
        if isinstance(person, Person)
    )


def _records(answer: Any) -> Records:
    """A connector's answer as :class:`Records`, keeping what it says about unreadable
    records and truncation (a plain list has neither)."""
    return answer if isinstance(answer, Records) else Records(answer)


def _seconds_da(seconds: float) -> str:
    """``2.5`` → ``"2,5"``: Danish decimal comma."""
    return f"{seconds:g}".replace(".", ",")


def _caveat(source: Connector) -> str:
    """The source's standing note on what its answers can leave out; a connector's own
    bug here must not cost the lookup."""
    try:
        return source.caveat() or ""
    except Exception:
        log.exception("connector %s raised in caveat()", source.name)
        return ""
