"""A stand-in for :class:`borgersag.lookup.portal.Portal` with hand-built model values.

Used by the web tests (and the browser check) so they need neither the sandbox nor a
network. It has the portal's methods and records what it was asked, so tests can also
assert that no key ever reached it from a bad form. Integration tests use the real
portal with the sandbox instead.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from borgersag.config.loader import Config
from borgersag.domain.keys import BFE, CPR, Key, Matrikel
from borgersag.domain.model import (
    Case,
    Caseworker,
    Document,
    DocumentStatus,
    DocumentType,
    Event,
    Overview,
    Party,
    PartyRole,
    Progress,
    ProgressStep,
    Provenance,
    Sensitivity,
    SourceResult,
    SourceStatus,
)
from borgersag.domain.relations import Expansion, RelationRole
from borgersag.sdk.connector import DocumentContent
from borgersag.sdk.errors import NotFound, RetriableError, SourceError

from support.audit_db import shared_audit_key_settings

GENERATED = dt.datetime(2026, 11, 1, 9, 30, tzinfo=dt.UTC)
TYPICAL_CPR = "0103854321"  # 1 March 1985
XSS_TITLE = "<script>alert(1)</script>"


CITIZEN_ISSUER = "https://mitid.test"
STAFF_ISSUER = "https://login.kommune.test"


def fake_logins() -> dict:
    """``[auth.citizen]`` and ``[auth.caseworker]`` tables for the fake providers."""
    return {
        "citizen": {"issuer": CITIZEN_ISSUER, "client_id": "borgersag", "client_secret": "s3cret"},
        "caseworker": {
            "issuer": STAFF_ISSUER,
            "client_id": "borgersag-staff",
            "client_secret": "s3cret",
        },
    }


def make_config(
    *, auth: dict | None = None, tables: dict | None = None, **portal: object
) -> Config:
    """A minimal valid config for the web app: two fake logins (tests/support/oidc_fake.py),
    in-memory sessions, no sources; ``tables`` adds or replaces whole tables."""
    settings = {
        "municipality": "Testkommune",
        "secret_key": "test-secret",
        "trusted_hosts": ["localhost"],  # the test client's Host
        **portal,
    }
    tables = dict(tables or {})
    if "sandbox" not in tables:  # outside the sandbox the audit log needs its keys named
        tables["audit"] = {**shared_audit_key_settings(), **tables.get("audit", {})}
    return Config.from_mapping(
        {
            "portal": settings,
            "auth": auth or fake_logins(),
            "sessions": {"backend": "memory"},
            **tables,
        },
        origin="tests/support/fake_portal.py",
    )


def _prov(source: str) -> Provenance:
    return Provenance(source, GENERATED)


def sample_cases(subject: Key) -> list[Case]:
    """A handful of cases: plain, joined across two sources, hostile text, sensitive."""
    person = subject if isinstance(subject, CPR) else CPR.parse(TYPICAL_CPR)
    party = Party(person, PartyRole.PRIMARY, "Karen Holm Jensen", "Møllevej 4, 8000 Aarhus C")
    parcel = Matrikel.of(2000351, "12a")
    return [
        Case(
            id="sbsys/1001",
            sagsnummer="27.24.00-G01-12-24",
            title="Ansøgning om personlig tillæg",
            provenance=_prov("sbsys"),
            progress=Progress.OPLYST,
            progress_history=(
                ProgressStep(Progress.OPSTAAET, dt.date(2024, 3, 4), "Ansøgning modtaget"),
                ProgressStep(Progress.OPLYST, dt.date(2024, 4, 2), "Oplysninger indhentet"),
            ),
            status_text="Afventer lægeerklæring",
            kle="27.24.00",
            facet="G01",
            area="Socialområdet",
            sensitivity=Sensitivity.FOELSOMME_PERSONOPLYSNINGER,
            parties=(party,),
            caseworker=Caseworker("MK4821", "Mette Kjær"),
            unit="Socialområdet, Voksne",
            opened=dt.date(2024, 3, 4),
            deadline=dt.date(2026, 12, 1),
            documents=(
                Document(
                    "d1",
                    "Ansøgning",
                    DocumentType.BREV_INDGAAENDE,
                    dt.date(2024, 3, 4),
                    DocumentStatus.MODTAGET,
                    source="sbsys",
                ),
                Document(
                    "d2",
                    "Udkast til afgørelse",
                    DocumentType.INTERNT_NOTAT,
                    dt.date(2024, 4, 9),
                    DocumentStatus.UNDER_UDARBEJDELSE,
                    source="sbsys",
                ),
            ),
            events=(Event(dt.date(2024, 3, 10), "Partshøring sendt", "document", "sbsys"),),
            deep_link="https://sbsys.example/sag/1001",
        ),
        Case(
            id="sbsys/1002",
            sagsnummer="02.34.02-P19-3-24",
            title="Tilbygning til carport",
            provenance=_prov("sbsys"),
            progress=Progress.AFGJORT,
            progress_history=(
                ProgressStep(Progress.OPSTAAET, dt.date(2024, 5, 1)),
                ProgressStep(Progress.OPLYST, dt.date(2024, 5, 20)),
                ProgressStep(Progress.AFGJORT, dt.date(2024, 6, 14), "Byggetilladelse givet"),
            ),
            status_text="Tilladelse givet",
            kle="02.34.02",
            facet="P19",
            area="Byggeri",
            parties=(party,),
            subjects=(parcel, BFE.parse("100123456")),
            caseworker=Caseworker("JH1177", "Jonas Bach Holm"),
            unit="Byggeri og Miljø",
            opened=dt.date(2024, 5, 1),
            decided=dt.date(2024, 6, 14),
            documents=(
                Document(
                    "b7",
                    "Byggetilladelse",
                    DocumentType.BREV_UDGAAENDE,
                    dt.date(2024, 6, 14),
                    source="byggesag",
                ),
            ),
            sources=(_prov("sbsys"), _prov("byggesag")),
            also_known_as=("byggesag/BYG-2024-00012",),
            reason="ejer af matrikel 2000351-12a",
        ),
        Case(
            id="sbsys/1003",
            sagsnummer="15.00.00-G01-1-23",
            title=XSS_TITLE,
            provenance=_prov("sbsys"),
            progress=Progress.AFSLUTTET,
            status_text="<b>lukket</b>",
            area="Beskæftigelse",
            opened=dt.date(2023, 1, 9),
            closed=dt.date(2023, 2, 1),
            deep_link="javascript:alert(1)",
        ),
    ]


def sample_sources() -> list[SourceResult]:
    """One source result of each kind the panel distinguishes."""
    return [
        SourceResult("sbsys", "SBSYS (ESDH)", SourceStatus.OK, latency_ms=182.0, case_count=3),
        SourceResult("byggesag", "Byggesag", SourceStatus.OK, latency_ms=95.0, case_count=1),
        SourceResult("zaken", "Open Zaak", SourceStatus.EMPTY, latency_ms=64.0),
        SourceResult(
            "momentum",
            "Momentum (beskæftigelse)",
            SourceStatus.FAILED,
            message="Serverfejl (HTTP 500).",
            latency_ms=41.0,
        ),
        SourceResult("cvr-arkiv", "Virksomhedsarkiv", SourceStatus.NOT_APPLICABLE),
        SourceResult(
            "sag-arkiv", "Sagsarkiv", SourceStatus.STALE, latency_ms=3000.0, age_seconds=840.0
        ),
    ]


def sample_overview(subject: Key, *, extra_cases: int = 0) -> Overview:
    """The overview the fake portal answers with; ``extra_cases`` pads it for load."""
    cases = sample_cases(subject)
    areas = ("Beskæftigelse", "Børn og familie", "Socialområdet", "Økonomi", "Sundhed")
    for n in range(extra_cases):
        cases.append(
            Case(
                id=f"sbsys/{5000 + n}",
                sagsnummer=f"32.18.00-G01-{n}-25",
                title=f"Sag nummer {n}",
                provenance=_prov("sbsys"),
                progress=list(Progress)[n % 4],
                area=areas[n % len(areas)],
                opened=dt.date(2025, 1, 1) + dt.timedelta(days=n % 300),
            )
        )
    return Overview(
        subject=subject,
        cases=tuple(cases),
        sources=tuple(sample_sources()),
        generated_at=GENERATED,
        expansions=(
            Expansion(
                Matrikel.of(2000351, "12a"),
                "ejer af matrikel 2000351-12a",
                "ejerfortegnelse",
                role=RelationRole.OWNER,
            ),
        ),
    )


@dataclass
class FakePortal:
    """Answers like the real portal from hand-built values; records every call."""

    config: Config = field(default_factory=make_config)
    overview_for: Callable[[Key], Overview] = sample_overview
    detail_error: Exception | None = None  # raised by get_case
    document_error: SourceError | None = None
    lookups: list[Key] = field(default_factory=list)
    case_requests: list[tuple[str, tuple[str, ...]]] = field(default_factory=list)
    document_requests: list[tuple[str, str]] = field(default_factory=list)

    def lookup(self, key: Key, on_progress: Callable[[Any], None] | None = None) -> Overview:
        """The sample overview for ``key`` (``on_progress`` is not called: it all
        arrives at once)."""
        self.lookups.append(key)
        return self.overview_for(key)

    def get_case(self, case_id: str, *, also_known_as: tuple[str, ...] = ()) -> Case:
        """A richer copy of the sample case, or ``detail_error`` if set."""
        self.case_requests.append((case_id, tuple(also_known_as)))
        if self.detail_error is not None:
            raise self.detail_error
        for case in sample_cases(CPR.parse(TYPICAL_CPR)):
            if case.id == case_id:
                extra = Event(dt.date(2024, 4, 20), "Telefonnotat fra kilden", "note", case.source)
                return replace(case, events=(*case.events, extra), reason=None)
        raise NotFound("Sagen findes ikke i kilden.")

    def get_document(self, case_id: str, document_id: str) -> DocumentContent:
        """A small PDF-ish body named after the document."""
        self.document_requests.append((case_id, document_id))
        if self.document_error is not None:
            raise self.document_error
        return DocumentContent(
            f"{document_id}-ansøgning æ.pdf",
            "application/pdf",
            b"%PDF-1.4 fake " + document_id.encode(),
        )

    def close(self) -> None:
        """Nothing to release."""


__all__ = [
    "CITIZEN_ISSUER",
    "GENERATED",
    "STAFF_ISSUER",
    "TYPICAL_CPR",
    "XSS_TITLE",
    "FakePortal",
    "RetriableError",
    "fake_logins",
    "make_config",
    "sample_overview",
]


def build_app(audit_url: str, **audit_settings):
    """An app over a fake portal whose audit log is at ``audit_url``."""
    from borgersag.web import create_app

    portal = FakePortal(config=make_config(tables={"audit": {"url": audit_url, **audit_settings}}))
    app = create_app(portal.config, portal=portal)
    app.config["TESTING"] = True
    return app, portal
