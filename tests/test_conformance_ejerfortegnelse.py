"""The Ejerfortegnelse connector passes the connector conformance suite."""

from __future__ import annotations

from test_connectors_ejerfortegnelse import SETTINGS, ownership

from borgersag import KeyKind
from borgersag.connectors.ejerfortegnelse import EjerfortegnelseConnector
from borgersag.testing import ConformanceSuite

SAMPLE_KEYS = {KeyKind.CPR: "010190-1234", KeyKind.BFE: "123456"}
OWNERS = {
    "bfeNummer": 123456,
    "ejere": [
        {
            "cpr": "0101901234",
            "ejerandel": {"taeller": 1, "naevner": 2},
            "virkningFra": "2019-05-01",
        }
    ],
}


class TestEjerfortegnelseConformance(ConformanceSuite):
    connector = EjerfortegnelseConnector
    settings = SETTINGS
    sample_keys = SAMPLE_KEYS
    paginates = False  # one answer holds every ownership

    def backend(self, mock, base_url):
        body = {"ejerskaber": [ownership(1, 2)]}
        mock.post(base_url + "ejerfortegnelse/v1/ejerskaber/soeg", json=body)
        mock.get(base_url + "ejerfortegnelse/v1/ejendomme/123456/ejere", json=OWNERS)
