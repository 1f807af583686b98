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

ROOT = Path(__file__).resolve().parent.parent
BUILT_IN = ("sbsys", "byggesag", "ejerfortegnelse")


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


@pytest.mark.parametrize("name", BUILT_IN)
def test_built_in_connectors_import_only_the_public_surface(name):
    tree = ast.parse((ROOT / "connectors" / f"{name}.py").read_text(encoding="utf-8"))
    reached = [
        node.module or "." * node.level
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom)
        and (node.level or (node.module or "").startswith("borgersag."))
    ]
    reached += [
        alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.Import)
        for alias in node.names
        if alias.name.startswith("borgersag")
    ]
    assert not reached, f"connectors/{name}.py reaches past `from borgersag import`: {reached}"


def test_old_import_paths_keep_working():
    from borgersag.http import API_KEY_SETTINGS, ApiKeyAuth, OAuth2ClientCredentials
    from connectors._shape import Reader

    assert ApiKeyAuth is borgersag.ApiKeyAuth and Reader is borgersag.Reader
    assert API_KEY_SETTINGS is borgersag.API_KEY_SETTINGS
    assert OAuth2ClientCredentials is borgersag.OAuth2ClientCredentials
    with pytest.raises(AttributeError):
        borgersag.http.NoSuchThing  # noqa: B018
