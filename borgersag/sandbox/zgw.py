"""The sandbox ZGW case system: Open Zaak's Zaken API 1.5.1 and Catalogi API 1.3.1.

Served as Open Zaak serves them, under ``/zaken/api/v1/`` and ``/catalogi/api/v1/``:

* ``GET zaken`` (filters as query parameters) and ``POST zaken/_zoek`` (the same filters
  in a JSON body, which keeps a CPR number out of URLs), ``GET zaken/{uuid}``;
  ``GET statussen?zaak=…``, ``GET rollen?zaak=…`` and their ``/{uuid}``;
* ``GET catalogussen/{uuid}``, ``zaaktypen``, ``statustypen``, ``roltypen`` (lists and
  ``/{uuid}``).

Lists are paginated ``{count, next, previous, results}`` with ``page`` and ``pageSize``
(default 100, at most 500); URLs are absolute. Every request needs the ZGW JWT: HS256 with
the client's shared secret, claims ``client_id`` and ``iat`` (also ``iss``, ``user_id``,
``user_representation``); a missing or bad one gets 403 with an Open Zaak style problem
body. The zaken endpoints want ``Accept-Crs: EPSG:4326`` (412 without it) and answer with
``Content-Crs``; ``_zoek`` wants ``Content-Crs`` too.

Filters on rollen work as in Open Zaak (Django): each ``rol__…`` filter may be met by a
different rol of the zaak; unknown filters are ignored.
"""

from __future__ import annotations

import json
import math
import time
import uuid as uuidlib
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import urlencode

from flask import Flask, Response, jsonify, request
from jose import jwt
from jose.exceptions import ExpiredSignatureError, JWTClaimsError, JWTError

from borgersag.sandbox.data import Municipality
from borgersag.sandbox.faults import Faults
from borgersag.sandbox.service import make_service_app
from borgersag.sandbox.zgw_data import Rol, RolType, StatusType, Zaak, ZaakType, build_register
from borgersag.sandbox.zgw_json import (
    Urls,
    catalogus_json,
    rol_json,
    roltype_json,
    status_json,
    statustype_json,
    zaak_json,
    zaaktype_json,
)

__all__ = ["CREDENTIALS", "CRS", "JWT_LEEWAY", "JWT_MAX_AGE", "MAX_PAGE_SIZE", "create_app"]

CREDENTIALS = {"client_id": "borgersag", "secret": "sandbox-zgw-secret"}
"""The sandbox's one API client (Open Zaak's "Applicatie" with a client id and secret)."""
JWT_MAX_AGE = 3600  # seconds an iat may lie in the past, as Open Zaak's JWT_EXPIRY
JWT_LEEWAY = 60  # seconds an iat may lie in the future (clock skew)
DEFAULT_PAGE_SIZE = 100
MAX_PAGE_SIZE = 500
CRS = "EPSG:4326"
ZAKEN = "/zaken/api/v1/"
CATALOGI = "/catalogi/api/v1/"
API_VERSIONS = {ZAKEN: "1.5.1", CATALOGI: "1.3.1"}

# rol filters: query name -> (betrokkeneType, field of betrokkeneIdentificatie)
_ROL_FILTERS = {
    "betrokkeneIdentificatie__natuurlijkPersoon__inpBsn": ("natuurlijk_persoon", "inpBsn"),
    "betrokkeneIdentificatie__natuurlijkPersoon__anpIdentificatie": (
        "natuurlijk_persoon",
        "anpIdentificatie",
    ),
    "betrokkeneIdentificatie__medewerker__identificatie": ("medewerker", "identificatie"),
}


