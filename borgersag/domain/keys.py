"""Lookup keys: CPR, CVR, matrikel, BFE and medarbejdernummer as small immutable values.

Every key has a ``kind`` and a canonical ``value`` and knows how to show itself
(``format``) and how to hide itself (``mask``). ``parse_key`` turns what a person typed
into a key or raises :class:`KeyError_` with a message a caseworker understands
(in Danish, since that is who reads it).

A key's ``repr`` is masked on purpose: keys end up in tracebacks and log lines, and a
CPR number must never reach either.
"""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass
from enum import StrEnum

from stdnum import exceptions as stdnum_errors
from stdnum.dk import cpr as stdnum_cpr
from stdnum.dk import cvr as stdnum_cvr

__all__ = [
    "BFE",
    "CPR",
    "CVR",
    "InvalidKey",
    "Key",
    "KeyKind",
    "Matrikel",
    "Medarbejder",
    "key_of",
    "looks_like_cpr",
    "parse_key",
]

MONTHS_DA = (
    "januar",
    "februar",
    "marts",
    "april",
    "maj",
    "juni",
    "juli",
    "august",
    "september",
    "oktober",
    "november",
    "december",
)


class KeyKind(StrEnum):
    """The kinds of key a source can be searched by."""

    CPR = "cpr"
    CVR = "cvr"
    MATRIKEL = "matrikel"
    BFE = "bfe"
    MEDARBEJDER = "medarbejder"

    @property
    def label(self) -> str:
        """The name a caseworker knows the kind by."""
        return _LABELS[self]


_LABELS = {
    KeyKind.CPR: "CPR-nummer",
    KeyKind.CVR: "CVR-nummer",
    KeyKind.MATRIKEL: "Matrikel",
    KeyKind.BFE: "BFE-nummer",
    KeyKind.MEDARBEJDER: "Medarbejdernummer",
}


class InvalidKey(ValueError):
    """The input is not a valid key; ``str(error)`` says what is wrong, in Danish.

    The message never repeats the input itself, so it is safe to show and to log.
    """

    def __init__(self, kind: KeyKind, message: str):
        super().__init__(message)
        self.kind = kind
        self.message = message


@dataclass(frozen=True, slots=True)
class Key:
    """A validated key: the kind and the canonical value (digits only for numbers)."""

    kind: KeyKind
    value: str

    def format(self) -> str:
        """The key as people write it."""
        return self.value

    def mask(self) -> str:
        """The key with its identifying part hidden; only CPR has one."""
        return self.format()

    @property
    def label(self) -> str:
        """Human name of the kind, e.g. ``CPR-nummer``."""
        return self.kind.label

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.mask()!r})"

    __str__ = __repr__


@dataclass(frozen=True, slots=True, repr=False)
class CPR(Key):
    """A Danish personal identification number: ``DDMMYY-SSSS``.

    Valid when the date exists, with the century read from digit 7. Modulus-11 is
    deliberately not checked: numbers issued since 2007 need not satisfy it.
    """

    @classmethod
    def parse(cls, text: str) -> CPR:
        """Accept ``DDMMYY-SSSS``, ``DDMMYYSSSS`` or the same with spaces."""
        digits = _digits_only(text, KeyKind.CPR, "bindestreg og mellemrum")
        if len(digits) != 10:
            raise InvalidKey(
                KeyKind.CPR,
                f"Et CPR-nummer har 10 cifre (DDMMÅÅ-LLLL); der er {len(digits)}.",
            )
        day, month = int(digits[0:2]), int(digits[2:4])
        if not 1 <= month <= 12:
            raise InvalidKey(
                KeyKind.CPR, f"Ugyldig dato i CPR-nummeret: der er ingen måned {month:02d}."
            )
        try:
            born = stdnum_cpr.get_birth_date(digits)
        except stdnum_errors.ValidationError:
            raise InvalidKey(
                KeyKind.CPR,
                f"Ugyldig dato i CPR-nummeret: der er ingen {day}. {MONTHS_DA[month - 1]}"
                " i det år, som 7. ciffer angiver.",
            ) from None
        if born > datetime.date.today():
            raise InvalidKey(
                KeyKind.CPR,
                "Ugyldig dato i CPR-nummeret: fødselsdatoen ligger i fremtiden"
                " (7. ciffer angiver århundredet).",
            )
        return cls(KeyKind.CPR, digits)

    @property
    def birth_date(self) -> datetime.date:
        """The birth date, century included."""
        return stdnum_cpr.get_birth_date(self.value)

    def format(self) -> str:
        return f"{self.value[:6]}-{self.value[6:]}"

    def mask(self) -> str:
        return f"{self.value[:6]}-xxxx"


