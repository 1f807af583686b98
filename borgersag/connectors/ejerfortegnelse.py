"""Ejerfortegnelsen connector: the properties a person owns, as related keys.

A relation source only: it holds no cases, but turns a CPR number into the parcels
(matrikel) and properties (BFE) the person owns, so the engine can ask the building-permit
system about them. The CPR number is sent in a POST body, never in a URL.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from typing import Any

import requests

from borgersag import (
    API_KEY_SETTINGS,
    BFE,
    CPR,
    Connector,
    InvalidKey,
    Key,
    KeyKind,
    Matrikel,
    Reader,
    Relation,
    Setting,
    api_key_auth,
)

__all__ = ["EjerfortegnelseConnector"]


class EjerfortegnelseConnector(Connector):
    """CPR number → owned parcels and BFE numbers, from an Ejerfortegnelse-style API."""

    type_name = "ejerfortegnelse"
    title = "Ejerfortegnelsen"
    key_kinds = frozenset()
    relation_kinds = frozenset({KeyKind.CPR, KeyKind.BFE})
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

    def relations(self, key: Key) -> list[Relation]:
        """For a CPR number: each owned parcel and property (searched on), with address,
        share and since when. For a BFE number: the property's owners — shown with the
        overview, never searched on (their own cases are not the property's)."""
        if key.kind is KeyKind.BFE:
            return self._owners(key)
        if key.kind is not KeyKind.CPR:
            return []
        read = self.reader
        body = read.expect(
            self.http.post_json("ejerfortegnelse/v1/ejerskaber/soeg", {"cpr": key.value}),
            dict,
            "svaret",
        )
        found: dict[Key, tuple[str, str | None, dt.date | None]] = {}
        for i, item in enumerate(read.items(body, "ejerskaber", "svaret", required=True)):
            where = f"ejerskaber[{i}]"
            estate = read.obj(item, "ejendom", where, required=True)
            bfe_number = read.field(estate, "bfeNummer", int, f"{where}.ejendom")
            address = read.text(estate, "adresse", f"{where}.ejendom")
            role = _role(read, read.obj(item, "ejerandel", where), f"{where}.ejerandel")
            since = read.date(item, "virkningFra", where)
            bfe = _key(read, BFE.parse, (str(bfe_number),), f"{where}.ejendom.bfeNummer")
            found.setdefault(bfe, (f"{role} ejendom BFE {bfe_number}", address or None, since))
            for j, parcel in enumerate(read.items(estate, "jordstykker", f"{where}.ejendom")):
                at = f"{where}.ejendom.jordstykker[{j}]"
                ejerlav = read.field(parcel, "ejerlavskode", int, at)
                nr = read.text(parcel, "matrikelnummer", at, required=True)
                matrikel = _key(read, Matrikel.of, (ejerlav, nr), at)
                found.setdefault(
                    matrikel,
                    (
                        f"{role} matrikel {matrikel.value} (BFE {bfe_number})",
                        address or None,
                        since,
                    ),
                )
        return [Relation(k, *facts) for k, facts in found.items()]

    def _owners(self, key: Key) -> list[Relation]:
        read = self.reader
        body = read.expect(
            self.http.get_json(f"ejerfortegnelse/v1/ejendomme/{key.value}/ejere"), dict, "svaret"
        )
        owners = []
        for i, item in enumerate(read.items(body, "ejere", "svaret", required=True)):
            where = f"ejere[{i}]"
            cpr = _key(read, CPR.parse, (read.text(item, "cpr", where, required=True),), where)
            role = _role(read, read.obj(item, "ejerandel", where), f"{where}.ejerandel")
            since = read.date(item, "virkningFra", where)
            reason = f"{role} ejendom BFE {key.value}" + (
                f" siden {since.strftime('%d.%m.%Y')}" if since else ""
            )
            owners.append(Relation(cpr, reason, since=since, search=False))
        return owners

    def health(self) -> str:
        """A cheap authenticated call: proves URL and API key."""
        self.http.get_json("ejerfortegnelse/v1/status")
        return "svarer"


def _key(read: Reader, build: Callable[..., Key], args: tuple, where: str) -> Key:
    try:
        return build(*args)
    except InvalidKey:
        raise read.fail(where, "er ikke en gyldig matrikel eller BFE") from None


def _role(read: Reader, share: dict, where: str) -> str:
    """``ejer af`` for sole owners, ``medejer (1/2) af`` otherwise."""
    if not share:
        return "ejer af"
    numerator = read.field(share, "taeller", int, where)
    denominator = read.field(share, "naevner", int, where)
    if denominator <= 0 or numerator <= 0:
        raise read.fail(where, "er ikke en gyldig ejerandel")
    if numerator >= denominator:
        return "ejer af"
    return f"medejer ({numerator}/{denominator}) af"
