"""JSON answers are written by orjson, and say what Flask's own writer said."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json

from borgersag.web import create_app

from support.fake_portal import FakePortal, make_config


@dataclasses.dataclass
class _Point:
    x: int


def _app():
    config = make_config()
    return create_app(config, portal=FakePortal(config=config))


def test_answers_are_the_same_json_as_before_in_utf_8():
    value = {"b": [1, 2.5, None, True], "a": "Ansøgning", 3: "tre", "p": _Point(1)}
    app = _app()
    with app.app_context():
        body = app.json.response(value).get_data()
    assert body == '{"3":"tre","a":"Ansøgning","b":[1,2.5,null,true],"p":{"x":1}}\n'.encode()
    assert json.loads(body) == json.loads(json.dumps(value, default=dataclasses.asdict))


def test_dates_are_http_dates_as_flask_writes_them():
    app = _app()
    with app.app_context():
        body = app.json.dumps({"at": dt.datetime(2026, 3, 4, 9, 30, tzinfo=dt.UTC)})
    assert json.loads(body) == {"at": "Wed, 04 Mar 2026 09:30:00 GMT"}


def test_debug_mode_still_indents():
    app = _app()
    app.debug = True
    with app.app_context():
        assert app.json.response({"a": 1}).get_data() == b'{\n  "a": 1\n}\n'


def test_an_integer_past_64_bits_is_written_as_flask_writes_it():
    app = _app()
    with app.app_context():
        assert json.loads(app.json.dumps({"n": 2**70})) == {"n": 2**70}
        assert json.loads(app.json.response({"n": 2**70}).get_data()) == {"n": 2**70}
