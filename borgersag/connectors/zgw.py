"""ZGW connector: zaken from a ZGW Zaken API (Open Zaak and other implementations).

Searches with ``POST zaken/_zoek`` — the filters travel in the JSON body, so a CPR number
never appears in a URL or an access log — by the person's identification in a rol (CPR
search) or by a medewerker's identificatie with ``rol__omschrijvingGeneriek=behandelaar``
(medarbejdernummer search). For each zaak it reads ``statussen`` and ``rollen``, and the
zaaktype with its statustypen from the Catalogi API (cached per instance: they are
catalogue data). Every request carries a freshly minted ZGW JWT and ``Accept-Crs``.

The result is checked, not trusted: a server that ignores a filter it does not know would
answer with *every* zaak, so a zaak on which the searched person has no rol stops the
search with a clear error instead of being shown; for a medarbejdernummer only zaken where
they are behandelaar are kept.

Progress comes from the status' position among the zaaktype's statustypen (see
:func:`borgersag.connectors.zgw_mapping.progress_at`; ``status_map`` overrides it by name), the
status text for the citizen from the statustype's ``statustekst``.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator, Mapping
from typing import Any
from urllib.parse import parse_qsl, quote, urljoin, urlsplit

import requests
from cachetools import TTLCache
from jose import jwt

from borgersag import (
    Case,
    ConfigError,
    Connector,
    FatalError,
    ForbiddenError,
    Key,
    KeyKind,
    NotFound,
    Setting,
    check_range,
)
from borgersag.connectors.zgw_mapping import PERSON_ID_FIELDS, is_uuid, parse_status_map
from borgersag.connectors.zgw_zaak import ZaakMapper

__all__ = ["ZgwConnector", "ZgwJwtAuth"]

CRS = "EPSG:4326"
SEARCH_PATH = "zaken/_zoek"
CATALOGUE_CACHE_SIZE = 512
CATALOGUE_TTL_SECONDS = 3600.0
_PERSON_FILTER = "rol__betrokkeneIdentificatie__natuurlijkPersoon__"
_EMPLOYEE_FILTER = "rol__betrokkeneIdentificatie__medewerker__identificatie"
_CATALOGUE_KINDS = ("zaaktypen", "statustypen", "roltypen", "resultaattypen")


class ZgwJwtAuth(requests.auth.AuthBase):
    """The ZGW APIs' JWT, minted fresh for every request, plus Open Zaak's CRS headers.

    HS256 with the client's shared secret; claims ``iss`` and ``client_id`` (the client
    id), ``iat`` (now), ``user_id`` and ``user_representation`` (for the server's audit
    trail). A token lives only as long as the server accepts its ``iat``.
    """

    def __init__(
        self,
        client_id: str,
        secret: str,
        user_id: str,
        user_representation: str,
        clock=time.time,
    ):
        self.client_id = client_id
        self._secret = secret
        self.user_id = user_id
        self.user_representation = user_representation
        self._clock = clock

    def token(self) -> str:
        """A new signed JWT."""
        claims = {
            "iss": self.client_id,
            "iat": int(self._clock()),
            "client_id": self.client_id,
            "user_id": self.user_id,
            "user_representation": self.user_representation,
        }
        return jwt.encode(claims, self._secret, algorithm="HS256")

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        request.headers["Authorization"] = f"Bearer {self.token()}"
        request.headers["Accept-Crs"] = CRS
        if request.body is not None:
            request.headers["Content-Crs"] = CRS
        return request


class ZgwConnector(Connector):
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
        Setting("page_size", int, "zaken per request (1-500)", default=100),
        Setting("max_pages", int, "most requests per list (1-100)", default=10),
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
        self._mapper = ZaakMapper(self, parse_status_map(self.settings["status_map"]))

    # -- configuration --------------------------------------------------------------------

    @classmethod
    def validate_settings(cls, raw: Mapping[str, Any], file: str = "<config>", prefix: str = ""):
        """Also check the paging bounds, ``cpr_field`` and ``status_map`` (the base checks
        the URLs)."""
        settings = super().validate_settings(raw, file, prefix)
        check_range(settings["page_size"], 1, 500, file, prefix + "page_size")
        check_range(settings["max_pages"], 1, 100, file, prefix + "max_pages")
        if settings["cpr_field"] not in PERSON_ID_FIELDS:
            raise ConfigError(file, prefix + "cpr_field", "one of " + ", ".join(PERSON_ID_FIELDS))
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

    def search(self, key: Key) -> list[Case]:
        """Zaken where the person has a rol (CPR) or the employee is behandelaar."""
        if key.kind is KeyKind.CPR:
            criteria = {_PERSON_FILTER + self.settings["cpr_field"]: key.value}
        elif key.kind is KeyKind.MEDARBEJDER:
            criteria = {_EMPLOYEE_FILTER: key.value, "rol__omschrijvingGeneriek": "behandelaar"}
        else:
            raise FatalError(f"{self.display_name} søger ikke på {key.label}.")
        cases: list[Case] = []
        seen = 0
        pages = self.pages("POST", SEARCH_PATH, "søgesvaret", {}, body=criteria, what="sager")
        for results in pages:
            for raw in results:
                case = self._mapper.zaak(raw, f"results[{seen}]", key)
                seen += 1
                if case is not None:
                    cases.append(case)
        # a zaak registered while paging shifts the pages: one may come twice
        return list({case.id: case for case in cases}.values())

    def get_case(self, native_id: str) -> Case:
        """One zaak with its history, rollen and resultaat."""
        if not is_uuid(native_id):
            raise NotFound(f"{self.display_name} kender ikke sagen (id'er er UUID'er).")
        raw = self.call_json("GET", f"zaken/{native_id}")
        case = self._mapper.zaak(raw, "sagen", None, detail=True)
        assert case is not None  # without a key nothing is filtered out
        return case

    def health(self) -> str:
        """One zaak from the list: proves URL, JWT secret and the CRS header."""
        body = self.reader.expect(
            self.call_json("GET", "zaken", params={"pageSize": 1}), dict, "zaaklisten"
        )
        count = self.reader.field(body, "count", int, "zaaklisten", required=False)
        return "svarer" if count is None else f"svarer ({count} sager)"

    # -- HTTP helpers (used by the mapper too) --------------------------------------------

    def call_json(self, method: str, path: str, **kwargs: Any) -> Any:
        """A JSON call through the session; a refusal names what to check."""
        try:
            if method == "POST":
                return self.http.post_json(path, kwargs.pop("json"), **kwargs)
            return self.http.get_json(path, **kwargs)
        except ForbiddenError as exc:
            raise ForbiddenError(
                f"{self.display_name} afviste adgangen (HTTP {exc.status_code}); tjek client_id"
                " og secret, og at klienten må læse zaker og catalogi.",
                status_code=exc.status_code,
            ) from None

    def list_all(self, path: str, params: dict[str, Any], where: str) -> list[dict]:
        """Every item of a paginated list, bounded by ``max_pages``."""
        return [item for page in self.pages("GET", path, where, params) for item in page]

    def pages(
        self,
        method: str,
        path: str,
        where: str,
        params: dict[str, Any],
        *,
        body: dict | None = None,
        what: str = "elementer",
    ) -> Iterator[list[dict]]:
        """The ``results`` of each page of a list, following ``next`` at most
        ``max_pages`` times; more pages than that is a :class:`FatalError`.

        Only the query of a ``next`` link is used, on the same path of ``base_url``: the
        portal talks to the server it is configured for, whatever host a server behind a
        proxy writes into its links. The link must lead to a later page.
        """
        r, size = self.reader, self.settings["page_size"]
        query: dict[str, Any] = {**params, "page": 1, "pageSize": size}
        extra = {} if body is None else {"json": body}
        for _ in range(self.settings["max_pages"]):
            answer = r.expect(self.call_json(method, path, params=query, **extra), dict, where)
            yield r.items(answer, "results", where, required=True)
            following = r.text(answer, "next", where)
            if not following:
                return
            current, query = int(query["page"]), dict(parse_qsl(urlsplit(following).query))
            page = query.get("page", "")
            if not (page.isascii() and page.isdigit()) or int(page) <= current:
                raise r.fail(f"{where}.next", "fører ikke til en senere side (page)")
        raise FatalError(
            f"{self.display_name} har flere {what} end {self.settings['max_pages']} sider à"
            f" {size} ({where}); flere må ikke hentes (indstillingen max_pages)."
        )

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
        body = self.reader.expect(self.call_json("GET", resolved), dict, where)
        with self._lock:
            self._cache[resolved] = body
        return body

    def _catalogue_url(self, url: str, where: str) -> str:
        """With ``catalogi_url`` set, ``<kind>/<uuid>`` from the URL joined to it; without,
        the URL itself, which must be on ``base_url``'s server (the JWT goes with it)."""
        parts = urlsplit(url)
        kind, _, tail = parts.path.rstrip("/").rpartition("/")
        kind = kind.rsplit("/", 1)[-1]
        if kind not in _CATALOGUE_KINDS or not is_uuid(tail):
            raise self.reader.fail(where, "er ikke en URL til et katalogobjekt")
        catalogi = self.settings["catalogi_url"]
        if catalogi:
            return urljoin(catalogi if catalogi.endswith("/") else catalogi + "/", f"{kind}/{tail}")
        base = urlsplit(self.http.base_url)
        if (parts.scheme, parts.netloc) != (base.scheme, base.netloc):
            raise FatalError(
                f"{self.display_name}: {where} peger på en anden server end base_url;"
                " sæt catalogi_url til Catalogi-API'ets adresse."
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
