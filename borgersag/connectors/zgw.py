"""ZGW connector: zaken from a ZGW Zaken API (Open Zaak and other implementations).

Searches with ``POST zaken/_zoek`` — the filters travel in the JSON body, so a CPR number
never appears in a URL or an access log — by the person's identification in a rol (CPR
search) or by a medewerker's identificatie with ``rol__omschrijvingGeneriek=behandelaar``
(medarbejdernummer search); the ``next`` link of each page is POSTed again with the same
body. Every request carries a freshly minted ZGW JWT and ``Accept-Crs``.

**Calls.** An overview needs, per zaak, its ``rollen`` and its *current* status (the
zaak's ``status`` URL). The search asks for both with ZGW's ``expand`` (``use_expand``),
so a server that supports it answers everything in one call; for a zaak answered without
them the calls run in parallel (``parallel`` at a time, within the source's own limit).
The zaaktypen with their statustypen come from the Catalogi API, cached per instance.
The full status history, the resultaat and the documents are read only for the case page
(:meth:`ZgwConnector.get_case`). Documents come from the Documenten API:
``zaakinformatieobjecten?zaak=`` links ``enkelvoudiginformatieobjecten``; their content
is ``…/download``.

The result is checked, not trusted: a server that ignores a filter it does not know would
answer with *every* zaak, so a zaak on which the searched person has no rol stops the
search with a clear error instead of being shown; for a medarbejdernummer only zaken where
they are behandelaar are kept.

**One unreadable zaak is not a failed search.** The zaken are read record by record
(:meth:`borgersag.Reader.each`, positions ``results[i]`` running on across pages): a zaak
with an impossible date, a missing field, or rollen or a current status of the wrong
shape is counted in the answer's ``problems`` and the others are kept. A request that
fails (timeout, 5xx, 403) still fails the search, and so does a zaak the searched person
has no rol on — that is not a bad record but a server that ignored the filter.

Progress comes from the status' position among the zaaktype's statustypen (see
:func:`borgersag.connectors.zgw_mapping.progress_at`; ``status_map`` overrides it by name), the
status text for the citizen from the statustype's ``statustekst``. A status'
``statustoelichting`` is free text that can hold internal notes: it is a note for staff
unless ``show_status_notes_to_citizens`` is on.
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Mapping
from typing import Any

from cachetools import TTLCache

from borgersag import (
    Case,
    ConfigError,
    Connector,
    DataError,
    DocumentContent,
    FatalError,
    ForbiddenError,
    Key,
    KeyKind,
    NotFound,
    Records,
    Setting,
    Unreadable,
    check_range,
    run_parallel,
)
from borgersag.connectors.zgw_auth import ZgwJwtAuth
from borgersag.connectors.zgw_calls import ZgwCalls
from borgersag.connectors.zgw_documents import document_of, filename_of
from borgersag.connectors.zgw_mapping import (
    CONFIDENTIALITY,
    PERSON_ID_FIELDS,
    REFUSED_PERSON_ID_FIELDS,
    is_uuid,
    parse_status_map,
)
from borgersag.connectors.zgw_zaak import ZaakMapper

__all__ = ["ZgwConnector", "ZgwJwtAuth"]

SEARCH_PATH = "zaken/_zoek"
CATALOGUE_CACHE_SIZE = 512
CATALOGUE_TTL_SECONDS = 3600.0
_PERSON_FILTER = "rol__betrokkeneIdentificatie__natuurlijkPersoon__"
_EMPLOYEE_FILTER = "rol__betrokkeneIdentificatie__medewerker__identificatie"
_DOCUMENT_KIND = "enkelvoudiginformatieobjecten"
_EXPANDS = ("rollen", "status")


class ZgwConnector(ZgwCalls, Connector):
    """Zaken by CPR number (any rol of the person) or medarbejdernummer (behandelaar)."""

    type_name = "zgw"
    title = "ZGW (Open Zaak)"
    key_kinds = frozenset({KeyKind.CPR, KeyKind.MEDARBEJDER})
    settings_schema = (
        Setting("base_url", str, "root URL of the Zaken API, e.g. https://…/zaken/api/v1/"),
        Setting(
            "catalogi_url",
            str,
            "root URL of the Catalogi API; empty: use the zaaktype URLs as given",
            default="",
        ),
        Setting("client_id", str, "the client id the server knows this portal by"),
        Setting("secret", str, "the client's shared secret (signs the JWT)", secret=True),
        Setting("user_id", str, "user_id claim, for the server's audit trail", default="borgersag"),
        Setting(
            "user_representation",
            str,
            "user_representation claim, for the server's audit trail",
            default="Borgersagsportal",
        ),
        Setting(
            "cpr_field",
            str,
            "field of the person's identification that holds the CPR number",
            default="anpIdentificatie",
        ),
        Setting(
            "documenten_url",
            str,
            "root URL of the Documenten API; empty: use the informatieobject URLs as given",
            default="",
        ),
        Setting("page_size", int, "zaken per request (1-500)", default=100),
        Setting("max_pages", int, "most requests per list (1-100)", default=10),
        Setting("parallel", int, "per-zaak requests at a time (1-32)", default=8),
        Setting(
            "use_expand",
            bool,
            "ask the search to include each zaak's rollen and current status (ZGW expand);"
            " zaken answered without them get per-zaak requests",
            default=True,
        ),
        Setting(
            "max_confidentiality",
            str,
            "the client's highest vertrouwelijkheidaanduiding in its authorisations, e.g."
            " 'vertrouwelijk'; empty: not known (zaken above it are invisible to the portal)",
            default="",
        ),
        Setting(
            "show_status_notes_to_citizens",
            bool,
            "show a status' statustoelichting to citizens (it can hold internal notes)",
            default=False,
        ),
        Setting(
            "status_map",
            str,
            "progress by statustype omschrijving, e.g. 'Visiteret=afgjort; Venteliste=oplyst'",
            default="",
        ),
        Setting(
            "deep_link_template",
            str,
            "link into the case system's client, with {uuid} and {identificatie}; empty for none",
            default="",
        ),
    )

    def __init__(self, name, settings, http):
        super().__init__(name, settings, http)
        self._cache: TTLCache = TTLCache(CATALOGUE_CACHE_SIZE, CATALOGUE_TTL_SECONDS)
        self._lock = threading.Lock()
        self._mapper = ZaakMapper(
            self,
            parse_status_map(self.settings["status_map"]),
            notes_for_citizens=self.settings["show_status_notes_to_citizens"],
        )

    # -- configuration --------------------------------------------------------------------

    @classmethod
    def validate_settings(cls, raw: Mapping[str, Any], file: str = "<config>", prefix: str = ""):
        """Also check the paging bounds, ``parallel``, ``cpr_field`` (``inpBsn`` is refused:
        it holds a 9-digit BSN, never a 10-digit CPR number), ``max_confidentiality`` and
        ``status_map`` (the base checks the URLs)."""
        settings = super().validate_settings(raw, file, prefix)
        check_range(settings["page_size"], 1, 500, file, prefix + "page_size")
        check_range(settings["max_pages"], 1, 100, file, prefix + "max_pages")
        check_range(settings["parallel"], 1, 32, file, prefix + "parallel")
        field = settings["cpr_field"]
        if field in REFUSED_PERSON_ID_FIELDS:
            raise ConfigError(file, prefix + "cpr_field", REFUSED_PERSON_ID_FIELDS[field])
        if field not in PERSON_ID_FIELDS:
            raise ConfigError(file, prefix + "cpr_field", "one of " + ", ".join(PERSON_ID_FIELDS))
        level = settings["max_confidentiality"]
        if level and level not in CONFIDENTIALITY:
            expected = "empty or one of " + ", ".join(CONFIDENTIALITY)
            raise ConfigError(file, prefix + "max_confidentiality", expected)
        try:
            parse_status_map(settings["status_map"])
        except ValueError as exc:
            raise ConfigError(file, prefix + "status_map", str(exc)) from None
        return settings

    @classmethod
    def make_auth(cls, settings: Mapping[str, Any], name: str | None = None) -> ZgwJwtAuth:
        """A fresh ZGW JWT per request, signed with ``secret``."""
        return ZgwJwtAuth(
            settings["client_id"],
            settings["secret"],
            settings.get("user_id", "borgersag"),
            settings.get("user_representation", "Borgersagsportal"),
        )

    # -- the contract ---------------------------------------------------------------------

    def search(self, key: Key) -> Records[Case]:
        """Zaken where the person has a rol (CPR) or the employee is behandelaar; a zaak
        that cannot be read (nor its rollen or current status) is counted, not fatal."""
        if key.kind is KeyKind.CPR:
            criteria = {_PERSON_FILTER + self.settings["cpr_field"]: key.value}
        elif key.kind is KeyKind.MEDARBEJDER:
            criteria = {_EMPLOYEE_FILTER: key.value, "rol__omschrijvingGeneriek": "behandelaar"}
        else:
            raise FatalError(f"{self.display_name} søger ikke på {key.label}.")
        if self.settings["use_expand"]:
            criteria = {**criteria, "expand": list(_EXPANDS)}
        r = self.reader
        listed: Records[tuple[dict, str, Any]] = Records()
        seen = 0  # zaken on earlier pages, read or not: positions run on across pages
        for items in self.pages("POST", SEARCH_PATH, "søgesvaret", {}, body=criteria, what="sager"):
            listed.merge(r.each(items, "results", self._listed, start=seen))
            seen += len(items)
        found: dict[str, tuple[dict, str, Any]] = {}
        for raw, where, included in listed:
            # a zaak registered while paging shifts the pages: one may come twice
            found.setdefault(raw["url"], (raw, where, included))
        zaken = list(found.values())
        self._prefetch_catalogue([raw for raw, _, _ in zaken])
        fetched: dict[str, Any] = {where: included for _, where, included in zaken}
        parts = [
            (where, raw["url"], kind, raw.get("status"))
            for raw, where, included in zaken
            if included is None
            for kind in ("rollen", "status")
        ]
        answers = run_parallel(self._overview_part, parts, self.settings["parallel"])
        for (where, _, kind, _), got in zip(parts, answers, strict=True):
            fetched[where] = {**(fetched[where] or {}), kind: got}

        def read(raw: dict, where: str) -> Case | None:
            got = fetched[where]
            rollen, statussen = got["rollen"], got["status"]
            for answer in (rollen, statussen):
                if isinstance(answer, DataError):
                    raise answer  # that zaak's rollen or status were unreadable
            return self._mapper.zaak(raw, where, key, rollen=rollen, statussen=statussen)

        mapped = r.each_at(((raw, where) for raw, where, _ in zaken), read, "results")
        problems = sorted([*listed.problems, *mapped.problems], key=_position)
        return Records((case for case in mapped if case is not None), problems=problems)

    def get_case(self, native_id: str) -> Case:
        """One zaak with its status history, rollen, resultaat and documents."""
        if not is_uuid(native_id):
            raise NotFound(f"{self.display_name} kender ikke sagen (id'er er UUID'er).")
        raw = self.call_json("GET", f"zaken/{native_id}")
        url, _ = self._mapper.identity(raw, "sagen")
        calls = {
            "rollen": lambda: self.list_all("rollen", {"zaak": url}, "sagen.rollen"),
            "statussen": lambda: self.list_all("statussen", {"zaak": url}, "sagen.statussen"),
            "links": lambda: self.document_links(url, "sagen"),
            "zaaktype": lambda: self._prefetch_catalogue([raw]),
        }
        names = list(calls)
        got = run_parallel(lambda n: calls[n](), names, self.settings["parallel"])
        answers = dict(zip(names, got, strict=True))
        documents = run_parallel(
            self._document, list(enumerate(answers["links"])), self.settings["parallel"]
        )
        case = self._mapper.zaak(
            raw,
            "sagen",
            None,
            rollen=answers["rollen"],
            statussen=answers["statussen"],
            documents=tuple(d for d in documents if d is not None),
            detail=True,
        )
        assert case is not None  # without a key nothing is filtered out
        withheld = sum(1 for d in documents if d is None)
        return dataclasses.replace(case, documents_withheld=withheld) if withheld else case

    def get_document(self, case_native_id: str, document_id: str) -> DocumentContent:
        """A document's content, if the document is linked to the zaak."""
        if not (is_uuid(case_native_id) and is_uuid(document_id)):
            raise NotFound(f"{self.display_name} kender ikke dokumentet (id'er er UUID'er).")
        zaak_url = self.http.url(f"zaken/{case_native_id}")
        links = self.document_links(zaak_url, "sagen")
        wanted = next((u for u in links if _tail(u).lower() == document_id.lower()), None)
        if wanted is None:
            raise NotFound(f"{self.display_name}: dokumentet hører ikke til sagen.")
        path = self._document_url(wanted, "dokumentet")
        meta, content = run_parallel(
            lambda part: (
                self.reader.expect(self.call_json("GET", path), dict, "dokumentet")
                if part == "meta"
                else self.call("GET", path + "/download", headers={"Accept": "*/*"})
            ),
            ["meta", "download"],
            2,
        )
        media = content.headers.get("Content-Type", "application/octet-stream").split(";")[0]
        filename, media_type = filename_of(self.reader, meta, media)
        return DocumentContent(filename, media_type, content.content)

    def health(self) -> str:
        """One zaak from the list: proves URL, JWT secret and the CRS header."""
        body = self.reader.expect(
            self.call_json("GET", "zaken", params={"pageSize": 1}), dict, "zaaklisten"
        )
        count = self.reader.field(body, "count", int, "zaaklisten", required=False)
        return "svarer" if count is None else f"svarer ({count} sager)"

    def caveat(self) -> str | None:
        """Zaken above the client's maximum confidentiality are left out by the server
        without a word: say so, unless the client may see every level."""
        level = self.settings["max_confidentiality"]
        if level == CONFIDENTIALITY[-1]:
            return None
        if level:
            return (
                f"Portalens adgang til {self.display_name} rækker til fortrolighedsniveauet"
                f" '{level}'; sager over det niveau er usynlige herfra."
            )
        return (
            f"Sager over portalens maksimale fortrolighedsniveau i {self.display_name} er"
            " usynlige herfra (klientens autorisationer)."
        )

    # -- per-zaak calls -------------------------------------------------------------------

    def _listed(self, raw: dict, where: str) -> tuple[dict, str, dict | None]:
        """A zaak of the search answer, checked: its identity, its current status' URL and
        what the search included of it (``None``: per-zaak calls are needed)."""
        self._mapper.identity(raw, where)
        included = self._expanded(raw, where)
        if included is None:
            self.reader.text(raw, "status", where)  # a URL, asked for in the next round
        return raw, where, included

    def _expanded(self, raw: dict, where: str) -> dict[str, list[dict]] | None:
        """The rollen and current status the search included (``_expand``), or ``None``
        when it did not include both (a server without expand ignores the request)."""
        r = self.reader
        included = raw.get("_expand")
        if not (isinstance(included, dict) and all(k in included for k in _EXPANDS)):
            return None
        at = f"{where}._expand"
        rollen = r.items(included, "rollen", at, required=True)
        status = included["status"]
        statussen = [] if status is None else [r.expect(status, dict, f"{at}.status")]
        return {"rollen": rollen, "status": statussen}

    def _overview_part(self, part: tuple[str, str, str, Any]) -> list[dict] | DataError:
        """The rollen of the zaak at ``where``, or its current status (``[]`` when it has
        none yet). A rol or status that cannot be read is returned, not raised: it costs
        that zaak, not the search. A failed request (timeout, 5xx, 403) or an answer that
        is not even a page or an object (a broken endpoint) still fails the search."""
        where, url, kind, status = part
        try:
            if kind == "rollen":
                return self.list_all(
                    "rollen", {"zaak": url}, "rollerne på sagen", f"{where}.rollen"
                )
            if not status:
                return []
            path = self.resolve("statussen", status, f"{where}.status")
            return [self.reader.expect(self.call_json("GET", path), dict, "sagens status")]
        except DataError as exc:
            return exc  # Reader.each_at counts it for the zaak, or re-raises it

    def _prefetch_catalogue(self, zaken: list[dict]) -> None:
        """The zaaktypen of ``zaken`` and their statustypen, in two parallel rounds (both
        cached: a warm cache makes no call). Best effort: what cannot be read here is read
        again, and reported, by the zaak that needs it."""
        limit = self.settings["parallel"]
        wanted = sorted({u for z in zaken if isinstance(u := z.get("zaaktype"), str) and u})
        zaaktypen = run_parallel(lambda u: self._warm(u, "sagen.zaaktype"), wanted, limit)
        statustypen = {
            url
            for zt in zaaktypen
            if zt is not None and isinstance(zt.get("statustypen"), list)
            for url in zt["statustypen"]
            if isinstance(url, str)
        }
        run_parallel(lambda u: self._warm(u, "statustyperne"), sorted(statustypen), limit)

    def _warm(self, url: str, where: str) -> dict | None:
        """A catalogue object into the cache; ``None`` when its URL or body is unreadable."""
        try:
            return self.catalogue(url, where)
        except DataError:
            return None

    def document_links(self, zaak_url: str, where: str) -> list[str]:
        """The ``informatieobject`` URLs of a zaak (``zaakinformatieobjecten``: a plain
        array, no paging)."""
        r = self.reader
        items = r.expect(
            self.call_json("GET", "zaakinformatieobjecten", params={"zaak": zaak_url}),
            list,
            f"dokumentlisten på {where}",
        )
        links = []
        for i, item in enumerate(items):
            at = f"dokumentlisten på {where}[{i}]"
            links.append(r.text(r.expect(item, dict, at), "informatieobject", at, required=True))
        return links

    def _document(self, numbered: tuple[int, str]):
        """One linked document's metadata as a :class:`~borgersag.Document`; ``None`` when
        the client's authorisations do not reach it (the case page shows the others)."""
        i, url = numbered
        where = f"sagens dokumenter[{i}]"
        try:
            body = self.call_json("GET", self._document_url(url, where))
        except ForbiddenError:
            return None
        return document_of(self.reader, self.reader.expect(body, dict, where), where, self.name)

    def _document_url(self, url: str, where: str) -> str:
        """With ``documenten_url`` set, the document's uuid joined to it; without, the URL
        itself, which must be on ``base_url``'s server (the JWT goes with it)."""
        return self._api_url(url, where, (_DOCUMENT_KIND,), "documenten_url", "Documenten")


def _position(problem: Unreadable) -> int:
    """The index of ``results[i]``: problems are reported in the answer's order."""
    return int(problem.position.rpartition("[")[2].rstrip("]") or 0)


def _tail(url: str) -> str:
    return url.rstrip("/").rsplit("/", 1)[-1]
