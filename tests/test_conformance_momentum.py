"""The Momentum connector passes the connector conformance suite."""

from __future__ import annotations

from test_connectors_momentum import CITIZEN, TOKEN, citizen, course, worker

from borgersag import KeyKind
from borgersag.connectors.momentum import MomentumConnector
from borgersag.testing import ConformanceSuite

SETTINGS = {
    "base_url": "https://unused/",
    "token_url": TOKEN,
    "client_id": "c",
    "client_secret": "s",
}
SAMPLE_KEYS = {KeyKind.CPR: "010190-1234", KeyKind.MEDARBEJDER: "M3"}
ONE_CITIZEN_PER_PAGE = {"page_size": 1}


class TestMomentumConformance(ConformanceSuite):
    connector = MomentumConnector
    settings = SETTINGS
    sample_keys = SAMPLE_KEYS
    endless_settings = ONE_CITIZEN_PER_PAGE
    not_found_is_empty = True  # Momentum answers 404 for a CPR number it does not know

    def backend(self, mock, base_url):
        mock.post(TOKEN, json={"access_token": "tok", "expires_in": 300})
        mock.post(base_url + "citizens/find", json={"citizenId": CITIZEN})
        mock.get(base_url + f"citizens/{CITIZEN}", json=citizen(course()))
        mock.get(
            base_url + f"responsibleCaseworkers/all/byCitizen/{CITIZEN}",
            json=[worker("M3", "Mette Kjær", 1)],
        )
        mock.get(
            base_url + "responsibleCaseworkers/M3/citizens",
            json={"data": [citizen(course())], "totalCount": 1},
        )

    def test_pagination_is_bounded(self, probe):
        """Only the worklist (medarbejdernummer) pages; a CPR lookup is three calls."""
        self.paginates = probe.kind is KeyKind.MEDARBEJDER
        super().test_pagination_is_bounded(probe)
