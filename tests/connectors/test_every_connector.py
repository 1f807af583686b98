"""Every connector type registered through the entry points passes the conformance suite.

The list of connectors comes from the registry, not from a hand-kept list: a new built-in
connector without a ``ConformanceSuite`` class in ``tests/connectors/`` fails here.
"""

from __future__ import annotations

import ast
from pathlib import Path

from borgersag.lookup.registry import connector_types

HERE = Path(__file__).resolve().parent


def _suites() -> dict[str, str]:
    """``module:ClassName`` of each connector a ``ConformanceSuite`` subclass here tests."""
    found = {}
    for path in HERE.glob("test_*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        imported = {
            alias.asname or alias.name: f"{node.module}:{alias.name}"
            for node in ast.walk(tree)
            if isinstance(node, ast.ImportFrom) and node.module
            for alias in node.names
        }
        for node in tree.body:
            bases = {getattr(b, "id", None) for b in getattr(node, "bases", ())}
            if not isinstance(node, ast.ClassDef) or "ConformanceSuite" not in bases:
                continue
            for item in node.body:
                if (
                    isinstance(item, ast.Assign)
                    and [getattr(t, "id", None) for t in item.targets] == ["connector"]
                    and isinstance(item.value, ast.Name)
                ):
                    target = imported[item.value.id]
                    found[target] = f"{path.name}::{node.name}"
    return found


def test_every_registered_connector_type_opts_into_the_conformance_suite():
    suites = _suites()
    registered = {
        name: f"{cls.__module__}:{cls.__qualname__}" for name, cls in connector_types().items()
    }
    missing = sorted(name for name, target in registered.items() if target not in suites)
    assert registered, "no connector types are registered (is the package installed?)"
    assert not missing, f"connector types without a ConformanceSuite in tests/connectors: {missing}"