@dataclass(frozen=True, slots=True, repr=False)
class CVR(Key):
    """A Danish business register number: 8 digits with a modulus-11 check."""

    @classmethod
    def parse(cls, text: str) -> CVR:
        """Accept 8 digits, optionally with spaces and a ``DK`` prefix."""
        cleaned = text.strip().upper().removeprefix("DK")
        digits = _digits_only(cleaned, KeyKind.CVR, "mellemrum")
        if len(digits) != 8:
            raise InvalidKey(KeyKind.CVR, f"Et CVR-nummer har 8 cifre; der er {len(digits)}.")
        if digits[0] == "0" or stdnum_cvr.checksum(digits) != 0:
            raise InvalidKey(
                KeyKind.CVR,
                "CVR-nummeret findes ikke: kontrolcifferet passer ikke. Tjek for tastefejl.",
            )
        return cls(KeyKind.CVR, digits)


_MATRIKEL_RE = re.compile(r"^(?P<ejerlav>\d+)\s*[-/ ,]\s*(?P<nr>\d+[a-zæøå]{0,3})$")
_MATRIKELNR_RE = re.compile(r"^\d+[a-zæøå]{0,3}$")


@dataclass(frozen=True, slots=True, repr=False)
class Matrikel(Key):
    """A cadastral parcel: ejerlavskode plus matrikelnummer (digits and optional letters).

    The canonical value is ``"<ejerlav>-<matrikelnr>"``, e.g. ``"2000351-12a"``.
    """

    @classmethod
    def parse(cls, text: str) -> Matrikel:
        """Accept ``2000351-12a``, ``2000351 12a`` or ``2000351/12A``."""
        cleaned = " ".join(text.strip().lower().split())
        if not cleaned:
            raise InvalidKey(KeyKind.MATRIKEL, "Skriv ejerlavskode og matrikelnummer.")
        match = _MATRIKEL_RE.match(cleaned)
        if not match:
            raise InvalidKey(
                KeyKind.MATRIKEL,
                "En matrikel skrives som ejerlavskode og matrikelnummer, fx 2000351-12a"
                " (ejerlavskoden er et tal; matrikelnummeret er cifre og evt. bogstaver).",
            )
        return cls.of(int(match["ejerlav"]), match["nr"])

    @classmethod
    def of(cls, ejerlav: int, matrikelnr: str) -> Matrikel:
        """Build a key from its two parts, e.g. ``Matrikel.of(2000351, "12a")``."""
        nr = matrikelnr.strip().lower()
        if ejerlav <= 0 or not _MATRIKELNR_RE.match(nr) or nr.startswith("0"):
            raise InvalidKey(KeyKind.MATRIKEL, "Ugyldig ejerlavskode eller matrikelnummer.")
        return cls(KeyKind.MATRIKEL, f"{ejerlav}-{nr}")

    @property
    def ejerlav(self) -> int:
        """The ejerlavskode (cadastral district)."""
        return int(self.value.split("-", 1)[0])

    @property
    def matrikelnr(self) -> str:
        """The matrikelnummer within the district, e.g. ``12a``."""
        return self.value.split("-", 1)[1]


