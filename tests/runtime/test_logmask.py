"""The log filter masks anything CPR-shaped, whichever logger or library logs it."""

import logging

import pytest

from borgersag.runtime import logmask


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("opslag på 0103854321 fejlede", "opslag på 010385-xxxx fejlede"),
        ("GET /x?cpr=010385-4321 200", "GET /x?cpr=010385-xxxx 200"),
        ("010385 4321", "010385-xxxx"),
        ("290200-1234 og 290201-1234", "290200-xxxx og 290201-xxxx"),
        # not dates, or not ten digits: left alone
        ("ordre 1234567890", "ordre 1234567890"),
        ("telefon 12345678", "telefon 12345678"),
        ("12010385432199", "12010385432199"),
        ("id 9999999999", "id 9999999999"),
    ],
)
def test_mask_cpr(text, expected):
    assert logmask.mask_cpr(text) == expected


def test_installed_mask_reaches_every_logger_and_argument(caplog):
    logmask.install()
    logmask.install()  # idempotent
    caplog.set_level(logging.DEBUG)
    logging.getLogger("urllib3.connectionpool").debug("GET /borger/%s", "0103854321")
    logging.getLogger("some.library").warning("failed for %s-%s", "010385", "4321")
    text = "\n".join(r.getMessage() for r in caplog.records)
    assert "4321" not in text
    assert text.count("010385-xxxx") == 2


def test_suspended_lets_tests_see_what_the_code_itself_logs(caplog):
    logmask.install()
    caplog.set_level(logging.INFO)
    with logmask.suspended():
        logging.getLogger("x").info("0103854321")
    logging.getLogger("x").info("0103854321")
    assert [r.getMessage() for r in caplog.records] == ["0103854321", "010385-xxxx"]
