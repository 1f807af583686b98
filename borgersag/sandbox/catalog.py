"""Fixed word lists the sandbox generator draws from: names, places, units and KLE subjects.

Kept apart from the generator so the shape of the data (``data.py``) reads without
scrolling past a phone book. Everything here is invented or generic; street names are
common Danish ones and do not point at real homes.
"""

from __future__ import annotations

from dataclasses import dataclass

MUNICIPALITY_NAME = "Sandkasse Kommune"


def _words(text: str) -> tuple[str, ...]:
    """A tuple of the space-separated words: long name lists stay readable."""
    return tuple(text.split())


MALE_NAMES = _words(
    "Peter Michael Lars Jens Thomas Henrik Søren Christian Martin Jan Morten Jesper Anders "
    "Niels Mads Rasmus Per Hans Kim Mikkel Frederik Emil Oliver William Lucas Noah Magnus "
    "Victor Jonas Kasper Ole Poul Bent Erik Carl Jørgen Torben Steen Kristian Aksel Malthe "
    "Bjarne"
)

FEMALE_NAMES = _words(
    "Anne Mette Kirsten Hanne Susanne Lene Maria Marianne Camilla Pia Louise Charlotte Tina "
    "Helle Inge Lone Bente Karen Julie Emma Ida Sofie Freja Clara Laura Anna Ella Maja Signe "
    "Line Birgit Ellen Grethe Jytte Dorthe Rikke Nanna Cecilie Astrid Alma"
)

LAST_NAMES = _words(
    "Jensen Nielsen Hansen Pedersen Andersen Christensen Larsen Sørensen Rasmussen Jørgensen "
    "Petersen Madsen Kristensen Olsen Thomsen Christiansen Poulsen Johansen Møller Mortensen "
    "Knudsen Jakobsen Mikkelsen Olesen Frederiksen Laursen Henriksen Lund Schmidt Eriksen "
    "Holm Kristiansen Clausen Simonsen Svendsen Andreasen Iversen Jeppesen Vestergaard Kjær "
    "Dahl Bach Lauridsen Nørgaard Østergaard"
)

MIDDLE_NAMES = ("Kjær", "Holm", "Lund", "Bach", "Dahl", "Juul", "Krogh", "Munk", "Skov", "Vinther")


@dataclass(frozen=True, slots=True)
class District:
    """A postal district of the municipality and the cadastral district (ejerlav) under it."""

    postnummer: str
    by: str
    ejerlavskode: int
    ejerlavsnavn: str
    streets: tuple[str, ...]


DISTRICTS = (
    District(
        "8000",
        "Aarhus C",
        2000351,
        "Sandkasse Bygrunde",
        ("Vestergade", "Østergade", "Nørregade", "Søndergade", "Klostergade"),
    ),
    District(
        "8200",
        "Aarhus N",
        2000352,
        "Vejlby By, Vejlby",
        ("Birkevej", "Egevej", "Bøgevej", "Lindevej"),
    ),
    District(
        "8210",
        "Aarhus V",
        2000353,
        "Hasle By, Hasle",
        ("Skovvej", "Engvej", "Møllevej", "Toftevej"),
    ),
    District(
        "8220",
        "Brabrand",
        2000361,
        "Brabrand By, Brabrand",
        ("Stationsvej", "Skolevej", "Holmevej"),
    ),
    District(
        "8240", "Risskov", 2000371, "Risskov, Vejlby", ("Rosenvænget", "Kastanie Allé", "Fasanvej")
    ),
    District(
        "8260",
        "Viby J",
        2000381,
        "Viby By, Viby",
        ("Kirkevej", "Præstevænget", "Ahornvej", "Hyldevej"),
    ),
    District(
        "8270", "Højbjerg", 2000391, "Holme By, Holme", ("Tjørnevej", "Mågevej", "Bakkedraget")
    ),
)

FLOORS = ("st. tv.", "st. th.", "1. tv.", "1. th.", "2. tv.", "2. th.", "3. mf.")


@dataclass(frozen=True, slots=True)
class Unit:
    """An organisation unit and the KLE main groups it is responsible for."""

    name: str
    kle_groups: tuple[str, ...]
    staff: int


