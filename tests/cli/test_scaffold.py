"""`borgersag connectors new`: the generated package passes its own tests, and installed
with pip it shows up in an overview without touching the core."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from borgersag.cli.main import main

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def package(tmp_path_factory) -> Path:
    where = tmp_path_factory.mktemp("new")
    assert main(["connectors", "new", "affald", "--dir", str(where)]) == 0
    return where / "borgersag-affald"


def run(args, **kwargs):
    done = subprocess.run(args, capture_output=True, text=True, timeout=180, check=False, **kwargs)
    assert done.returncode == 0, f"{args} failed:\n{done.stdout}\n{done.stderr}"
    return done


def test_the_package_has_its_entry_point_tests_and_readme(package):
    pyproject = (package / "pyproject.toml").read_text()
    assert 'affald = "borgersag_affald.connector:AffaldConnector"' in pyproject
    for path in ("README.md", "borgersag_affald/connector.py", "tests/test_conformance.py"):
        assert (package / path).is_file(), path


def test_its_tests_pass_right_after_generation(package):
    done = run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"], cwd=package)
    assert " passed" in done.stdout and "failed" not in done.stdout


INSTALLED = textwrap.dedent(
    """
    import json, threading, sys
    from flask import Flask, jsonify
    from werkzeug.serving import make_server
    from borgersag.config.loader import Config
    from borgersag.domain.keys import parse_key
    from borgersag.lookup.portal import Portal
    from borgersag.lookup.registry import connector_types

    assert connector_types()["affald"].__module__ == "borgersag_affald.connector"
    api = Flask("affald-api")

    @api.post("/api/sager/soeg")
    def search():
        return jsonify(sager=[{"id": "7", "nummer": "A-7", "titel": "Storskrald",
                               "status": "Modtaget", "oprettet": "2026-10-01"}])

    server = make_server("127.0.0.1", 0, api)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    config = Config.from_mapping({"sources": {"affald": {
        "type": "affald", "title": "Affaldssystemet",
        "base_url": f"http://127.0.0.1:{server.port}/api/", "api_key": "k"}}})
    portal = Portal.from_config(config)
    overview = portal.lookup(parse_key("cpr", "0101901234"))
    print(json.dumps({"cases": [c.id for c in overview.cases],
                      "sources": {r.source: r.status.value for r in overview.sources}}))
    portal.close(); server.shutdown()
    """
)


def test_installed_with_pip_it_shows_up_in_an_overview(package, tmp_path):
    site = tmp_path / "site"
    run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps",
         "--no-build-isolation", "--target", str(site), str(package)]
    )  # fmt: skip
    env = {**os.environ, "PYTHONPATH": str(site)}
    done = run([sys.executable, "-c", INSTALLED], env=env, cwd=tmp_path)
    result = done.stdout.strip().splitlines()[-1]
    assert '"affald/7"' in result and '"affald": "ok"' in result


@pytest.mark.parametrize(
    ("name", "problem"),
    [("Affald", "lowercase"), ("x", "lowercase"), ("sbsys", "taken"), ("class", "lowercase")],
)
def test_bad_names_are_refused(name, problem, tmp_path):
    from borgersag.cli.scaffold import create_package

    with pytest.raises(ValueError, match=problem):
        create_package(name, tmp_path)


def test_an_existing_folder_is_not_overwritten(package, capsys):
    before = (package / "borgersag_affald" / "connector.py").read_text()
    assert main(["connectors", "new", "affald", "--dir", str(package.parent)]) == 2
    assert "does not exist yet" in capsys.readouterr().err
    assert (package / "borgersag_affald" / "connector.py").read_text() == before
