"""Docs stay true: every documented config key exists, every setting in code is documented."""

import re
from pathlib import Path

import pytest

from borgersag.audit import AUDIT_SETTINGS
from borgersag.config.loader import (
    AUTH_SETTINGS,
    CASEWORKER_LOGIN_SETTINGS,
    CITIZEN_LOGIN_SETTINGS,
    PORTAL_SETTINGS,
    ROLE_SETTINGS,
    SOURCE_SETTINGS,
)
from borgersag.lookup.registry import connector_types
from borgersag.web.limits import LIMIT_SETTINGS
from borgersag.web.sessions import SESSION_SETTINGS

ROOT = Path(__file__).resolve().parent.parent
CONFIG_DOC = (ROOT / "docs" / "configuration.md").read_text(encoding="utf-8")
SANDBOX_KEYS = {
    "seed",
    "host",
    "services.<name>.port",
    "services.<name>.latency_ms",
    "services.<name>.hang",
    "services.<name>.fail",
    "services.<name>.fail_rate",
}


def documented(heading: str) -> set[str]:
    """Keys in the first column of the table under the heading that starts with ``heading``."""
    section = re.split(r"\n#{2,3} ", "\n" + CONFIG_DOC)
    body = next(s for s in section if s.startswith(heading))
    return set(re.findall(r"^\| `([^`]+)` \|", body, flags=re.M))


@pytest.mark.parametrize(
    ("heading", "settings"),
    [
        ("`[portal]`", PORTAL_SETTINGS),
        ("`[auth]`", AUTH_SETTINGS),
        ("`[auth.citizen]`", CITIZEN_LOGIN_SETTINGS),
        ("`[auth.caseworker]`", CASEWORKER_LOGIN_SETTINGS),
        ("`[roles.<name>]`", ROLE_SETTINGS),
        ("`[sessions]`", SESSION_SETTINGS),
        ("`[limits]`", LIMIT_SETTINGS),
        ("`[audit]`", AUDIT_SETTINGS),
        ("`[sources.<name>]`", SOURCE_SETTINGS),
    ],
)
def test_core_settings_documented_exactly(heading, settings):
    assert documented(heading) == {s.name for s in settings}


def test_sandbox_settings_documented_exactly():
    assert documented("`[sandbox]`") == SANDBOX_KEYS


@pytest.mark.parametrize(
    "type_name",
    ["sbsys", "ejerfortegnelse", "byggesag", "zgw", "momentum", "os2mo"],
)
def test_connector_settings_documented_exactly(type_name):
    cls = connector_types()[type_name]
    in_code = {s.name for s in cls.settings_schema} - {s.name for s in SOURCE_SETTINGS}
    assert documented(f"type `{type_name}`") == in_code


def test_sandbox_keys_are_the_ones_the_validator_knows():
    from borgersag.sandbox.runner import validate_sandbox_settings

    service = validate_sandbox_settings({})["services"]["esdh"]
    assert {f"services.<name>.{k}" for k in service} | {"seed", "host"} == SANDBOX_KEYS


def test_readme_names_the_two_commands_and_ci_runs_the_test_one():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "scripts/demo" in readme and "scripts/test" in readme
    assert "scripts/test" in (ROOT / ".ci" / "run").read_text(encoding="utf-8")


def test_the_connector_tutorial_runs_as_written(tmp_path):
    """The tutorial's Python blocks, joined in order, are a test module that passes."""
    import subprocess
    import sys

    text = (ROOT / "docs" / "connectors.md").read_text(encoding="utf-8")
    tutorial = text.split("## Tutorial: write a connector", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```python\n(.*?)```", tutorial, flags=re.S)
    assert len(blocks) == 3
    (tmp_path / "test_tutorial.py").write_text("\n".join(blocks), encoding="utf-8")
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_tutorial.py"],
        cwd=tmp_path, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    assert " passed" in done.stdout


def test_rest_connector_settings_documented_exactly():
    """The rest type documents its nested keys by their full names."""
    from borgersag.connectors.rest_requests import SEARCH_KEYS
    from borgersag.connectors.rest_settings import FIELDS

    cls = connector_types()["rest"]
    keys = documented("type `rest`")
    in_code = {s.name for s in cls.settings_schema} - {s.name for s in SOURCE_SETTINGS}
    assert {k for k in keys if "." not in k} == in_code
    search = {f"search.<kind>.{n}" for n in SEARCH_KEYS}
    assert {k for k in keys if k.startswith("search.")} == search
    assert {k for k in keys if k.startswith("fields.")} == {f"fields.{f.name}" for f in FIELDS}
    assert {k for k in keys if k.startswith("status_map.")} == {"status_map.<status text>"}


def test_every_permission_is_documented_for_the_role_catalogue():
    """Each Permission is named in the roles table, the identity docs and the setting."""
    from borgersag.people.permissions import Permission

    roles_row = next(line for line in CONFIG_DOC.splitlines() if line.startswith("| `permissions`"))
    identity = (ROOT / "docs" / "identity.md").read_text(encoding="utf-8")
    described = next(s.description for s in ROLE_SETTINGS if s.name == "permissions")
    for permission in Permission:
        assert f"`{permission}`" in roles_row, permission
        assert f"`{permission}`" in identity, permission
        assert permission.value in described, permission