@dataclass(frozen=True, slots=True, repr=False)
class BFE(Key):
    """A BFE number (bestemt fast ejendom): a positive integer."""

    @classmethod
    def parse(cls, text: str) -> BFE:
        """Accept the number with or without spaces or dots."""
        digits = re.sub(r"[\s.]", "", text)
        if not digits.isdigit() or not digits.isascii():
            raise InvalidKey(KeyKind.BFE, "Et BFE-nummer må kun indeholde cifre.")
        if not 1 <= len(digits) <= 10 or int(digits) == 0:
            raise InvalidKey(KeyKind.BFE, "Et BFE-nummer er et positivt tal på højst 10 cifre.")
        return cls(KeyKind.BFE, str(int(digits)))


@dataclass(frozen=True, slots=True, repr=False)
class Medarbejder(Key):
    """The municipality's employee number: a trimmed, non-empty string."""

    @classmethod
    def parse(cls, text: str) -> Medarbejder:
        """Trim the input; it must be 1–64 printable characters without spaces."""
        value = text.strip()
        if not value:
            raise InvalidKey(KeyKind.MEDARBEJDER, "Skriv et medarbejdernummer.")
        if len(value) > 64 or not value.isprintable() or " " in value:
            raise InvalidKey(
                KeyKind.MEDARBEJDER,
                "Et medarbejdernummer er højst 64 tegn uden mellemrum.",
            )
        return cls(KeyKind.MEDARBEJDER, value)


_TYPES: dict[KeyKind, type[Key]] = {
    KeyKind.CPR: CPR,
    KeyKind.CVR: CVR,
    KeyKind.MATRIKEL: Matrikel,
    KeyKind.BFE: BFE,
    KeyKind.MEDARBEJDER: Medarbejder,
}


def parse_key(kind: KeyKind | str, text: str) -> Key:
    """Parse ``text`` as a key of ``kind``; raises :class:`InvalidKey` naming what is wrong."""
    try:
        kind = KeyKind(kind)
    except ValueError:
        raise InvalidKey(KeyKind.CPR, "Ukendt nøgletype.") from None
    if text is None or not str(text).strip():
        raise InvalidKey(kind, f"Udfyld feltet: {kind.label}.")
    if not isinstance(text, str):
        raise InvalidKey(kind, f"Skriv {kind.label} som tekst.")
    if len(text) > 200:
        raise InvalidKey(kind, "Indtastningen er for lang.")
    if kind is not KeyKind.CPR and looks_like_cpr(text):
        # A CPR number typed as a BFE, matrikel or medarbejdernummer would travel into a
        # back end's URL under that kind's name; refuse it and say what it looks like.
        raise InvalidKey(
            kind,
            "Det ligner et CPR-nummer. Vælg CPR-nummer, hvis du vil slå en person op"
            f" ({kind.label} tager ikke CPR-numre).",
        )
    return _TYPES[kind].parse(str(text))  # type: ignore[attr-defined]


def key_of(kind: KeyKind | str, value: str) -> Key:
    """A key from its canonical value (as :attr:`Key.value` holds it), not from what a
    person typed: for values the portal itself stored, e.g. an overview kept in Redis."""
    kind = KeyKind(kind)
    return _TYPES[kind](kind, value)


def looks_like_cpr(text: str) -> bool:
    """Whether ``text`` is a valid CPR number once spaces, dashes, dots and slashes go."""
    compact = re.sub(r"[\s./-]", "", text)
    if len(compact) != 10 or not compact.isascii() or not compact.isdigit():
        return False
    try:
        CPR.parse(compact)
    except InvalidKey:
        return False
    return True


def _digits_only(text: str, kind: KeyKind, allowed: str) -> str:
    compact = re.sub(r"[\s-]", "", text.strip())
    if not compact.isdigit() or not compact.isascii():
        raise InvalidKey(kind, f"Må kun indeholde cifre (og {allowed}).")
    return compact
