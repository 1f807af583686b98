"""Config: validated at start-up; a mistake stops it with one line naming file, key, expectation."""

import subprocess
import sys

import pytest

from borgersag.config import registered_sections
from borgersag.config.loader import Config, load_config
from borgersag.lookup.registry import build_sources, connector_types
from borgersag.people.sections import ROLES
from borgersag.sdk.errors import ConfigError

from support.audit_db import audit_key_settings

SANDBOX = {"sandbox": {}}
CIT = "[auth.citizen]\nissuer = 'https://mitid.example'\nclient_id = 'c'\n"


def write(tmp_path, name, text):
    (tmp_path / name).write_text(text, encoding="utf-8")
    return tmp_path


def test_shipped_demo_config_is_valid_and_builds_every_source():
    config = load_config()
    sources = build_sources(config)
    assert {"sbsys", "ejerfortegnelse", "byggesag"} <= {s.type for s in config.sources}
    assert set(sources) == {s.name for s in config.sources}


def test_builtin_connectors_load_through_entry_points():
    types = connector_types()
    assert {"sbsys", "ejerfortegnelse", "byggesag"} <= set(types)
    assert types["sbsys"].__module__ == "borgersag.connectors.sbsys"


# One bad value per table, at least: file text, the key named, what was expected.
BAD_VALUES = [
    ("[portal]\ndeadline_seconds = 'fast'\n", "portal.deadline_seconds", "expected a number"),
    ("[portal]\ndeadline_second = 4\n", "portal.deadline_second", "unknown setting"),
    ("[portal]\nmax_workers = -1\n", "portal.max_workers", "0 or more"),
    ("[portal]\npurposes = 'Kontrol'\n", "portal.purposes", "a list of strings"),
    ("[portal]\npurposes = ['Kontrol', ' ']\n", "portal.purposes", "not empty"),
    ("[portal]\npurposes = ['Kontrol', 'Kontrol ']\n", "portal.purposes", "only once"),
    (
        "[portal]\npurposes = []\npurpose_required = true\n",
        "portal.purposes",
        "at least one purpose",
    ),
    ("[portal]\npurpose_required = 'ja'\n", "portal.purpose_required", "true or false"),
    ("[auth]\nmode = 'sandbox'\n", "auth.mode", "unknown setting"),
    ("[auth.citizen]\nclient_id = 'c'\n", "auth.citizen.issuer", "missing"),
    (
        CIT + "profile = 'nosuch'\n",
        "auth.citizen.profile",
        "one of idura, nemlog-in",
    ),
    (
        CIT + "userinfo = 'maybe'\n",
        "auth.citizen.userinfo",
        "one of auto",
    ),
    (
        CIT + "accepted_assurance = ['medium']\n",
        "auth.citizen.accepted_assurance",
        "levels",
    ),
    (
        CIT + "accepted_assurance = []\n",
        "auth.citizen.accepted_assurance",
        "at least one",
    ),
    (
        CIT + "accepted_assurance = 'high'\n",
        "auth.citizen.accepted_assurance",
        "a list",
    ),
    (
        "[auth.citizen]\nissuer = 'mitid.example'\nclient_id = 'c'\n",
        "auth.citizen.issuer",
        "an https URL",
    ),
    ("[auth]\npublic_url = 'https://x.dk/sager'\n", "auth.public_url", "no path"),
    ("[roles.boss]\npermissions = ['everything']\n", "roles.boss.permissions", "opslag"),
    (
        "[roles.x]\npermissions = []\nmax_sensitivity = 'secret'\n",
        "roles.x.max_sensitivity",
        "one of ikke_fortrolig",
    ),
    ("[sessions]\nbackend = 'files'\n", "sessions.backend", "sqlite"),
    ("[sessions]\nidle_minutes = 'long'\n", "sessions.idle_minutes", "expected a number"),
    ("[limits]\nstorage_url = 'file:///tmp/x'\n", "limits.storage_url", "redis://"),
    ("[limits]\nlogin_per_minute = 1.5\n", "limits.login_per_minute", "an integer"),
    ("[cache]\nbackend = 'memcached'\n", "cache.backend", "memory, redis"),
    ("[cache]\nbackend = 'redis'\nredis_url = 'http://x'\n", "cache.redis_url", "redis://"),
    ("[cache]\nmax_bytes = 0\n", "cache.max_bytes", "greater than 0"),
    ("[metrics]\nallow_from = ['everyone']\n", "metrics.allow_from", "networks like"),
    ("[portal]\ntrusted_hosts = ['https://x.dk']\n", "portal.trusted_hosts", "host names"),
    ("[portal]\nlog_format = 'xml'\n", "portal.log_format", "'json'"),
    ("[accessibility]\nstatus = 'næsten'\n", "accessibility.status", "one of fuldt"),
    ("[case_kinds.byg]\ntitle = 'x'\nkle = ['2']\n", "case_kinds.byg.kle", "KLE prefixes"),
    ("[audit]\nurl = 'mysql://db/audit'\n", "audit.url", "a sqlite:// or postgresql://"),
    ("[audit]\nretention_days = -1\n", "audit.retention_days", "0 or more"),
    ("[citizen]\nkle_subjects = ['2']\n", "citizen.kle_subjects", "KLE prefixes"),
    ("[index]\ninform = ['status', 'gossip']\n", "index.inform", "change kinds among"),
    ("[index]\nreceipt_statuses = ['']\n", "index.receipt_statuses", "status texts of"),
    ("[index]\nkey = 'short'\n", "index.key", "at least 32 characters"),
    ("[index]\nurl = 'mysql://db/index'\n", "index.url", "a sqlite:// or postgresql://"),
    ("[index.rules.x]\nprogress = 'done'\n", "index.rules.x.progress", "opstaaet"),
    ("[index.rules.x]\ninform = ['all']\n", "index.rules.x.inform", "change kinds among"),
    ("[index.sources.nosuch]\nrefresh_minutes = 5\n", "index.sources.nosuch", "[sources."),
    ("[worker]\nqueue = 'amqp://mq'\n", "worker.queue", "redis://"),
    ("[notify]\ndefault_channels = ['fax']\n", "notify.default_channels", "channels among"),
    ("[worker]\nthreads = 0\n", "worker.threads", "1 or more"),
    ("[citizen]\nsources = ['nosuch']\n", "citizen.sources", "names of configured sources"),
    ("[sandbox]\nseed = 'x'\n", "sandbox.seed", "an integer"),
    ("[sandbox.services.esdh]\nfail = 'often'\n", "sandbox.services.esdh.fail", '"500"'),
    ("[sources.esdh]\ntitle = 'x'\n", "sources.esdh.type", "missing"),
    ("[sources.esdh]\ntype = 'nosuch'\n", "sources.esdh.type", "installed connector type"),
    ("[sources.Esdh]\ntype = 'sbsys'\n", "sources.Esdh", "lowercase"),
    (
        "[sources.esdh]\ntype = 'sbsys'\nbase_url = 7\n",
        "sources.esdh.base_url",
        "expected a string",
    ),
    ("[sources.esdh]\ntype = 'sbsys'\nnosuch = 1\n", "sources.esdh.nosuch", "unknown setting"),
    ("[portl]\n", "portl", "unknown table"),
    ("[portal\n", "-", "valid TOML"),
]