UNITS = (
    Unit("Borgerservice", ("13",), 4),
    Unit("Jobcenter", ("15",), 6),
    Unit("Ydelsesservice", ("32",), 5),
    Unit("Socialafdelingen", ("27",), 5),
    Unit("Børn og Familie", ("28",), 4),
    Unit("Byggeri og Miljø", ("02",), 4),
    Unit("Sundhed og Omsorg", ("29",), 3),
)


@dataclass(frozen=True, slots=True)
class Subject:
    """A KLE subject the sandbox opens cases on, with the titles a caseworker would write.

    ``sensitive_titles`` are used when the case holds sensitive personal data; their
    wording is why such cases need a public title.
    """

    kle: str
    kle_title: str
    titles: tuple[str, ...]
    facets: tuple[str, ...] = ("G01",)
    sensitive_titles: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Area:
    """A KLE main group: its fagområde, the unit handling it, subjects and how sensitive."""

    group: str
    name: str
    unit: str
    template: str
    subjects: tuple[Subject, ...]
    sensitivity_weights: tuple[int, int, int, int]  # ikke fortrolig, fortrolige, følsomme, VIP
    min_age: int = 18
    max_age: int = 120


AREAS = {
    "13": Area(
        "13",
        "Forsyning",
        "Borgerservice",
        "Forsyningssag",
        (
            Subject(
                "13.02.08",
                "Vandforsyning – betaling",
                ("Vandafgift – afdragsordning", "Opkrævning af vandafgift"),
            ),
            Subject(
                "13.05.02",
                "Renovation – ordninger",
                ("Tilmelding til storskraldsordning", "Fritagelse for renovationsgebyr"),
            ),
        ),
        (95, 5, 0, 0),
    ),
    "15": Area(
        "15",
        "Beskæftigelse",
        "Jobcenter",
        "Beskæftigelsessag",
        (
            Subject(
                "15.00.05", "Jobsøgning og jobplan", ("Jobplan og opfølgning", "Virksomhedspraktik")
            ),
            Subject(
                "15.20.02",
                "Ressourceforløb",
                ("Ressourceforløb",),
                sensitive_titles=("Ressourceforløb – helbredsoplysninger",),
            ),
            Subject(
                "15.24.04",
                "Sygedagpenge – opfølgning",
                ("Opfølgning på sygedagpenge",),
                ("G01", "K07"),
                ("Sygedagpengeopfølgning – lægeerklæring indhentet",),
            ),
            Subject(
                "15.28.00",
                "Fleksjob",
                ("Fleksjob – visitation",),
                sensitive_titles=("Fleksjob – varige begrænsninger i arbejdsevnen",),
            ),
        ),
        (40, 40, 20, 0),
        18,
        67,
    ),
    "27": Area(
        "27",
        "Social service (voksne)",
        "Socialafdelingen",
        "Voksensag",
        (
            Subject(
                "27.24.00",
                "Bostøtte",
                ("Bostøtte efter servicelovens § 85",),
                sensitive_titles=("Bostøtte – psykisk sårbarhed",),
            ),
            Subject("27.12.04", "Praktisk hjælp", ("Praktisk hjælp i hjemmet",)),
            Subject(
                "27.37.00",
                "Hjælpemidler",
                (
                    "Hjælpemiddel – rollator",
                    "Hjælpemiddel – badestol",
                    "Boligindretning – fjernelse af dørtrin",
                ),
            ),
            Subject(
                "27.36.00",
                "Handicapbil",
                ("Støtte til køb af bil",),
                sensitive_titles=("Støtte til køb af bil – varig nedsat funktionsevne",),
            ),
        ),
        (20, 45, 33, 2),
    ),
    "28": Area(
        "28",
        "Børn og unge",
        "Børn og Familie",
        "Børnesag",
        (
            Subject(
                "28.15.00",
                "Foranstaltninger for børn og unge",
                ("Forebyggende foranstaltning",),
                ("G01", "A53"),
                ("Forebyggende foranstaltning – underretning",),
            ),
            Subject("28.01.00", "Dagtilbud", ("Optagelse i dagtilbud", "Søskendetilskud")),
            Subject(
                "28.21.00",
                "Særlig støtte til børn",
                ("Merudgifter til barn med handicap",),
                sensitive_titles=("Merudgifter – barn med diagnose",),
            ),
        ),
        (30, 35, 33, 2),
        0,
        17,
    ),
    "29": Area(
        "29",
        "Sundhed",
        "Sundhed og Omsorg",
        "Sundhedssag",
        (
            Subject(
                "29.09.02",
                "Genoptræning",
                ("Genoptræningsplan efter hospitalsophold",),
                sensitive_titles=("Genoptræning efter hjerneskade",),
            ),
            Subject("29.30.00", "Tandpleje", ("Omsorgstandpleje", "Børne- og ungdomstandpleje")),
            Subject(
                "29.03.00",
                "Hjemmesygepleje",
                ("Hjemmesygepleje",),
                sensitive_titles=("Hjemmesygepleje – medicinhåndtering",),
            ),
        ),
        (20, 30, 50, 0),
        0,
    ),
    "32": Area(
        "32",
        "Sociale ydelser",
        "Ydelsesservice",
        "Ydelsessag",
        (
            Subject("32.18.06", "Boligstøtte", ("Boligstøtte", "Boligstøtte – omregning")),
            Subject(
                "32.18.04",
                "Enkeltydelser",
                ("Enkeltydelse – tandbehandling", "Enkeltydelse – flytning"),
                ("G01", "K07"),
            ),
            Subject("32.03.00", "Personligt tillæg", ("Personligt tillæg til pension",)),
            Subject(
                "32.09.00",
                "Førtidspension",
                ("Ansøgning om førtidspension",),
                sensitive_titles=("Førtidspension – helbredsmæssige forhold",),
            ),
        ),
        (50, 40, 10, 0),
    ),
}

