"""Which key seals subscribers' CPR numbers: the demo's index outlives a restart."""

from borgersag.config.loader import Config
from borgersag.index.sealing import CprSeal
from borgersag.index.section import IndexSettings
from borgersag.index.service import seal_key


def test_in_the_sandbox_the_key_is_kept_so_a_restarted_demo_opens_its_index():
    # each start of the demo draws a new random portal.secret_key
    first, second = (Config.from_mapping({"sandbox": {}}) for _ in range(2))
    assert first.portal.secret_key != second.portal.secret_key
    sealed = CprSeal(seal_key(first, IndexSettings())).seal("0103854321")
    assert CprSeal(seal_key(second, IndexSettings())).open(sealed) == "0103854321"


def test_a_configured_key_wins_and_outside_the_sandbox_the_portal_secret_is_used():
    config = Config.from_mapping({"portal": {"secret_key": "s" * 40}})
    assert seal_key(config, IndexSettings()) == "s" * 40
    assert seal_key(config, IndexSettings(key="k" * 40)) == "k" * 40
