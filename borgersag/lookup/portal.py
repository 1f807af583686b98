"""The portal facade: everything the web layer needs, built from a Config.

Views call :class:`Portal` and nothing deeper, so the core stays testable without
Flask and the web layer stays thin.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

from borgersag.config.loader import Config
from borgersag.domain.join import join_cases
from borgersag.domain.keys import Key
from borgersag.domain.model import Case, Overview
from borgersag.lookup.cache import ResultCache
from borgersag.lookup.engine import Engine
from borgersag.sdk.connector import Connector, DocumentContent
from borgersag.sdk.errors import NotFound, SourceError

__all__ = ["Portal"]

log = logging.getLogger(__name__)


class Portal:
    """Connectors, engine and cache for one configured municipality."""

    def __init__(self, config: Config, sources: dict[str, Connector]):
        self.config = config
        self.sources = sources
        portal = config.portal
        self.engine = Engine(
            sources,
            deadline=portal.deadline_seconds,
            cache=ResultCache(portal.cache_ttl_seconds, portal.stale_max_age_seconds),
            max_workers=portal.max_workers,
            disabled={s.name for s in config.sources if not s.enabled},
        )
        self._details = ThreadPoolExecutor(max_workers=4, thread_name_prefix="details")
        self.configured_off = frozenset(s.name for s in config.sources if not s.enabled)

    def switch_off(self, names: frozenset[str] | set[str]) -> None:
        """Sources switched off at run time (the operations kill switch), besides those
        the config switches off. Takes effect for the next lookup."""
        self.engine.disabled = self.configured_off | frozenset(names)

    @classmethod
    def from_config(cls, config: Config) -> Portal:
        """Build connectors for every configured source (validating their settings)."""
        from borgersag.lookup.registry import build_sources

        return cls(config, build_sources(config))

    def lookup(self, key: Key) -> Overview:
        """The joined overview for ``key``; source failures are in its SourceResults."""
        return self.engine.overview(key)

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
        fetched in parallel and joined again; a view that fails is left out, but if the
        main one fails its error is raised.
        """
        if not also_known_as:
            connector, native = self.source_for(case_id)
            return connector.get_case(native)
        ids = [case_id, *also_known_as]
        futures = [self._details.submit(self._fetch_one, cid) for cid in ids]
        views: list[Case] = []
        for cid, future in zip(ids, futures, strict=True):
            try:
                views.append(future.result())
            except SourceError as exc:
                if cid == case_id:
                    raise
                log.warning("joined view %s unavailable: %s", cid.split("/")[0], exc.message)
        joined = join_cases(views)
        return joined[0]

    def _fetch_one(self, case_id: str) -> Case:
        connector, native = self.source_for(case_id)
        return connector.get_case(native)

    def get_document(self, case_id: str, document_id: str) -> DocumentContent:
        """A document's content from the case's source."""
        connector, native = self.source_for(case_id)
        return connector.get_document(native, document_id)

    def close(self) -> None:
        """Stop worker threads and close HTTP sessions."""
        self.engine.close()
        self._details.shutdown(wait=False, cancel_futures=True)
        for connector in self.sources.values():
            connector.http.close()
