"""The sandbox ZGW service's hostile-data mode: answers shaped like the API, holding what
real case systems hold on a bad day.

Each resource in a JSON answer is changed by a rule chosen from its own uuid, so the same
resource is always changed the same way: markup in free text (``omschrijving``,
``statustoelichting``, a document's ``titel``), an impossible date (2024-02-30), an
unknown ``vertrouwelijkheidaanduiding`` or document ``status``, a zaak without a current
status, a missing ``identificatie``. About one resource in six is left as it is. The
answers no longer validate against the specifications — that is the point: a connector
must turn each of these into a clear, classified error or survive it, never crash.
"""

from __future__ import annotations

import json
import zlib
from typing import Any

from flask import Response

__all__ = ["MARKUP", "make_hostile"]

MARKUP = '<script>alert("zgw")</script><img src=x onerror=alert(1)>'


def make_hostile(response: Response) -> Response:
    """``response`` with its JSON resources changed (see the module docstring)."""
    if response.mimetype != "application/json" or response.status_code != 200:
        return response
    body = json.loads(response.get_data())
    response.set_data(json.dumps(_walk(body), ensure_ascii=False))
    return response


def _walk(node: Any) -> Any:
    if isinstance(node, list):
        return [_walk(item) for item in node]
    if not isinstance(node, dict):
        return node
    if isinstance(node.get("results"), list):
        return {**node, "results": [_walk(item) for item in node["results"]]}
    url = node.get("url")
    if not isinstance(url, str):
        return node
    kind, uuid = url.rstrip("/").rsplit("/", 2)[-2:]
    rule = zlib.crc32(uuid.encode()) % 6  # the uuid, not the URL: the same on any host
    change = _RULES.get(kind, {}).get(rule)
    return {**node, **change(node)} if change else node


def _markup(field: str):
    return lambda node: {field: f"{MARKUP} {node.get(field) or ''}".strip()}


_RULES = {
    "zaken": {
        0: _markup("omschrijving"),
        1: lambda node: {"startdatum": "2024-02-30"},
        2: lambda node: {"vertrouwelijkheidaanduiding": "hemmelig"},
        3: lambda node: {"status": None},
        4: lambda node: {"identificatie": None},
    },
    "statussen": {
        0: _markup("statustoelichting"),
        1: lambda node: {"datumStatusGezet": "2024-02-30T10:00:00Z"},
    },
    "enkelvoudiginformatieobjecten": {
        0: _markup("titel"),
        1: lambda node: {"creatiedatum": "2024-02-30"},
        2: lambda node: {"status": "ukendt"},
        3: lambda node: {"vertrouwelijkheidaanduiding": None},
    },
}
