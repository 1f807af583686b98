"""Config sections: each feature registers its own table; the loader imports none of them.

The loader owns [portal] and [sources]; every other table is a Section found through the
entry-point group ``borgersag.config_sections`` and read back typed with
``config.section(SECTION)``.
"""

from __future__ import annotations

import ast
import dataclasses
import re
import sys
import textwrap
from pathlib import Path

import pytest

from borgersag.audit import AUDIT, AuditSettings
from borgersag.config import (
    PORTAL_SETTINGS,
    SECTION_GROUP,
    Config,
    PortalSettings,
    load_config,
    registered_sections,
)
from borgersag.index.section import INDEX, WORKER, IndexSettings, WorkerSettings
from borgersag.lookup.section import CACHE, CacheSettings
from borgersag.notify.section import NOTIFY
from borgersag.people.case_kinds import CASE_KINDS
from borgersag.people.citizen_policy import CitizenPolicy
from borgersag.people.sections import (
    AUTH,
    CASEWORKER_LOGIN_SETTINGS,
    CITIZEN,
    CITIZEN_LOGIN_SETTINGS,
    ROLES,
    AuthSettings,
    CaseworkerLoginSettings,
    CitizenLoginSettings,
)
from borgersag.sandbox.section import SANDBOX, SandboxSettings
from borgersag.sdk.errors import ConfigError
from borgersag.web.accessibility import ACCESSIBILITY
from borgersag.web.sections import LIMITS, METRICS, SESSIONS, LimitSettings, SessionSettings

ROOT = Path(__file__).resolve().parents[2]
FEATURES = ("borgersag.web", "borgersag.sandbox", "borgersag.people", "borgersag.audit")
FEATURES += ("borgersag.lookup", "borgersag.cli", "borgersag.testing", "borgersag.connectors")


# -- the loader knows no feature ----------------------------------------------------------


def _imported_modules(path: Path) -> list[str]:
    """Every module an import in ``path`` names, at any depth (functions, TYPE_CHECKING)."""
    package = "borgersag.config"
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                module = f"{base}.{node.module}" if node.module else base
            else:
                module = node.module or ""
            found.append(module)
            found += [f"{module}.{alias.name}" for alias in node.names]
    return found


@pytest.mark.parametrize("name", sorted(p.name for p in (ROOT / "borgersag/config").glob("*.py")))
def test_config_imports_no_feature(name):
    path = ROOT / "borgersag" / "config" / name
    reached = [
        m for m in _imported_modules(path) if any(m == f or m.startswith(f + ".") for f in FEATURES)
    ]
    assert not reached, f"borgersag/config/{name} imports {reached}"
    text = path.read_text(encoding="utf-8")
    assert not re.search(r"\b(import_module|__import__)\s*\(", text), "no imports by name"


def test_the_import_check_sees_imports_inside_functions(tmp_path):
    sneaky = tmp_path / "sneaky.py"
    sneaky.write_text(
        "def f():\n    from borgersag.web.sessions import x\n    from ..people import y\n",
        encoding="utf-8",
    )
    assert {"borgersag.web.sessions", "borgersag.people"} <= set(_imported_modules(sneaky))


# -- the registry ---------------------------------------------------------------------------

BUILT_IN = {
    "accessibility": ACCESSIBILITY,
    "audit": AUDIT,
    "auth": AUTH,
    "case_kinds": CASE_KINDS,
    "cache": CACHE,
    "citizen": CITIZEN,
    "index": INDEX,
    "limits": LIMITS,
    "metrics": METRICS,
    "roles": ROLES,
    "sandbox": SANDBOX,
    "sessions": SESSIONS,
    "notify": NOTIFY,
    "worker": WORKER,
}


def test_built_in_sections_are_registered_through_the_entry_point_group():
    registered = {section.table: section for section in registered_sections()}
    assert registered == BUILT_IN  # the very objects the features declare


