"""The sandbox ZGW system's catalogue: its zaaktypen and their statustypen, in Danish.

The municipality runs a ZGW case system (Open Zaak) behind its self-service forms: parking
licences, bulky waste, road use, rats, and a few intake flows for other units. Every unit
of :data:`catalog.UNITS <borgersag.sandbox.catalog.UNITS>` has at least one zaaktype, so
whoever the demo caseworker is, they handle zaken here too.

Statustypen come from three flows; ``statustekst`` is the text meant for the citizen (the
Catalogi API's own meaning), ``omschrijving`` the short name a caseworker sees. KLE numbers
reuse the ESDH's subjects where the ESDH has one; the others (05.x, 09.x) are sandbox
values at group level.
"""

from __future__ import annotations

from dataclasses import dataclass

from borgersag.sandbox import catalog

__all__ = ["FLOWS", "ZAAKTYPEN", "Flow", "ZaakTypeSpec"]


@dataclass(frozen=True, slots=True)
class Flow:
    """A sequence of statustypen: ``(omschrijving, statustekst)`` per step.

    ``outcome_step`` is the index of the step whose status carries the zaak's outcome
    (e.g. "Licens udstedt") as ``statustoelichting``; ``notes`` are other toelichtingen a
    step may carry ("" for none).
    """

    name: str
    steps: tuple[tuple[str, str], ...]
    outcome_step: int
    notes: dict[int, tuple[str, ...]]
    gap_days: tuple[int, int]  # days between two statuses


@dataclass(frozen=True, slots=True)
class ZaakTypeSpec:
    """One zaaktype: what it is, who handles it, its flow and the texts of its zaken.

    ``titles`` are zaak omschrijvingen, with ``{adresse}`` for the citizen's street address;
    ``outcomes`` the toelichtingen of the outcome status.
    """

    code: str
    omschrijving: str
    onderwerp: str  # the area (fagområde) the portal groups by
    unit: str
    kle: str
    flow: Flow
    vertrouwelijkheid: str
    doorlooptijd_days: int
    servicenorm_days: int
    handeling_initiator: str
    titles: tuple[str, ...]
    outcomes: tuple[str, ...]


APPLICATION = Flow(
    "ansøgning",
    (
        ("Modtaget", "Vi har modtaget din ansøgning og går i gang med at behandle den."),
        (
            "Under behandling",
            "Din ansøgning er under behandling. Vi kontakter dig, hvis vi mangler oplysninger.",
        ),
        ("Afgjort", "Vi har truffet afgørelse i din sag. Du får afgørelsen i Digital Post."),
        ("Afsluttet", "Sagen er afsluttet."),
    ),
    outcome_step=2,
    notes={1: ("", "Afventer dokumentation fra dig", "Vi har bedt om yderligere oplysninger")},
    gap_days=(1, 12),
)
REPORT = Flow(
    "anmeldelse",
    (
        ("Modtaget", "Vi har modtaget din henvendelse."),
        ("Planlagt", "Opgaven er planlagt. Du får besked, før vi kommer."),
        ("Udført", "Opgaven er udført, og sagen er afsluttet."),
    ),
    outcome_step=2,
    notes={1: ("", "Planlagt inden for fem hverdage", "Aftalt tidspunkt med borgeren")},
    gap_days=(1, 6),
)
ASSESSMENT = Flow(
    "visitation",
    (
        ("Modtaget", "Vi har modtaget din ansøgning."),
        (
            "Oplysninger indhentes",
            "Vi indhenter de oplysninger, der skal til for at vurdere din ansøgning.",
        ),
        ("Vurderes", "Din ansøgning bliver vurderet af en visitator."),
        ("Afgjort", "Vi har truffet afgørelse. Du får afgørelsen i Digital Post."),
        ("Afsluttet", "Sagen er afsluttet."),
    ),
    outcome_step=3,
    notes={
        1: ("", "Oplysninger indhentet fra egen læge", "Afventer hjemmebesøg"),
        2: ("", "Hjemmebesøg gennemført"),
    },
    gap_days=(2, 20),
)
FLOWS = (APPLICATION, REPORT, ASSESSMENT)

_AREA = {group: area.name for group, area in catalog.AREAS.items()}

