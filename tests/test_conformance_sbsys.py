"""SBSYS passes the connector conformance suite (borgersag.testing)."""

from __future__ import annotations

from test_connectors_sbsys import SETTINGS, case_json

from borgersag import KeyKind
from borgersag.connectors.sbsys import SbsysConnector
from borgersag.testing import ConformanceSuite

SAMPLE_KEYS = {KeyKind.CPR: "010190-1234", KeyKind.MEDARBEJDER: "M10234"}
ONE_CASE_PER_PAGE = {"page_size": 1}


class TestSbsysConformance(ConformanceSuite):
    connector = SbsysConnector
    settings = SETTINGS
    sample_keys = SAMPLE_KEYS
    endless_settings = ONE_CASE_PER_PAGE

    def backend(self, mock, base_url):
        mock.post(base_url + "connect/token", json={"access_token": "t1", "expires_in": 3600})
        mock.post(base_url + "api/sag/search", json={"Results": [case_json()], "TotalCount": 1})
