"""``pip install .`` gives a working app: the wheel ships templates, config and assets.

The wheel is built from this checkout once per module. One test reads its file list and
entry points; the other unpacks it and runs the app from there in a subprocess whose
working directory is elsewhere and whose ``sys.path`` does not contain the checkout, so
anything that only works next to the source tree fails here.
"""

from __future__ import annotations

import configparser
import importlib.util
import json
import os
import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
CONNECTORS = {
    "sbsys": "borgersag.connectors.sbsys:SbsysConnector",
    "ejerfortegnelse": "borgersag.connectors.ejerfortegnelse:EjerfortegnelseConnector",
    "byggesag": "borgersag.connectors.byggesag:ByggesagConnector",
    "zgw": "borgersag.connectors.zgw:ZgwConnector",
    "momentum": "borgersag.connectors.momentum:MomentumConnector",
    "os2mo": "borgersag.connectors.os2mo:Os2moConnector",
    "cpr_register": "borgersag.connectors.cpr_register:CprRegisterConnector",
    "rest": "borgersag.connectors.rest:RestConnector",
}


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    """The wheel of this checkout, built with pip the way ``pip install .`` builds it.

    Without build isolation when hatchling is already installed (fast, offline); else pip
    fetches the pinned hatchling from the package index into an isolated build env.
    """
    out = tmp_path_factory.mktemp("wheel")
    command = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", str(out)]
    if importlib.util.find_spec("hatchling") is not None:
        command.append("--no-build-isolation")
    command.append(str(ROOT))
    env = {**os.environ, "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
    done = subprocess.run(
        command, cwd=out, env=env, capture_output=True, text=True, timeout=240, check=False
    )
    assert done.returncode == 0, f"{' '.join(command)} failed:\n{done.stdout}\n{done.stderr}"
    wheels = list(out.glob("borgersag-*.whl"))
    assert len(wheels) == 1, f"expected one wheel in {out}, found {wheels}"
    return wheels[0]


def test_wheel_ships_templates_config_assets_and_entry_points(wheel):
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        entry_points_file = next(n for n in names if n.endswith(".dist-info/entry_points.txt"))
        entry_points_text = archive.read(entry_points_file).decode()

    required = {
        "borgersag/__init__.py",
        "borgersag/templates/base.html",
        "borgersag/default_config/portal.toml",
        "borgersag/default_config/sources.toml",
        "borgersag/static/css/app.css",
        "borgersag/static/js/app.js",
        # the English catalogue, compiled (committed; see DEVELOPERS.md "Languages")
        "borgersag/translations/en/LC_MESSAGES/messages.mo",
        "borgersag/static/vendor/dkfds/css/dkfds-borgerdk.min.css",
        "borgersag/static/vendor/dkfds/js/dkfds.min.js",
        "borgersag/static/vendor/dkfds/img/all-svg-icons.svg",
        "borgersag/connectors/__init__.py",
        *(f"borgersag/connectors/{name}.py" for name in CONNECTORS),
        # Every template and every shipped config file, not just the ones named above.
        *(f"borgersag/templates/{p.name}" for p in (ROOT / "templates").glob("*.html")),
        *(f"borgersag/default_config/{p.name}" for p in (ROOT / "config").glob("*.toml")),
        # The case index's migrations, which `borgersag index upgrade` runs from the package.
        "borgersag/index/migrations/env.py",
        "borgersag/index/migrations/script.py.mako",
        *(
            f"borgersag/index/migrations/versions/{p.name}"
            for p in (ROOT / "borgersag/index/migrations/versions").glob("*.py")
        ),
    }
    missing = sorted(required - names)
    assert not missing, f"{wheel.name} lacks {missing}"
    assert any(n.startswith("borgersag/static/vendor/dkfds/fonts/") for n in names)

    stray = sorted(
        n
        for n in names
        # A top-level "connectors" package would clash with any other project's.
        if n.startswith(("tests/", ".venv/", "node_modules/", "connectors/")) or "__pycache__" in n
    )
    assert not stray, f"{wheel.name} ships files it should not: {stray[:10]}"

    parser = configparser.ConfigParser(delimiters=("=",))
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read_string(entry_points_text)
    assert dict(parser["borgersag.connectors"]) == CONNECTORS
    assert dict(parser["console_scripts"]) == {"borgersag": "borgersag.cli.main:main"}


# Runs in the subprocess: argv = [unpacked wheel dir, source checkout]. Prints one JSON line.
INSTALLED_APP_SCRIPT = textwrap.dedent(
    """
    import json, re, sys
    from pathlib import Path

    unpacked, checkout = (Path(a).resolve() for a in sys.argv[1:3])
    # The venv's editable install puts the checkout on sys.path: take it off again.
    sys.path[:] = [p for p in sys.path if not p or Path(p).resolve() != checkout]

    import borgersag, borgersag.connectors as connectors
    from borgersag.config.loader import Config, default_config_dir, load_config
    from borgersag.lookup.registry import connector_types
    from borgersag.sandbox.runner import start_sandbox
    from borgersag.sandbox.section import SANDBOX
    from borgersag.web import create_app, static_dir, templates_dir
    from borgersag.sandbox.idp_people import demo_staff
    import requests

    def inside(path):
        return Path(path).resolve().is_relative_to(unpacked)

    where = {
        "borgersag": borgersag.__file__,
        "connectors": connectors.__file__,
        "templates": str(templates_dir()),
        "static": str(static_dir()),
        "default_config": str(default_config_dir()),
        **{f"connector {n}": sys.modules[c.__module__].__file__
           for n, c in connector_types().items()},
    }
    outside = {k: v for k, v in where.items() if not inside(v)}
    assert not outside, f"loaded from outside the unpacked wheel: {outside}"
    assert set(connector_types()) >= {"sbsys", "ejerfortegnelse", "byggesag"}

    shipped = load_config()  # the default config shipped in the wheel
    assert all(inside(f) for f in shipped.files), shipped.files
    seed = shipped.section(SANDBOX).seed
    # The shipped config's fixed ports may be taken; the sandbox gets free ones.
    with start_sandbox({"seed": seed}) as sandbox:
        sources = sandbox.source_config()
        for name, table in sources.items():
            table["title"] = shipped.source(name).title
        config = Config.from_mapping({
            "portal": shipped.portal.as_table(),
            "auth": sandbox.auth_config(),
            "sessions": {"backend": "memory"},
            "sandbox": {"seed": seed},
            "sources": sources,
        })
        app = create_app(config)
        assert app.config["BORGERSAG_VENDOR_ASSETS"], "DKFDS assets not found"
        client = app.test_client()

        page = client.get("/log-ind")
        assert page.status_code == 200, page.status_code
        html = page.get_data(as_text=True)
        assert "Log ind med kommunens login" in html
        assets = re.findall(r'(?:href|src)="(/static/[^"]+)"', html)
        dkfds_css = "/static/vendor/dkfds/css/dkfds-borgerdk.min.css"
        assert dkfds_css in assets, assets
        sizes = {}
        for url in assets:
            asset = client.get(url)
            assert asset.status_code == 200, (url, asset.status_code)
            sizes[url] = len(asset.get_data())
            asset.close()
        assert sizes[dkfds_css] > 10_000, sizes

        # A real login through the sandbox's municipal identity provider.
        started = client.get("/log-ind/medarbejder")
        assert started.status_code == 303, started.status_code
        idp_page = requests.get(started.location, timeout=10)
        assert idp_page.status_code == 200 and "idp-person" in idp_page.text
        person = demo_staff(sandbox.municipality)[0]
        answer = requests.post(started.location, data={"sub": person.sub},
                               allow_redirects=False, timeout=10)
        callback = answer.headers["Location"]
        signed = client.get(callback[callback.index("/log-ind/svar"):])
        assert signed.status_code == 303, signed.status_code
        page = client.get("/")
        assert page.status_code == 200
        # the form token, as the browser gets it (a new session after signing in)
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.get_data(as_text=True))[1]

        cpr = sandbox.municipality.demo.typical
        found = client.post("/", data={"kind": "cpr", "value": cpr, "csrf_token": csrf})
        assert found.status_code == 303, found.status_code
        location = found.headers["Location"]
        assert re.search(r"/oversigt/[A-Za-z0-9_-]+$", location), location
        assert cpr not in location
        overview = client.get(location)
        assert overview.status_code == 200, overview.status_code
        text = overview.get_data(as_text=True)
        assert "Sagsoverblik" in text
        for name in sources:
            assert shipped.source(name).title in text, name
        assert "Oversigten er ikke komplet" not in text
        app.extensions["borgersag"].close()

    print(json.dumps({"where": where, "assets": sizes, "overview": location}))
    """
)


def test_installed_wheel_runs_the_app_without_the_checkout(wheel, tmp_path):
    unpacked = tmp_path / "site"
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    with zipfile.ZipFile(wheel) as archive:
        archive.extractall(unpacked)
    script = elsewhere / "check_installed.py"
    script.write_text(INSTALLED_APP_SCRIPT, encoding="utf-8")

    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "BORGERSAG"))}
    env["PYTHONPATH"] = str(unpacked)
    env["TMPDIR"] = str(tmp_path)
    env["BORGERSAG_STATE_DIR"] = str(tmp_path / "state")  # the default SQLite files go here
    done = subprocess.run(
        [sys.executable, str(script), str(unpacked), str(ROOT)],
        cwd=elsewhere,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, f"the installed app failed:\n{done.stdout}\n{done.stderr}"
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert Path(report["where"]["borgersag"]).is_relative_to(unpacked)
    assert report["overview"].startswith("/oversigt/")
