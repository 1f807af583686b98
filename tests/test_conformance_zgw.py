"""The ZGW connector passes the connector conformance suite."""

from __future__ import annotations

import json
from typing import ClassVar
from urllib.parse import parse_qs, urlsplit

from test_connectors_zgw import (
    BASE,
    CAT,
    CPR,
    STATUSSEN,
    STATUSTYPEN,
    WORKER,
    ZAAKTYPE,
    employee,
    page,
    person,
    statustype_json,
    zaak_json,
    zaaktype_json,
)

from borgersag import KeyKind
from borgersag.connectors.zgw import ZgwConnector
from borgersag.testing import ConformanceSuite


def moved(body, base_url):
    """``body`` with the recorded server's addresses replaced by the fake's."""
    scheme, _, host = base_url.split("/", 3)[:3]
    catalogi = f"{scheme}//{host}/catalogi/api/v1/"
    return json.loads(json.dumps(body).replace(BASE, base_url).replace(CAT, catalogi))


class TestZgwConformance(ConformanceSuite):
    connector = ZgwConnector
    settings: ClassVar = {"base_url": BASE, "client_id": "portal", "secret": "s3cret"}
    sample_keys: ClassVar = {KeyKind.CPR: CPR, KeyKind.MEDARBEJDER: WORKER}
    endless_settings: ClassVar = {"page_size": 1}

    def backend(self, mock, base_url, *, endless=False):
        if endless:  # ZGW pages by page number: every next link leads one page on

            def search(request):
                number = int(parse_qs(urlsplit(request.url).query)["page"][0])
                following = f"{base_url}zaken/_zoek?page={number + 1}&pageSize=1"
                return 200, {}, json.dumps(moved(page([zaak_json()], following), base_url))

            mock.add_callback("POST", base_url + "zaken/_zoek", callback=search)
        else:
            mock.post(base_url + "zaken/_zoek", json=moved(page([zaak_json()]), base_url))
        mock.get(base_url + "rollen", json=moved(page([person(), employee()]), base_url))
        mock.get(base_url + "statussen", json=moved(page(STATUSSEN), base_url))
        catalogi = moved(CAT, base_url)
        mock.get(f"{catalogi}zaaktypen/{ZAAKTYPE}", json=moved(zaaktype_json(), base_url))
        for i, uuid in enumerate(STATUSTYPEN):
            mock.get(f"{catalogi}statustypen/{uuid}", json=moved(statustype_json(i), base_url))

    def endless_backend(self, mock, base_url):
        self.backend(mock, base_url, endless=True)