@pytest.mark.parametrize(("text", "key", "expected"), BAD_VALUES)
def test_wrong_config_names_file_key_and_expectation(tmp_path, text, key, expected):
    write(tmp_path, "a.toml", "[sandbox]\n" if "sandbox" not in text else "")
    write(tmp_path, "b.toml", text)
    with pytest.raises(ConfigError) as caught:
        build_sources(load_config(tmp_path))
    error = caught.value
    assert error.key == key
    assert expected in error.expected
    line = str(error)
    assert "\n" not in line and line.startswith(str(tmp_path)) and key in line


def test_every_registered_section_has_a_bad_value_case_above():
    """A section added to borgersag.config_sections gets its error line tested here too."""
    tables = {key.split(".")[0] for _, key, _ in BAD_VALUES}
    assert {section.table for section in registered_sections()} <= tables


def test_role_catalogue_from_config_replaces_the_default(tmp_path):
    write(
        tmp_path,
        "roles.toml",
        "[roles.laeser]\npermissions = ['opslag']\nmembers = ['MK4821']\n"
        "kle_subjects = ['27']\nmax_sensitivity = 'fortrolige_personoplysninger'\n",
    )
    roles = load_config(tmp_path).section(ROLES).roles
    assert set(roles) == {"laeser"}
    assert roles["laeser"].members == {"MK4821"}
    assert roles["laeser"].restrictions.kle_prefixes == ("27",)


def test_web_front_end_needs_at_least_one_login(tmp_path):
    from borgersag.web import create_app

    write(tmp_path, "portal.toml", "[portal]\nmunicipality = 'X'\ntrusted_hosts = ['x.dk']\n")
    keys = audit_key_settings(tmp_path / "keys")  # outside the sandbox the audit log needs them
    write(tmp_path, "audit.toml", "[audit]\n" + "".join(f"{k} = '{v}'\n" for k, v in keys.items()))
    with pytest.raises(ConfigError, match=r"auth: .*at least one login"):
        create_app(load_config(tmp_path))


def test_same_table_in_two_files_is_an_error(tmp_path):
    write(tmp_path, "a.toml", "[sandbox]\n[portal]\n")
    write(tmp_path, "b.toml", "[portal]\n")
    with pytest.raises(ConfigError, match="defined only once"):
        load_config(tmp_path)


def test_secret_from_environment(monkeypatch):
    monkeypatch.setenv("SBSYS_SECRET", "from-env")
    config = Config.from_mapping(
        {**SANDBOX, "sources": {"esdh": {"type": "sbsys", "client_secret": "${SBSYS_SECRET}"}}}
    )
    assert config.source("esdh").settings["client_secret"] == "from-env"


def test_missing_environment_variable_is_named(monkeypatch):
    monkeypatch.delenv("NOPE_SECRET", raising=False)
    with pytest.raises(ConfigError, match="environment variable NOPE_SECRET to be set"):
        Config.from_mapping({**SANDBOX, "portal": {"secret_key": "${NOPE_SECRET}"}})


def test_secret_values_are_not_repeated_in_errors():
    with pytest.raises(ConfigError) as caught:
        Config.from_mapping({**SANDBOX, "portal": {"secret_key": 12345}})
    assert "12345" not in str(caught.value)


def test_cli_stops_with_one_line_on_bad_config(tmp_path):
    write(tmp_path, "portal.toml", "[sandbox]\n[portal]\ndeadline_seconds = 'soon'\n")
    result = subprocess.run(
        [sys.executable, "-m", "borgersag.cli.main", "check-config", "--config", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0
    assert "portal.toml: portal.deadline_seconds: expected a number" in result.stderr
