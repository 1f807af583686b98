"""The yardstick for ``throughput.py``: a bare Flask app that answers one JSON document.

``BENCH_BARE_JSON`` names a file holding the document (the portal's own answer for a
cached overview); every ``GET /json`` parses nothing and serialises it again with
Flask's ``jsonify``, as an app with no middleware at all would. Served by gunicorn with
the same settings ``borgersag serve`` uses.
"""

from __future__ import annotations

import json
import os

from flask import Flask, jsonify


def create_app() -> Flask:
    """The app; the document is read once, at start."""
    app = Flask(__name__)
    with open(os.environ["BENCH_BARE_JSON"], encoding="utf-8") as f:
        document = json.load(f)

    @app.get("/json")
    def answer():
        return jsonify(document)

    return app
