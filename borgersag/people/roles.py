"""The ``[roles.<name>]`` tables: the role catalogue, what each caseworker role may do.

Without any ``[roles.*]`` table the catalogue is :func:`~borgersag.people.identity.default_roles`.
The section itself is declared in :mod:`borgersag.people.sections`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from borgersag.config.section import frozen_mapping
from borgersag.domain.model import Sensitivity
from borgersag.people.identity import PERMISSIONS, Restrictions, Role, default_roles
from borgersag.sdk.errors import ConfigError
from borgersag.sdk.settings import Setting, validate_table

__all__ = ["ROLE_SETTINGS", "RoleCatalogue", "build_roles"]

ROLE_SETTINGS: tuple[Setting, ...] = (
    Setting("title", str, "Name of the role shown to people.", default=""),
    Setting(
        "permissions",
        list,
        "What the role may do: opslag, administration, se_beskyttet_adresse, se_kollegers_sager,"
        " databeskyttelse.",
    ),
    Setting(
        "members",
        list,
        "Medarbejdernumre given this role even when the provider sends no roles claim.",
        default=[],
    ),
    Setting("kle_subjects", list, "KLE prefixes the role may see; empty: all.", default=[]),
    Setting("units", list, "Units whose cases the role may see; empty: all.", default=[]),
    Setting(
        "max_sensitivity",
        str,
        "Highest sensitivity the role may see (ikke_fortrolig,"
        " fortrolige_personoplysninger, foelsomme_personoplysninger, vip); empty: all.",
        default="",
    ),
)

_NAME_RE = re.compile(r"^[a-z][a-z0-9_-]{0,39}$")


@dataclass(frozen=True, slots=True)
class RoleCatalogue:
    """The validated role catalogue: every :class:`~borgersag.people.identity.Role` by name."""

    roles: Mapping[str, Role]


def build_roles(raw: Any, file: str) -> RoleCatalogue:
    """The role catalogue ``[roles.<name>]`` (``None``: the default catalogue)."""
    if raw is None:
        return RoleCatalogue(frozen_mapping(default_roles()))
    if not isinstance(raw, Mapping) or not raw:
        raise ConfigError(file, "roles", "a table of named roles, e.g. [roles.sagsbehandler]")
    roles = {}
    for name, table in raw.items():
        prefix = f"roles.{name}."
        if not _NAME_RE.match(name):
            raise ConfigError(file, f"roles.{name}", "a name of lowercase letters, digits, - or _")
        role = validate_table(ROLE_SETTINGS, table, file, prefix)
        unknown = [p for p in role["permissions"] if p not in PERMISSIONS]
        if unknown:
            raise ConfigError(
                file, prefix + "permissions", f"permissions among {', '.join(PERMISSIONS)}"
            )
        restrictions = None
        if role["kle_subjects"] or role["units"] or role["max_sensitivity"]:
            try:
                maximum = (
                    Sensitivity[role["max_sensitivity"].upper()]
                    if role["max_sensitivity"]
                    else Sensitivity.VIP
                )
            except KeyError:
                names = ", ".join(level.name.lower() for level in Sensitivity)
                raise ConfigError(file, prefix + "max_sensitivity", f"one of {names}") from None
            restrictions = Restrictions(tuple(role["kle_subjects"]), tuple(role["units"]), maximum)
        roles[name] = Role(
            name=name,
            title=role["title"] or name.capitalize(),
            permissions=frozenset(role["permissions"]),
            members=frozenset(role["members"]),
            restrictions=restrictions,
        )
    return RoleCatalogue(frozen_mapping(roles))