ZAAKTYPEN = (
    ZaakTypeSpec(
        "BEBOERLICENS",
        "Beboerparkeringslicens",
        "Veje og trafik",
        "Borgerservice",
        "05.13.00",
        APPLICATION,
        "beperkt_openbaar",
        30,
        10,
        "Ansøge",
        ("Beboerlicens – {adresse}", "Beboerlicens, skift af bil – {adresse}"),
        ("Licens udstedt", "Licens udstedt for 12 måneder", "Afslag – adressen er uden for zonen"),
    ),
    ZaakTypeSpec(
        "STORSKRALD",
        "Afhentning af storskrald",
        _AREA["13"],
        "Borgerservice",
        "13.05.02",
        REPORT,
        "openbaar",
        14,
        7,
        "Bestille",
        ("Storskrald – {adresse}", "Haveaffald – {adresse}", "Hvidevarer – {adresse}"),
        ("Afhentet", "Afhentet – dele kunne ikke tages med"),
    ),
    ZaakTypeSpec(
        "VEJAREAL",
        "Råden over vejareal",
        "Veje og trafik",
        "Byggeri og Miljø",
        "05.04.00",
        APPLICATION,
        "openbaar",
        20,
        10,
        "Ansøge",
        (
            "Container på vejareal – {adresse}",
            "Stillads på fortov – {adresse}",
            "Flyttebil på vejareal – {adresse}",
        ),
        ("Tilladelse givet", "Tilladelse givet med vilkår om afmærkning", "Afslag"),
    ),
    ZaakTypeSpec(
        "ROTTER",
        "Anmeldelse af rotter",
        "Miljø",
        "Byggeri og Miljø",
        "09.11.00",
        REPORT,
        "intern",
        10,
        5,
        "Anmelde",
        ("Rotter i kælderen – {adresse}", "Rotter i haven – {adresse}"),
        ("Bekæmpelse udført", "Bekæmpelse udført – kloakspærre monteret"),
    ),
    ZaakTypeSpec(
        "OMSORGSTANDPLEJE",
        "Visitation til omsorgstandpleje",
        _AREA["29"],
        "Sundhed og Omsorg",
        "29.30.00",
        ASSESSMENT,
        "vertrouwelijk",
        60,
        30,
        "Ansøge",
        ("Visitation til omsorgstandpleje",),
        ("Visiteret til omsorgstandpleje", "Ikke visiteret – kan bruge egen tandlæge"),
    ),
    ZaakTypeSpec(
        "KOERSEL-GENOPTRAENING",
        "Kørsel til genoptræning",
        _AREA["29"],
        "Sundhed og Omsorg",
        "29.09.02",
        APPLICATION,
        "confidentieel",
        20,
        7,
        "Ansøge",
        ("Kørsel til genoptræning", "Kørsel til genoptræning – kørestolsbus"),
        ("Kørsel bevilget", "Kørsel bevilget i 12 uger", "Afslag – kan bruge egen transport"),
    ),
    ZaakTypeSpec(
        "DAGTILBUD",
        "Opskrivning til dagtilbud",
        _AREA["28"],
        "Børn og Familie",
        "28.01.00",
        APPLICATION,
        "zaakvertrouwelijk",
        90,
        30,
        "Ansøge",
        ("Opskrivning til vuggestue", "Opskrivning til børnehave", "Ønske om skift af dagtilbud"),
        ("Plads tilbudt", "Plads tilbudt i ønsket institution", "Optaget på venteliste"),
    ),
    ZaakTypeSpec(
        "HJAELPEMIDDEL",
        "Udlån af hjælpemiddel",
        _AREA["27"],
        "Socialafdelingen",
        "27.37.00",
        ASSESSMENT,
        "vertrouwelijk",
        45,
        20,
        "Ansøge",
        ("Udlån af rollator", "Udlån af toiletforhøjer", "Udlån af badebænk"),
        ("Bevilget og leveret", "Afslag – hjælpemidlet fås i almindelig handel"),
    ),
    ZaakTypeSpec(
        "JOBSAMTALE",
        "Booking af samtale i jobcentret",
        _AREA["15"],
        "Jobcenter",
        "15.00.05",
        REPORT,
        "zaakvertrouwelijk",
        14,
        7,
        "Bestille",
        ("Samtale om jobplan", "Samtale om CV og jobsøgning"),
        ("Samtale afholdt", "Samtale afholdt – opfølgning aftalt"),
    ),
    ZaakTypeSpec(
        "TILSKUD-BRILLER",
        "Tilskud til briller",
        _AREA["32"],
        "Ydelsesservice",
        "32.18.04",
        APPLICATION,
        "vertrouwelijk",
        30,
        14,
        "Ansøge",
        ("Tilskud til briller",),
        ("Bevilget", "Delvist bevilget", "Afslag – indtægten er over grænsen"),
    ),
)
