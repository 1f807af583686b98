"""Permissions are an enum; config and sessions still speak the catalogue's strings."""

from __future__ import annotations

import pytest

from borgersag.config.loader import Config
from borgersag.people.identity import PERMISSIONS, User, default_roles
from borgersag.people.permissions import Permission
from borgersag.people.sections import ROLES
from borgersag.sdk.errors import ConfigError

from support.actions import caseworker_user


def test_the_catalogue_accepts_the_same_strings_and_gives_members():
    config = Config.from_mapping(
        {"roles": {"leder": {"permissions": ["opslag", "se_kollegers_sager"]}}}
    )
    role = config.section(ROLES).roles["leder"]
    assert role.permissions == {Permission.OPSLAG, Permission.SE_KOLLEGERS_SAGER}
    assert all(isinstance(p, Permission) for p in role.permissions)


def test_an_unknown_permission_in_config_names_the_key_and_the_choices():
    with pytest.raises(ConfigError) as caught:
        Config.from_mapping({"roles": {"boss": {"permissions": ["alt"]}}})
    assert caught.value.key == "roles.boss.permissions"
    assert "se_kollegers_sager" in str(caught.value)


def test_no_default_role_may_see_colleagues_cases():
    assert not any(Permission.SE_KOLLEGERS_SAGER in r.permissions for r in default_roles().values())


def test_permissions_survive_the_session_and_unknown_names_grant_nothing():
    user = caseworker_user(1)
    data = user.to_session()
    assert data["permissions"] == ["administration", "opslag"]
    assert User.from_session(data) == user
    data["permissions"] = ["opslag", "alt_er_tilladt"]
    again = User.from_session(data)
    assert again.permissions == {Permission.OPSLAG}
    assert again.may(Permission.OPSLAG) and not again.may(Permission.ADMINISTRATION)


def test_the_description_table_covers_every_member():
    assert set(PERMISSIONS) == {p.value for p in Permission}
    assert all(p.description for p in Permission)
