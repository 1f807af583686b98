"""The building-permit connector passes the connector conformance suite."""

from __future__ import annotations

from test_connectors_byggesag import SETTINGS, building

from borgersag import KeyKind
from borgersag.connectors.byggesag import ByggesagConnector
from borgersag.testing import ConformanceSuite

SAMPLE_KEYS = {
    KeyKind.MATRIKEL: "2000351-12a",
    KeyKind.BFE: "123456",
    KeyKind.MEDARBEJDER: "M10234",
}
ONE_CASE_PER_PAGE = {"page_size": 1}


class TestByggesagConformance(ConformanceSuite):
    connector = ByggesagConnector
    settings = SETTINGS
    sample_keys = SAMPLE_KEYS
    endless_settings = ONE_CASE_PER_PAGE

    def backend(self, mock, base_url):
        mock.get(base_url + "api/v1/byggesager", json={"sager": [building()], "antal": 1})