def create_app(municipality: Municipality, faults: Faults | None = None) -> Flask:
    """The ZGW APIs for ``municipality``, with ``faults`` as the knobs."""
    register = build_register(municipality)
    clients = {CREDENTIALS["client_id"]: CREDENTIALS["secret"]}
    app = make_service_app(
        "zgw", "Open Zaak", faults or Faults(), authorize=lambda: _check_jwt(clients)
    )
    m = municipality

    @app.after_request
    def _api_version(response: Response) -> Response:
        for prefix, version in API_VERSIONS.items():
            if request.path.startswith(prefix):
                response.headers["API-version"] = version
        return response

    # -- Zaken API ------------------------------------------------------------------------

    @app.get(ZAKEN + "zaken")
    def zaken_list():
        return _crs_checked(lambda: _zaken_page(register.zaken, request.args))

    @app.post(ZAKEN + "zaken/_zoek")
    def zaken_search():
        return _crs_checked(_search, content=True)

    def _search():
        body = request.get_json(silent=True)
        if not isinstance(body, dict):
            return fout(400, "invalid", "Ugyldig forespørgsel.", "Send filtrene i et JSON-objekt.")
        known = [k for k in body if k.startswith("rol__") or k in ("identificatie", "zaaktype")]
        if any(not isinstance(body[k], str) for k in known):
            return fout(400, "invalid", "Ugyldig forespørgsel.", "Filterværdier skal være tekst.")
        return _zaken_page(register.zaken, {k: body[k] for k in known})

    def _zaken_page(zaken: tuple[Zaak, ...], criteria: Mapping[str, str]):
        found = [z for z in zaken if _zaak_matches(z, criteria)]
        return _page(found, lambda z: zaak_json(Urls(request.host_url), z))

    @app.get(ZAKEN + "zaken/<zaak_uuid>")
    def zaak_detail(zaak_uuid: str):
        zaak = register.zaak(zaak_uuid)
        if zaak is None:
            return _crs_checked(lambda: _not_found("zaak"))
        return _crs_checked(lambda: jsonify(zaak_json(Urls(request.host_url), zaak)))

    @app.get(ZAKEN + "statussen")
    def statussen_list():
        args = request.args
        found = [
            (zaak, status)
            for zaak in _zaken_of(register.zaken, args.get("zaak"))
            for status in reversed(zaak.statussen)  # newest first, as Open Zaak lists them
            if _tail(args.get("statustype")) in (None, status.statustype.uuid)
        ]
        return _page(found, lambda pair: status_json(Urls(request.host_url), *pair))

    @app.get(ZAKEN + "statussen/<status_uuid>")
    def status_detail(status_uuid: str):
        found = register.status(status_uuid)
        if found is None:
            return _not_found("status")
        return jsonify(status_json(Urls(request.host_url), *found))

    @app.get(ZAKEN + "rollen")
    def rollen_list():
        args = request.args
        found = [
            (zaak, rol)
            for zaak in _zaken_of(register.zaken, args.get("zaak"))
            for rol in zaak.rollen
            if _rol_matches(rol, args)
        ]
        return _page(found, lambda pair: rol_json(Urls(request.host_url), m, *pair))

    @app.get(ZAKEN + "rollen/<rol_uuid>")
    def rol_detail(rol_uuid: str):
        found = register.rol(rol_uuid)
        if found is None:
            return _not_found("rol")
        return jsonify(rol_json(Urls(request.host_url), m, *found))

    # -- Catalogi API ---------------------------------------------------------------------

    @app.get(CATALOGI + "catalogussen/<item_uuid>")
    def catalogus_detail(item_uuid: str):
        if item_uuid != register.catalogus_uuid:
            return _not_found("catalogus")
        return jsonify(catalogus_json(Urls(request.host_url), register))

    @app.get(CATALOGI + "zaaktypen")
    def zaaktypen_list():
        args = request.args
        found = [
            zt
            for zt in register.zaaktypen
            if args.get("identificatie") in (None, zt.identificatie)
            and _tail(args.get("catalogus")) in (None, register.catalogus_uuid)
        ]
        return _page(found, lambda zt: zaaktype_json(Urls(request.host_url), register, zt))

    @app.get(CATALOGI + "statustypen")
    def statustypen_list():
        found = [
            (zt, st)
            for zt in _zaaktypen_of(register.zaaktypen, request.args.get("zaaktype"))
            for st in zt.statustypen
        ]
        return _page(found, lambda p: statustype_json(Urls(request.host_url), register, *p))

    @app.get(CATALOGI + "roltypen")
    def roltypen_list():
        wanted = request.args.get("omschrijvingGeneriek")
        found = [
            (zt, rt)
            for zt in _zaaktypen_of(register.zaaktypen, request.args.get("zaaktype"))
            for rt in (zt.initiator, zt.behandelaar)
            if wanted in (None, rt.generiek)
        ]
        return _page(found, lambda p: roltype_json(Urls(request.host_url), register, *p))

    @app.get(CATALOGI + "<kind>/<item_uuid>")
    def catalogue_detail(kind: str, item_uuid: str):
        found = register.catalogue_item(item_uuid)
        renderers: dict[str, tuple[type, Callable[..., dict]]] = {
            "zaaktypen": (ZaakType, lambda u, zt, _: zaaktype_json(u, register, zt)),
            "statustypen": (StatusType, lambda u, zt, it: statustype_json(u, register, zt, it)),
            "roltypen": (RolType, lambda u, zt, it: roltype_json(u, register, zt, it)),
        }
        if kind not in renderers:
            return _not_found("ressource")
        cls, render = renderers[kind]
        if found is None or not isinstance(found[1], cls):
            return _not_found(kind)
        return jsonify(render(Urls(request.host_url), *found))

    return app


