"""JSON log lines: one object a line, the request id in it, CPR numbers still masked."""

from __future__ import annotations

import io
import json
import logging

import pytest
import responses

from borgersag.runtime import logmask
from borgersag.runtime.logformat import JsonFormatter
from borgersag.web import create_app

from support.fake_portal import CITIZEN_ISSUER, FakePortal, make_config
from support.oidc_fake import FakeProvider


@pytest.fixture
def root_stream():
    """A handler on the root logger writing to a string; formatters put back after."""
    root = logging.getLogger()
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    saved = {h: h.formatter for h in root.handlers}
    root.addHandler(handler)
    level = root.level
    root.setLevel(logging.INFO)
    yield stream
    root.removeHandler(handler)
    root.setLevel(level)
    for h, formatter in saved.items():
        h.setFormatter(formatter)


def lines(stream: io.StringIO) -> list[dict]:
    return [json.loads(line) for line in stream.getvalue().splitlines() if line]


def test_each_record_is_one_json_object_with_the_fields_a_collector_needs():
    logmask.install()
    record = logging.getLogger("borgersag.test").makeRecord(
        "borgersag.test", logging.WARNING, __file__, 1, "looked up %s", ("0103854321",), None
    )
    line = JsonFormatter(lambda: "req-12345678").format(record)
    assert "\n" not in line
    data = json.loads(line)
    assert data["level"] == "WARNING" and data["logger"] == "borgersag.test"
    assert data["message"] == "looked up 010385-xxxx"
    assert data["request_id"] == "req-12345678"
    assert data["time"].endswith("+00:00")


def test_a_traceback_is_masked_too():
    try:
        raise ValueError("bad key 010385-4321")
    except ValueError:
        record = logging.getLogger("t").makeRecord(
            "t", logging.ERROR, __file__, 1, "failed", (), __import__("sys").exc_info()
        )
    data = json.loads(JsonFormatter().format(record))
    assert "010385-xxxx" in data["exception"] and "4321" not in data["exception"]
    assert data["request_id"] is None


def test_the_app_logs_json_lines_with_the_request_id_when_asked(root_stream):
    config = make_config(log_format="json")
    app = create_app(config, portal=FakePortal(config=config))
    app.config["TESTING"] = True
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        FakeProvider(issuer=CITIZEN_ISSUER).install(mock)
        answer = app.test_client().get(
            "/log-ind/svar?state=forkert", headers={"X-Request-ID": "abcdef1234"}
        )
    assert answer.status_code == 400
    refused = [line for line in lines(root_stream) if "login refused" in line["message"]]
    assert refused and refused[0]["request_id"] == answer.headers["X-Request-ID"]
    assert answer.headers["X-Request-ID"] != "abcdef1234", "the server's id, not the client's"
    [paired] = [line for line in lines(root_stream) if "abcdef1234" in line["message"]]
    assert paired["request_id"] == answer.headers["X-Request-ID"]
    assert refused[0]["logger"] == "borgersag.web.login"


def test_text_stays_the_default(root_stream):
    config = make_config()
    create_app(config, portal=FakePortal(config=config))
    logging.getLogger("borgersag.test").warning("plain")
    assert not root_stream.getvalue().lstrip().startswith("{")


def test_an_unknown_format_names_the_key():
    from borgersag.sdk.errors import ConfigError

    with pytest.raises(ConfigError, match=r"portal\.log_format"):
        make_config(log_format="xml")
