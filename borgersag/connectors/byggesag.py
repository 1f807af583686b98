"""Building-permit system connector: building cases on a parcel (matrikel) or property (BFE).

Every case carries the join key ``byggesag:<sagsnummer>``; the ESDH connector puts the
same key on the journalised copy (its external reference), so the engine's join shows the
two as one matter.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

import requests

from borgersag import (
    API_KEY_SETTINGS,
    BFE,
    Case,
    Caseworker,
    Connector,
    Document,
    DocumentContent,
    DocumentStatus,
    DocumentType,
    FatalError,
    InvalidKey,
    Key,
    KeyKind,
    Matrikel,
    NotFound,
    Page,
    Progress,
    ProgressStep,
    Records,
    Sensitivity,
    Setting,
    api_key_auth,
    check_range,
    pages_by_number,
)

__all__ = ["ByggesagConnector"]

STATUS_PROGRESS = {
    "modtaget": Progress.OPSTAAET,
    "afventer dokumentation": Progress.OPSTAAET,
    "under behandling": Progress.OPLYST,
    "tilladelse meddelt": Progress.AFGJORT,
    "afslag": Progress.AFGJORT,
    "afsluttet": Progress.AFSLUTTET,
}
DOCUMENT_TYPES = {
    "ansøgning": DocumentType.BREV_INDGAAENDE,
    "tegning": DocumentType.BREV_INDGAAENDE,
    "indgående brev": DocumentType.BREV_INDGAAENDE,
    "udgående brev": DocumentType.BREV_UDGAAENDE,
    "afgørelse": DocumentType.BREV_UDGAAENDE,
    "notat": DocumentType.INTERNT_NOTAT,
}
_SAGSNUMMER = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,49}$")
JOIN_PREFIX = "byggesag:"


class ByggesagConnector(Connector):
    """Building cases by matrikel or BFE number, with history and documents."""

    type_name = "byggesag"
    title = "Byggesager"
    key_kinds = frozenset({KeyKind.MATRIKEL, KeyKind.BFE, KeyKind.MEDARBEJDER})
    settings_schema = (
        Setting("base_url", str, "root URL of the API, ending in /"),
        *API_KEY_SETTINGS,
        Setting("page_size", int, "cases per request (1-100)", default=50),
        Setting("max_pages", int, "most requests per lookup (1-100)", default=10),
        Setting(
            "deep_link_template",
            str,
            "link into the system's own client, with {sagsnummer}; empty for none",
            default="",
        ),
    )

    @classmethod
    def validate_settings(cls, raw: Mapping[str, Any], file: str = "<config>", prefix: str = ""):
        """Also check the paging bounds."""
        settings = super().validate_settings(raw, file, prefix)
        check_range(settings["page_size"], 1, 100, file, prefix + "page_size")
        check_range(settings["max_pages"], 1, 100, file, prefix + "max_pages")
        return settings

    @classmethod
    def make_auth(
        cls, settings: Mapping[str, Any], name: str | None = None
    ) -> requests.auth.AuthBase:
        """The API key in its header."""
        return api_key_auth(settings)

    # -- the contract ---------------------------------------------------------------------

    def search(self, key: Key) -> Records[Case]:
        """Building cases on the parcel or on any parcel of the property, or those a
        caseworker is responsible for (medarbejdernummer, for "Mit skrivebord"); a case
        that cannot be read is counted, not fatal."""
        if isinstance(key, Matrikel):
            params: dict[str, Any] = {"ejerlav": key.ejerlav, "matrikel": key.matrikelnr}
        elif key.kind is KeyKind.BFE:
            params = {"bfe": key.value}
        elif key.kind is KeyKind.MEDARBEJDER:
            params = {"sagsbehandler": key.value}
        else:
            raise FatalError(f"{self.display_name} søger ikke på {key.label}.")
        size = self.settings["page_size"]

        def fetch(page: int) -> Page:
            body = self.reader.expect(
                self.http.get_json(
                    "api/v1/byggesager", params={**params, "side": page, "antal_pr_side": size}
                ),
                dict,
                "søgesvaret",
            )
            items = self.reader.field(body, "sager", list, "søgesvaret")
            total = self.reader.field(body, "antal", int, "søgesvaret", required=False)
            return Page(items, total=total)

        cases: Records[Case] = Records()
        seen = 0  # records on earlier pages, read or not: positions run on across pages
        for items in pages_by_number(
            fetch,
            source=self.display_name,
            page_size=size,
            max_pages=self.settings["max_pages"],
            what="byggesager på nøglen",
        ):
            cases.merge(self.reader.each(items, "sager", self._case, start=seen))
            seen += len(items)
        return cases

    def get_case(self, native_id: str) -> Case:
        """One building case with its documents."""
        sagsnummer = self._sagsnummer(native_id)
        raw = self.http.get_json(f"api/v1/byggesager/{quote(sagsnummer)}")
        return self._case(raw, "sagen", detail=True)

    def get_document(self, case_native_id: str, document_id: str) -> DocumentContent:
        """A document's content."""
        sagsnummer = self._sagsnummer(case_native_id)
        if not document_id.isascii() or not document_id.isdigit():
            raise NotFound(f"{self.display_name} kender ikke dokumentet.")
        response = self.http.call(
            "GET",
            f"api/v1/byggesager/{quote(sagsnummer)}/dokumenter/{document_id}/indhold",
            headers={"Accept": "*/*"},
        )
        media_type = response.headers.get("Content-Type", "application/octet-stream")
        filename = f"{sagsnummer}-{document_id}.txt"
        return DocumentContent(filename, media_type.split(";")[0], response.content)

    def health(self) -> str:
        """A cheap authenticated call: proves URL and API key."""
        self.http.get_json("api/v1/status")
        return "svarer"

    # -- mapping --------------------------------------------------------------------------

    def _sagsnummer(self, native_id: str) -> str:
        if not _SAGSNUMMER.match(native_id):
            raise NotFound(f"{self.display_name} kender ikke sagsnummeret.")
        return native_id

    def _case(self, raw: Any, where: str, *, detail: bool = False) -> Case:
        r = self.reader
        raw = r.expect(raw, dict, where)
        sagsnummer = r.text(raw, "sagsnummer", where, required=True)
        estate = r.obj(raw, "ejendom", where, required=True)
        history = self._history(raw, where)
        current = r.text(raw, "status", where) or history[-1].status_text
        worker = r.obj(raw, "sagsbehandler", where)
        template = self.settings["deep_link_template"]
        documents = ()
        if detail:
            documents = tuple(
                self._document(d, f"{where}.dokumenter[{i}]")
                for i, d in enumerate(r.items(raw, "dokumenter", where))
            )
        return Case(
            id=self.case_id(sagsnummer),
            sagsnummer=sagsnummer,
            # a blank title falls back as a missing one does: a case needs a readable name
            title=(r.text(raw, "titel", where) or "").strip()
            or (r.text(raw, "sagstype", where) or "").strip()
            or "Byggesag",
            provenance=self.provenance(),
            progress=history[-1].progress,
            progress_history=tuple(history),
            status_text=current,
            kle=r.text(raw, "kle", where),
            area="Byggeri",
            sensitivity=Sensitivity.IKKE_FORTROLIG,
            subjects=self._subjects(estate, f"{where}.ejendom"),
            caseworker=Caseworker(
                r.text(worker, "medarbejdernummer", f"{where}.sagsbehandler"),
                r.text(worker, "navn", f"{where}.sagsbehandler"),
            )
            if worker
            else None,
            unit=r.text(worker, "afdeling", f"{where}.sagsbehandler") if worker else None,
            opened=r.date(raw, "modtaget", where) or history[0].date,
            decided=next((s.date for s in history if s.progress is Progress.AFGJORT), None),
            closed=history[-1].date if history[-1].progress is Progress.AFSLUTTET else None,
            deadline=r.date(raw, "frist", where),
            documents=documents,
            join_keys=frozenset({JOIN_PREFIX + sagsnummer}),
            deep_link=template.replace("{sagsnummer}", quote(sagsnummer)) if template else None,
        )

    def _history(self, raw: dict, where: str) -> list[ProgressStep]:
        r = self.reader
        steps: list[ProgressStep] = []
        previous = Progress.OPSTAAET
        for i, entry in enumerate(r.items(raw, "statushistorik", where)):
            at = f"{where}.statushistorik[{i}]"
            name = r.text(entry, "status", at, required=True)
            previous = STATUS_PROGRESS.get(name.strip().lower(), previous)
            steps.append(ProgressStep(previous, r.date(entry, "dato", at, required=True), name))
        if not steps:
            received = r.date(raw, "modtaget", where)
            if received is None:
                raise r.fail(where, "har hverken statushistorik eller modtagelsesdato")
            steps.append(ProgressStep(Progress.OPSTAAET, received, "Modtaget"))
        elif steps[0].progress is not Progress.OPSTAAET:
            steps.insert(0, ProgressStep(Progress.OPSTAAET, steps[0].date, "Modtaget"))
        return steps

    def _subjects(self, estate: dict, where: str) -> tuple[Key, ...]:
        r = self.reader
        ejerlav = r.field(estate, "ejerlavskode", int, where, required=False)
        nr = r.text(estate, "matrikelnummer", where)
        bfe = r.field(estate, "bfe", int, where, required=False)
        keys: list[Key] = []
        try:
            if ejerlav and nr:
                keys.append(Matrikel.of(ejerlav, nr))
            if bfe:
                keys.append(BFE.parse(str(bfe)))
        except InvalidKey:
            raise r.fail(where, "har en ugyldig matrikel eller BFE") from None
        if not keys:
            raise r.fail(where, "mangler både matrikel og BFE")
        return tuple(keys)

    def _document(self, raw: dict, where: str) -> Document:
        r = self.reader
        kind = (r.text(raw, "type", where) or "").strip().lower()
        public = raw.get("offentlig") is True
        return Document(
            id=str(r.field(raw, "id", int, where)),
            title=r.text(raw, "titel", where, required=True),
            type=DOCUMENT_TYPES.get(kind, DocumentType.ANDET),
            date=r.date(raw, "dato", where),
            status=DocumentStatus.ENDELIGT,
            sensitivity=Sensitivity.IKKE_FORTROLIG,
            party_may_see=public,
            source=self.name,
        )
