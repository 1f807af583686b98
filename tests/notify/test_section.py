"""``[notify]`` refuses what would send a wrong message: an SMS over 160 characters, a
channel that does not exist, a portal address with a query to leak data in."""

from __future__ import annotations

import pytest

from borgersag.config.loader import Config
from borgersag.notify.section import NOTIFY
from borgersag.sdk.errors import ConfigError


def _notify(**table):
    config = Config.from_mapping(
        {"portal": {}, "sources": {}, "notify": {"enabled": True, **table}}
    )
    return config.section(NOTIFY)


@pytest.mark.parametrize(
    ("table", "key"),
    [
        ({"municipality": "K" * 120}, "notify.municipality"),
        ({"default_channels": ["fax"]}, "notify.default_channels"),
        ({"portal_url": "https://sager.example/?cpr=1"}, "notify.portal_url"),
        ({"portal_url": "ftp://sager.example"}, "notify.portal_url"),
        ({"sms": {"url": "file:///etc/passwd"}}, "notify.sms.url"),
        ({"email": {"hots": "x"}}, "notify.email.hots"),
    ],
)
def test_wrong_settings_name_their_key(table, key):
    with pytest.raises(ConfigError) as info:
        _notify(**table)
    assert f"{key}:" in str(info.value)


def test_only_configured_channels_are_offered():
    settings = _notify(email={"host": "smtp.example"}, digital_post={"url": "https://dp.example"})
    assert settings.offered() == ("email", "digital_post")
    assert _notify().offered() == ()
