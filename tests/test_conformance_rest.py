"""The generic REST connector passes the connector conformance suite.

The ``rest`` type can be configured to search by any key kind, so the suite's settings
configure all five.
"""

from __future__ import annotations

from test_connectors_rest import answer, page_params, record

from borgersag import KeyKind
from borgersag.connectors.rest import RestConnector
from borgersag.testing import ConformanceSuite

SEARCHES = {
    **page_params()["search"],
    "cvr": {"method": "POST", "path": "virksomheder/soeg", "body": {"cvr": "{value}"}},
    "medarbejder": {"path": "sager", "query": {"behandler": "{value}"}},
}

SAMPLE_KEYS = {
    KeyKind.CPR: "010190-1234",
    KeyKind.CVR: "13585628",
    KeyKind.BFE: "123456",
    KeyKind.MATRIKEL: "2000351-12a",
    KeyKind.MEDARBEJDER: "M10234",
}
ONE_CASE_PER_PAGE = {"page_size": 1}  # one recorded case is then a full page


class TestRestConformance(ConformanceSuite):
    connector = RestConnector
    settings = page_params(max_pages=5, search=SEARCHES)
    sample_keys = SAMPLE_KEYS
    endless_settings = ONE_CASE_PER_PAGE

    def backend(self, mock, base_url):
        mock.post(base_url + "sager/soeg", json=answer(record()))
        mock.post(base_url + "virksomheder/soeg", json=answer(record()))
        mock.get(base_url + "sager", json=answer(record()))
        mock.get(base_url + "ejendomme/2000351/12a/sager", json=answer(record()))
