"""The declaration and settings checks of the conformance suite, as plain functions.

Each returns a list of problems a person can act on (empty when all is well).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from borgersag import REQUIRED, ConfigError, Connector, KeyKind, Setting

__all__ = ["config_error_problems", "contract_problems", "wrong_value"]

# The settings every [sources.<name>] table has; the engine takes them, not the connector.
COMMON_SETTINGS = frozenset({"type", "title", "enabled", "timeout_seconds"})
SETTING_TYPES = (str, int, float, bool, list, dict)  # dict: a TOML table
_WRONG_VALUES: dict[type, Any] = {
    str: 12345,
    int: "mange",
    float: "snart",
    bool: "ja",
    list: "a,b",
    dict: "a=b",
}
_TYPE_NAME = re.compile(r"^[a-z][a-z0-9_-]{0,39}$")


def wrong_value(setting: Setting) -> Any:
    """A value of another type than ``setting`` declares, as config could give it."""
    return _WRONG_VALUES.get(setting.type, 12345)


def contract_problems(cls: type[Connector]) -> list[str]:
    """What is wrong with the class's declarations: type name, key kinds, overridden
    methods, settings schema."""
    problems = []
    add = problems.append
    if not (isinstance(cls.type_name, str) and _TYPE_NAME.match(cls.type_name)):
        add(f"type_name {cls.type_name!r} is not a lowercase config name (e.g. 'sbsys')")
    if not isinstance(cls.title, str):
        add("title is not a string")
    for name in ("key_kinds", "relation_kinds", "person_kinds"):
        kinds = getattr(cls, name)
        if not isinstance(kinds, frozenset) or not all(isinstance(k, KeyKind) for k in kinds):
            add(f"{name} is not a frozenset of KeyKind")
    if not (cls.key_kinds or cls.relation_kinds or cls.person_kinds):
        add(
            "the connector declares none of key_kinds, relation_kinds and person_kinds,"
            " so it is never asked"
        )
    if cls.key_kinds and cls.search is Connector.search:
        add("key_kinds is declared but search() is not overridden")
    if cls.relation_kinds and cls.relations is Connector.relations:
        add("relation_kinds is declared but relations() is not overridden")
    if cls.person_kinds and cls.person is Connector.person:
        add("person_kinds is declared but person() is not overridden")
    schema = cls.settings_schema
    if not isinstance(schema, tuple) or not all(isinstance(s, Setting) for s in schema):
        add("settings_schema is not a tuple of Setting")
        return problems
    names = [s.name for s in schema]
    for name in sorted({n for n in names if names.count(n) > 1}):
        add(f"setting {name!r} is declared twice")
    for setting in schema:
        problems += _setting_problems(setting)
    return problems


def _setting_problems(setting: Setting) -> list[str]:
    problems = []
    add = problems.append
    name = setting.name
    if name in COMMON_SETTINGS:
        add(f"setting {name!r} clashes with the common source setting of that name")
    if setting.type not in SETTING_TYPES:
        add(f"setting {name!r} has type {setting.type!r}; config gives str, int, float, bool,")
        problems[-1] += " list or dict (a table)"
    if not setting.description.strip():
        add(f"setting {name!r} has no description (docs and errors show it)")
    default = setting.default
    if default is not REQUIRED:
        try:
            setting.coerce(default, "<schema>", name)
        except ConfigError:
            add(f"the default of setting {name!r} ({default!r}) is not of its type")
        if setting.secret and default not in ("", None):
            add(f"secret setting {name!r} has a default value in code")
    return problems


def config_error_problems(
    cls: type[Connector], raw: Mapping[str, Any], key: str, what: str, *, file: str
) -> list[str]:
    """Problems unless validating ``raw`` raises a one-line :class:`ConfigError` for ``key``
    (the full dotted key) starting with ``file``."""
    prefix = key.rsplit(".", 1)[0] + "."
    try:
        cls.validate_settings(raw, file, prefix)
    except ConfigError as exc:
        problems = []
        if exc.key != key:
            problems.append(f"{what}: the ConfigError names {exc.key!r}, expected {key!r}")
        if "\n" in str(exc) or not str(exc).startswith(file):
            problems.append(f"{what}: the error is not one line starting with the file")
        return problems
    except Exception as exc:
        return [f"{what}: raised {type(exc).__name__}: {exc}, expected ConfigError"]
    return [f"{what}: accepted, expected ConfigError naming {key!r}"]
