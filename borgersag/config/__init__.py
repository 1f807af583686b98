"""Config: TOML files in a directory, declared, validated at start-up.

The loader reads and merges the files and builds the ``[portal]`` and ``[sources]``
tables; every other table is a :class:`Section` that the feature owning it registers in
the entry-point group ``borgersag.config_sections`` and reads back, typed, with
``config.section(SECTION)``.

May import: :mod:`borgersag.sdk` (settings schema, errors), :mod:`borgersag.domain`,
:mod:`borgersag.runtime`.
"""

from borgersag.config.loader import Config, default_config_dir, load_config
from borgersag.config.portal import PORTAL_SETTINGS, PortalSettings
from borgersag.config.section import (
    SECTION_GROUP,
    Section,
    SectionContext,
    from_table,
    registered_sections,
)
from borgersag.config.sources import SOURCE_SETTINGS, SourceConfig
from borgersag.sdk.settings import validate_table

__all__ = [
    "PORTAL_SETTINGS",
    "SECTION_GROUP",
    "SOURCE_SETTINGS",
    "Config",
    "PortalSettings",
    "Section",
    "SectionContext",
    "SourceConfig",
    "default_config_dir",
    "from_table",
    "load_config",
    "registered_sections",
    "validate_table",
]
