"""SBSYS (ESDH) connector: a citizen's or a caseworker's cases from SBSYS's REST API.

Logs in with the OAuth2 password grant, searches with ``POST api/sag/search`` (the CPR
number travels in the body as ``DDMMYY-NNNN``, never in a URL; ``Limit`` is the only
paging field the documented API has, so an answer of exactly ``Limit`` cases is marked
as possibly truncated), and reads one case with
``GET api/sag/{id}`` plus ``GET api/sag/{id}/dokumenter``; files come from
``GET api/fil/{id}``.

SBSYS status names are the municipality's own; they are mapped to SF1470 progress with a
default table that ``status_map`` extends. Unknown sensitivity values count as the highest
level and unknown document statuses as drafts, so a surprise never shows too much.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote, urljoin

import requests

from borgersag import (
    BFE,
    OAUTH2_PASSWORD_SETTINGS,
    Case,
    Caseworker,
    ConfigError,
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
    Party,
    PartyRole,
    Progress,
    ProgressStep,
    Records,
    Sensitivity,
    Setting,
    check_range,
    oauth2_password_auth,
    parse_key,
    parse_status_map,
)

__all__ = ["SbsysConnector"]

DEFAULT_STATUS_MAP = {
    "opstået": Progress.OPSTAAET,
    "opklaring": Progress.OPSTAAET,
    "oplyst": Progress.OPLYST,
    "afventer": Progress.OPLYST,
    "afgjort": Progress.AFGJORT,
    "besluttet": Progress.AFGJORT,
    "afsluttet": Progress.AFSLUTTET,
    "arkiveret": Progress.AFSLUTTET,
    "lukket": Progress.AFSLUTTET,
}

SENSITIVITY_CODES = {
    "ikke_fortrolige_data": Sensitivity.IKKE_FORTROLIG,
    "ikke fortrolig": Sensitivity.IKKE_FORTROLIG,
    "fortrolige_personoplysninger": Sensitivity.FORTROLIGE_PERSONOPLYSNINGER,
    "fortrolige personoplysninger": Sensitivity.FORTROLIGE_PERSONOPLYSNINGER,
    "foelsomme_personoplysninger": Sensitivity.FOELSOMME_PERSONOPLYSNINGER,
    "følsomme personoplysninger": Sensitivity.FOELSOMME_PERSONOPLYSNINGER,
    "vip_sager": Sensitivity.VIP,
    "vip": Sensitivity.VIP,
}

DOCUMENT_TYPES = {t.label.lower(): t for t in DocumentType}
DOCUMENT_STATUSES = {s.label.lower(): s for s in DocumentStatus}
MAX_LIMIT = 2000  # the documented search's largest Limit
_FILENAME = re.compile(r'filename="?([^";]+)"?')


class SbsysConnector(Connector):
    """Cases from an SBSYS installation, by CPR number (primary party) or medarbejdernummer."""

    type_name = "sbsys"
    title = "SBSYS"
    key_kinds = frozenset({KeyKind.CPR, KeyKind.MEDARBEJDER})
    settings_schema = (
        Setting("base_url", str, "root URL of the SBSYS API, ending in /"),
        Setting(
            "token_url", str, "OAuth2 token URL (default: <base_url>connect/token)", default=""
        ),
        *(s for s in OAUTH2_PASSWORD_SETTINGS if s.name != "token_url"),
        Setting(
            "limit",
            int,
            "most cases one search returns (Limit, 1-2000); a search that returns exactly"
            " this many says there may be more",
            default=2000,
        ),
        Setting(
            "status_map",
            str,
            "extra status mappings, e.g. 'Visiteret=afgjort; Behandles=oplyst'",
            default="",
        ),
        Setting(
            "deep_link_template",
            str,
            "link into the SBSYS client, with {id} and {nummer}; empty for none",
            default="",
        ),
    )

    def __init__(self, name, settings, http):
        super().__init__(name, settings, http)
        self._status_map = {**DEFAULT_STATUS_MAP, **parse_status_map(self.settings["status_map"])}

    # -- configuration --------------------------------------------------------------------

    @classmethod
    def validate_settings(cls, raw: Mapping[str, Any], file: str = "<config>", prefix: str = ""):
        """Also check ``limit`` (the documented search allows 1-2000) and ``status_map``."""
        for gone in ("page_size", "max_pages"):
            if gone in raw:
                raise ConfigError(
                    file,
                    prefix + gone,
                    "no longer a setting: the documented SBSYS search cannot page (a server"
                    " ignores an Offset); set limit (1-2000, default 2000) instead",
                )
        settings = super().validate_settings(raw, file, prefix)
        check_range(settings["limit"], 1, MAX_LIMIT, file, prefix + "limit")
        try:
            parse_status_map(settings["status_map"])
        except ValueError as exc:
            raise ConfigError(file, prefix + "status_map", str(exc)) from None
        return settings

    @classmethod
    def make_auth(
        cls, settings: Mapping[str, Any], name: str | None = None
    ) -> requests.auth.AuthBase:
        """OAuth2 password grant against ``token_url`` (by default ``connect/token`` under
        ``base_url``) with the configured credentials."""
        base = settings["base_url"]
        base = base if base.endswith("/") else base + "/"
        token_url = settings.get("token_url") or urljoin(base, "connect/token")
        return oauth2_password_auth({**settings, "token_url": token_url}, name or cls.title)

    # -- the contract ---------------------------------------------------------------------

    def search(self, key: Key) -> Records[Case]:
        """Cases where ``key`` is primary party (CPR) or responsible caseworker; a case that
        cannot be read is counted in the answer's ``problems``, not fatal."""
        if key.kind is KeyKind.CPR:
            criteria: dict[str, Any] = {"PrimaerPerson": {"CprNummer": key.format()}}
        elif key.kind is KeyKind.MEDARBEJDER:
            criteria = {"Behandler": {"Medarbejdernummer": key.value}}
        else:
            raise FatalError(f"{self.display_name} søger ikke på {key.label}.")
        # The documented search has Limit and nothing to page with: a server ignores an
        # Offset it does not know and answers the first page again. So: one request, and
        # an answer of exactly Limit cases says honestly that there may be more.
        limit = self.settings["limit"]
        body = self.reader.expect(
            self.http.post_json("api/sag/search", {**criteria, "Limit": limit}), dict, "søgesvaret"
        )
        results = self.reader.field(body, "Results", list, "søgesvaret")
        cases = self.reader.each(results, "Results", self._case)
        if len(results) >= limit:
            cases.truncated, cases.at_least = True, len(results)
        return cases

    def get_case(self, native_id: str) -> Case:
        """One case with its documents."""
        case_id = _numeric_id(native_id, self.display_name)
        raw = self.reader.expect(self.http.get_json(f"api/sag/{case_id}"), dict, "sagen")
        documents = [
            self._document(d, f"dokumenter[{i}]") for i, d in enumerate(self._documents(case_id))
        ]
        return self._case(raw, "sagen", documents)

    def get_document(self, case_native_id: str, document_id: str) -> DocumentContent:
        """The file behind a document that belongs to the case."""
        case_id = _numeric_id(case_native_id, self.display_name)
        wanted = _numeric_id(document_id, self.display_name)
        for i, raw in enumerate(self._documents(case_id)):
            if self.reader.field(raw, "Id", int, f"dokumenter[{i}]") == wanted:
                file_id = self.reader.field(raw, "FilId", int, f"dokumenter[{i}]")
                name = (
                    self.reader.text(raw, "DokumentNavn", f"dokumenter[{i}]")
                    or f"dokument-{wanted}"
                )
                break
        else:
            raise NotFound(f"{self.display_name} har ikke dokumentet på sagen.")
        response = self.http.call("GET", f"api/fil/{file_id}", headers={"Accept": "*/*"})
        match = _FILENAME.search(response.headers.get("Content-Disposition", ""))
        media_type = response.headers.get("Content-Type", "application/octet-stream").split(";")[0]
        return DocumentContent(match[1] if match else name, media_type, response.content)

    def health(self) -> str:
        """Logs in and reads the status list: proves URL, credentials and API."""
        statuses = self.reader.expect(
            self.http.get_json("api/sag/sagStatusList"), list, "statuslisten"
        )
        return f"svarer ({len(statuses)} sagsstatusser)"

    # -- mapping --------------------------------------------------------------------------

    def _documents(self, case_id: int) -> list[dict]:
        body = self.http.get_json(f"api/sag/{case_id}/dokumenter")
        if isinstance(body, dict):  # some versions wrap the list
            return self.reader.items(body, "Results", "dokumentlisten", required=True)
        body = self.reader.expect(body, list, "dokumentlisten")
        return [self.reader.expect(d, dict, f"dokumenter[{i}]") for i, d in enumerate(body)]

    def _case(self, raw: Any, where: str, documents: list[Document] | None = None) -> Case:
        r = self.reader
        raw = r.expect(raw, dict, where)
        native = r.field(raw, "Id", int, where)
        nummer = r.text(raw, "Nummer", where, required=True)
        opened = r.date(raw, "Opstaaet", where)
        status = r.obj(raw, "SagsStatus", where)
        history = self._history(raw, where, opened, status)
        protected_case = bool(r.field(raw, "ErBeskyttet", bool, where, required=False))
        sensitivity = _sensitivity(r.text(raw, "Foelsomhed", where), protected_case)
        kle = r.obj(raw, "Kle", where)
        facet = raw.get("Facet")
        if isinstance(facet, dict):
            facet = r.text(facet, "Nummer", f"{where}.Facet")
        elif facet is not None:
            facet = r.expect(facet, str, f"{where}.Facet")
        status_name = r.text(status, "Navn", f"{where}.SagsStatus")
        comment = r.text(status, "SagsStatusKommentar", f"{where}.SagsStatus")
        worker = r.obj(raw, "Behandler", where)
        template = self.settings["deep_link_template"]
        return Case(
            id=self.case_id(native),
            sagsnummer=nummer,
            title=r.text(raw, "SagsTitel", where, required=True),
            provenance=self.provenance(),
            progress=history[-1].progress,
            progress_history=tuple(history),
            status_text=" – ".join(filter(None, (status_name, comment))) or None,
            public_title=(r.text(kle, "Titel", f"{where}.Kle") or "Sag")
            if sensitivity >= Sensitivity.FOELSOMME_PERSONOPLYSNINGER
            else None,
            kle=r.text(kle, "Nummer", f"{where}.Kle"),
            facet=facet,
            area=r.text(r.obj(raw, "Fagomraade", where), "Navn", f"{where}.Fagomraade"),
            sensitivity=sensitivity,
            parties=self._parties(r.obj(raw, "PrimaryPart", where), f"{where}.PrimaryPart"),
            subjects=self._subjects(r.items(raw, "Ejendomme", where), f"{where}.Ejendomme"),
            caseworker=Caseworker(
                r.text(worker, "Medarbejdernummer", f"{where}.Behandler"),
                r.text(worker, "Navn", f"{where}.Behandler"),
            )
            if worker
            else None,
            unit=r.text(r.obj(raw, "AnsvarligEnhed", where), "Navn", f"{where}.AnsvarligEnhed"),
            opened=opened or history[0].date,
            decided=next((s.date for s in history if s.progress is Progress.AFGJORT), None),
            closed=(r.date(raw, "Afsluttet", where) or history[-1].date)
            if history[-1].progress is Progress.AFSLUTTET
            else None,
            deadline=r.date(raw, "Frist", where),
            documents=tuple(documents or ()),
            join_keys=self._join_keys(r.items(raw, "EksterneReferencer", where), where),
            deep_link=template.replace("{id}", str(native)).replace("{nummer}", quote(nummer))
            if template
            else None,
        )

    def _history(self, raw: dict, where: str, opened, status: dict) -> list[ProgressStep]:
        r = self.reader
        steps: list[ProgressStep] = []
        previous = Progress.OPSTAAET
        for i, entry in enumerate(r.items(raw, "SagsStatusHistorik", where)):
            at = f"{where}.SagsStatusHistorik[{i}]"
            name = r.text(entry, "Navn", at, required=True)
            date = r.date(entry, "Dato", at, required=True)
            previous = self._progress(name, r.text(entry, "SagsTilstand", at), previous)
            comment = r.text(entry, "Kommentar", at)
            steps.append(ProgressStep(previous, date, f"{name}: {comment}" if comment else name))
        if not steps and status:
            name = r.text(status, "Navn", f"{where}.SagsStatus") or "Opstået"
            progress = self._progress(name, r.text(status, "SagsTilstand", f"{where}.SagsStatus"))
            date = r.date(raw, "SenestAendret", where) or opened
            if date is not None:
                steps.append(ProgressStep(progress, date, name))
        if opened is not None and (not steps or steps[0].progress is not Progress.OPSTAAET):
            steps.insert(0, ProgressStep(Progress.OPSTAAET, opened, "Opstået"))
        if not steps:
            raise r.fail(where, "har hverken oprettelsesdato (Opstaaet) eller statushistorik")
        return steps

    def _progress(self, name: str, tilstand: str | None, previous=Progress.OPSTAAET) -> Progress:
        known = self._status_map.get(name.strip().lower())
        if known is not None:
            return known
        if (tilstand or "").strip().lower() == "afsluttet":
            return Progress.AFSLUTTET
        return previous

    def _parties(self, part: dict, where: str) -> tuple[Party, ...]:
        number = self.reader.text(part, "CPRnummer", where)
        if not number:
            return ()
        try:
            key = parse_key(KeyKind.CPR, number)
        except InvalidKey:
            return ()  # a malformed CPR in the source: no party rather than a wrong one
        protected = part.get("NavneOgAdressebeskyttelse") is True
        return (
            Party(
                key,
                PartyRole.PRIMARY,
                self.reader.text(part, "Navn", where),
                self.reader.text(part, "Adresse", where),
                protected,
            ),
        )

    def _subjects(self, items: list[dict], where: str) -> tuple[Key, ...]:
        keys: list[Key] = []
        for i, item in enumerate(items):
            at = f"{where}[{i}]"
            bfe = self.reader.field(item, "BfeNummer", int, at, required=False)
            ejerlav = self.reader.field(item, "Ejerlavskode", int, at, required=False)
            nr = self.reader.text(item, "Matrikelnummer", at)
            try:
                if ejerlav and nr:
                    keys.append(Matrikel.of(ejerlav, nr))
                if bfe:
                    keys.append(BFE.parse(str(bfe)))
            except InvalidKey:
                raise self.reader.fail(at, "har en ugyldig matrikel eller BFE") from None
        return tuple(dict.fromkeys(keys))

    def _join_keys(self, refs: list[dict], where: str) -> frozenset[str]:
        keys = set()
        for i, ref in enumerate(refs):
            at = f"{where}.EksterneReferencer[{i}]"
            system = self.reader.text(ref, "System", at, required=True)
            number = self.reader.text(ref, "Nummer", at, required=True)
            keys.add(f"{system.strip().lower()}:{number.strip()}")
        return frozenset(keys)

    def _document(self, raw: dict, where: str) -> Document:
        r = self.reader
        art = (r.text(raw, "DokumentArt", where) or "").strip().lower()
        status = (r.text(raw, "Status", where) or "").strip().lower()
        sensitivity = raw.get("Foelsomhed")
        return Document(
            id=str(r.field(raw, "Id", int, where)),
            title=r.text(raw, "DokumentNavn", where, required=True),
            type=DOCUMENT_TYPES.get(art, DocumentType.ANDET),
            date=r.date(raw, "RegistreringsDato", where),
            status=DOCUMENT_STATUSES.get(status, DocumentStatus.UNDER_UDARBEJDELSE),
            sensitivity=_sensitivity(r.text(raw, "Foelsomhed", where), False)
            if sensitivity is not None
            else Sensitivity.FORTROLIGE_PERSONOPLYSNINGER,
            party_may_see=raw.get("PartMaaSe") is True,
            source=self.name,
        )


def _sensitivity(code: str | None, protected_case: bool) -> Sensitivity:
    """Unknown codes count as VIP, a missing one as confidential; protected cases as sensitive."""
    if code is None:
        level = Sensitivity.FORTROLIGE_PERSONOPLYSNINGER
    else:
        level = SENSITIVITY_CODES.get(code.strip().lower(), Sensitivity.VIP)
    if protected_case:
        level = max(level, Sensitivity.FOELSOMME_PERSONOPLYSNINGER)
    return level


def _numeric_id(value: str, source: str) -> int:
    if not value.isascii() or not value.isdigit() or len(value) > 18:
        raise NotFound(f"{source} kender ikke id'et (sags- og dokument-id'er er tal).")
    return int(value)
