"""Generic REST connector (type ``rest``): a JSON API mapped to the canonical model in config.

A municipality describes, per key kind, the request that searches the API (GET with the
key in path or query, or POST with a JSON body — a CPR number only ever in a body unless
explicitly allowed), where the list of cases is in the answer (``items``), where each
canonical field is in a case (``fields``), how the system's status texts map to SF1470
progress (``status_map``) and how the API pages. All of it is checked at start-up:
:mod:`borgersag.connectors.rest_settings` (the settings),
:mod:`borgersag.connectors.rest_requests` (the
search templates) and :mod:`borgersag.connectors.rest_paths` (the path and template languages);
:mod:`borgersag.connectors.rest_mapping` reads answers into cases.

At run time every surprise is a classified error naming the source and the path that did
not fit — never a value from the answer, which may be a CPR number. Documents are not
mapped: :meth:`RestConnector.get_document` keeps the base class's "not available".
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import quote, urljoin, urlsplit

import requests

from borgersag import (
    ApiKeyAuth,
    Case,
    ConfigError,
    Connector,
    FatalError,
    Key,
    KeyKind,
    NotFound,
    Records,
    api_key_auth,
    oauth2_client_credentials_auth,
)
from borgersag.connectors.rest_mapping import Mapper
from borgersag.connectors.rest_paths import Path, describe
from borgersag.connectors.rest_requests import SearchPlan
from borgersag.connectors.rest_settings import SETTINGS, Plan, build_plan

__all__ = ["RestConnector"]


class RestConnector(Connector):
    """Cases from any JSON API, searched and mapped as ``[sources.<name>]`` describes."""

    type_name = "rest"
    title = "REST-API"
    # What the type can be configured for; an instance serves the kinds of its
    # [sources.<name>.search.<kind>] tables (set in __init__).
    key_kinds = frozenset(KeyKind)
    settings_schema = SETTINGS

    def __init__(self, name, settings, http):
        super().__init__(name, settings, http)
        self._plan: Plan = build_plan(self.settings, {}, "<validated settings>", f"sources.{name}.")
        self.key_kinds = frozenset(self._plan.searches)
        self._map = Mapper(self, self._plan, self.settings)

    @classmethod
    def validate_settings(cls, raw: Mapping[str, Any], file: str = "<config>", prefix: str = ""):
        """Types and unknown keys as usual, then every template, path and mapping."""
        if isinstance(raw, Mapping):
            tables = {
                "search": f"one table per key kind the API is searched by, e.g."
                f" [{prefix}search.cpr] with method, path and body",
                "fields": f"a table [{prefix}fields] with the paths of at least id, title and"
                " status in a case",
            }
            for name, wanted in tables.items():
                if name not in raw:
                    raise ConfigError(file, prefix + name, f"missing; {wanted}")
                if not isinstance(raw[name], Mapping):
                    raise ConfigError(file, prefix + name, f"expected {wanted}")
            if "status_map" in raw and not isinstance(raw["status_map"], Mapping):
                raise ConfigError(
                    file,
                    prefix + "status_map",
                    f'a table, e.g. [{prefix}status_map] with "Under behandling" = "oplyst"',
                )
        settings = super().validate_settings(raw, file, prefix)
        settings["status_map"] = dict(settings["status_map"])  # not the shared default
        build_plan(settings, raw, file, prefix)
        return settings

    @classmethod
    def make_auth(
        cls, settings: Mapping[str, Any], name: str | None = None
    ) -> requests.auth.AuthBase | None:
        """The auth that ``auth`` names, from its own keys."""
        mode = settings["auth"]
        if mode == "api_key":
            return api_key_auth(settings)
        if mode == "bearer":
            return ApiKeyAuth(settings["token"], header="Authorization", prefix="Bearer ")
        if mode == "basic":
            return requests.auth.HTTPBasicAuth(settings["username"], settings["password"])
        if mode == "oauth2_client_credentials":
            return oauth2_client_credentials_auth(settings, name or cls.title)
        return None

    # -- the contract ---------------------------------------------------------------------

    def search(self, key: Key) -> Records[Case]:
        """The cases the API returns for ``key``, every page up to ``max_pages``; a record
        that does not fit the mapping is counted, not fatal."""
        plan = self._plan.searches.get(key.kind)
        if plan is None:
            raise FatalError(f"{self.display_name} søger ikke på {key.label}.")
        path, params, body = plan.render(key)
        mode = self.settings["pagination"]
        max_pages = 1 if mode == "none" else self.settings["max_pages"]
        request = (plan.method, path, params, body)
        cases: Records[Case] = Records()
        seen = 0  # records on earlier pages, read or not
        for page in range(1, max_pages + 1):
            if mode == "page_param":
                request = self._page_request(plan, path, params, body, page)
            shown = "next_link" if page > 1 and mode == "next_link" else plan.path.text
            answer = self._fetch(*request, shown=shown)
            found = self._map.records(answer, page)
            cases.merge(
                self.reader.each_at(
                    found, lambda record, where, page=page: self._map.case(record, where, key, page)
                )
            )
            seen += len(found)
            if mode == "none":
                return cases
            if mode == "next_link":
                link = self._next_link(answer, request[1], page)
                if link is None:
                    return cases
                request = ("GET", link, {}, None)
            elif self._last_page(answer, len(found), seen, page):
                return cases
        raise FatalError(
            f"{self.display_name} har flere end {seen} sager på nøglen; kun"
            f" {max_pages} sider må hentes (indstillingen max_pages)."
        )

    def get_case(self, native_id: str) -> Case:
        """One case from ``detail_path``, when configured."""
        if self._plan.detail_path is None:
            return super().get_case(native_id)
        if not native_id or len(native_id) > 200 or not native_id.isprintable():
            raise NotFound(f"{self.display_name} kender ikke sagen.")
        path = self._plan.detail_path.render({"id": native_id}, lambda v: quote(v, safe=""))
        answer = self._fetch("GET", path, {}, None, shown=self._plan.detail_path.text)
        record, where = answer, "sagen"
        if self._plan.detail_record is not None:
            record = self._map.resolve(self._plan.detail_record, answer, "", "detail_record")
            where = self._plan.detail_record.text
        return self._map.case(record, where, None)

    def health(self) -> str:
        """A GET to ``health_path`` (or ``base_url``) with errors classified."""
        self.http.call("GET", self.settings["health_path"])
        return "svarer"

    # -- requests -------------------------------------------------------------------------

    def _page_request(self, plan: SearchPlan, path: str, params: dict, body: Any, page: int):
        extra = {self.settings["page_param"]: self.settings["first_page"] + page - 1}
        if self.settings["page_size_param"]:
            extra[self.settings["page_size_param"]] = self.settings["page_size"]
        if plan.method == "GET":
            return (plan.method, path, {**params, **extra}, None)
        return (plan.method, path, params, {**body, **extra})

    def _fetch(self, method: str, path: str, params: dict, body: Any, *, shown: str) -> Any:
        """Send one request; the answer as JSON. ``shown`` names the request in errors
        (the configured template, never the rendered path, which holds the key)."""
        return self.http.call_json(
            method,
            path,
            params=params or None,
            json=body if method == "POST" else None,
            where=shown,
        )

    def _next_link(self, answer: Any, current: str, page: int) -> str | None:
        path = self._plan.next_link
        if len(path.steps) > 1:  # the object holding the link must be there; only the
            # link itself may be absent or null on the last page
            self._map.resolve(Path(path.text, path.steps[:-1]), answer, "", "next_link", page)
        link = self._map.resolve(path, answer, "", "next_link", page, optional=True)
        if link is None or link == "":
            return None
        if not isinstance(link, str):
            raise self._map.fail(
                self._plan.next_link.text,
                f"skulle være en tekst, men er {describe(link)}",
                "next_link",
                page,
            )
        url = urljoin(self.http.url(current), link)
        if _origin(url) != _origin(self.http.base_url):
            raise FatalError(
                f"{self.display_name}: linket til næste side (next_link) peger på en anden"
                " server end base_url og følges ikke."
            )
        return url

    def _last_page(self, answer: Any, count: int, collected: int, page: int) -> bool:
        if count == 0:
            return True
        if self.settings["page_size_param"] and count < self.settings["page_size"]:
            return True
        if self._plan.total is None:
            return False
        total = self._map.resolve(self._plan.total, answer, "", "total", page)
        if isinstance(total, bool) or not isinstance(total, int):
            raise self._map.fail(
                self._plan.total.text,
                f"skulle være et heltal, men er {describe(total)}",
                "total",
                page,
            )
        return collected >= total


def _origin(url: str) -> tuple[str, str]:
    parts = urlsplit(url)
    return parts.scheme.lower(), parts.netloc.lower()