def test_each_section_is_read_typed_and_frozen():
    config = load_config()  # the shipped demo config, [sandbox] included
    assert isinstance(config.portal, PortalSettings)
    assert isinstance(config.section(SESSIONS), SessionSettings)
    assert isinstance(config.section(LIMITS), LimitSettings)
    assert isinstance(config.section(AUDIT), AuditSettings)
    assert isinstance(config.section(CACHE), CacheSettings)
    assert isinstance(config.section(AUTH), AuthSettings)
    assert isinstance(config.section(AUTH).citizen, CitizenLoginSettings)
    assert isinstance(config.section(AUTH).caseworker, CaseworkerLoginSettings)
    assert isinstance(config.section(SANDBOX), SandboxSettings)
    assert isinstance(config.section(INDEX), IndexSettings)
    assert isinstance(config.section(WORKER), WorkerSettings)
    for value in (config.portal, *config.sections.values()):
        assert dataclasses.is_dataclass(value), value
        field = dataclasses.fields(value)[0].name
        with pytest.raises(dataclasses.FrozenInstanceError):
            setattr(value, field, None)
    with pytest.raises(TypeError):
        config.section(ROLES).roles["x"] = None  # type: ignore[index]


def test_absent_tables_get_their_defaults_and_sandbox_is_none():
    config = Config.from_mapping({})
    assert config.section(SANDBOX) is None and not config.has_table("sandbox")
    assert config.section(SESSIONS).idle_minutes == 15.0
    assert config.section(AUTH).citizen is None
    assert set(config.section(ROLES).roles) == {
        "sagsbehandler",
        "administrator",
        "databeskyttelsesraadgiver",
    }
    assert config.portal.purposes[0] == "Sagsbehandling"


@pytest.mark.parametrize(
    ("cls", "settings"),
    [
        (PortalSettings, PORTAL_SETTINGS),
        (SessionSettings, SESSIONS.settings),
        (LimitSettings, LIMITS.settings),
        (AuditSettings, AUDIT.settings),
        (CitizenPolicy, CITIZEN.settings),
        (CitizenLoginSettings, CITIZEN_LOGIN_SETTINGS),
        (CaseworkerLoginSettings, CASEWORKER_LOGIN_SETTINGS),
    ],
    ids=lambda v: getattr(v, "__name__", ""),
)
def test_settings_classes_have_a_field_for_every_setting_and_hide_secrets(cls, settings):
    fields = {f.name: f for f in dataclasses.fields(cls)}
    assert set(fields) == {s.name for s in settings}
    for setting in settings:
        assert fields[setting.name].repr is not setting.secret, setting.name


def test_auth_fields_are_its_settings_and_its_two_logins():
    fields = {f.name for f in dataclasses.fields(AuthSettings)}
    assert fields == {s.name for s in AUTH.settings} | set(AUTH.subtables)


def test_secrets_are_not_in_the_repr_of_a_config():
    config = Config.from_mapping(
        {
            "portal": {"secret_key": "topsecret-1"},
            "sessions": {"backend": "redis", "redis_url": "redis://:topsecret-2@h/0"},
            "limits": {"storage_url": "redis://:topsecret-3@h/0"},
            "audit": {"url": "postgresql://u:topsecret-4@db.example/borgersag"},
            "auth": {
                "citizen": {
                    "issuer": "https://mitid.example",
                    "client_id": "c",
                    "client_secret": "topsecret-5",
                }
            },
        }
    )
    assert config.section(AUTH).citizen.client_secret == "topsecret-5"
    assert "topsecret" not in repr(config)


def test_a_section_that_is_not_registered_says_so():
    config = Config.from_mapping({}, sections=[SESSIONS])
    assert config.section(SESSIONS).backend == "sqlite"
    with pytest.raises(KeyError, match=r"\[audit\].*borgersag\.config_sections"):
        config.section(AUDIT)
    with pytest.raises(ConfigError, match=r"audit: unknown table \(known: portal, sessions,"):
        Config.from_mapping({"audit": {}}, sections=[SESSIONS])


