"""The architecture as written down is the architecture in the code.

docs/architecture.md names every subpackage and the order of the layers; each
subpackage's docstring says what it may import; the import-linter contracts in
pyproject.toml enforce that order, and they fail when the core reaches up.
"""

from __future__ import annotations

import importlib
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "borgersag"
DOC = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
CONTRACTS = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"][
    "importlinter"
]["contracts"]
LAYERS = next(c for c in CONTRACTS if c["type"] == "layers")["layers"]


def _subpackages() -> list[str]:
    return sorted(p.parent.name for p in PACKAGE.glob("*/__init__.py"))


def _tree() -> str:
    return DOC.split("## The tree", 1)[1].split("```", 2)[1]


@pytest.mark.parametrize("name", _subpackages())
def test_every_subpackage_is_in_the_documented_tree_and_says_what_it_may_import(name):
    assert re.search(rf"^\s+{name}/\s", _tree(), re.M), f"docs/architecture.md lacks {name}/"
    doc = importlib.import_module(f"borgersag.{name}").__doc__ or ""
    assert "May import:" in doc, f"borgersag.{name}'s docstring does not say what it may import"


def test_no_module_lives_outside_the_subpackages():
    loose = sorted(p.name for p in PACKAGE.glob("*.py") if p.name != "__init__.py")
    assert not loose, f"modules outside a layer: {loose}"


def test_the_documented_layer_order_is_the_enforced_one():
    table = DOC.split("The layers, top to bottom", 1)[1].split("\n\n", 2)[1]
    documented = re.findall(r"^\| `(\w+)` \|", table, re.M)
    assert documented == [layer.removeprefix("borgersag.") for layer in LAYERS]


@pytest.mark.parametrize("layer", LAYERS)
def test_a_layers_docstring_names_only_layers_below_it(layer):
    doc = importlib.import_module(layer).__doc__ or ""
    allowed = doc.split("May import:", 1)[1].split("\n\n", 1)[0]
    named = set(re.findall(r":mod:`(borgersag\.\w+)`", allowed))
    below = set(LAYERS[LAYERS.index(layer) + 1 :])
    assert named <= below, f"{layer} says it may import {sorted(named - below)}, above it"


def test_the_core_never_imports_the_sandbox_or_the_test_kit():
    forbidden = next(c for c in CONTRACTS if "sandbox" in c["name"] and "core" in c["name"])
    assert set(forbidden["forbidden_modules"]) == {"borgersag.sandbox", "borgersag.testing"}
    core = set(LAYERS) - {"borgersag.cli"}
    assert core <= set(forbidden["source_modules"])


def _lint_with(tmp_path: Path, module: str, source: str) -> subprocess.CompletedProcess[str]:
    """``lint-imports`` on a copy of the package with one extra module."""
    shutil.copytree(PACKAGE, tmp_path / "borgersag", ignore=shutil.ignore_patterns("static"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    target = tmp_path / Path(*module.split(".")).with_suffix(".py")
    target.write_text(source, encoding="utf-8")
    return subprocess.run(
        [str(Path(sys.executable).with_name("lint-imports")), "--no-cache"],
        cwd=tmp_path,
        env={"PYTHONPATH": str(tmp_path), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.mark.parametrize(
    ("module", "source", "broken"),
    [
        # A lazy import in a function body counts like one at the top.
        ("borgersag.domain.leak", "def f():\n    import borgersag.web\n", "Layers"),
        ("borgersag.lookup.leak", "from borgersag.sandbox import runner\n", "sandbox"),
        ("borgersag.people.leak", "import borgersag.testing.suite\n", "sandbox"),
        ("borgersag.connectors.leak", "from borgersag.lookup import engine\n", "public SDK"),
    ],
)
def test_the_contracts_fail_when_the_core_reaches_up(tmp_path, module, source, broken):
    result = _lint_with(tmp_path, module, source)
    assert result.returncode != 0, result.stdout
    broken_section = result.stdout.split("Broken contracts", 1)[1]
    assert broken in broken_section, result.stdout
