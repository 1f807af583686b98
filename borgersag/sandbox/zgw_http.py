"""What every ZGW API of the sandbox answers alike, as Open Zaak answers it.

Problem bodies (the specifications' ``Fout`` and, for 400, ``ValidatieFout`` with
``invalidParams``), the ZGW JWT with a client's authorisations, the CRS headers, paging,
and the checks of query parameters: an unknown parameter or a bad value is a 400 that says
which and why, a page past the end (or page 0) is a 404.
"""

from __future__ import annotations

import json
import math
import time
import uuid as uuidlib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode, urlsplit

from flask import Response, g, jsonify, request
from jose import jwt
from jose.exceptions import ExpiredSignatureError, JWTClaimsError, JWTError

from borgersag.sandbox.zgw_data import VERTROUWELIJKHEID

__all__ = [
    "CRS",
    "DEFAULT_PAGE_SIZE",
    "JWT_LEEWAY",
    "JWT_MAX_AGE",
    "MAX_PAGE_SIZE",
    "BadRequest",
    "Client",
    "check_jwt",
    "client",
    "crs_checked",
    "forbidden",
    "fout",
    "not_found",
    "page",
    "query",
    "tail",
    "visible",
]

JWT_MAX_AGE = 3600  # seconds an iat may lie in the past, as Open Zaak's JWT_EXPIRY
JWT_LEEWAY = 60  # seconds an iat may lie in the future (clock skew)
DEFAULT_PAGE_SIZE = 100
MAX_PAGE_SIZE = 500
CRS = "EPSG:4326"
PAGING = frozenset({"page", "pageSize"})


@dataclass(frozen=True, slots=True)
class Client:
    """An API client ("Applicatie") with its secret and its authorisations' maximum
    ``vertrouwelijkheidaanduiding`` (Open Zaak keeps one per zaaktype; the sandbox one
    for all)."""

    client_id: str
    secret: str
    max_level: str = "zeer_geheim"


class BadRequest(Exception):
    """A request Open Zaak would answer with 400 and these ``invalidParams``."""

    def __init__(self, *params: tuple[str, str, str]):
        super().__init__(params)
        self.params = params

    def response(self) -> Response:
        """The 400 ``ValidatieFout``."""
        return fout(
            400,
            "invalid",
            "Ugyldig forespørgsel.",
            "; ".join(reason for _, _, reason in self.params),
            invalidParams=[{"name": n, "code": c, "reason": r} for n, c, r in self.params],
        )


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


def not_found(what: str) -> Response:
    """404 for an unknown resource."""
    return fout(404, "not_found", "Ikke fundet.", f"Ingen {what} med det id.")


def forbidden() -> Response:
    """403 for a resource above the client's maximum confidentiality (Open Zaak's
    answer: the client's authorisations do not reach it)."""
    return fout(
        403,
        "permission_denied",
        "Adgang nægtet.",
        "Klienten har ikke autorisation til denne ressource (fortrolighedsniveau).",
    )


def client() -> Client:
    """The client of the current request (set by :func:`check_jwt`)."""
    return g.zgw_client


def visible(level: str) -> bool:
    """Whether the current client's authorisations reach ``level``."""
    return VERTROUWELIJKHEID.index(level) <= VERTROUWELIJKHEID.index(client().max_level)


def query(allowed: Iterable[str], *, urls: Iterable[str] = (), choices=None) -> dict[str, str]:
    """The request's query parameters, checked as Open Zaak checks them: an unknown name
    is 400 ``unknown-parameters``; a parameter in ``urls`` must be an absolute URL; one
    in ``choices`` (name → allowed values) must be one of them. Raises :class:`BadRequest`."""
    args = request.args
    allowed = set(allowed)
    unknown = sorted(set(args) - allowed)
    if unknown:
        reason = "Ukendte query-parametre: " + ", ".join(unknown)
        raise BadRequest(("nonFieldErrors", "unknown-parameters", reason))
    found = {name: args.get(name, "") for name in args}
    problems = []
    for name in urls:
        value = found.get(name)
        if value is not None and not _is_url(value):
            problems.append((name, "invalid", "Angiv en gyldig URL."))
    for name, values in (choices or {}).items():
        value = found.get(name)
        if value is not None and value not in values:
            problems.append((name, "invalid_choice", f"'{value[:40]}' er ikke et gyldigt valg."))
    if problems:
        raise BadRequest(*problems)
    return found


def _is_url(value: str) -> bool:
    parts = urlsplit(value)
    return parts.scheme in ("http", "https") and bool(parts.netloc)


def check_jwt(clients: Mapping[str, Client]) -> Response | None:
    """``None`` when the request carries a valid ZGW JWT (its client kept for the request),
    else the 403 to send."""
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
    known = clients.get(client_id) if isinstance(client_id, str) else None
    if known is None:
        return refuse("Ukendt client_id.", "permission_denied")
    try:
        jwt.decode(token, known.secret, algorithms=["HS256"], options={"verify_aud": False})
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
    g.zgw_client = known
    return None


def crs_checked(answer: Callable[[], Response | tuple], *, content: bool = False):
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


def page(items: list, render: Callable[[Any], dict]) -> Response:
    """One page of ``items`` as ``{count, next, previous, results}``; page 0 or one past
    the end is 404, as in Open Zaak."""
    problems = []
    numbers = {}
    for name, default in (("page", 1), ("pageSize", DEFAULT_PAGE_SIZE)):
        raw = request.args.get(name, str(default))
        if not (raw.isascii() and raw.isdigit()):
            problems.append((name, "invalid", "Angiv et helt tal."))
        else:
            numbers[name] = int(raw)
    if problems:
        raise BadRequest(*problems)
    number = numbers["page"]
    size = max(1, min(numbers["pageSize"], MAX_PAGE_SIZE))
    pages = max(1, math.ceil(len(items) / size))
    if not 1 <= number <= pages:
        return fout(404, "not_found", "Ikke fundet.", "Ugyldig side.")

    def link(target: int) -> str:
        args = request.args.to_dict(flat=False)
        args["page"] = [str(target)]
        return f"{request.base_url}?{urlencode(args, doseq=True)}"

    return jsonify(
        {
            "count": len(items),
            "next": link(number + 1) if number < pages else None,
            "previous": link(number - 1) if number > 1 else None,
            "results": [render(item) for item in items[(number - 1) * size : number * size]],
        }
    )


def tail(url: str | None) -> str | None:
    """The uuid at the end of a resource URL (the host may differ behind a proxy)."""
    return url.rstrip("/").rsplit("/", 1)[-1] if url is not None else None
