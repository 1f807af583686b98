"""Ejerfortegnelsen connector: the properties a person owns or owned, as related keys.

A relation source only: it holds no cases, but turns a CPR number into the parcels
(matrikel) and properties (BFE) the person owns — and, with ``historik``, owned — so the
engine can ask the building-permit system about them. The CPR number is sent in a POST
body, never in a URL.

Each relation carries the register's facts, not just words: the role (owner, co-owner
with the share, previous owner), ``since`` (``virkningFra``) and ``until``
(``virkningTil``, the day the ownership ended; absent while it lasts). The reason text
is written from those facts; policies decide on the facts.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import Any, TypeVar

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
    Records,
    Relation,
    RelationRole,
    Setting,
    Share,
    api_key_auth,
)

__all__ = ["EjerfortegnelseConnector"]

log = logging.getLogger(__name__)
T = TypeVar("T")


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

    def relations(self, key: Key) -> Records[Relation]:
        """For a CPR number: each parcel and property the person owns or owned (searched
        on), with address, role, share and period. For a BFE number: the property's
        owners — shown with the overview, never searched on (their own cases are not the
        property's)."""
        if key.kind is KeyKind.BFE:
            return self._owners(key)
        if key.kind is not KeyKind.CPR:
            return []
        read = self.reader
        body = read.expect(
            self.http.post_json(
                "ejerfortegnelse/v1/ejerskaber/soeg", {"cpr": key.value, "historik": True}
            ),
            dict,
            "svaret",
        )
        found: dict[Key, Relation] = {}
        named: dict[Key, str] = {}  # what the key is, for the wording
        holdings = self._each(read, body, "ejerskaber", self._holdings)
        for part in holdings:
            for k, what, held in part:
                found[k], named[k] = _merged(found.get(k), held), what
        relations = [replace(r, reason=_own_reason(r, named[r.key])) for r in found.values()]
        return Records(relations, problems=holdings.problems)

    def _holdings(self, item: dict, where: str) -> list[tuple[Key, str, Relation]]:
        """The keys one ownership record gives (the property and its parcels)."""
        read = self.reader
        estate = read.obj(item, "ejendom", where, required=True)
        bfe_number = read.field(estate, "bfeNummer", int, f"{where}.ejendom")
        address = read.text(estate, "adresse", f"{where}.ejendom") or None
        role, share, since, until = _holding(read, item, where)
        bfe = _key(read, BFE.parse, (str(bfe_number),), f"{where}.ejendom.bfeNummer")
        keys = {bfe: f"ejendom BFE {bfe_number}"}
        for j, parcel in enumerate(read.items(estate, "jordstykker", f"{where}.ejendom")):
            at = f"{where}.ejendom.jordstykker[{j}]"
            ejerlav = read.field(parcel, "ejerlavskode", int, at)
            nr = read.text(parcel, "matrikelnummer", at, required=True)
            matrikel = _key(read, Matrikel.of, (ejerlav, nr), at)
            keys[matrikel] = f"matrikel {matrikel.value} (BFE {bfe_number})"
        return [
            (k, what, Relation(k, what, address, since, role=role, share=share, until=until))
            for k, what in keys.items()
        ]

    def _owners(self, key: Key) -> Records[Relation]:
        read = self.reader
        body = read.expect(
            self.http.get_json(f"ejerfortegnelse/v1/ejendomme/{key.value}/ejere"), dict, "svaret"
        )
        # the property's own address, shown with its owners on the property's overview
        address = read.text(body, "adresse", "svaret") or None

        def owner(item: dict, where: str) -> Relation:
            cpr = _key(read, CPR.parse, (read.text(item, "cpr", where, required=True),), where)
            role, share, since, until = _holding(read, item, where)
            reason = f"{_wording(role, share)} ejendom BFE {key.value}" + _period_text(since, until)
            return Relation(
                cpr,
                reason,
                address,
                since=since,
                search=False,
                role=role,
                share=share,
                until=until,
            )

        return self._each(read, body, "ejere", owner)

    def _each(
        self, read: Reader, body: dict, name: str, fn: Callable[[dict, str], T]
    ) -> Records[T]:
        """Each record of the list ``name``, read by ``fn``: a record that cannot be read
        (a malformed date, a missing key) is left out and counted, so the others count."""
        return read.each(read.field(body, name, list, "svaret"), name, fn)

    def health(self) -> str:
        """A cheap authenticated call: proves URL and API key."""
        self.http.get_json("ejerfortegnelse/v1/status")
        return "svarer"


def _key(read: Reader, build: Callable[..., Key], args: tuple, where: str) -> Key:
    try:
        return build(*args)
    except InvalidKey:
        raise read.fail(where, "er ikke en gyldig matrikel eller BFE") from None


def _dates(read: Reader, item: dict, where: str) -> tuple[dt.date | None, dt.date | None]:
    """``virkningFra`` and ``virkningTil`` (the day the ownership ended, or null)."""
    since = read.date(item, "virkningFra", where)
    until = read.date(item, "virkningTil", where)
    if since and until and until < since:
        raise read.fail(f"{where}.virkningTil", "er før virkningFra")
    return since, until


def _holding(
    read: Reader, item: dict, where: str
) -> tuple[RelationRole, Share | None, dt.date | None, dt.date | None]:
    """Role, share and period of one ownership record. An ownership that ended on or
    before today is a previous owner's; otherwise the share tells owner from co-owner."""
    share = _share(read, read.obj(item, "ejerandel", where), f"{where}.ejerandel")
    since, until = _dates(read, item, where)
    if until is not None and until <= dt.date.today():
        role = RelationRole.PREVIOUS_OWNER
    elif share is None or share.whole:
        role = RelationRole.OWNER
    else:
        role = RelationRole.CO_OWNER
    return role, share, since, until


def _share(read: Reader, share: dict, where: str) -> Share | None:
    """The ``ejerandel`` as a fraction; ``None`` when the register does not say."""
    if not share:
        return None
    numerator = read.field(share, "taeller", int, where)
    denominator = read.field(share, "naevner", int, where)
    if denominator <= 0 or numerator <= 0:
        raise read.fail(where, "er ikke en gyldig ejerandel")
    return Share(min(numerator, denominator), denominator)


def _wording(role: RelationRole, share: Share | None) -> str:
    """``ejer af``, ``medejer (1/2) af``, ``tidligere medejer (1/2) af``."""
    part = f"medejer ({share}) af" if share and not share.whole else "ejer af"
    return f"tidligere {part}" if role is RelationRole.PREVIOUS_OWNER else part


def _own_reason(relation: Relation, what: str) -> str:
    """``ejer af matrikel 2000351-12a (BFE 123456)``; an ended ownership with its period."""
    reason = f"{_wording(relation.role, relation.share)} {what}"
    if relation.role is RelationRole.PREVIOUS_OWNER:
        reason += _period_text(relation.since, relation.until)
    return reason


def _period_text(since: dt.date | None, until: dt.date | None) -> str:
    if since and until:
        return f" {since:%d.%m.%Y}–{until:%d.%m.%Y}"
    if until:
        return f" til {until:%d.%m.%Y}"
    return f" siden {since:%d.%m.%Y}" if since else ""


def _merged(old: Relation | None, new: Relation) -> Relation:
    """One relation per key when the register has several records for it (a share that
    changed, a property sold and bought back). The record that lasts longest leads (role,
    share, end); a period that meets or overlaps it extends it back. With a gap between
    them only the leading period counts — never a span the person did not own."""
    if old is None:
        return new
    lead, other = sorted((old, new), key=_recency, reverse=True)
    if not _meet(lead, other):
        return lead
    since = None if lead.since is None or other.since is None else min(lead.since, other.since)
    return replace(lead, since=since, address=lead.address or other.address)


def _recency(relation: Relation) -> tuple[dt.date, dt.date]:
    return (relation.until or dt.date.max, relation.since or dt.date.min)


def _meet(a: Relation, b: Relation) -> bool:
    """Whether two periods overlap or one ends the day the other begins."""
    a_before_b_ends = a.since is None or b.until is None or a.since <= b.until
    b_before_a_ends = b.since is None or a.until is None or b.since <= a.until
    return a_before_b_ends and b_before_a_ends
