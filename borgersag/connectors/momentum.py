"""Momentum connector: a citizen's employment courses (forløb) from a Momentum-style API.

Logs in with OAuth2 client credentials. By CPR number: ``citizens/find`` gives the
citizen's id, ``GET citizens/{id}`` their courses and
``GET responsibleCaseworkers/all/byCitizen/{id}`` the responsible caseworkers. By
medarbejdernummer: the paged worklist ``GET responsibleCaseworkers/{nr}/citizens`` (the
sandbox's stand-in for Momentum's caseworker lists), then each citizen's caseworkers.

The CPR number travels in a POST body (``cpr_lookup = "body"``, the default) so it never
lands in a URL, and so in no access log of Momentum or a proxy on the way. Momentum's own
lookup is ``GET citizens/find?cpr=``; ``cpr_lookup = "query"`` uses it for installations
that offer nothing else, knowingly putting the CPR number in their logs.

Each course becomes one :class:`~borgersag.domain.model.Case`: KLE subject and sensitivity come
from the target group (målgruppe) by a fixed table — courses about sickness, clarification
and resources hold health information and count as sensitive, unknown groups too — and
the deadline is the next meeting or the course's next deadline, whichever comes first.
Momentum holds responsible caseworkers per citizen, not per course: every course of a
citizen gets the citizen's active primary caseworker (``role`` 1, no ``endDate``).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

import requests

from borgersag import (
    OAUTH2_CLIENT_CREDENTIALS_SETTINGS,
    Case,
    Caseworker,
    ConfigError,
    Connector,
    Event,
    FatalError,
    InvalidKey,
    Key,
    KeyKind,
    NotFound,
    Page,
    Party,
    PartyRole,
    Progress,
    ProgressStep,
    Records,
    Sensitivity,
    Setting,
    check_range,
    oauth2_client_credentials_auth,
    pages_by_number,
    parse_key,
)

__all__ = ["MomentumConnector"]

STATUS_PROGRESS = {
    "oprettet": Progress.OPSTAAET,
    "under afklaring": Progress.OPSTAAET,
    "afklaret": Progress.OPLYST,
    "visiteret": Progress.AFGJORT,
    "aktiv": Progress.AFGJORT,
    "afsluttet": Progress.AFSLUTTET,
    "lukket": Progress.AFSLUTTET,
}
# Target group code -> (KLE subject, sensitivity). Unknown codes: DEFAULT_TARGET_GROUP.
TARGET_GROUPS = {
    "DP": ("15.00.05", Sensitivity.FORTROLIGE_PERSONOPLYSNINGER),
    "KH": ("15.00.05", Sensitivity.FORTROLIGE_PERSONOPLYSNINGER),
    "AKH": ("15.00.05", Sensitivity.FOELSOMME_PERSONOPLYSNINGER),
    "SDP": ("15.24.04", Sensitivity.FOELSOMME_PERSONOPLYSNINGER),
    "JAF": ("15.24.04", Sensitivity.FOELSOMME_PERSONOPLYSNINGER),
    "RF": ("15.20.02", Sensitivity.FOELSOMME_PERSONOPLYSNINGER),
    "FJ": ("15.28.00", Sensitivity.FOELSOMME_PERSONOPLYSNINGER),
}
DEFAULT_TARGET_GROUP = ("15.00.00", Sensitivity.FOELSOMME_PERSONOPLYSNINGER)
AREA = "Beskæftigelse"
PUBLIC_TITLE = "Forløb i jobcentret"
CPR_LOOKUPS = ("body", "query")
_NATIVE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9-]{0,63}$")


class MomentumConnector(Connector):
    """Employment courses by CPR number (the citizen) or medarbejdernummer (responsible)."""

    type_name = "momentum"
    title = "Momentum"
    key_kinds = frozenset({KeyKind.CPR, KeyKind.MEDARBEJDER})
    settings_schema = (
        Setting("base_url", str, "root URL of the Momentum API, ending in /"),
        *OAUTH2_CLIENT_CREDENTIALS_SETTINGS,
        Setting(
            "cpr_lookup",
            str,
            "'body': POST citizens/find with the CPR number in the body; 'query':"
            " GET citizens/find?cpr= (puts the CPR number in Momentum's URL logs)",
            default="body",
        ),
        Setting("page_size", int, "citizens per worklist request (1-100)", default=50),
        Setting("max_pages", int, "most worklist requests per lookup (1-100)", default=10),
        Setting(
            "deep_link_template",
            str,
            "link into Momentum's client, with {citizen_id} and {id}; empty for none",
            default="",
        ),
    )

    # -- configuration --------------------------------------------------------------------

    @classmethod
    def validate_settings(cls, raw: Mapping[str, Any], file: str = "<config>", prefix: str = ""):
        """Also check ``cpr_lookup`` and the paging bounds (the base checks the URLs)."""
        settings = super().validate_settings(raw, file, prefix)
        if settings["cpr_lookup"] not in CPR_LOOKUPS:
            raise ConfigError(file, prefix + "cpr_lookup", 'expected "body" or "query"')
        check_range(settings["page_size"], 1, 100, file, prefix + "page_size")
        check_range(settings["max_pages"], 1, 100, file, prefix + "max_pages")
        return settings

    @classmethod
    def make_auth(
        cls, settings: Mapping[str, Any], name: str | None = None
    ) -> requests.auth.AuthBase:
        """OAuth2 client credentials against ``token_url``."""
        return oauth2_client_credentials_auth(settings, name or cls.title)

    # -- the contract ---------------------------------------------------------------------

    def search(self, key: Key) -> list[Case]:
        """The citizen's courses (CPR), or the courses of every citizen the employee is
        responsible for (medarbejdernummer)."""
        if key.kind is KeyKind.CPR:
            citizen_id = self._find(key.value)
            if citizen_id is None:
                return []
            return self._citizen_cases(self._citizen(citizen_id), "borgeren")
        if key.kind is KeyKind.MEDARBEJDER:
            return self._worklist(key.value)
        raise FatalError(f"{self.display_name} søger ikke på {key.label}.")

    def get_case(self, native_id: str) -> Case:
        """One course, with its citizen and responsible caseworker."""
        if not _NATIVE_ID.match(native_id):
            raise NotFound(f"{self.display_name} kender ikke forløbet.")
        course = self.reader.expect(self.http.get_json(f"courses/{native_id}"), dict, "forløbet")
        citizen_id = self.reader.text(course, "citizenId", "forløbet", required=True)
        citizen = self._citizen(citizen_id)
        worker = self._responsible(citizen_id)
        return self._case(course, "forløbet", citizen_id, self._party(citizen, "borgeren"), worker)

    def health(self) -> str:
        """Logs in and reads the target groups: proves URL, credentials and API."""
        groups = self.reader.expect(self.http.get_json("targetGroups"), list, "målgrupperne")
        return f"svarer ({len(groups)} målgrupper)"

    # -- calls ----------------------------------------------------------------------------

    def _find(self, cpr: str) -> str | None:
        """The citizen's id, or ``None`` when Momentum does not know the CPR number."""
        try:
            if self.settings["cpr_lookup"] == "query":
                body = self.http.get_json("citizens/find", params={"cpr": cpr})
            else:
                body = self.http.post_json("citizens/find", {"cpr": cpr})
        except NotFound:
            return None
        body = self.reader.expect(body, dict, "borgeropslaget")
        return self.reader.text(body, "citizenId", "borgeropslaget") or self.reader.text(
            body, "id", "borgeropslaget", required=True
        )

    def _citizen(self, citizen_id: str) -> dict:
        body = self.http.get_json(f"citizens/{quote(citizen_id, safe='')}")
        return self.reader.expect(body, dict, "borgeren")

    def _responsible(self, citizen_id: str) -> Caseworker | None:
        """The active primary caseworker, else the first active one, else none."""
        r = self.reader
        path = f"responsibleCaseworkers/all/byCitizen/{quote(citizen_id, safe='')}"
        items = r.expect(self.http.get_json(path), list, "sagsbehandlerlisten")
        active: list[tuple[bool, Caseworker]] = []
        for i, raw in enumerate(items):
            where = f"sagsbehandlere[{i}]"
            raw = r.expect(raw, dict, where)
            if r.date(raw, "endDate", where) is not None:
                continue
            worker = Caseworker(r.text(raw, "employeeNumber", where), r.text(raw, "name", where))
            active.append((_is_primary(raw.get("role")), worker))
        primary = [w for is_primary, w in active if is_primary]
        return (primary or [w for _, w in active] or [None])[0]

    def _worklist(self, medarbejdernummer: str) -> Records[Case]:
        r = self.reader
        size = self.settings["page_size"]
        path = f"responsibleCaseworkers/{quote(medarbejdernummer, safe='')}/citizens"

        def fetch(page: int) -> Page:
            body = self.http.get_json(path, params={"pageNumber": page, "pageSize": size})
            body = r.expect(body, dict, "arbejdslisten")
            items = r.field(body, "data", list, "arbejdslisten")
            total = r.field(body, "totalCount", int, "arbejdslisten", required=False)
            return Page(items, total=total)

        cases: Records[Case] = Records()
        seen = 0
        for items in pages_by_number(
            fetch,
            source=self.display_name,
            page_size=size,
            max_pages=self.settings["max_pages"],
            what="borgere på medarbejderen",
        ):
            # a citizen who cannot be read is one problem; their readable courses are kept
            citizens = r.each(items, "data", self._citizen_cases, start=seen)
            for courses in citizens:
                cases.merge(courses)
            cases.problems.extend(citizens.problems)
            seen += len(items)
        return cases

    # -- mapping --------------------------------------------------------------------------

    def _citizen_cases(self, citizen: dict, where: str) -> Records[Case]:
        """The citizen's courses; a course that cannot be read is counted, not fatal."""
        r = self.reader
        citizen_id = r.text(citizen, "id", where) or r.text(
            citizen, "citizenId", where, required=True
        )
        courses = r.field(citizen, "courses", list, where, required=False) or []
        if not courses:
            return Records()
        party = self._party(citizen, where)
        worker = self._responsible(citizen_id)
        return r.each(
            courses,
            f"{where}.courses",
            lambda course, at: self._case(course, at, citizen_id, party, worker),
        )

    def _party(self, citizen: dict, where: str) -> tuple[Party, ...]:
        r = self.reader
        number = r.text(citizen, "cpr", where)
        if not number:
            return ()
        try:
            key = parse_key(KeyKind.CPR, number)
        except InvalidKey:
            return ()  # a malformed CPR in the source: no party rather than a wrong one
        return (
            Party(
                key,
                PartyRole.PRIMARY,
                r.text(citizen, "name", where),
                r.text(citizen, "address", where),
                citizen.get("hasNameAndAddressProtection") is True,
            ),
        )

    def _case(
        self,
        raw: Any,
        where: str,
        citizen_id: str,
        parties: tuple[Party, ...],
        worker: Caseworker | None,
    ) -> Case:
        r = self.reader
        raw = r.expect(raw, dict, where)
        native = r.text(raw, "id", where, required=True)
        group = r.obj(raw, "targetGroup", where)
        code = (r.text(group, "code", f"{where}.targetGroup") or "").strip().upper()
        kle, sensitivity = TARGET_GROUPS.get(code, DEFAULT_TARGET_GROUP)
        start = r.date(raw, "startDate", where, required=True)
        history = self._history(raw, where, start)
        status = r.text(raw, "status", where) or history[-1].status_text
        done = history[-1].progress is Progress.AFSLUTTET
        events, upcoming = self._events(raw, where, done)
        unit = r.text(r.obj(raw, "organizationUnit", where), "name", f"{where}.organizationUnit")
        return Case(
            id=self.case_id(native),
            sagsnummer=r.text(raw, "caseNumber", where) or native,
            title=r.text(raw, "title", where)
            or r.text(group, "name", f"{where}.targetGroup")
            or "Beskæftigelsesforløb",
            provenance=self.provenance(),
            progress=history[-1].progress,
            progress_history=tuple(history),
            status_text=" – ".join(filter(None, (status, r.text(raw, "endReason", where)))) or None,
            public_title=PUBLIC_TITLE
            if sensitivity >= Sensitivity.FOELSOMME_PERSONOPLYSNINGER
            else None,
            kle=kle,
            area=AREA,
            sensitivity=sensitivity,
            parties=parties,
            caseworker=worker,
            unit=unit,
            opened=start,
            decided=next((s.date for s in history if s.progress is Progress.AFGJORT), None),
            closed=(r.date(raw, "endDate", where) or history[-1].date) if done else None,
            deadline=min(upcoming, default=None),
            events=tuple(sorted(events, key=lambda e: e.date)),
            deep_link=self._deep_link(citizen_id, native),
        )

    def _events(self, raw: dict, where: str, done: bool) -> tuple[list[Event], list[dt.date]]:
        """Held meetings (as status events) and, while the course is open, the next meeting
        and deadline (as deadline events); also the dates still ahead."""
        r = self.reader
        events: list[Event] = []
        for i, meeting in enumerate(r.items(raw, "meetings", where)):
            at = f"{where}.meetings[{i}]"
            title = r.text(meeting, "title", at) or "Samtale"
            day = r.date(meeting, "date", at, required=True)
            events.append(Event(day, f"{title} afholdt", "status", self.name))
        upcoming: list[dt.date] = []
        for name in () if done else ("nextMeeting", "nextDeadline"):
            item = r.obj(raw, name, where)
            day = r.date(item, "date", f"{where}.{name}") if item else None
            if day is not None:
                upcoming.append(day)
                title = r.text(item, "title", f"{where}.{name}") or "Møde"
                events.append(Event(day, title, "deadline", self.name))
        return events, upcoming

    def _deep_link(self, citizen_id: str, native: str) -> str | None:
        template = self.settings["deep_link_template"]
        if not template:
            return None
        return template.replace("{citizen_id}", quote(citizen_id, safe="")).replace(
            "{id}", quote(native, safe="")
        )

    def _history(self, raw: dict, where: str, start: dt.date) -> list[ProgressStep]:
        r = self.reader
        steps: list[ProgressStep] = []
        previous = Progress.OPSTAAET
        for i, entry in enumerate(r.items(raw, "statusHistory", where)):
            at = f"{where}.statusHistory[{i}]"
            name = r.text(entry, "status", at, required=True)
            previous = STATUS_PROGRESS.get(name.strip().lower(), previous)
            steps.append(ProgressStep(previous, r.date(entry, "date", at, required=True), name))
        if not steps:
            name = r.text(raw, "status", where) or "Oprettet"
            progress = STATUS_PROGRESS.get(name.strip().lower(), Progress.OPSTAAET)
            day = r.date(raw, "endDate", where) if progress is Progress.AFSLUTTET else None
            steps.append(ProgressStep(progress, day or start, name))
        if steps[0].progress is not Progress.OPSTAAET:
            steps.insert(0, ProgressStep(Progress.OPSTAAET, start, "Oprettet"))
        return steps


def _is_primary(role: Any) -> bool:
    """Momentum's ``role``: 1 is the primary caseworker (seen as 1, 1.0 or "1")."""
    if isinstance(role, bool):
        return False
    if isinstance(role, int | float):
        return role == 1
    return isinstance(role, str) and role.strip() in ("1", "1.0")
