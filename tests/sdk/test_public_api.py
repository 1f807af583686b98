"""The connector author's API: ``from borgersag import …`` and nothing else.

``borgersag.__all__`` is the public surface; docs/connectors.md names every entry; the
built-in connectors import only from it, as a third-party connector should.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

import borgersag

ROOT = Path(__file__).resolve().parents[2]


def test_every_public_name_exists_and_is_documented():
    doc = (ROOT / "docs" / "connectors.md").read_text(encoding="utf-8")
    section = doc.split("## The public API", 1)[1].split("\n## ", 1)[0]
    fenced = re.findall(r"```.*?```", section, flags=re.S)
    inline = re.findall(r"`([^`]+)`", re.sub(r"```.*?```", "", section, flags=re.S))
    in_code = " ".join(fenced + inline)
    undocumented = [n for n in borgersag.__all__ if not re.search(rf"\b{n}\b", in_code)]
    assert not undocumented, f"not in docs/connectors.md 'The public API': {undocumented}"
    assert all(hasattr(borgersag, name) for name in borgersag.__all__)
    assert len(set(borgersag.__all__)) == len(borgersag.__all__)


def test_the_package_says_what_is_stable():
    assert "connector author's API" in borgersag.__doc__
    assert "may move" in borgersag.__doc__


def _connector_modules() -> list[str]:
    """Every module of every connector type registered through the entry points (the
    built-in ones are registered exactly like a third-party package's)."""
    from borgersag.lookup.registry import connector_types

    packages = {cls.__module__.rsplit(".", 1)[0] for cls in connector_types().values()}
    assert packages == {"borgersag.connectors"}
    folder = ROOT / "borgersag" / "connectors"
    return sorted(p.stem for p in folder.glob("*.py") if p.stem != "__init__")


@pytest.mark.parametrize("name", _connector_modules())
def test_built_in_connectors_import_only_the_public_surface(name):
    path = ROOT / "borgersag" / "connectors" / f"{name}.py"
    tree = ast.parse(path.read_text(encoding="utf-8"))
    modules = [node.module or "" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)]
    imports = [node for node in ast.walk(tree) if isinstance(node, ast.Import)]
    modules += [alias.name for node in imports for alias in node.names]
    # The root package's public names, and the connector package's own modules.
    reached = [
        m
        for m in modules
        if m.startswith("borgersag.") and not m.startswith("borgersag.connectors.")
    ]
    relative = [n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.level]
    assert not reached and not relative, f"{name}.py reaches past the public API: {reached}"


def test_moved_names_are_gone_not_forwarded_silently():
    import borgersag.sdk.http

    with pytest.raises(AttributeError):
        borgersag.sdk.http.ApiKeyAuth  # noqa: B018
    with pytest.raises(ModuleNotFoundError):
        __import__("connectors._shape")