def test_unknown_table_names_file_key_and_every_registered_table(tmp_path):
    (tmp_path / "portal.toml").write_text("[portl]\n", encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_config(tmp_path)
    assert str(caught.value) == (
        f"{tmp_path / 'portal.toml'}: portl: unknown table (known: accessibility, audit, auth,"
        " cache, case_kinds, citizen, index, limits, metrics, notify, portal, roles, sandbox,"
        " sessions, sources, worker)"
    )


# -- a plugin registers a table of its own --------------------------------------------------

PLUGIN = "borgersag_notice_plugin"


def _notice_example() -> str:
    """The section example of docs/configuration.md, as written there."""
    doc = (ROOT / "docs" / "configuration.md").read_text(encoding="utf-8")
    part = doc.split("## Who owns a table", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```python\n(.*?)```", part, flags=re.S)
    assert len(blocks) == 1
    return blocks[0]


@pytest.fixture
def install_plugin(tmp_path, monkeypatch):
    """``install_plugin(entry_points)``: a package on sys.path whose dist-info registers
    ``entry_points`` (lines of ``name = module:attr``) in ``borgersag.config_sections``;
    its module is the docs' example section."""

    def install(*lines: str) -> Path:
        site = tmp_path / "site"
        dist = site / f"{PLUGIN}-1.0.dist-info"
        dist.mkdir(parents=True)
        (dist / "METADATA").write_text(
            f"Metadata-Version: 2.1\nName: {PLUGIN}\nVersion: 1.0\n", encoding="utf-8"
        )
        entry_points = "\n".join([f"[{SECTION_GROUP}]", *lines, ""])
        (dist / "entry_points.txt").write_text(entry_points, encoding="utf-8")
        (site / f"{PLUGIN}.py").write_text(_notice_example(), encoding="utf-8")
        monkeypatch.syspath_prepend(str(site))
        registered_sections.cache_clear()
        return site

    yield install
    sys.modules.pop(PLUGIN, None)
    monkeypatch.undo()
    registered_sections.cache_clear()


def test_a_plugin_section_is_validated_and_read_typed(tmp_path, install_plugin):
    install_plugin(f"notice = {PLUGIN}:NOTICE")
    from borgersag_notice_plugin import NOTICE, NoticeSettings

    assert NOTICE in registered_sections()
    folder = tmp_path / "config"
    folder.mkdir()
    (folder / "notice.toml").write_text("[notice]\ntext = 'Driftsstop'\nlevel = 'warning'\n")
    notice = load_config(folder).section(NOTICE)
    assert notice == NoticeSettings(text="Driftsstop", level="warning")
    assert load_config(folder).section(AUTH).citizen is None  # the others still built

    (folder / "notice.toml").write_text("[notice]\nlevel = 'loud'\n")
    with pytest.raises(ConfigError) as caught:
        load_config(folder)
    assert str(caught.value) == f"{folder / 'notice.toml'}: notice.level: one of info, warning"

    (folder / "notice.toml").write_text("[notice]\ncolour = 'red'\n")
    with pytest.raises(ConfigError, match=r"notice\.colour: unknown setting"):
        load_config(folder)

    (folder / "notice.toml").write_text("[portl]\n")
    with pytest.raises(
        ConfigError, match=r"unknown table \(known: .*limits, metrics, notice, notify, portal"
    ):
        load_config(folder)


def test_without_the_plugin_its_table_is_unknown(tmp_path):
    (tmp_path / "notice.toml").write_text("[notice]\nlevel = 'info'\n")
    with pytest.raises(ConfigError, match=r"notice: unknown table"):
        load_config(tmp_path)


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        (f"notice = {PLUGIN}:NOTHING_HERE", "to import, but it failed: AttributeError"),
        (f"notice = {PLUGIN}:NOTICE_SETTINGS", "to name a borgersag.config.Section"),
        (f"bulletin = {PLUGIN}:NOTICE", "the section of table 'bulletin', got one for 'notice'"),
    ],
)
def test_a_broken_plugin_entry_point_is_a_clear_error(install_plugin, line, expected):
    install_plugin(line)
    with pytest.raises(ConfigError) as caught:
        Config.from_mapping({})
    message = str(caught.value)
    assert message.startswith(f"package {PLUGIN}: {SECTION_GROUP}.")
    assert expected in message and "\n" not in message


def test_a_plugin_may_not_claim_a_core_table(install_plugin):
    site = install_plugin(f"portal = {PLUGIN}:PORTAL")
    module = site / f"{PLUGIN}.py"
    module.write_text(
        module.read_text(encoding="utf-8")
        + textwrap.dedent(
            """
            PORTAL = Section("portal", build_notice, NOTICE_SETTINGS)
            """
        ),
        encoding="utf-8",
    )
    with pytest.raises(ConfigError, match=r"portal: a table other than portal, sources"):
        Config.from_mapping({})
