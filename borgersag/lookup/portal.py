"""The portal facade: everything the web layer needs, built from a Config.

Views call :class:`Portal` and nothing deeper, so the core stays testable without
Flask and the web layer stays thin.
"""

from __future__ import annotations

import contextvars
import logging
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout

from borgersag.config.loader import Config
from borgersag.domain.join import join_cases
from borgersag.domain.keys import Key
from borgersag.domain.model import Case, Overview
from borgersag.lookup.breaker import Breakers, BreakerStore
from borgersag.lookup.cache import ResultCache
from borgersag.lookup.engine import Engine, LookupProgress
from borgersag.lookup.observe import LookupObserver, NoObserver
from borgersag.lookup.section import CACHE, CacheSettings
from borgersag.lookup.shared_cache import SharedResultCache
from borgersag.sdk.connector import Connector, DocumentContent
from borgersag.sdk.errors import NotFound, SourceError, SourceTimeout
from borgersag.sdk.http import deadline_in, document_download, time_left

__all__ = ["Portal", "build_result_cache"]

log = logging.getLogger(__name__)


def build_result_cache(config: Config) -> ResultCache | SharedResultCache:
    """The result cache ``[portal]`` and ``[cache]`` ask for."""
    portal = config.portal
    try:
        settings = config.section(CACHE)
    except KeyError:  # a config built without the registered sections (a test's)
        settings = CacheSettings()
    local = ResultCache(
        portal.cache_ttl_seconds,
        portal.stale_max_age_seconds,
        maxsize=settings.max_entries,
        max_bytes=settings.max_bytes,
    )
    if settings.backend != "redis" or portal.cache_ttl_seconds <= 0:
        return local
    import redis

    # Short timeouts: a Redis that hangs must not eat the lookup's deadline.
    client = redis.Redis.from_url(
        settings.redis_url, socket_connect_timeout=0.25, socket_timeout=0.25
    )
    return SharedResultCache(
        local, client, portal.secret_key, lock_seconds=portal.deadline_seconds + 1.0
    )


class Portal:
    """Connectors, engine and cache for one configured municipality.

    Every source call runs under a deadline: a lookup under ``deadline_seconds``, one
    case's details too, a document under ``document_deadline_seconds`` (an outer
    deadline, the page's, shortens them). ``breaker_store`` keeps the circuit breakers'
    state (default: this process; the web layer passes the shared state store). The
    result cache is this process's, bounded by ``[cache] max_bytes``, and with
    ``[cache] backend = "redis"`` a second level shared by every instance
    (:mod:`borgersag.lookup.shared_cache`).
    ``observer`` is told about every lookup (:mod:`borgersag.lookup.observe`); the web
    layer sets it for its metrics.
    """

    def __init__(
        self,
        config: Config,
        sources: dict[str, Connector],
        *,
        breaker_store: BreakerStore | None = None,
    ):
        self.config = config
        self.sources = sources
        portal = config.portal
        self.engine = Engine(
            sources,
            deadline=portal.deadline_seconds,
            cache=build_result_cache(config),
            breakers=Breakers(
                breaker_store,
                threshold=portal.breaker_failures,
                open_seconds=portal.breaker_open_seconds,
            ),
            disabled={s.name for s in config.sources if not s.enabled},
        )
        self._details = ThreadPoolExecutor(max_workers=4, thread_name_prefix="details")
        self.configured_off = frozenset(s.name for s in config.sources if not s.enabled)
        self.observer: LookupObserver = NoObserver()

    def switch_off(self, names: frozenset[str] | set[str]) -> None:
        """Sources switched off at run time (the operations kill switch), besides those
        the config switches off. Takes effect for the next lookup."""
        self.engine.disabled = self.configured_off | frozenset(names)

    @classmethod
    def from_config(cls, config: Config, *, breaker_store: BreakerStore | None = None) -> Portal:
        """Build connectors for every configured source (validating their settings)."""
        from borgersag.lookup.registry import build_sources

        return cls(config, build_sources(config), breaker_store=breaker_store)

    def lookup(
        self, key: Key, on_progress: Callable[[LookupProgress], None] | None = None
    ) -> Overview:
        """The joined overview for ``key``; source failures are in its SourceResults.
        ``on_progress`` hears of each source as it answers (:meth:`Engine.overview`)."""
        started = time.monotonic()
        overview = self.engine.overview(key, on_progress)
        try:
            self.observer.overview_made(overview, time.monotonic() - started)
        except Exception:  # counting must never cost a person their overview
            log.exception("the lookup observer failed")
        return overview

    def source_for(self, case_id: str) -> tuple[Connector, str]:
        """The connector and native id for a namespaced case id; NotFound if unknown."""
        name, _, native = case_id.partition("/")
        connector = self.sources.get(name)
        if connector is None or not native or name in self.engine.disabled:
            raise NotFound("Sagen findes ikke i nogen kendt kilde.")
        return connector, native

    def get_case(self, case_id: str, *, also_known_as: Sequence[str] = ()) -> Case:
        """One case with documents and history, from its source.

        For a joined case pass the other sources' ids in ``also_known_as``: every view is
        fetched in parallel and joined again; a view that fails is left out (the case's
        ``all_sources`` then lacks it), the main one included — the documents and history
        of the systems that answered are still worth showing. Only when no view answers is
        the main view's error raised. Bounded by ``deadline_seconds`` (or the deadline
        already set): a view not fetched by then is a :class:`SourceTimeout`.
        """
        with deadline_in(self.config.portal.deadline_seconds):
            if not also_known_as:
                connector, native = self.source_for(case_id)
                return connector.get_case(native)
            return self._joined_case(case_id, also_known_as)

    def _joined_case(self, case_id: str, also_known_as: Sequence[str]) -> Case:
        ids = [case_id, *also_known_as]
        futures = [
            self._details.submit(contextvars.copy_context().run, self._fetch_one, cid)
            for cid in ids
        ]
        views: list[Case] = []
        first_error: SourceError | None = None
        for cid, future in zip(ids, futures, strict=True):
            try:
                try:
                    views.append(future.result(timeout=max(0.0, time_left() or 0.0)))
                except FutureTimeout:
                    raise SourceTimeout(f"{cid.split('/')[0]} svarede ikke i tide.") from None
            except SourceError as exc:
                first_error = first_error or exc
                log.warning("joined view %s unavailable: %s", cid.split("/")[0], exc.message)
        if not views:
            assert first_error is not None
            raise first_error
        return join_cases(views)[0]

    def _fetch_one(self, case_id: str) -> Case:
        connector, native = self.source_for(case_id)
        return connector.get_case(native)

    def get_document(self, case_id: str, document_id: str) -> DocumentContent:
        """A document's content from the case's source, under ``document_deadline_seconds``
        and the source's ``max_document_bytes``."""
        connector, native = self.source_for(case_id)
        with deadline_in(self.config.portal.document_deadline_seconds), document_download():
            return connector.get_document(native, document_id)

    def close(self) -> None:
        """Stop worker threads and close HTTP sessions."""
        self.engine.close()
        self._details.shutdown(wait=False, cancel_futures=True)
        for connector in self.sources.values():
            connector.http.close()
