"""Config: TOML files in a directory, declared, validated at start-up.

The loader reads and merges the files and builds the ``[portal]`` and ``[sources]``
tables; every other table is a section that the feature owning it registers.

May import: :mod:`borgersag.sdk` (settings schema, errors), :mod:`borgersag.domain`,
:mod:`borgersag.runtime`.
"""

from borgersag.config.loader import (
    AUTH_SETTINGS,
    CASEWORKER_LOGIN_SETTINGS,
    CITIZEN_LOGIN_SETTINGS,
    PORTAL_SETTINGS,
    ROLE_SETTINGS,
    SOURCE_SETTINGS,
    Config,
    SourceConfig,
    default_config_dir,
    load_config,
)

__all__ = [
    "AUTH_SETTINGS",
    "CASEWORKER_LOGIN_SETTINGS",
    "CITIZEN_LOGIN_SETTINGS",
    "PORTAL_SETTINGS",
    "ROLE_SETTINGS",
    "SOURCE_SETTINGS",
    "Config",
    "SourceConfig",
    "default_config_dir",
    "load_config",
]
