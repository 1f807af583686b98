"""The one wording of source states and ages (borgersag.web.wording)."""

from __future__ import annotations

import pytest

from borgersag.domain.model import SourceResult, SourceStatus
from borgersag.web.wording import age_text, source_explanation, source_texts, status_label


def result(status: SourceStatus, **facts) -> SourceResult:
    return SourceResult("kilde", "Kilde", status, **facts)


def test_every_status_has_a_label_and_an_explanation():
    for status in SourceStatus:
        assert status_label(status)
        assert source_explanation(result(status)).endswith(".")


@pytest.mark.parametrize(
    "status",
    [SourceStatus.FAILED, SourceStatus.TIMEOUT, SourceStatus.CIRCUIT_OPEN, SourceStatus.FORBIDDEN],
)
def test_a_source_that_failed_is_never_worded_as_having_no_cases(status):
    for restricted in (False, True):
        texts = source_texts(result(status), restricted)
        assert "ingen sager" not in (texts["label"] + texts["explanation"]).lower()
        assert "mangler i oversigten" in texts["explanation"]


def test_a_partly_failed_source_says_some_cases_are_missing():
    text = source_explanation(result(SourceStatus.FAILED, case_count=2))
    assert "nogle nøgler er med" in text and "mangler i oversigten" in text


def test_stale_is_worded_once_with_its_age():
    text = source_explanation(result(SourceStatus.STALE, age_seconds=840.0))
    assert text == (
        "Kilden svarede ikke; viser svaret fra for 14 minutter siden. Nyere ændringer kan mangle."
    )
    assert source_explanation(result(SourceStatus.STALE)).startswith(
        "Kilden svarede ikke; viser et gemt svar."
    )


def test_an_answer_from_the_cache_says_how_old_it_is():
    fresh = source_explanation(result(SourceStatus.OK, case_count=1))
    cached = source_explanation(result(SourceStatus.OK, case_count=1, age_seconds=30.0))
    assert "brugt igen" not in fresh
    assert cached == fresh + " Svaret blev hentet for 30 sekunder siden og er brugt igen."
    empty = source_explanation(result(SourceStatus.EMPTY, age_seconds=600.0))
    assert "har ingen sager" in empty and "for 10 minutter siden" in empty


def test_empty_under_restrictions_says_none_you_may_see():
    text = source_explanation(result(SourceStatus.EMPTY), restricted=True)
    assert text == "Kilden svarede; der er ingen sager herfra, som du har adgang til."


def test_relations_only_are_counted():
    assert (
        source_explanation(result(SourceStatus.OK, relation_count=1)) == "Fandt 1 relateret nøgle."
    )
    assert (
        source_explanation(result(SourceStatus.OK, relation_count=2))
        == "Fandt 2 relaterede nøgler."
    )


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (None, ""),
        (-3, "for et øjeblik siden"),
        (0.4, "for et øjeblik siden"),
        (30, "for 30 sekunder siden"),
        (89, "for 89 sekunder siden"),
        (100, "for 2 minutter siden"),
        (60 * 14, "for 14 minutter siden"),
        (3600, "for 60 minutter siden"),
        (5400, "for 2 timer siden"),
        (3600 * 26, "for 26 timer siden"),
    ],
)
def test_age_text(seconds, text):
    assert age_text(seconds) == text


@pytest.mark.parametrize(
    ("facts", "expected"),
    [
        ({"case_count": 4, "unreadable": 1}, "1 sag kunne ikke læses og mangler i oversigten"),
        ({"case_count": 1, "unreadable": 3}, "3 sager kunne ikke læses"),
        (
            {"case_count": 2000, "truncated": True, "at_least": 2000},
            "Der kan være flere sager end de 2000 viste",
        ),
        (
            {"case_count": 4, "unreadable": 1, "truncated": True, "at_least": 5},
            "Der kan være flere sager end de 5, kilden sendte",
        ),
        ({"relation_count": 2, "unreadable": 1}, "1 post kunne ikke læses"),
    ],
)
def test_what_an_answer_left_out_is_told(facts, expected):
    text = source_explanation(result(SourceStatus.OK, **facts))
    assert text.startswith(("Sagerne herfra er med", "Fandt")) and expected in text
    assert expected in source_texts(result(SourceStatus.OK, **facts))["missing"]


def test_a_whole_answer_tells_nothing_missing():
    assert source_texts(result(SourceStatus.OK, case_count=3))["missing"] == ""
