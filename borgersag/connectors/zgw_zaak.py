"""One ZGW zaak to a canonical :class:`~borgersag.domain.model.Case`.

:class:`ZaakMapper` is handed what the connector fetched for a zaak — its rollen, its
statussen (the current one for an overview, all of them for a case page) and documents —
reads the zaaktype and statustypen through the connector's catalogue cache (and, for one
case, its resultaat), and applies the rules of :mod:`borgersag.connectors.zgw_mapping`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from borgersag import (
    Case,
    Caseworker,
    Connector,
    Document,
    Event,
    FatalError,
    Key,
    KeyKind,
    Party,
    PartyRole,
    Progress,
    ProgressStep,
    Reader,
)
from borgersag.connectors.zgw_mapping import (
    employee_name,
    is_uuid,
    kle_of,
    person_address,
    person_cpr,
    person_name,
    progress_at,
    sensitivity_of,
)

__all__ = ["ZaakMapper"]


@dataclass
class _Rollen:
    """What a zaak's rollen say: its parties, caseworker, and who is on it at all."""

    parties: list[Party] = field(default_factory=list)
    persons: set[str] = field(default_factory=set)  # CPR numbers with any rol
    employees: set[str] = field(default_factory=set)  # medewerkers with any rol
    behandelaars: set[str] = field(default_factory=set)
    caseworker: Caseworker | None = None


