"""The sandbox ZGW case system: Open Zaak's Zaken API 1.5.1, Catalogi API 1.3.1 and
Documenten API 1.4.2.

Served as Open Zaak serves them, under ``/zaken/api/v1/``, ``/catalogi/api/v1/`` and
``/documenten/api/v1/``:

* ``GET zaken`` (filters as query parameters) and ``POST zaken/_zoek`` (the same filters
  in a JSON body, which keeps a CPR number out of URLs), ``GET zaken/{uuid}``;
  ``GET statussen?zaak=…``, ``GET rollen?zaak=…``, ``GET zaakinformatieobjecten?zaak=…``
  (a plain array) and their ``/{uuid}``;
* ``GET catalogussen/{uuid}``, ``zaaktypen``, ``statustypen``, ``roltypen`` (lists and
  ``/{uuid}``);
* ``GET enkelvoudiginformatieobjecten`` (list and ``/{uuid}``) and ``…/{uuid}/download``.

Lists are paginated ``{count, next, previous, results}`` with ``page`` and ``pageSize``
(default 100, at most 500); URLs are absolute. Every request needs the ZGW JWT of a known
client (:data:`CLIENTS`); a client sees only what its maximum confidentiality reaches:
zaken and documents above it are left out of lists, and a GET on one is 403. The zaken
endpoints want ``Accept-Crs: EPSG:4326`` (412 without it) and answer with ``Content-Crs``;
``_zoek`` wants ``Content-Crs`` too. An unknown query parameter or a bad value is 400 with
``invalidParams``; a page past the end is 404 (see :mod:`.zgw_http`).

Filters on rollen work as in Open Zaak (Django): each ``rol__…`` filter may be met by a
different rol of the zaak; an unknown filter in a ``_zoek`` body is ignored — the answer
is then every zaak the client may see, as in Open Zaak.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from flask import Flask, Response, jsonify, request

from borgersag.sandbox.data import Municipality
from borgersag.sandbox.faults import Faults
from borgersag.sandbox.section import DEFAULT_LATENCY_MS as SERVICE_LATENCY_MS
from borgersag.sandbox.service import make_service_app
from borgersag.sandbox.zgw_data import (
    Rol,
    RolType,
    StatusType,
    Zaak,
    ZaakType,
    ZgwRegister,
    build_register,
)
from borgersag.sandbox.zgw_documenten import add_documenten_api
from borgersag.sandbox.zgw_hostile import make_hostile
from borgersag.sandbox.zgw_http import (
    CRS,
    JWT_LEEWAY,
    JWT_MAX_AGE,
    MAX_PAGE_SIZE,
    PAGING,
    BadRequest,
    Client,
    check_jwt,
    crs_checked,
    forbidden,
    fout,
    not_found,
    page,
    query,
    tail,
    visible,
)
from borgersag.sandbox.zgw_json import (
    Urls,
    catalogus_json,
    rol_json,
    roltype_json,
    status_json,
    statustype_json,
    zaak_json,
    zaakinformatieobject_json,
    zaaktype_json,
)

__all__ = [
    "CLIENTS",
    "CREDENTIALS",
    "CRS",
    "DEFAULT_LATENCY_MS",
    "JWT_LEEWAY",
    "JWT_MAX_AGE",
    "LIMITED_CREDENTIALS",
    "MAX_PAGE_SIZE",
    "create_app",
    "fout",
]

CREDENTIALS = {"client_id": "borgersag", "secret": "sandbox-zgw-secret"}
"""The portal's API client (Open Zaak's "Applicatie"); its authorisations reach every level."""
LIMITED_CREDENTIALS = {"client_id": "borgersag-begraenset", "secret": "sandbox-zgw-begraenset"}
"""A client whose authorisations stop at ``zaakvertrouwelijk`` (for tests and the docs)."""
CLIENTS = {
    CREDENTIALS["client_id"]: Client(CREDENTIALS["client_id"], CREDENTIALS["secret"]),
    LIMITED_CREDENTIALS["client_id"]: Client(
        LIMITED_CREDENTIALS["client_id"], LIMITED_CREDENTIALS["secret"], "zaakvertrouwelijk"
    ),
}
DEFAULT_LATENCY_MS = SERVICE_LATENCY_MS["zgw"]
"""The service's latency per call unless ``[sandbox.services.zgw] latency_ms`` says
otherwise (80 ms; one table for every service:
:data:`borgersag.sandbox.section.DEFAULT_LATENCY_MS`), realistic for a small real Open Zaak:
``_zoek`` 120-500 ms, ``rollen`` 90-150, ``statussen`` 70-95, a catalogue object 40-110
(see docs/sandbox.md)."""
ZAKEN = "/zaken/api/v1/"
CATALOGI = "/catalogi/api/v1/"
DOCUMENTEN = "/documenten/api/v1/"
API_VERSIONS = {ZAKEN: "1.5.1", CATALOGI: "1.3.1", DOCUMENTEN: "1.4.2"}
GENERIEK = ("adviseur", "behandelaar", "belanghebbende", "beslisser", "initiator")
GENERIEK += ("klantcontacter", "mede_initiator", "zaakcoordinator")
BETROKKENE = ("natuurlijk_persoon", "niet_natuurlijk_persoon", "vestiging")
BETROKKENE += ("organisatorische_eenheid", "medewerker")

# rol filters: query name -> (betrokkeneType, field of betrokkeneIdentificatie)
_ROL_FILTERS = {
    "betrokkeneIdentificatie__natuurlijkPersoon__inpBsn": ("natuurlijk_persoon", "inpBsn"),
    "betrokkeneIdentificatie__natuurlijkPersoon__anpIdentificatie": (
        "natuurlijk_persoon",
        "anpIdentificatie",
    ),
    "betrokkeneIdentificatie__medewerker__identificatie": ("medewerker", "identificatie"),
}
_ROL_CHOICES = {"omschrijvingGeneriek": GENERIEK, "betrokkeneType": BETROKKENE}
EXPANDS = ("rollen", "status")
"""What the sandbox can ``expand`` on a zaak (the specification lists more; others are 400)."""
_ZAAK_FILTERS = (
    *(f"rol__{name}" for name in (*_ROL_FILTERS, *_ROL_CHOICES)),
    "identificatie",
    "zaaktype",
)


def create_app(
    municipality: Municipality,
    faults: Faults | None = None,
    *,
    register: ZgwRegister | None = None,
    clients: Mapping[str, Client] = CLIENTS,
    hostile: Callable[[], bool] | None = None,
) -> Flask:
    """The ZGW APIs for ``municipality`` (``register``: its data, built if not given), with
    ``faults`` as the knobs and ``clients`` as the API clients.

    ``hostile`` says, per request, whether to answer in hostile-data mode
    (:mod:`.zgw_hostile`); by default it follows the fault knob :attr:`Faults.hostile`,
    so ``borgersag sandbox-fault zgw --hostile`` turns it on while the service runs.
    """
    register = register or build_register(municipality)
    faults = faults or Faults()
    app = make_service_app("zgw", "Open Zaak", faults, authorize=lambda: check_jwt(clients))
    if hostile is None:

        def hostile() -> bool:
            return faults.hostile

    m = municipality

    def urls() -> Urls:
        return Urls(request.host_url)

    @app.after_request
    def _api_version(response: Response) -> Response:
        for prefix, version in API_VERSIONS.items():
            if request.path.startswith(prefix):
                response.headers["API-version"] = version
                if hostile():
                    make_hostile(response)
        return response

    @app.errorhandler(BadRequest)
    def _bad_request(exc: BadRequest):
        return exc.response()

    def zaken_seen() -> list[Zaak]:
        return [z for z in register.zaken if visible(z.vertrouwelijkheid)]

    def zaken_of(args: Mapping[str, str]) -> list[Zaak]:
        """The visible zaken a ``zaak`` filter names (all visible ones without it)."""
        wanted = tail(args.get("zaak"))
        return [z for z in zaken_seen() if wanted in (None, z.uuid)]

    def shown(found: tuple[Zaak, object] | None, what: str, render: Callable) -> Response:
        if found is None:
            return not_found(what)
        if not visible(found[0].vertrouwelijkheid):
            return forbidden()
        return jsonify(render(urls(), *found))

    # -- Zaken API ------------------------------------------------------------------------

    @app.get(ZAKEN + "zaken")
    def zaken_list():
        def answer():
            criteria = query({*_ZAAK_FILTERS, *PAGING, "expand"}, choices=_zaak_choices())
            wanted = _expands(criteria.pop("expand", "").split(",") if "expand" in criteria else [])
            return _zaken_page(criteria, wanted)

        return crs_checked(answer)

    @app.post(ZAKEN + "zaken/_zoek")
    def zaken_search():
        return crs_checked(_search, content=True)

    def _search():
        query(PAGING)
        raw = request.get_data()
        body = request.get_json(silent=True) if raw.strip() else {}  # the body is optional
        if not isinstance(body, dict):
            raise BadRequest(("nonFieldErrors", "parse_error", "Send filtrene i et JSON-objekt."))
        wanted = _expands(body.get("expand", []))
        known = {k: v for k, v in body.items() if k in _ZAAK_FILTERS}
        wrong = [k for k, v in known.items() if not isinstance(v, str)]
        if wrong:
            raise BadRequest(*((k, "invalid", "Angiv en gyldig tekst.") for k in sorted(wrong)))
        for name, values in _zaak_choices().items():
            if name in known and known[name] not in values:
                raise BadRequest((name, "invalid_choice", "Ikke et gyldigt valg."))
        return _zaken_page(known, wanted)

    def _zaken_page(criteria: Mapping[str, str], wanted: tuple[str, ...] = ()):
        found = [z for z in zaken_seen() if _zaak_matches(z, criteria)]
        return page(found, lambda z: expanded(z, wanted))

    def expanded(zaak: Zaak, wanted: tuple[str, ...]) -> dict:
        """A zaak, with ``_expand`` holding what ``wanted`` names (as ``ExpandZaak``)."""
        body = zaak_json(urls(), zaak)
        if wanted:
            more: dict = {}
            if "rollen" in wanted:
                more["rollen"] = [rol_json(urls(), m, zaak, rol) for rol in zaak.rollen]
            if "status" in wanted:
                more["status"] = status_json(urls(), zaak, zaak.status)
            body["_expand"] = more
        return body

    @app.get(ZAKEN + "zaken/<zaak_uuid>")
    def zaak_detail(zaak_uuid: str):
        def answer():
            args = query({"expand"})
            wanted = _expands(args["expand"].split(",") if "expand" in args else [])
            zaak = register.zaak(zaak_uuid)
            return shown(
                (zaak, None) if zaak else None, "zaak", lambda u, z, _: expanded(z, wanted)
            )

        return crs_checked(answer)

    @app.get(ZAKEN + "statussen")
    def statussen_list():
        args = query(
            {"zaak", "statustype", "indicatieLaatstGezetteStatus", *PAGING},
            urls=("zaak", "statustype"),
            choices={"indicatieLaatstGezetteStatus": ("true", "false")},
        )
        latest = args.get("indicatieLaatstGezetteStatus")
        found = [
            (zaak, status)
            for zaak in zaken_of(args)
            for status in reversed(zaak.statussen)  # newest first, as Open Zaak lists them
            if tail(args.get("statustype")) in (None, status.statustype.uuid)
            and latest in (None, "true" if status is zaak.status else "false")
        ]
        return page(found, lambda pair: status_json(urls(), *pair))

    @app.get(ZAKEN + "statussen/<status_uuid>")
    def status_detail(status_uuid: str):
        query(())
        return shown(register.status(status_uuid), "status", status_json)

    @app.get(ZAKEN + "rollen")
    def rollen_list():
        args = query(
            {"zaak", *_ROL_FILTERS, *_ROL_CHOICES, *PAGING}, urls=("zaak",), choices=_ROL_CHOICES
        )
        found = [
            (zaak, rol) for zaak in zaken_of(args) for rol in zaak.rollen if _rol_matches(rol, args)
        ]
        return page(found, lambda pair: rol_json(urls(), m, *pair))

    @app.get(ZAKEN + "rollen/<rol_uuid>")
    def rol_detail(rol_uuid: str):
        query(())
        return shown(register.rol(rol_uuid), "rol", lambda u, z, r: rol_json(u, m, z, r))

    @app.get(ZAKEN + "zaakinformatieobjecten")
    def zaakinformatieobjecten_list():
        args = query({"zaak", "informatieobject"}, urls=("zaak", "informatieobject"))
        wanted = tail(args.get("informatieobject"))
        # Every link of a zaak the client may see, as Open Zaak 1.30 answers (seen against
        # one): a document above the client's level is listed here, and only its GET in the
        # Documenten API is 403.
        found = [
            zaakinformatieobject_json(urls(), zaak, doc)
            for zaak in zaken_of(args)
            for doc in zaak.documenten
            if wanted in (None, doc.uuid)
        ]
        return jsonify(found)  # a plain array: this list is not paginated

    @app.get(ZAKEN + "zaakinformatieobjecten/<link_uuid>")
    def zaakinformatieobject_detail(link_uuid: str):
        query(())
        return shown(
            register.document_link(link_uuid), "zaakinformatieobject", zaakinformatieobject_json
        )

    # -- Catalogi API ---------------------------------------------------------------------

    @app.get(CATALOGI + "catalogussen/<item_uuid>")
    def catalogus_detail(item_uuid: str):
        query(())
        if item_uuid != register.catalogus_uuid:
            return not_found("catalogus")
        return jsonify(catalogus_json(urls(), register))

    @app.get(CATALOGI + "zaaktypen")
    def zaaktypen_list():
        args = query({"identificatie", "catalogus", *PAGING}, urls=("catalogus",))
        found = [
            zt
            for zt in register.zaaktypen
            if args.get("identificatie") in (None, zt.identificatie)
            and tail(args.get("catalogus")) in (None, register.catalogus_uuid)
        ]
        return page(found, lambda zt: zaaktype_json(urls(), register, zt))

    @app.get(CATALOGI + "statustypen")
    def statustypen_list():
        args = query({"zaaktype", *PAGING}, urls=("zaaktype",))
        found = [
            (zt, st)
            for zt in _zaaktypen_of(register.zaaktypen, args.get("zaaktype"))
            for st in zt.statustypen
        ]
        return page(found, lambda p: statustype_json(urls(), register, *p))

    @app.get(CATALOGI + "roltypen")
    def roltypen_list():
        args = query(
            {"zaaktype", "omschrijvingGeneriek", *PAGING},
            urls=("zaaktype",),
            choices={"omschrijvingGeneriek": GENERIEK},
        )
        wanted = args.get("omschrijvingGeneriek")
        found = [
            (zt, rt)
            for zt in _zaaktypen_of(register.zaaktypen, args.get("zaaktype"))
            for rt in (zt.initiator, zt.behandelaar)
            if wanted in (None, rt.generiek)
        ]
        return page(found, lambda p: roltype_json(urls(), register, *p))

    @app.get(CATALOGI + "<kind>/<item_uuid>")
    def catalogue_detail(kind: str, item_uuid: str):
        query(())
        found = register.catalogue_item(item_uuid)
        renderers: dict[str, tuple[type, Callable[..., dict]]] = {
            "zaaktypen": (ZaakType, lambda u, zt, _: zaaktype_json(u, register, zt)),
            "statustypen": (StatusType, lambda u, zt, it: statustype_json(u, register, zt, it)),
            "roltypen": (RolType, lambda u, zt, it: roltype_json(u, register, zt, it)),
        }
        if kind not in renderers:
            return not_found("ressource")
        cls, render = renderers[kind]
        if found is None or not isinstance(found[1], cls):
            return not_found(kind)
        return jsonify(render(urls(), *found))

    add_documenten_api(app, DOCUMENTEN, register)
    return app


# -- filters ----------------------------------------------------------------------------


def _expands(values) -> tuple[str, ...]:
    """The ``expand`` values asked for, checked (400 for one the sandbox cannot expand)."""
    if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
        raise BadRequest(("expand", "invalid", "Angiv en liste af tekster."))
    wanted = tuple(v.strip() for v in values if v.strip())
    unknown = [v for v in wanted if v not in EXPANDS]
    if unknown:
        reason = f"Kan ikke udvide {', '.join(unknown)[:80]} (kun {', '.join(EXPANDS)})."
        raise BadRequest(("expand", "invalid_choice", reason))
    return wanted


def _zaak_choices() -> dict[str, tuple[str, ...]]:
    return {f"rol__{name}": values for name, values in _ROL_CHOICES.items()}


def _zaaktypen_of(zaaktypen: tuple[ZaakType, ...], url: str | None) -> tuple[ZaakType, ...]:
    wanted = tail(url)
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
            ok = True  # paging and the zaak filter are not about the rol
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
            ok = tail(value) == zaak.zaaktype.uuid
        else:
            ok = True
        if not ok:
            return False
    return True
