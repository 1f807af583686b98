"""Docs stay true: every documented config key exists, every setting in code is documented."""

import re
from pathlib import Path

import pytest

from borgersag.config import PORTAL_SETTINGS, SOURCE_SETTINGS, registered_sections
from borgersag.lookup.registry import connector_types
from borgersag.people.permissions import Permission
from borgersag.people.roles import ROLE_SETTINGS

ROOT = Path(__file__).resolve().parent.parent
CONFIG_DOC = (ROOT / "docs" / "configuration.md").read_text(encoding="utf-8")


def documented(heading: str) -> set[str]:
    """Keys in the first column of the table under the heading that starts with ``heading``."""
    section = re.split(r"\n#{2,3} ", "\n" + CONFIG_DOC)
    body = next((s for s in section if s.startswith(heading)), None)
    assert body is not None, f"docs/configuration.md has no heading {heading}"
    return set(re.findall(r"^\| `([^`]+)` \|", body, flags=re.M))


def config_tables() -> dict[str, tuple]:
    """Every table the loader validates, by its documented name: the loader's own two and
    every table of every section registered in ``borgersag.config_sections``."""
    tables = {"portal": PORTAL_SETTINGS, "sources.<name>": SOURCE_SETTINGS}
    for section in registered_sections():
        tables.update(section.schemas())
    return tables


def test_the_registry_has_the_built_in_sections():
    tables = {section.table for section in registered_sections()}
    assert tables >= {"auth", "roles", "citizen", "sessions", "limits", "audit", "sandbox"}


@pytest.mark.parametrize("table", sorted(config_tables()))
def test_config_settings_documented_exactly(table):
    assert documented(f"`[{table}]`") == {s.name for s in config_tables()[table]}


def test_every_documented_table_is_one_the_loader_knows():
    headings = set(re.findall(r"^#{2,3} `\[([^\]]+)\]`", CONFIG_DOC, flags=re.M))
    assert headings == set(config_tables())


@pytest.mark.parametrize(
    "type_name",
    ["sbsys", "ejerfortegnelse", "byggesag", "zgw", "momentum", "os2mo"],
)
def test_connector_settings_documented_exactly(type_name):
    cls = connector_types()[type_name]
    in_code = {s.name for s in cls.settings_schema} - {s.name for s in SOURCE_SETTINGS}
    assert documented(f"type `{type_name}`") == in_code


def test_sandbox_keys_are_the_ones_the_validator_knows():
    """[sandbox] is checked by hand (services are nested); its Setting tuple, which the docs
    are held to, must name exactly what the validator fills in, with the same defaults."""
    from borgersag.sandbox.section import (
        DEFAULT_LATENCY_MS,
        SANDBOX_SETTINGS,
        validate_sandbox_settings,
    )

    settings = validate_sandbox_settings({})
    service = settings.services["esdh"]
    filled = {
        "seed": settings.seed,
        "host": settings.host,
        "smtp_port": settings.smtp_port,
        "services.<name>.port": service.port,
        **{f"services.<name>.{k}": v for k, v in service.faults.as_dict().items()},
    }
    # latency_ms has no one default: each service has its own (declared as None)
    latencies = {name: s.faults.latency_ms for name, s in settings.services.items()}
    assert latencies == DEFAULT_LATENCY_MS
    filled["services.<name>.latency_ms"] = None
    assert filled == {s.name: s.default for s in SANDBOX_SETTINGS}


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

    roles_row = next(line for line in CONFIG_DOC.splitlines() if line.startswith("| `permissions`"))
    identity = (ROOT / "docs" / "identity.md").read_text(encoding="utf-8")
    described = next(s.description for s in ROLE_SETTINGS if s.name == "permissions")
    for permission in Permission:
        assert f"`{permission}`" in roles_row, permission
        assert f"`{permission}`" in identity, permission
        assert permission.value in described, permission


def test_every_path_the_docs_name_exists():
    """A module or test moved without its docs is caught: every `borgersag/…`, `tests/…`,
    `templates/…`, `bench/…` or `scripts/…` path in README, DEVELOPERS.md, docs/ and the
    tests' own notes exists."""
    pages = [
        ROOT / "README.md",
        ROOT / "DEVELOPERS.md",
        *sorted((ROOT / "docs").glob("*.md")),
        *sorted((ROOT / "tests").rglob("*.md")),
    ]
    missing = [
        f"{page.name}: {path}"
        for page in pages
        for path in re.findall(
            r"`((?:borgersag|tests|templates|bench|scripts)/[\w./-]+)`",
            page.read_text(encoding="utf-8"),
        )
        if not (ROOT / path).exists()
    ]
    assert not missing, missing