class ZaakMapper:
    """Maps zaken for one connector instance (``status_map`` already parsed)."""

    def __init__(
        self,
        connector: Connector,
        status_map: dict[str, Progress],
        *,
        notes_for_citizens: bool = False,
    ):
        self.c = connector
        self.status_map = status_map
        self.notes_for_citizens = notes_for_citizens

    @property
    def read(self) -> Reader:
        """The connector's reader (its errors name the source)."""
        return self.c.reader

    def identity(self, raw: Any, where: str) -> tuple[str, str]:
        """A zaak's URL and uuid, checked (``raw`` must be an object with both)."""
        r = self.read
        raw = r.expect(raw, dict, where)
        url = r.text(raw, "url", where, required=True)
        zaak_uuid = r.text(raw, "uuid", where) or _tail(url)
        if not is_uuid(zaak_uuid):
            raise r.fail(f"{where}.uuid", "er ikke en UUID")
        return url, zaak_uuid

    def zaak(
        self,
        raw: Any,
        where: str,
        key: Key | None,
        *,
        rollen: list[dict],
        statussen: list[dict],
        documents: tuple[Document, ...] = (),
        detail: bool = False,
    ) -> Case | None:
        """The case, or ``None`` when ``key`` (a medarbejdernummer) is on the zaak in a rol
        other than behandelaar. Raises :class:`FatalError` when the zaak does not concern
        ``key`` at all: the server did not apply the search filter."""
        r, c = self.read, self.c
        _, zaak_uuid = self.identity(raw, where)
        found = self._rollen(rollen, where)
        if key is not None and not self._concerns(found, key, where):
            return None
        zaaktype = c.catalogue(r.text(raw, "zaaktype", where, required=True), f"{where}.zaaktype")
        opened = r.date(raw, "startdatum", where) or r.date(raw, "registratiedatum", where)
        steps, status_text, notes = self._history(statussen, zaaktype, opened, where)
        ended = r.date(raw, "einddatum", where)
        if ended and steps[-1].progress is not Progress.AFSLUTTET:
            steps.append(ProgressStep(Progress.AFSLUTTET, ended, "Afsluttet"))
        progress = steps[-1].progress
        closed = (ended or steps[-1].date) if progress is Progress.AFSLUTTET else None
        decided = next((s.date for s in steps if s.progress is Progress.AFGJORT), None)
        level = r.text(raw, "vertrouwelijkheidaanduiding", where)
        sensitivity = sensitivity_of(level)
        zaaktype_name = r.text(zaaktype, "omschrijving", f"{where}.zaaktype")
        identificatie = r.text(raw, "identificatie", where) or zaak_uuid
        events = tuple(notes)
        if detail and (result := r.text(raw, "resultaat", where)):
            events += self._result(result, closed or decided or steps[-1].date, where)
        return Case(
            id=c.case_id(zaak_uuid),
            sagsnummer=identificatie,
            title=r.text(raw, "omschrijving", where) or zaaktype_name or "Sag",
            provenance=c.provenance(),
            progress=progress,
            progress_history=tuple(steps),
            status_text=status_text,
            public_title=(zaaktype_name or "Sag") if (level or "") != "openbaar" else None,
            kle=kle_of(r.field(zaaktype, "trefwoorden", list, where, required=False) or []),
            area=r.text(zaaktype, "onderwerp", f"{where}.zaaktype") or None,
            sensitivity=sensitivity,
            parties=tuple(found.parties),
            caseworker=found.caseworker,
            unit=r.text(zaaktype, "verantwoordelijke", f"{where}.zaaktype") or None,
            opened=opened or steps[0].date,
            decided=decided,
            closed=closed,
            deadline=None
            if closed
            else r.date(raw, "uiterlijkeEinddatumAfdoening", where)
            or r.date(raw, "einddatumGepland", where),
            documents=documents,
            events=events,
            join_keys=self._join_keys(r.items(raw, "kenmerken", where), where),
            deep_link=c.deep_link(zaak_uuid, identificatie),
        )

    # -- rollen ---------------------------------------------------------------------------

    def _rollen(self, items: list[dict], where: str) -> _Rollen:
        r, found = self.read, _Rollen()
        for i, rol in enumerate(items):
            at = f"{where}.rollen[{i}]"
            kind = r.text(rol, "betrokkeneType", at, required=True)
            generic = r.text(rol, "omschrijvingGeneriek", at)
            ident = r.obj(rol, "betrokkeneIdentificatie", at)
            if kind == "natuurlijk_persoon":
                cpr = person_cpr(ident, self.c.settings["cpr_field"])
                if cpr is None:
                    continue
                found.persons.add(cpr.value)
                role = PartyRole.PRIMARY if generic == "initiator" else PartyRole.SECONDARY
                found.parties.append(
                    Party(cpr, role, person_name(rol, ident), person_address(ident))
                )
            elif kind == "medewerker":
                number = r.text(ident, "identificatie", f"{at}.betrokkeneIdentificatie")
                if not number:
                    continue
                found.employees.add(number)
                if generic == "behandelaar":
                    found.behandelaars.add(number)
                    if found.caseworker is None:
                        found.caseworker = Caseworker(number, employee_name(rol, ident))
        unique: dict[Key, Party] = {}  # one party per person, the primary role first
        for party in sorted(found.parties, key=lambda p: p.role is not PartyRole.PRIMARY):
            unique.setdefault(party.key, party)
        found.parties = list(unique.values())
        return found

    def _concerns(self, rollen: _Rollen, key: Key, where: str) -> bool:
        cpr = key.kind is KeyKind.CPR
        if key.value not in (rollen.persons if cpr else rollen.employees):
            who = "den søgte person" if cpr else "den søgte medarbejder"
            raise FatalError(
                f"{self.c.display_name} sendte en sag ({where}), som {who} ikke har en rolle"
                " på: serveren ser ud til at ignorere søgefilteret, så ingen af svarets sager"
                " vises. Tjek API-versionen og indstillingen cpr_field."
            )
        return cpr or key.value in rollen.behandelaars

    # -- statussen ------------------------------------------------------------------------

    def _history(
        self, statussen: list[dict], zaaktype: dict, opened: dt.date | None, where: str
    ) -> tuple[list[ProgressStep], str | None, list[Event]]:
        """Progress steps oldest first, the citizen's text for the latest status, and the
        statustoelichtingen as staff notes (in the steps instead, when the municipality
        shows them to citizens)."""
        r, c = self.read, self.c
        known: dict[str, dict] = {}
        listed = r.field(zaaktype, "statustypen", list, f"{where}.zaaktype", required=False) or []
        for i, st_url in enumerate(listed):
            st_url = r.expect(st_url, str, f"{where}.zaaktype.statustypen[{i}]")
            known[_tail(st_url)] = c.catalogue(st_url, f"{where}.zaaktype.statustypen[{i}]")
        entries = []
        for i, status in enumerate(statussen):
            at = f"{where}.statussen[{i}]"
            st_url = r.text(status, "statustype", at, required=True)
            if _tail(st_url) not in known:
                known[_tail(st_url)] = c.catalogue(st_url, f"{at}.statustype")
            stamp = r.text(status, "datumStatusGezet", at, required=True)
            entries.append((_moment(stamp), r.date(status, "datumStatusGezet", at), status, st_url))
        volgnummer = {
            t: r.field(st, "volgnummer", int, f"{where}.statustype", required=False) or 0
            for t, st in known.items()
        }
        order = sorted(known, key=volgnummer.__getitem__)  # stable: ties keep the listed order
        steps, notes = [], []
        text = None
        for _, day, status, st_url in sorted(entries, key=lambda e: e[0]):
            statustype = known[_tail(st_url)]
            at = f"{where}.statustype"
            name = r.text(statustype, "omschrijving", at) or "Status"
            note = (r.text(status, "statustoelichting", f"{where}.status") or "").strip()
            progress = self._progress(statustype, name, order.index(_tail(st_url)), len(order))
            if note and self.notes_for_citizens:
                steps.append(ProgressStep(progress, day, f"{name}: {note}"))
            else:
                steps.append(ProgressStep(progress, day, name))
                if note:
                    notes.append(Event(day, f"{name}: {note}", "note", c.name))
            text = r.text(statustype, "statustekst", at) or name
        if opened is not None and (not steps or steps[0].progress is not Progress.OPSTAAET):
            steps.insert(0, ProgressStep(Progress.OPSTAAET, opened, None))
        if not steps:
            raise r.fail(where, "har hverken startdato eller statusser")
        return steps, text, notes

    def _progress(self, statustype: dict, name: str, position: int, count: int) -> Progress:
        mapped = self.status_map.get(name.strip().lower())
        if mapped is not None:
            return mapped
        if statustype.get("isEindstatus") is True:
            return Progress.AFSLUTTET
        return progress_at(position, count)

    # -- the rest -------------------------------------------------------------------------

    def _result(self, url: str, date: dt.date, where: str) -> tuple[Event, ...]:
        r, c = self.read, self.c
        path = c.resolve("resultaten", url, f"{where}.resultaat")
        result = r.expect(c.call_json("GET", path), dict, "resultatet")
        type_url = r.text(result, "resultaattype", "resultatet")
        kind = c.catalogue(type_url, "resultatet.resultaattype") if type_url else {}
        label = r.text(kind, "omschrijving", "resultattypen") or "registreret"
        events = [Event(date, f"Resultat: {label}", "status", c.name)]
        if note := r.text(result, "toelichting", "resultatet"):
            events.append(Event(date, note, "note", c.name))
        return tuple(events)

    def _join_keys(self, kenmerken: list[dict], where: str) -> frozenset[str]:
        """References to the same matter in other systems (``kenmerken``: bron + kenmerk)."""
        keys = set()
        for i, item in enumerate(kenmerken):
            at = f"{where}.kenmerken[{i}]"
            bron = self.read.text(item, "bron", at, required=True)
            kenmerk = self.read.text(item, "kenmerk", at, required=True)
            keys.add(f"{bron.strip().lower()}:{kenmerk.strip()}")
        return frozenset(keys)


def _tail(url: str) -> str:
    return url.rstrip("/").rsplit("/", 1)[-1]


def _moment(stamp: str) -> dt.datetime:
    """For ordering only: a date-time (naive ones as UTC), or a bare date at midnight."""
    try:
        moment = dt.datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    except ValueError:
        return dt.datetime.min.replace(tzinfo=dt.UTC)
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)