# -- helpers ----------------------------------------------------------------------------


def fout(status: int, code: str, title: str, detail: str, **extra: Any) -> Response:
    """An Open Zaak style problem body (the specs' ``Fout``)."""
    body = {
        "type": f"{request.host_url}ref/fouten/{code}/",
        "code": code,
        "title": title,
        "status": status,
        "detail": detail,
        "instance": f"urn:uuid:{uuidlib.uuid4()}",
        **extra,
    }
    return Response(
        json.dumps(body, ensure_ascii=False), status=status, mimetype="application/problem+json"
    )


def _not_found(what: str) -> Response:
    return fout(404, "not_found", "Ikke fundet.", f"Ingen {what} med det id.")


def _check_jwt(clients: Mapping[str, str]) -> Response | None:
    """``None`` when the request carries a valid ZGW JWT, else the 403 to send."""
    header = request.headers.get("Authorization", "")
    if not header:
        return fout(
            403,
            "not_authenticated",
            "Adgangsoplysninger mangler.",
            "Send 'Authorization: Bearer <JWT>' (HS256, client_id og iat).",
        )
    scheme, _, token = header.partition(" ")
    token = token.strip()

    def refuse(detail: str, code: str = "authentication_failed") -> Response:
        return fout(403, code, "Adgang nægtet.", detail)

    if scheme.lower() != "bearer" or not token:
        return refuse("Forventede 'Authorization: Bearer <JWT>'.")
    try:
        claims = jwt.get_unverified_claims(token)
    except JWTError:
        return refuse("Tokenet er ikke et gyldigt JWT.")
    client_id = claims.get("client_id")
    secret = clients.get(client_id) if isinstance(client_id, str) else None
    if secret is None:
        return refuse("Ukendt client_id.", "permission_denied")
    try:
        jwt.decode(token, secret, algorithms=["HS256"], options={"verify_aud": False})
    except ExpiredSignatureError:
        return refuse("JWT'et er udløbet (exp).")
    except JWTClaimsError:
        return refuse("JWT'ets iat (eller exp) er ikke et heltal (UNIX-tid).")
    except JWTError:
        return refuse("JWT'ets signatur er ugyldig (forkert secret, eller ikke HS256).")
    issued = claims.get("iat")
    now = time.time()
    if isinstance(issued, bool) or not isinstance(issued, int):
        return refuse("JWT'et mangler iat (et heltal, UNIX-tid).")
    if issued > now + JWT_LEEWAY:
        return refuse("JWT'ets iat ligger i fremtiden; tjek klientens ur.")
    if issued < now - JWT_MAX_AGE:
        return refuse(f"JWT'et er udløbet (iat er mere end {JWT_MAX_AGE} sekunder gammel).")
    return None


