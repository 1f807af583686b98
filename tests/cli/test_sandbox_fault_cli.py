"""`borgersag sandbox-fault` against the running sandbox: knobs change while it runs."""

from __future__ import annotations

import json
from urllib.parse import urlsplit

from borgersag.cli.main import main
from borgersag.connectors.zgw import ZgwConnector
from borgersag.domain.keys import KeyKind, parse_key
from borgersag.sandbox.zgw import CREDENTIALS


def test_zgw_hostile_data_is_turned_on_and_off_while_the_service_runs(
    fault_sandbox, tmp_path, capsys, make_connector
):
    root = fault_sandbox.url("zgw")
    (tmp_path / "sandbox.toml").write_text(
        f"[sandbox.services.zgw]\nport = {urlsplit(root).port}\n", encoding="utf-8"
    )
    zgw = make_connector(ZgwConnector, {"base_url": root + "zaken/api/v1/", **CREDENTIALS})
    heavy = parse_key(KeyKind.CPR, fault_sandbox.municipality.demo.heavy)
    honest = zgw.search(heavy)
    assert honest and honest.unreadable == 0

    def knob(flag: str) -> bool:
        assert main(["sandbox-fault", "zgw", "--config", str(tmp_path), flag]) == 0
        return json.loads(capsys.readouterr().out)["hostile"]

    assert knob("--hostile") is True
    hostile = zgw.search(heavy)
    assert hostile.unreadable and len(hostile) + hostile.unreadable == len(honest)
    assert knob("--no-hostile") is False
    again = zgw.search(heavy)
    assert [c.id for c in again] == [c.id for c in honest] and again.unreadable == 0
