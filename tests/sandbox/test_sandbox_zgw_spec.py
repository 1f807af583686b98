"""Every operation the sandbox ZGW service serves, validated against the official Zaken
1.5.1, Catalogi 1.3.1 and Documenten 1.4.2 specifications with openapi-core: the request
(where it is meant to be valid) and the response — status code declared, headers, body.

The table below is the contract; a meta-test reads the app's URL map, so a route added
without a row here fails. One deviation is Open Zaak's own and kept on purpose: a page
past the end (or page 0), and an unknown document's download, answer 404 although those
operations do not declare it; the body must still be a valid ``Fout``.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Any

import pytest
from jose import jwt
from openapi_core.contrib.werkzeug import WerkzeugOpenAPIRequest, WerkzeugOpenAPIResponse
from openapi_core.templating.responses.exceptions import ResponseNotFound
from werkzeug.test import EnvironBuilder

from borgersag.sandbox.generator import generate
from borgersag.sandbox.zgw import CREDENTIALS, LIMITED_CREDENTIALS, create_app
from borgersag.sandbox.zgw_data import build_register

from support.zgw_specs import assert_valid, openapi

HOST = "http://localhost"
Z, C, D = "/zaken/api/v1/", "/catalogi/api/v1/", "/documenten/api/v1/"
PERSON = "rol__betrokkeneIdentificatie__natuurlijkPersoon__anpIdentificatie"
UNKNOWN_PAGE = "a page past the end or page 0: Open Zaak answers 404, undeclared in the spec"


def token(credentials=CREDENTIALS, **claims):
    body = {"client_id": credentials["client_id"], "iat": int(time.time()), **claims}
    return jwt.encode(body, credentials["secret"], algorithm="HS256")


@dataclass
class Call:
    """One request of the table: what is sent, what must come back."""

    name: str
    method: str
    path: str
    status: int
    query: dict[str, Any] = field(default_factory=dict)
    json: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    auth: dict | None = None  # credentials, or None for the portal's
    valid_request: bool = True  # the request itself is what the spec allows
    deviation: str | None = None  # why an undeclared status is Open Zaak's behaviour


@pytest.fixture(scope="module")
def town():
    return generate(2026)


@pytest.fixture(scope="module")
def register(town):
    return build_register(town)


@pytest.fixture(scope="module")
def app(town, register):
    return create_app(town, register=register)


def calls(town, register) -> list[Call]:
    heavy = town.demo.heavy
    zaak = next(z for z in register.zaken if z.documenten)
    hidden = next(z for z in register.zaken if z.vertrouwelijkheid in ("geheim", "confidentieel"))
    doc = zaak.documenten[0]
    zt = zaak.zaaktype
    zaak_url = f"{HOST}{Z}zaken/{zaak.uuid}"
    crs = {"Accept-Crs": "EPSG:4326"}
    body_crs = {**crs, "Content-Crs": "EPSG:4326"}
    limited = LIMITED_CREDENTIALS
    return [
        # zaken
        Call("zaken", "GET", Z + "zaken", 200, {"pageSize": 5}, headers=crs),
        Call("zaken by person", "GET", Z + "zaken", 200, {PERSON: heavy}, headers=crs),
        Call(
            "zaken unknown param",
            "GET",
            Z + "zaken",
            400,
            {"foo": "1"},
            headers=crs,
            valid_request=False,
        ),
        Call(
            "zaken bad choice",
            "GET",
            Z + "zaken",
            400,
            {"rol__omschrijvingGeneriek": "robot"},
            headers=crs,
            valid_request=False,
        ),
        Call(
            "zaken bad page",
            "GET",
            Z + "zaken",
            400,
            {"page": "x"},
            headers=crs,
            valid_request=False,
        ),
        Call(
            "zaken page 0",
            "GET",
            Z + "zaken",
            404,
            {"page": 0},
            headers=crs,
            deviation=UNKNOWN_PAGE,
        ),
        Call(
            "zaken page past end",
            "GET",
            Z + "zaken",
            404,
            {"page": 99},
            headers=crs,
            deviation=UNKNOWN_PAGE,
        ),
        Call("zaken without Accept-Crs", "GET", Z + "zaken", 412, valid_request=False),
        Call(
            "zaken other crs",
            "GET",
            Z + "zaken",
            406,
            headers={"Accept-Crs": "EPSG:28992"},
            valid_request=False,
        ),
        Call(
            "zaken no jwt",
            "GET",
            Z + "zaken",
            403,
            headers={**crs, "Authorization": ""},
            valid_request=False,
        ),
        Call(
            "zaken old jwt",
            "GET",
            Z + "zaken",
            403,
            headers={**crs, "Authorization": f"Bearer {token(iat=int(time.time()) - 7200)}"},
        ),
        Call("zoek", "POST", Z + "zaken/_zoek", 200, json={PERSON: heavy}, headers=body_crs),
        Call(
            "zoek paged",
            "POST",
            Z + "zaken/_zoek",
            200,
            {"page": 2, "pageSize": 3},
            json={PERSON: heavy},
            headers=body_crs,
        ),
        Call(
            "zoek arrays the spec allows",
            "POST",
            Z + "zaken/_zoek",
            200,
            json={
                "uuid__in": [zaak.uuid],
                "zaaktype__in": [f"{HOST}{C}zaaktypen/{zt.uuid}"],
                "ordering": ["-startdatum"],
            },
            headers=body_crs,
        ),
        Call(
            "zoek without body",
            "POST",
            Z + "zaken/_zoek",
            200,
            headers={**body_crs, "Content-Type": "application/json"},
        ),
        Call(
            "zoek wrong type",
            "POST",
            Z + "zaken/_zoek",
            400,
            json={PERSON: 12},
            headers=body_crs,
            valid_request=False,
        ),
        Call(
            "zoek without Content-Crs",
            "POST",
            Z + "zaken/_zoek",
            412,
            json={},
            headers=crs,
            valid_request=False,
        ),
        Call("zaak", "GET", f"{Z}zaken/{zaak.uuid}", 200, headers=crs),
        Call(
            "zaak expanded",
            "GET",
            f"{Z}zaken/{zaak.uuid}",
            200,
            {"expand": "rollen,status"},
            headers=crs,
        ),
        Call("zaken expanded", "GET", Z + "zaken", 200, {"expand": "status"}, headers=crs),
        Call(
            "zoek expanded",
            "POST",
            Z + "zaken/_zoek",
            200,
            json={PERSON: heavy, "expand": ["rollen", "status"]},
            headers=body_crs,
        ),
        Call(
            "zoek expand the sandbox lacks",
            "POST",
            Z + "zaken/_zoek",
            400,
            json={PERSON: heavy, "expand": ["eigenschappen"]},
            headers=body_crs,
        ),
        Call(
            "zaak unknown", "GET", f"{Z}zaken/{'0' * 8}-0000-4000-8000-{'0' * 12}", 404, headers=crs
        ),
        Call(
            "zaak above the client's maximum",
            "GET",
            f"{Z}zaken/{hidden.uuid}",
            403,
            headers=crs,
            auth=limited,
        ),
        # statussen, rollen, zaakinformatieobjecten
        Call("statussen", "GET", Z + "statussen", 200, {"zaak": zaak_url}),
        Call(
            "statussen latest",
            "GET",
            Z + "statussen",
            200,
            {"zaak": zaak_url, "indicatieLaatstGezetteStatus": "true"},
        ),
        Call(
            "statussen bad zaak",
            "GET",
            Z + "statussen",
            400,
            {"zaak": "ikke-en-url"},
            valid_request=False,
        ),
        Call("status", "GET", f"{Z}statussen/{zaak.status.uuid}", 200),
        Call("status unknown", "GET", f"{Z}statussen/{zaak.uuid}", 404),
        Call("rollen", "GET", Z + "rollen", 200, {"zaak": zaak_url, "pageSize": 10}),
        Call(
            "rollen unknown param",
            "GET",
            Z + "rollen",
            400,
            {"zaak__in": zaak_url},
            valid_request=False,
        ),
        Call("rol", "GET", f"{Z}rollen/{zaak.initiator.uuid}", 200),
        Call(
            "rol of a hidden zaak", "GET", f"{Z}rollen/{hidden.initiator.uuid}", 403, auth=limited
        ),
        Call(
            "zaakinformatieobjecten", "GET", Z + "zaakinformatieobjecten", 200, {"zaak": zaak_url}
        ),
        Call(
            "zaakinformatieobjecten bad",
            "GET",
            Z + "zaakinformatieobjecten",
            400,
            {"page": 2},
            valid_request=False,
        ),
        Call("zaakinformatieobject", "GET", f"{Z}zaakinformatieobjecten/{doc.link_uuid}", 200),
        # catalogi
        Call("catalogus", "GET", f"{C}catalogussen/{register.catalogus_uuid}", 200),
        Call("zaaktypen", "GET", C + "zaaktypen", 200),
        Call("zaaktypen unknown param", "GET", C + "zaaktypen", 400, {"x": 1}, valid_request=False),
        Call("zaaktype", "GET", f"{C}zaaktypen/{zt.uuid}", 200),
        Call(
            "statustypen",
            "GET",
            C + "statustypen",
            200,
            {"zaaktype": f"{HOST}{C}zaaktypen/{zt.uuid}"},
        ),
        Call("statustype", "GET", f"{C}statustypen/{zt.statustypen[0].uuid}", 200),
        Call("roltypen", "GET", C + "roltypen", 200, {"omschrijvingGeneriek": "initiator"}),
        Call("roltype", "GET", f"{C}roltypen/{zt.initiator.uuid}", 200),
        Call("roltype unknown", "GET", f"{C}roltypen/{zt.uuid}", 404),
        # documenten
        Call(
            "informatieobjecten", "GET", D + "enkelvoudiginformatieobjecten", 200, {"pageSize": 20}
        ),
        Call("informatieobject", "GET", f"{D}enkelvoudiginformatieobjecten/{doc.uuid}", 200),
        Call(
            "informatieobject unknown", "GET", f"{D}enkelvoudiginformatieobjecten/{zaak.uuid}", 404
        ),
        Call("download", "GET", f"{D}enkelvoudiginformatieobjecten/{doc.uuid}/download", 200),
        Call(
            "download unknown",
            "GET",
            f"{D}enkelvoudiginformatieobjecten/{zaak.uuid}/download",
            404,
            deviation="an unknown document's download: Open Zaak answers 404",
        ),
        Call(
            "download of a hidden zaak's document",
            "GET",
            f"{D}enkelvoudiginformatieobjecten/{hidden_document(register).uuid}/download",
            403,
            auth=limited,
        ),
    ]


def hidden_document(register):
    return next(
        d
        for z in register.zaken
        for d in z.documenten
        if z.vertrouwelijkheid in ("vertrouwelijk", "confidentieel", "geheim")
    )


def api_of(path: str) -> str:
    return {Z: "zaken", C: "catalogi", D: "documenten"}[path[: path.index("/api/v1/") + 8]]


def send(app, call: Call):
    headers = {"Authorization": f"Bearer {token(call.auth or CREDENTIALS)}", **call.headers}
    if not headers["Authorization"]:
        del headers["Authorization"]

    def builder():
        return EnvironBuilder(
            path=call.path,
            base_url=HOST,
            method=call.method,
            query_string=call.query,
            headers=headers,
            json=call.json,
        )

    request = builder().get_request()  # what the validator reads; the app gets its own copy
    response = app.test_client().open(builder())
    return request, response


def problems(api: str, request, response, call: Call) -> list[str]:
    spec = openapi(api)
    found = []
    wrapped = WerkzeugOpenAPIRequest(request)
    if call.valid_request:
        found += [f"request: {e!r}: {e.__cause__!r}" for e in spec.iter_request_errors(wrapped)]
    answer = WerkzeugOpenAPIResponse(response)
    for error in spec.iter_response_errors(wrapped, answer):
        if isinstance(error, ResponseNotFound) and call.deviation:
            assert_valid("zaken", "Fout", response.get_json())  # undeclared, but a real Fout
            continue
        cause = error.__cause__
        details = [
            f"{list(e.absolute_path)}: {e.message[:200]}"
            for e in getattr(cause, "schema_errors", ()) or getattr(error, "schema_errors", ())
        ]
        found.append(f"response: {error!r} {details or cause!r}")
    return found


def test_every_operation_validates_against_the_specifications(app, town, register):
    failures = {}
    for call in calls(town, register):
        request, response = send(app, call)
        assert response.status_code == call.status, (call.name, response.get_data()[:300])
        found = problems(api_of(call.path), request, response, call)
        if found:
            failures[call.name] = found
    assert not failures, "\n".join(f"{name}: {p}" for name, ps in failures.items() for p in ps)


def test_every_route_of_the_service_is_in_the_table(app, town, register):
    adapter = app.url_map.bind("localhost")
    covered = {adapter.match(c.path, c.method)[0] for c in calls(town, register)}
    served = {rule.endpoint for rule in app.url_map.iter_rules() if rule.rule.startswith((Z, C, D))}
    assert served - covered == set()


def test_the_validation_is_not_vacuous(app, town, register):
    zaak_call = next(c for c in calls(town, register) if c.name == "zaak")
    request, response = send(app, zaak_call)
    body = response.get_json()
    response.set_data(json.dumps({**body, "vertrouwelijkheidaanduiding": "x"}))
    assert problems("zaken", request, response, zaak_call)
    page_call = next(c for c in calls(town, register) if c.name == "zaken page 0")
    request, response = send(app, page_call)
    assert problems("zaken", request, response, Call("strict", "GET", Z + "zaken", 404))
