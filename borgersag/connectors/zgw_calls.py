"""The ZGW connector's calls: classified JSON calls, bounded paging, resource URLs.

:class:`ZgwCalls` is mixed into :class:`~borgersag.connectors.zgw.ZgwConnector` (and is
used by its mapper): it relies on the connector's ``http``, ``settings``, ``reader`` and
``display_name``, and on ``_cache`` and ``_lock`` for the catalogue.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote, urljoin, urlsplit

import requests

from borgersag import FatalError, ForbiddenError, Page, pages_by_link
from borgersag.connectors.zgw_mapping import is_uuid

__all__ = ["CATALOGUE_KINDS", "ZgwCalls"]

CATALOGUE_KINDS = ("zaaktypen", "statustypen", "roltypen", "resultaattypen")


class ZgwCalls:
    """HTTP helpers of the ZGW connector (a mixin: see the module docstring)."""

    def call_json(self, method: str, path: str, **kwargs: Any) -> Any:
        """A JSON call through the session; a refusal names what to check."""
        with self._refusal_explained():
            if method == "POST":
                return self.http.post_json(path, kwargs.pop("json"), **kwargs)
            return self.http.get_json(path, **kwargs)

    def call(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        """A call whose body is not JSON (a document's content)."""
        with self._refusal_explained():
            return self.http.call(method, path, **kwargs)

    @contextlib.contextmanager
    def _refusal_explained(self) -> Iterator[None]:
        try:
            yield
        except ForbiddenError as exc:
            raise ForbiddenError(
                f"{self.display_name} afviste adgangen (HTTP {exc.status_code}); tjek client_id"
                " og secret, og at klienten har zaken.lezen, catalogi.lezen og"
                " documenten.lezen — eller sagen ligger over klientens maksimale"
                " fortrolighedsniveau.",
                status_code=exc.status_code,
            ) from None

    def list_all(
        self, path: str, params: dict[str, Any], where: str, at: str | None = None
    ) -> list[dict]:
        """Every item of a paginated list, bounded by ``max_pages``. ``where`` names the
        answer (a page that is not one fails the call); ``at`` (default ``where``) the
        list, whose items must be objects (``at[i]`` names the one that is not)."""
        items = [item for page in self.pages("GET", path, where, params) for item in page]
        at = at or where
        return [self.reader.expect(v, dict, f"{at}[{i}]") for i, v in enumerate(items)]

    def pages(
        self,
        method: str,
        path: str,
        where: str,
        params: dict[str, Any],
        *,
        body: dict | None = None,
        what: str = "elementer",
    ) -> Iterator[list]:
        """The ``results`` of each page of a paginated list, as sent (an entry may be no
        object: the caller reads them record by record), following ``next`` at most
        ``max_pages`` times (:func:`borgersag.pages_by_link`); a POST's ``next`` link is
        POSTed again with the same body.

        A ``next`` link must lead to a later page; one on another host is read as the same
        path on ``base_url``'s server: the portal talks to the server it is configured
        for, whatever host a server behind a proxy writes into its links.
        """
        r = self.reader
        extra = {} if body is None else {"json": body}
        first = {**params, "page": 1, "pageSize": self.settings["page_size"]}

        def fetch(link: str | None) -> Page:
            if link is None:
                answer = self.call_json(method, path, params=first, **extra)
            else:
                answer = self.call_json(method, link, **extra)
            answer = r.expect(answer, dict, where)
            items = r.field(answer, "results", list, where)
            return Page(items, r.text(answer, "next", where))

        for items in pages_by_link(
            fetch,
            source=self.display_name,
            base_url=self.http.base_url,
            max_pages=self.settings["max_pages"],
            what=what,
            order_param="page",
            rebase=True,
        ):
            yield list(items)

    def resolve(self, path: str, url: str, where: str) -> str:
        """A Zaken API resource URL (``resultaten/<uuid>``) rebased on ``base_url``."""
        kind, _, tail = urlsplit(url).path.rstrip("/").rpartition("/")
        if not kind.endswith("/" + path) or not is_uuid(tail):
            raise self.reader.fail(where, f"er ikke en {path}-URL")
        return f"{path}/{tail}"

    def catalogue(self, url: str, where: str) -> dict:
        """A catalogue object (zaaktype, statustype, …) by URL, cached per instance."""
        resolved = self._catalogue_url(url, where)
        with self._lock:
            hit = self._cache.get(resolved)
        if hit is not None:
            return hit
        # an answer that is no object is a broken endpoint, not one zaak's bad data
        body = self.reader.expect(self.call_json("GET", resolved), dict, "katalogobjektet")
        with self._lock:
            self._cache[resolved] = body
        return body

    def _catalogue_url(self, url: str, where: str) -> str:
        """With ``catalogi_url`` set, ``<kind>/<uuid>`` from the URL joined to it; without,
        the URL itself, which must be on ``base_url``'s server (the JWT goes with it)."""
        return self._api_url(url, where, CATALOGUE_KINDS, "catalogi_url", "Catalogi")

    def _api_url(self, url: str, where: str, kinds: tuple[str, ...], setting: str, api: str):
        parts = urlsplit(url)
        kind, _, tail = parts.path.rstrip("/").rpartition("/")
        kind = kind.rsplit("/", 1)[-1]
        if kind not in kinds or not is_uuid(tail):
            noun = "et katalogobjekt" if api == "Catalogi" else "et dokument"
            raise self.reader.fail(where, f"er ikke en URL til {noun}")
        root = self.settings[setting]
        if root:
            return urljoin(root if root.endswith("/") else root + "/", f"{kind}/{tail}")
        base = urlsplit(self.http.base_url)
        if (parts.scheme, parts.netloc) != (base.scheme, base.netloc):
            raise FatalError(
                f"{self.display_name}: {where} peger på en anden server end base_url;"
                f" sæt {setting} til {api}-API'ets adresse."
            )
        return url

    def deep_link(self, zaak_uuid: str, identificatie: str) -> str | None:
        """The configured link into the case system's own client, if any."""
        template = self.settings["deep_link_template"]
        if not template:
            return None
        return template.replace("{uuid}", zaak_uuid).replace(
            "{identificatie}", quote(identificatie)
        )
