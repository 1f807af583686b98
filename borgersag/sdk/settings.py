"""Declared settings: a small schema type shared by config tables and connector types."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from borgersag.sdk.errors import ConfigError

__all__ = ["REQUIRED", "Setting", "interpolate", "validate_table"]

_ENV_RE = re.compile(r"^\$\{([A-Za-z_][A-Za-z0-9_]*)\}$")


class _Required:
    def __repr__(self) -> str:
        return "REQUIRED"


REQUIRED: Any = _Required()
"""Marker for a setting without a default."""

_TYPE_NAMES = {
    str: "a string",
    int: "an integer",
    float: "a number",
    bool: "true or false",
    list: "a list of strings",
}


@dataclass(frozen=True, slots=True)
class Setting:
    """One declared setting of a connector type.

    ``secret`` settings are never shown (health page, ``connectors list``, logs) and may
    be given as ``"${ENV_VAR}"`` in config so they stay out of files.
    """

    name: str
    type: type = str
    description: str = ""
    default: Any = REQUIRED
    secret: bool = False
    title: str | None = None

    def coerce(self, value: Any, file: str, key: str) -> Any:
        """Check ``value`` against the declared type; raise :class:`ConfigError` if wrong."""
        expected = _TYPE_NAMES.get(self.type, self.type.__name__)
        ok = isinstance(value, self.type) and not (
            self.type is not bool and isinstance(value, bool)
        )
        if self.type is float and isinstance(value, int) and not isinstance(value, bool):
            return float(value)
        if ok and self.type is list and not all(isinstance(v, str) for v in value):
            ok = False
        if not ok:
            shown = "a secret value" if self.secret else repr(value)
            raise ConfigError(file, key, f"expected {expected}, got {shown}")
        if self.type is str and not value.strip() and self.default is REQUIRED:
            raise ConfigError(file, key, "expected a non-empty string")
        return value


def validate_table(schema: tuple[Setting, ...], raw: Any, file: str, prefix: str) -> dict[str, Any]:
    """Validate one table against ``schema``: unknown keys, types, required keys."""
    if not isinstance(raw, Mapping):
        raise ConfigError(file, prefix.rstrip("."), "a table")
    by_name = {s.name: s for s in schema}
    result: dict[str, Any] = {}
    for name, value in raw.items():
        if name not in by_name:
            raise ConfigError(
                file, prefix + name, f"unknown setting (known: {', '.join(sorted(by_name))})"
            )
        value = interpolate(value, file, prefix + name)
        result[name] = by_name[name].coerce(value, file, prefix + name)
        number = isinstance(result[name], int | float) and not isinstance(result[name], bool)
        if number and result[name] < 0:
            raise ConfigError(file, prefix + name, "a number of 0 or more")
    for name, setting in by_name.items():
        if name not in result:
            if setting.default is REQUIRED:
                raise ConfigError(file, prefix + name, f"missing; {setting.description}")
            result[name] = setting.default
    return result


def interpolate(value: Any, file: str, key: str) -> Any:
    """Replace a ``"${ENV_VAR}"`` string with the variable's value."""
    if isinstance(value, str) and (match := _ENV_RE.match(value)):
        env = os.environ.get(match[1])
        if env is None:
            raise ConfigError(file, key, f"environment variable {match[1]} to be set")
        return env
    return value
