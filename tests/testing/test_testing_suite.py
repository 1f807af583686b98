"""The conformance suite itself: each check catches the toy connector broken its way.

Every toy in tests/support/conformance_toys.py is opted into the suite in a pytest run of its
own (pytester, in process); the test names the checks that must fail — all others must
pass — so a check that stops catching its bug, or starts failing good connectors, shows.
"""

from __future__ import annotations

from importlib.metadata import entry_points

import pytest

pytest_plugins = ["pytester"]

CHECKS = {
    "contract": "test_declares_the_contract",
    "valid": "test_accepts_the_valid_settings",
    "missing": "test_rejects_a_missing_required_setting",
    "unknown": "test_rejects_an_unknown_setting",
    "wrong_type": "test_rejects_a_setting_of_the_wrong_type",
    "records": "test_answers_with_canonical_records",
    "retriable": "test_5xx_timeouts_and_429_are_retriable",
    "client_errors": "test_4xx_is_fatal_forbidden_or_not_found",
    "garbage": "test_garbage_is_a_clear_error",
    "shape": "test_json_of_the_wrong_shape_is_a_clear_error",
    "paging": "test_pagination_is_bounded",
    "unreadable": "test_one_unreadable_record_is_counted_and_the_rest_kept",
}
PLUGIN = "borgersag.testing.plugin"
ANSWERING = {"records", "retriable", "client_errors", "garbage", "shape", "paging", "unreadable"}


def run_suite(pytester, suite: str, toy: str) -> dict[str, str]:
    """Run ``suite`` (a class in conformance_toys) with ``connector = toy``; return the
    failed checks (short names) with their report text."""
    pytester.makepyfile(
        test_toy=f"""
        from support.conformance_toys import *

        class TestToyConformance({suite}):
            connector = {toy}
        """
    )
    result = pytester.inline_run("-p", "no:cacheprovider")
    passed, skipped, failed = result.listoutcomes()
    names = {name: short for short, name in CHECKS.items()}
    ran = {names[r.nodeid.split("::")[-1].split("[")[0]] for r in passed + skipped + failed}
    assert ran == set(CHECKS), f"checks missing from the run: {set(CHECKS) - ran}"
    return {names[r.nodeid.split("::")[-1].split("[")[0]]: r.longreprtext for r in failed}


def test_a_good_connector_passes_every_check(pytester):
    assert run_suite(pytester, "ToySuite", "Toy") == {}


@pytest.mark.parametrize(
    ("toy", "caught", "says"),
    [
        ("KeyErrorOnGarbage", {"garbage", "shape", "unreadable"}, "raised KeyError: 'sager'"),
        ("LosesTheAnswer", {"unreadable"}, "kept its valid records around an unreadable one"),
        ("DropsSilently", {"unreadable"}, "left out without a word"),
        ("EndlessPaging", {"paging"}, "made more than 100 requests"),
        ("SwallowsRetriable", {"retriable"}, "returned 0 records instead of raising"),
        ("RawHttpErrors", {"retriable", "client_errors", "garbage"}, "raised HTTPError"),
        ("BadRecords", {"records", "unreadable"}, "does not start with 'konformitet/'"),
        ("CprInTitle", {"records", "unreadable"}, "shows a CPR number"),
        ("LaxSettings", {"missing", "unknown", "wrong_type"}, "accepted, expected ConfigError"),
        (
            "NamelessErrors",
            {"retriable", "client_errors", "garbage", "shape", "paging"},
            "does not name the source",
        ),
        ("UnrecordedEndpoint", ANSWERING, "unrecorded network access: GET"),
        ("OpensSockets", ANSWERING, "unrecorded network access: create_connection"),
    ],
)
def test_each_check_catches_its_broken_connector(pytester, toy, caught, says):
    failed = run_suite(pytester, "ToySuite", toy)
    assert set(failed) == caught
    assert any(says in text for text in failed.values()), failed


def test_a_cpr_number_in_a_url_is_caught(pytester):
    failed = run_suite(pytester, "CprInUrlSuite", "CprInUrl")
    assert set(failed) == {"records"}
    assert "a CPR number is in the URL of a GET request" in failed["records"]


def test_declarations_are_checked(pytester):
    failed = run_suite(pytester, "ToySuite", "UndeclaredSearch")
    contract = failed["contract"]
    for problem in (
        "type_name 'Udeklareret' is not a lowercase config name",
        "key_kinds is declared but search() is not overridden",
        "setting 'title' clashes with the common source setting",
        "secret setting 'password' has a default value in code",
        "setting 'retries' has no description",
        "the default of setting 'retries' ('3') is not of its type",
        "sample_keys has no bfe key",
    ):
        assert problem in contract


def test_a_backend_that_does_not_page_is_reported(pytester):
    """Without endless_settings, one recorded case is no full page: the check says how."""
    pytester.makepyfile(
        test_toy="""
        from support.conformance_toys import *

        class TestToyConformance(ToySuite):
            endless_settings = {}
        """
    )
    result = pytester.inline_run("-p", "no:cacheprovider", "-k", "pagination")
    (report,) = result.listoutcomes()[2]
    assert "paging was not exercised" in report.longreprtext


def test_the_plugin_fixtures_refuse_unrecorded_traffic(pytester):
    pytester.makepyfile(
        test_plugin="""
        import socket

        import requests


        def test_recorded(borgersag_backend):
            borgersag_backend.get("https://x.invalid/a", json={"ok": True})
            assert requests.get("https://x.invalid/a", timeout=1).json() == {"ok": True}


        def test_unrecorded(borgersag_backend):
            try:
                requests.get("https://x.invalid/b", timeout=1)
            except requests.ConnectionError:
                pass


        def test_socket(borgersag_no_network):
            try:
                socket.create_connection(("example.invalid", 80))
            except BaseException:
                pass
        """
    )
    installed = any(ep.value == PLUGIN for ep in entry_points(group="pytest11"))
    result = pytester.inline_run("-p", "no:cacheprovider", *([] if installed else ["-p", PLUGIN]))
    texts = {r.nodeid.split("::")[-1]: r.longreprtext for r in result.getfailures()}
    assert set(texts) == {"test_unrecorded", "test_socket"}  # failed at teardown
    assert "unrecorded requests: GET https://x.invalid/b" in texts["test_unrecorded"]
    assert "create_connection(('example.invalid', 80))" in texts["test_socket"]


def test_relation_problems_check_role_share_and_period():
    import datetime as dt

    from borgersag import Matrikel, Relation, RelationRole, Share
    from borgersag.testing import relation_problems

    parcel = Matrikel.of(2000351, "12a")
    good = Relation(
        parcel,
        "medejer (1/2) af matrikel 2000351-12a",
        since=dt.date(2019, 5, 1),
        role=RelationRole.CO_OWNER,
        share=Share(1, 2),
    )
    assert relation_problems(good) == []
    bad = Relation(
        parcel,
        "ejer af matrikel 2000351-12a",
        since=dt.date(2019, 5, 1),
        role="ejer",
        share=(1, 2),
        until=dt.date(2018, 1, 1),
    )
    assert set(relation_problems(bad)) == {
        "role is 'ejer', expected a RelationRole",
        "share is a tuple, expected Share or None",
        "until is before since",
    }