# Building cases are opened through the permit system and journalised in the ESDH.
AREAS_BUILDING = Area("02", "Byggeri", "Byggeri og Miljø", "Byggesag", (), (100, 0, 0, 0))

# Areas a typical citizen's cases are drawn from, with weights (02 cases come with property).
AREA_WEIGHTS = {"13": 10, "15": 25, "27": 20, "28": 15, "29": 15, "32": 25}

# The permit system's case types and the KLE subject the ESDH journalises each under.
BUILDING_TYPES = (
    ("Nybyggeri af enfamiliehus", "02.34.02"),
    ("Tilbygning", "02.34.03"),
    ("Carport/garage", "02.34.05"),
    ("Udhus/skur", "02.34.05"),
    ("Nedrivning", "02.34.08"),
    ("Ændret anvendelse", "02.34.10"),
)
BUILDING_TYPE_WEIGHTS = (8, 30, 30, 15, 7, 10)
BUILDING_KLE_TITLES = {
    "02.34.02": "Byggesag – enfamiliehuse",
    "02.34.03": "Byggesag – tilbygninger",
    "02.34.05": "Byggesag – garager, carporte og udhuse",
    "02.34.08": "Byggesag – nedrivning",
    "02.34.10": "Byggesag – ændret anvendelse",
}

# SBSYS statuses: name, SagsTilstand and the SF1470 progress they correspond to.
ESDH_STATUSES = (
    ("Opstået", "Aktiv", "opstaaet"),
    ("Opklaring", "Aktiv", "opstaaet"),
    ("Afventer", "Aktiv", "oplyst"),
    ("Afgjort", "Aktiv", "afgjort"),
    ("Afsluttet", "Afsluttet", "afsluttet"),
    ("Arkiveret", "Afsluttet", "afsluttet"),
)

ESDH_STATUS_COMMENTS = {
    "Opklaring": ("Oplysninger indhentes", "Helbredsoplysninger indhentet", "Samtale afholdt"),
    "Afventer": ("Afventer dokumentation fra borger", "Afventer partshøring", "Afventer udtalelse"),
    "Afgjort": ("Afgørelse sendt", "Bevilget", "Delvist bevilget", "Afslag meddelt"),
}

BUILDING_STATUSES = (
    "Modtaget",
    "Afventer dokumentation",
    "Under behandling",
    "Tilladelse meddelt",
    "Afslag",
    "Afsluttet",
)

SENSITIVITY_CODES = (
    "IKKE_FORTROLIGE_DATA",
    "FORTROLIGE_PERSONOPLYSNINGER",
    "FOELSOMME_PERSONOPLYSNINGER",
    "VIP_SAGER",
)