def _crs_checked(answer: Callable[[], Response | tuple], *, content: bool = False):
    """Open Zaak's geo headers on the zaken endpoints: ``Accept-Crs`` (and ``Content-Crs``
    for a body) must be EPSG:4326; the answer says ``Content-Crs``."""
    accept = request.headers.get("Accept-Crs")
    if accept is None:
        return fout(412, "precondition_failed", "Forudsætning ikke opfyldt.", "Accept-Crs mangler.")
    if accept != CRS:
        return fout(406, "not_acceptable", "Ikke acceptabelt.", f"Kun Accept-Crs: {CRS}.")
    if content:
        given = request.headers.get("Content-Crs")
        if given is None:
            return fout(
                412, "precondition_failed", "Forudsætning ikke opfyldt.", "Content-Crs mangler."
            )
        if given != CRS:
            return fout(415, "unsupported_media_type", "Ikke understøttet.", f"Kun {CRS}.")
    response = answer()
    if isinstance(response, Response) and response.status_code == 200:
        response.headers["Content-Crs"] = CRS
    return response


def _page(items: list, render: Callable[[Any], dict]) -> Response:
    """One page of ``items`` as ``{count, next, previous, results}``."""
    try:
        page = int(request.args.get("page", "1"))
        size = int(request.args.get("pageSize", str(DEFAULT_PAGE_SIZE)))
    except ValueError:
        return fout(
            400,
            "invalid",
            "Ugyldig forespørgsel.",
            "page og pageSize skal være heltal.",
            invalidParams=[{"name": "page", "code": "invalid", "reason": "Et heltal."}],
        )
    size = max(1, min(size, MAX_PAGE_SIZE))
    pages = max(1, math.ceil(len(items) / size))
    if not 1 <= page <= pages:
        return fout(404, "not_found", "Ikke fundet.", "Ugyldig side.")

    def link(number: int) -> str:
        args = request.args.to_dict(flat=False)
        args["page"] = [str(number)]
        return f"{request.base_url}?{urlencode(args, doseq=True)}"

    return jsonify(
        {
            "count": len(items),
            "next": link(page + 1) if page < pages else None,
            "previous": link(page - 1) if page > 1 else None,
            "results": [render(item) for item in items[(page - 1) * size : page * size]],
        }
    )


def _tail(url: str | None) -> str | None:
    """The uuid at the end of a resource URL (the host may differ behind a proxy)."""
    return url.rstrip("/").rsplit("/", 1)[-1] if url is not None else None


def _zaken_of(zaken: tuple[Zaak, ...], zaak_url: str | None) -> tuple[Zaak, ...]:
    wanted = _tail(zaak_url)
    return zaken if wanted is None else tuple(z for z in zaken if z.uuid == wanted)


def _zaaktypen_of(zaaktypen: tuple[ZaakType, ...], url: str | None) -> tuple[ZaakType, ...]:
    wanted = _tail(url)
    return zaaktypen if wanted is None else tuple(zt for zt in zaaktypen if zt.uuid == wanted)


def _identification(rol: Rol, field: str) -> str:
    """A rol's betrokkeneIdentificatie field: the CPR number is ``anpIdentificatie``."""
    if rol.betrokkene_type == "medewerker":
        return rol.identificatie if field == "identificatie" else ""
    return rol.identificatie if field == "anpIdentificatie" else ""


def _rol_matches(rol: Rol, criteria: Mapping[str, str], prefix: str = "") -> bool:
    """Whether one rol meets the rol filters in ``criteria`` (names after ``prefix``)."""
    for name, value in criteria.items():
        if not name.startswith(prefix):
            continue
        name = name[len(prefix) :]
        if name in _ROL_FILTERS:
            kind, field = _ROL_FILTERS[name]
            ok = rol.betrokkene_type == kind and _identification(rol, field) == value
        elif name == "omschrijvingGeneriek":
            ok = rol.roltype.generiek == value
        elif name == "betrokkeneType":
            ok = rol.betrokkene_type == value
        else:
            ok = True  # an unknown filter is ignored, as Open Zaak does
        if not ok:
            return False
    return True


def _zaak_matches(zaak: Zaak, criteria: Mapping[str, str]) -> bool:
    """Open Zaak's zaak filters; each ``rol__`` filter may be met by a different rol."""
    for name, value in criteria.items():
        if name.startswith("rol__"):
            ok = any(_rol_matches(r, {name: value}, "rol__") for r in zaak.rollen)
        elif name == "identificatie":
            ok = zaak.identificatie == value
        elif name == "zaaktype":
            ok = _tail(value) == zaak.zaaktype.uuid
        else:
            ok = True
        if not ok:
            return False
    return True
