"""Keys: what a caseworker types, what is accepted, and the message when it is not."""

import dataclasses
import datetime as dt

import pytest

from borgersag.domain.keys import BFE, CPR, CVR, InvalidKey, KeyKind, Matrikel, parse_key


@pytest.mark.parametrize(
    ("typed", "canonical", "born"),
    [
        ("010203-1234", "0102031234", dt.date(1903, 2, 1)),  # digit 7 = 1: 1900s
        ("0102031234", "0102031234", dt.date(1903, 2, 1)),
        ("010203 1234", "0102031234", dt.date(1903, 2, 1)),
        (" 01 02 03 - 1234 ", "0102031234", dt.date(1903, 2, 1)),
        ("010203-4234", "0102034234", dt.date(2003, 2, 1)),  # digit 7 = 4, year < 37: 2000s
        ("010240-4234", "0102404234", dt.date(1940, 2, 1)),  # digit 7 = 4, year >= 37: 1900s
        ("010203-5234", "0102035234", dt.date(2003, 2, 1)),  # digit 7 = 5, year < 58: 2000s
        ("010260-5234", "0102605234", dt.date(1860, 2, 1)),  # digit 7 = 5, year >= 58: 1800s
        ("010203-9234", "0102039234", dt.date(2003, 2, 1)),  # digit 7 = 9, year < 37: 2000s
        ("010290-9234", "0102909234", dt.date(1990, 2, 1)),
        ("290200-4231", "2902004231", dt.date(2000, 2, 29)),  # 2000 was a leap year
        ("111111-1118", "1111111118", dt.date(1911, 11, 11)),
    ],
)
def test_valid_cpr_is_accepted_in_every_notation(typed, canonical, born):
    key = parse_key("cpr", typed)
    assert key == CPR(KeyKind.CPR, canonical)
    assert key.birth_date == born
    assert key.format() == f"{canonical[:6]}-{canonical[6:]}"


def test_cpr_that_fails_modulus_11_is_still_valid():
    """Since 2007 CPR numbers need not satisfy modulus-11."""
    weights = (4, 3, 2, 7, 6, 5, 4, 3, 2, 1)
    number = "0707614286"
    assert sum(w * int(d) for w, d in zip(weights, number, strict=True)) % 11 != 0
    assert parse_key("cpr", number).value == number


@pytest.mark.parametrize(
    ("typed", "message_part"),
    [
        ("310203-1234", "31. februar"),
        ("290201-4234", "29. februar"),  # 2001 was not a leap year
        ("290200-1234", "29. februar"),  # 1900 was not a leap year
        ("011303-1234", "måned 13"),
        ("000103-1234", "0. januar"),
        ("01020-1234", "10 cifre"),
        ("0102031234567", "10 cifre"),
        ("01O203-1234", "cifre"),  # letter O, not zero
        ("010203/1234", "cifre"),
        ("010130-4234", "fremtiden"),  # digit 7 = 4, year < 37: 2030, not born yet
        ("", "Udfyld"),
        ("   ", "Udfyld"),
    ],
)
def test_invalid_cpr_names_what_is_wrong(typed, message_part):
    with pytest.raises(InvalidKey) as caught:
        parse_key("cpr", typed)
    assert message_part in caught.value.message
    assert caught.value.kind is KeyKind.CPR


def test_invalid_cpr_message_never_repeats_the_number():
    with pytest.raises(InvalidKey) as caught:
        parse_key("cpr", "310203-1234")
    assert "1234" not in str(caught.value) and "310203" not in str(caught.value)


def test_cpr_is_masked_in_repr_and_str():
    key = parse_key("cpr", "010203-1234")
    assert key.mask() == "010203-xxxx"
    assert "1234" not in repr(key) and "1234" not in str(key) and "1234" not in f"{key}"


def test_keys_are_immutable_and_hashable():
    key = parse_key("cpr", "0102031234")
    with pytest.raises(dataclasses.FrozenInstanceError):
        key.value = "x"  # type: ignore[misc]
    assert {key, parse_key("cpr", "010203-1234")} == {key}


@pytest.mark.parametrize("typed", ["13585628", "1358 5628", "DK13585628", "dk 13 58 56 28"])
def test_valid_cvr(typed):
    assert parse_key("cvr", typed) == CVR(KeyKind.CVR, "13585628")


@pytest.mark.parametrize(
    ("typed", "message_part"),
    [
        ("13585627", "kontrolcifferet"),
        ("1358562", "8 cifre"),
        ("135856289", "8 cifre"),
        ("1358562A", "cifre"),
        ("00000000", "kontrolcifferet"),
    ],
)
def test_invalid_cvr(typed, message_part):
    with pytest.raises(InvalidKey) as caught:
        parse_key("cvr", typed)
    assert message_part in caught.value.message


@pytest.mark.parametrize(
    ("typed", "ejerlav", "nr"),
    [
        ("2000351-12a", 2000351, "12a"),
        ("2000351 12A", 2000351, "12a"),
        ("2000351/7", 2000351, "7"),
        (" 1234 - 145bc ", 1234, "145bc"),
        ("2000351-3ø", 2000351, "3ø"),
    ],
)
def test_matrikel_with_letters(typed, ejerlav, nr):
    key = parse_key("matrikel", typed)
    assert isinstance(key, Matrikel)
    assert (key.ejerlav, key.matrikelnr) == (ejerlav, nr)
    assert key.format() == f"{ejerlav}-{nr}"


@pytest.mark.parametrize(
    "typed", ["12a", "2000351", "2000351-a12", "abc-12", "2000351-012", "0-12"]
)
def test_invalid_matrikel_explains_the_format(typed):
    with pytest.raises(InvalidKey) as caught:
        parse_key("matrikel", typed)
    assert "matrikel" in caught.value.message.lower()


@pytest.mark.parametrize(
    ("typed", "value"), [("100123456", "100123456"), ("100.123.456", "100123456")]
)
def test_bfe(typed, value):
    assert parse_key("bfe", typed) == BFE(KeyKind.BFE, value)


@pytest.mark.parametrize("typed", ["0", "-5", "12a", "12345678901"])
def test_invalid_bfe(typed):
    with pytest.raises(InvalidKey):
        parse_key("bfe", typed)


def test_medarbejdernummer_is_trimmed():
    assert parse_key("medarbejder", "  M10234 ").value == "M10234"
    with pytest.raises(InvalidKey):
        parse_key("medarbejder", "M 10234")


def test_unknown_kind_is_a_clear_error():
    with pytest.raises(InvalidKey, match="Ukendt nøgletype"):
        parse_key("passport", "123")
