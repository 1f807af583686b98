"""The CPR register connector: who a person is, as person facts — never cases.

A person register only (``person_kinds``): for a CPR number it answers the name, the
address and whether the person has name and address protection, which the overview
shows in its person header. The number is sent in a POST body, never in a URL. The
register gives an authority a protected person's address too, marked
``adressebeskyttelse``; the portal masks it for every role that may not see it.

An unknown number (404) is an answer — "the register does not know this person" —
so it gives ``[]``; every other failure is a classified error like any source's.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import requests

from borgersag import (
    API_KEY_SETTINGS,
    CPR,
    Connector,
    InvalidKey,
    Key,
    KeyKind,
    NotFound,
    Person,
    Setting,
    api_key_auth,
)

__all__ = ["CprRegisterConnector"]


class CprRegisterConnector(Connector):
    """CPR number → name, address and name and address protection."""

    type_name = "cpr_register"
    title = "CPR-registret"
    key_kinds = frozenset()
    person_kinds = frozenset({KeyKind.CPR})
    settings_schema = (
        Setting("base_url", str, "root URL of the API, ending in /"),
        *API_KEY_SETTINGS,
    )

    @classmethod
    def make_auth(
        cls, settings: Mapping[str, Any], name: str | None = None
    ) -> requests.auth.AuthBase:
        """The API key in its header."""
        return api_key_auth(settings)

    def person(self, key: Key) -> list[Person]:
        """The register's facts about ``key``; ``[]`` when it does not know the number."""
        if key.kind is not KeyKind.CPR:
            return []
        read = self.reader
        try:
            answer = self.http.post_json("cpr/v1/personer/opslag", {"cprNummer": key.value})
        except NotFound:
            return []
        body = read.expect(answer, dict, "svaret")
        found = read.obj(body, "person", "svaret", required=True)
        where = "svaret.person"
        number = read.text(found, "cprNummer", where, required=True)
        try:
            same = CPR.parse(number) == key
        except InvalidKey:
            same = False
        if not same:
            raise read.fail(f"{where}.cprNummer", "er ikke det CPR-nummer, der blev spurgt om")
        # an unknown marker shows less: a person the register does not say is unprotected
        # is treated as protected
        marked = read.field(found, "adressebeskyttelse", bool, where, required=False)
        return [
            Person(
                key,
                _name(read, read.obj(found, "navn", where), f"{where}.navn"),
                _address(read, read.obj(found, "adresse", where), f"{where}.adresse"),
                protected=marked is not False,
            )
        ]

    def health(self) -> str:
        """A cheap authenticated call: proves URL and API key."""
        self.http.get_json("cpr/v1/status")
        return "svarer"


def _name(read, name: dict, where: str) -> str | None:
    """``Fornavne Efternavn``; ``None`` when the register gives neither."""
    parts = [read.text(name, "fornavne", where), read.text(name, "efternavn", where)]
    text = " ".join(p.strip() for p in parts if p and p.strip())
    return text or None


def _address(read, address: dict, where: str) -> str | None:
    """``Vejnavn 12, 1. th., 8000 By``; ``None`` without a street."""
    street = (read.text(address, "vejnavn", where) or "").strip()
    if not street:
        return None
    number = (read.text(address, "husnummer", where) or "").strip()
    floor = (read.text(address, "etage", where) or "").strip()
    postnummer = (read.text(address, "postnummer", where) or "").strip()
    town = (read.text(address, "postdistrikt", where) or "").strip()
    line = " ".join(p for p in (street, number) if p)
    post = " ".join(p for p in (postnummer, town) if p)
    return ", ".join(p for p in (line, floor, post) if p)
