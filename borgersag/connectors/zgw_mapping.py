"""Pure mapping rules of the ZGW connector: ZGW values to the canonical model.

Kept apart from :mod:`borgersag.connectors.zgw` (HTTP, paging, catalogue cache) so each rule can be
read and tested on its own. Nothing here makes a call.
"""

from __future__ import annotations

import re

from borgersag import (
    InvalidKey,
    Key,
    KeyKind,
    Progress,
    Sensitivity,
    parse_key,
)
from borgersag import (
    parse_status_map as _parse,
)

__all__ = [
    "CONFIDENTIALITY",
    "PARTY_LEVELS",
    "PERSON_ID_FIELDS",
    "REFUSED_PERSON_ID_FIELDS",
    "SENSITIVITY",
    "employee_name",
    "is_uuid",
    "kle_of",
    "parse_status_map",
    "person_address",
    "person_cpr",
    "person_name",
    "progress_at",
    "sensitivity_of",
]

PERSON_ID_FIELDS = ("anpIdentificatie",)
"""Fields of ``NatuurlijkPersoonIdentificatie`` that can hold a CPR number: a
specification-true server keeps the ten-digit CPR number in ``anpIdentificatie``
("another natural person's number", up to 17 characters, matched exactly)."""

REFUSED_PERSON_ID_FIELDS = {
    "inpBsn": (
        "anpIdentificatie — inpBsn holds a Dutch BSN of 9 digits and can never hold a"
        " 10-digit CPR number (Open Zaak answers 400 'De waarde is te lang')"
    ),
    "inpA_nummer": (
        "anpIdentificatie — inpA_nummer is a Dutch A-nummer (10 digits, never starting"
        " with 0), so CPR numbers of the 1st-9th of a month cannot be stored there"
    ),
}
"""Fields that look as if they could hold a CPR number but cannot, and why."""

CONFIDENTIALITY = (
    "openbaar",
    "beperkt_openbaar",
    "intern",
    "zaakvertrouwelijk",
    "vertrouwelijk",
    "confidentieel",
    "geheim",
    "zeer_geheim",
)
"""The eight ZGW ``vertrouwelijkheidaanduiding`` levels, lowest first."""

PARTY_LEVELS = frozenset({"openbaar", "beperkt_openbaar", "zaakvertrouwelijk"})
"""Levels at which a zaak's party may see a document: public ones, and ``zaakvertrouwelijk``
(confidential to those involved in the zaak). ``intern`` and up are for the organisation."""

SENSITIVITY = {
    "openbaar": Sensitivity.IKKE_FORTROLIG,
    "beperkt_openbaar": Sensitivity.IKKE_FORTROLIG,
    "intern": Sensitivity.IKKE_FORTROLIG,
    "zaakvertrouwelijk": Sensitivity.FORTROLIGE_PERSONOPLYSNINGER,
    "vertrouwelijk": Sensitivity.FORTROLIGE_PERSONOPLYSNINGER,
    "confidentieel": Sensitivity.FOELSOMME_PERSONOPLYSNINGER,
    "geheim": Sensitivity.VIP,
    "zeer_geheim": Sensitivity.VIP,
}
"""The eight ZGW ``vertrouwelijkheidaanduiding`` levels onto the four SF1470 levels."""

_KLE = re.compile(r"(?<![\d.])(\d{2}\.\d{2}\.\d{2})(?![\d.])")
_UUID = re.compile(r"[0-9a-fA-F]{8}-(?:[0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}")
_MIDDLE = (Progress.OPLYST, Progress.AFGJORT)


def is_uuid(value: str) -> bool:
    """Whether ``value`` is a UUID in its usual 36-character form (ZGW ids are UUIDs)."""
    return bool(_UUID.fullmatch(value))


def sensitivity_of(level: str | None) -> Sensitivity:
    """A missing level counts as confidential, an unknown one as the highest: a surprise
    never shows too much."""
    if level is None:
        return Sensitivity.FORTROLIGE_PERSONOPLYSNINGER
    return SENSITIVITY.get(level.strip().lower(), Sensitivity.VIP)


def progress_at(position: int, count: int) -> Progress:
    """The progress of the statustype at ``position`` (0-based, by volgnummer) of ``count``.

    The first is Opstået, the last Afsluttet, and the ones between are spread over Oplyst
    and Afgjort: with four statustypen each stage gets one; with three the middle one is
    Oplyst; with five the second and third are Oplyst and the fourth Afgjort.
    """
    if position <= 0:
        return Progress.OPSTAAET
    if position >= count - 1:
        return Progress.AFSLUTTET
    return _MIDDLE[(position - 1) * len(_MIDDLE) // (count - 2)]


def kle_of(trefwoorden: list) -> str | None:
    """The first KLE number (``NN.NN.NN``) among a zaaktype's trefwoorden, e.g. ``KLE 29.30.00``."""
    for word in trefwoorden:
        if isinstance(word, str) and (match := _KLE.search(word)):
            return match[1]
    return None


def person_cpr(identification: dict, preferred: str) -> Key | None:
    """The CPR number of a ``NatuurlijkPersoonIdentificatie``: the configured field first,
    then the other; a value that is not a valid CPR number (a Dutch BSN) is no key."""
    for name in (preferred, *(f for f in PERSON_ID_FIELDS if f != preferred)):
        value = identification.get(name)
        if isinstance(value, str) and value.strip():
            try:
                return parse_key(KeyKind.CPR, value)
            except InvalidKey:
                continue
    return None


def person_name(rol: dict, identification: dict) -> str | None:
    """``afwijkendeNaamBetrokkene`` when set, else the name parts of the identification."""
    chosen = rol.get("afwijkendeNaamBetrokkene")
    if isinstance(chosen, str) and chosen.strip():
        return chosen.strip()
    parts = [
        identification.get(name)
        for name in ("voornamen", "voorvoegselGeslachtsnaam", "geslachtsnaam")
    ]
    text = " ".join(p.strip() for p in parts if isinstance(p, str) and p.strip())
    return text or None


def employee_name(rol: dict, identification: dict) -> str | None:
    """A medewerker's name: ``afwijkendeNaamBetrokkene``, else initials and surname."""
    chosen = rol.get("afwijkendeNaamBetrokkene")
    if isinstance(chosen, str) and chosen.strip():
        return chosen.strip()
    parts = [
        identification.get(name) for name in ("voorletters", "voorvoegselAchternaam", "achternaam")
    ]
    text = " ".join(p.strip() for p in parts if isinstance(p, str) and p.strip())
    return text or None


def person_address(identification: dict) -> str | None:
    """``Stationsvej 1, st. tv., 8220 Brabrand`` from a ``verblijfsadres``, if there is one."""
    address = identification.get("verblijfsadres")
    if not isinstance(address, dict):
        return None

    def text(name: str) -> str:
        value = address.get(name)
        return str(value).strip() if isinstance(value, str | int) and value != "" else ""

    number = "".join(text(n) for n in ("aoaHuisnummer", "aoaHuisletter", "aoaHuisnummertoevoeging"))
    street = " ".join(filter(None, (text("gorOpenbareRuimteNaam"), number)))
    town = " ".join(filter(None, (text("aoaPostcode"), text("wplWoonplaatsNaam"))))
    parts = [street, text("inpLocatiebeschrijving"), town]
    return ", ".join(p for p in parts if p) or None


def parse_status_map(text: str) -> dict[str, Progress]:
    """``"Visiteret=afgjort; Venteliste=oplyst"`` (statustype omschrijving=progress)."""
    return _parse(text, "STATUSTYPE")
