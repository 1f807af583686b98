"""The sandbox ZGW system's data: zaaktypen and zaken drawn from the municipality.

:func:`build_register` is a pure function of the :class:`~.data.Municipality`: it draws
from its own ``random.Random(municipality.seed * 104729 + 3)``, so the main generator and
every other service's data stay exactly as they are. The citizens and employees are the
municipality's own: an initiator's CPR number and a behandelaar's medarbejdernummer are
the same keys the other systems use, which is what lets the portal join them.

Who has zaken here: the demo ``typical`` citizen three, ``coowner`` one, ``heavy`` ten,
and about a quarter of the other adults one to three; the demo caseworker is behandelaar
on at least four (their unit always has a zaaktype, see :mod:`.zgw_catalog`).
"""

from __future__ import annotations

import datetime as dt
import random
import uuid
from dataclasses import dataclass, field, replace

from borgersag.sandbox.data import NOW, Citizen, Municipality
from borgersag.sandbox.zgw_catalog import ZAAKTYPEN, ZaakTypeSpec

__all__ = [
    "VERTROUWELIJKHEID",
    "InformatieObject",
    "Rol",
    "RolType",
    "StatusType",
    "Zaak",
    "ZaakStatus",
    "ZaakType",
    "ZgwRegister",
    "build_register",
]

VERTROUWELIJKHEID = (
    "openbaar",
    "beperkt_openbaar",
    "intern",
    "zaakvertrouwelijk",
    "vertrouwelijk",
    "confidentieel",
    "geheim",
    "zeer_geheim",
)
"""The eight confidentiality levels of the ZGW APIs, lowest first."""

EARLIEST = dt.date(2019, 1, 1)
HEAVY_ZAKEN = 10
RANDOM_SHARE = 0.25  # of the other adult citizens have zaken here


@dataclass(frozen=True, slots=True)
class StatusType:
    """A step of a zaaktype's flow; ``statustekst`` is meant for the citizen."""

    uuid: str
    volgnummer: int
    omschrijving: str
    statustekst: str
    final: bool


@dataclass(frozen=True, slots=True)
class RolType:
    """A role a zaaktype knows: the initiator or the behandelaar."""

    uuid: str
    omschrijving: str
    generiek: str  # ZGW omschrijvingGeneriek: initiator / behandelaar


@dataclass(frozen=True, slots=True)
class ZaakType:
    """A zaaktype of the catalogue with its statustypen (by volgnummer) and roltypen."""

    uuid: str
    spec: ZaakTypeSpec
    statustypen: tuple[StatusType, ...]
    initiator: RolType
    behandelaar: RolType

    @property
    def identificatie(self) -> str:
        """The zaaktype's identificatie within the catalogue."""
        return f"SANDKASSE-{self.spec.code}"


@dataclass(frozen=True, slots=True)
class ZaakStatus:
    """A status a zaak reached, when, and the toelichting for the initiator."""

    uuid: str
    statustype: StatusType
    set_at: dt.datetime
    toelichting: str


@dataclass(frozen=True, slots=True)
class Rol:
    """A party's role on a zaak: a citizen (CPR) or an employee (medarbejdernummer)."""

    uuid: str
    roltype: RolType
    betrokkene_type: str  # natuurlijk_persoon / medewerker
    identificatie: str
    registered: dt.datetime


@dataclass(frozen=True, slots=True)
class InformatieObject:
    """A document (Documenten API ``EnkelvoudigInformatieObject``) linked to one zaak.

    ``status`` is ZGW's (``definitief``, ``in_bewerking``, … or ``""`` for a received
    document); ``received``/``sent`` are ``ontvangstdatum``/``verzenddatum``.
    """

    uuid: str
    link_uuid: str  # the ZaakInformatieObject that links it to its zaak
    titel: str
    created: dt.date
    status: str
    vertrouwelijkheid: str
    bestandsnaam: str
    content: bytes
    linked: dt.datetime
    received: dt.date | None = None
    sent: dt.date | None = None
    formaat: str = "text/plain"


@dataclass(frozen=True, slots=True)
class Zaak:
    """A zaak with its status history (oldest first), its two rollen and its documents."""

    uuid: str
    identificatie: str
    zaaktype: ZaakType
    omschrijving: str
    start: dt.date
    statussen: tuple[ZaakStatus, ...]
    initiator: Rol
    behandelaar: Rol
    vertrouwelijkheid: str
    planned_end: dt.date
    deadline: dt.date
    documenten: tuple[InformatieObject, ...] = ()

    @property
    def rollen(self) -> tuple[Rol, Rol]:
        """Initiator and behandelaar."""
        return (self.initiator, self.behandelaar)

    @property
    def status(self) -> ZaakStatus:
        """The current (latest) status."""
        return self.statussen[-1]

    @property
    def end(self) -> dt.date | None:
        """The einddatum: the day the final status was set, if it was."""
        last = self.status
        return last.set_at.date() if last.statustype.final else None

    @property
    def last_changed(self) -> dt.datetime:
        """``laatstGemuteerd``: when the latest status was set."""
        return self.status.set_at


@dataclass(frozen=True)
class ZgwRegister:
    """The ZGW system's catalogue and zaken, with lookups by uuid and by party."""

    catalogus_uuid: str
    zaaktypen: tuple[ZaakType, ...]
    zaken: tuple[Zaak, ...]
    _index: dict = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        index: dict = {"zaak": {}, "status": {}, "rol": {}, "catalogue": {}, "doc": {}, "link": {}}
        for zt in self.zaaktypen:
            index["catalogue"][zt.uuid] = (zt, zt)
            for item in (*zt.statustypen, zt.initiator, zt.behandelaar):
                index["catalogue"][item.uuid] = (zt, item)
        for zaak in self.zaken:
            index["zaak"][zaak.uuid] = zaak
            for status in zaak.statussen:
                index["status"][status.uuid] = (zaak, status)
            for rol in zaak.rollen:
                index["rol"][rol.uuid] = (zaak, rol)
            for doc in zaak.documenten:
                index["doc"][doc.uuid] = (zaak, doc)
                index["link"][doc.link_uuid] = (zaak, doc)
        object.__setattr__(self, "_index", index)

    def zaak(self, zaak_uuid: str) -> Zaak | None:
        """A zaak by uuid."""
        return self._index["zaak"].get(zaak_uuid)

    def status(self, status_uuid: str) -> tuple[Zaak, ZaakStatus] | None:
        """A status by uuid, with its zaak."""
        return self._index["status"].get(status_uuid)

    def rol(self, rol_uuid: str) -> tuple[Zaak, Rol] | None:
        """A rol by uuid, with its zaak."""
        return self._index["rol"].get(rol_uuid)

    def document(self, doc_uuid: str) -> tuple[Zaak, InformatieObject] | None:
        """A document by uuid, with its zaak."""
        return self._index["doc"].get(doc_uuid)

    def document_link(self, link_uuid: str) -> tuple[Zaak, InformatieObject] | None:
        """A ZaakInformatieObject by uuid: its zaak and document."""
        return self._index["link"].get(link_uuid)

    def catalogue_item(self, item_uuid: str) -> tuple[ZaakType, object] | None:
        """A zaaktype, statustype or roltype by uuid, with the zaaktype it belongs to."""
        return self._index["catalogue"].get(item_uuid)

    def zaken_with_party(self, betrokkene_type: str, identificatie: str) -> list[Zaak]:
        """Zaken on which someone of that type and identificatie has any rol."""
        return [
            z
            for z in self.zaken
            if any(
                r.betrokkene_type == betrokkene_type and r.identificatie == identificatie
                for r in z.rollen
            )
        ]


def build_register(municipality: Municipality, *, heavy_zaken: int = HEAVY_ZAKEN) -> ZgwRegister:
    """The ZGW system's data for ``municipality``; the same municipality gives the same data.

    ``heavy_zaken``: how many zaken the demo ``heavy`` citizen has (the benchmark asks for
    50; any other number draws the other zaken differently).
    """
    return _Builder(municipality, heavy_zaken).build()


class _Builder:
    def __init__(self, municipality: Municipality, heavy_zaken: int = HEAVY_ZAKEN):
        self.m = municipality
        self.heavy_zaken = max(3, heavy_zaken)
        self.rng = random.Random(municipality.seed * 104729 + 3)
        self.zaken: list[Zaak] = []
        self._serial: dict[int, int] = {}

    def build(self) -> ZgwRegister:
        m, rng = self.m, self.rng
        catalogus = self._uuid()
        zaaktypen = tuple(self._zaaktype(spec) for spec in ZAAKTYPEN)
        by_code = {zt.spec.code: zt for zt in zaaktypen}
        demo = m.demo
        worker = m.employee(demo.caseworker)
        own = next((zt for zt in zaaktypen if worker and zt.spec.unit == worker.unit), None)
        if own is None:
            raise ValueError(f"no ZGW zaaktype for the demo caseworker's unit ({worker})")

        typical = m.citizen(demo.typical)
        for code in ("BEBOERLICENS", "STORSKRALD"):
            self._zaak(typical, by_code[code])
        self._zaak(typical, own, behandelaar=demo.caseworker, recent=True)
        self._zaak(m.citizen(demo.coowner), by_code["VEJAREAL"])
        heavy = m.citizen(demo.heavy)
        for _ in range(3):
            self._zaak(heavy, own, behandelaar=demo.caseworker)
        for _ in range(self.heavy_zaken - 3):
            self._zaak(heavy, rng.choice(zaaktypen))

        named = set(demo.as_dict().values())
        for citizen in m.citizens:
            if citizen.cpr in named or citizen.age < 18 or rng.random() >= RANDOM_SHARE:
                continue
            for _ in range(rng.choice((1, 1, 1, 2, 2, 3))):
                self._zaak(citizen, rng.choice(zaaktypen))
        with_documents = [replace(z, documenten=_documents(m.seed, z)) for z in self.zaken]
        ordered = sorted(with_documents, key=lambda z: z.identificatie)
        return ZgwRegister(catalogus, zaaktypen, tuple(ordered))

    # -- catalogue ------------------------------------------------------------------------

    def _zaaktype(self, spec: ZaakTypeSpec) -> ZaakType:
        steps = spec.flow.steps
        statustypen = tuple(
            StatusType(self._uuid(), i, name, text, i == len(steps))
            for i, (name, text) in enumerate(steps, start=1)
        )
        return ZaakType(
            self._uuid(),
            spec,
            statustypen,
            RolType(self._uuid(), "Ansøger", "initiator"),
            RolType(self._uuid(), "Sagsbehandler", "behandelaar"),
        )

    # -- zaken ----------------------------------------------------------------------------

    def _zaak(
        self, citizen: Citizen, zt: ZaakType, *, behandelaar: str | None = None, recent=False
    ) -> None:
        rng, spec = self.rng, zt.spec
        earliest = NOW - dt.timedelta(days=60) if recent else EARLIEST
        start = self._date_between(earliest, NOW - dt.timedelta(days=1))
        statussen = self._statussen(zt, start, open_=recent)
        year = start.year
        self._serial[year] = self._serial.get(year, 0) + rng.randint(1, 40)
        level = VERTROUWELIJKHEID.index(spec.vertrouwelijkheid)
        if rng.random() < 0.1:
            level = min(level + 1, VERTROUWELIJKHEID.index("geheim"))
        title = rng.choice(spec.titles).format(adresse=citizen.address.line)
        opened = dt.datetime.combine(start, dt.time(8, rng.randint(0, 59)), tzinfo=dt.UTC)
        worker = behandelaar or self._caseworker(spec.unit)
        self.zaken.append(
            Zaak(
                uuid=self._uuid(),
                identificatie=f"ZAAK-{year}-{self._serial[year]:010d}",
                zaaktype=zt,
                omschrijving=title[:80],
                start=start,
                statussen=statussen,
                initiator=Rol(
                    self._uuid(), zt.initiator, "natuurlijk_persoon", citizen.cpr, opened
                ),
                behandelaar=Rol(
                    self._uuid(),
                    zt.behandelaar,
                    "medewerker",
                    worker,
                    opened + dt.timedelta(hours=rng.randint(1, 30)),
                ),
                vertrouwelijkheid=VERTROUWELIJKHEID[level],
                planned_end=start + dt.timedelta(days=spec.servicenorm_days),
                deadline=start + dt.timedelta(days=spec.doorlooptijd_days),
            )
        )

    def _statussen(self, zt: ZaakType, start: dt.date, *, open_: bool) -> tuple[ZaakStatus, ...]:
        rng, flow = self.rng, zt.spec.flow
        count = len(zt.statustypen)
        old = (NOW - start).days > 120
        if open_:
            reached = rng.randint(1, count - 1)
        elif old and rng.random() < 0.9:
            reached = count
        else:
            reached = rng.randint(1, count)
        statussen = []
        day = start
        for i, statustype in enumerate(zt.statustypen[:reached]):
            if i:
                day += dt.timedelta(days=rng.randint(*flow.gap_days))
            if day > NOW:
                break
            if i == flow.outcome_step:
                note = rng.choice(zt.spec.outcomes)
            else:
                note = rng.choice(flow.notes.get(i, ("",)))
            at = dt.datetime.combine(day, dt.time(8 + i, rng.randint(0, 59)), tzinfo=dt.UTC)
            statussen.append(ZaakStatus(self._uuid(), statustype, at, note))
        return tuple(statussen)

    def _caseworker(self, unit: str) -> str:
        """A unit's employee; the demo caseworker (when in the unit) is drawn most often."""
        staff = [e.medarbejdernummer for e in self.m.employees if e.unit == unit]
        weights = [6 if nr == self.m.demo.caseworker else 2 for nr in staff]
        return self.rng.choices(staff, weights)[0]

    def _uuid(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def _date_between(self, start: dt.date, end: dt.date) -> dt.date:
        if end <= start:
            return min(start, NOW)
        return start + dt.timedelta(days=self.rng.randint(0, (end - start).days))


def _documents(seed: int, zaak: Zaak) -> tuple[InformatieObject, ...]:
    """A zaak's documents, drawn from its own ``random.Random`` (so the zaken themselves are
    drawn exactly as before): the citizen's application (received), the decision or
    receipt once the outcome step was reached (final, for the party), sometimes an internal
    note (final, ``intern``), on an open zaak a draft (``in_bewerking``) and sometimes a
    received medical certificate at ``vertrouwelijk`` (above a limited client's level)."""
    rng = random.Random(f"{seed}:{zaak.uuid}")
    spec = zaak.zaaktype.spec
    party_level = "zaakvertrouwelijk"
    found: list[InformatieObject] = []

    def add(titel, day, status, level, filename, text, *, received=None, sent=None):
        found.append(
            InformatieObject(
                uuid=str(uuid.UUID(int=rng.getrandbits(128), version=4)),
                link_uuid=str(uuid.UUID(int=rng.getrandbits(128), version=4)),
                titel=titel,
                created=day,
                status=status,
                vertrouwelijkheid=level,
                bestandsnaam=filename,
                content=text.encode("utf-8"),
                linked=dt.datetime.combine(day, dt.time(12, rng.randint(0, 59)), tzinfo=dt.UTC),
                received=received,
                sent=sent,
            )
        )

    add(
        f"Henvendelse: {spec.omschrijving}",
        zaak.start,
        "",
        party_level,
        "henvendelse.txt",
        f"Henvendelse om {spec.omschrijving.lower()}, modtaget {zaak.start.isoformat()}.\n",
        received=zaak.start,
    )
    outcome = spec.flow.outcome_step
    if len(zaak.statussen) > outcome:
        day = zaak.statussen[outcome].set_at.date()
        add(
            f"Afgørelse: {spec.omschrijving}",
            day,
            "definitief",
            party_level,
            "afgoerelse.txt",
            f"Kommunen har truffet afgørelse i sagen om {spec.omschrijving.lower()}.\n",
            sent=day,
        )
    if rng.random() < 0.4:
        day = zaak.statussen[-1].set_at.date()
        add("Sagsnotat", day, "definitief", "intern", "notat.txt", "Internt notat.\n")
    if zaak.end is None and rng.random() < 0.5:
        day = zaak.statussen[-1].set_at.date()
        add("Udkast til brev", day, "in_bewerking", party_level, "udkast.txt", "Udkast.\n")
    if rng.random() < 0.25:  # above a limited client's maximum, as a health record often is
        day = zaak.statussen[0].set_at.date()
        text = "Lægeerklæring modtaget fra egen læge.\n"
        add("Lægeerklæring", day, "definitief", "vertrouwelijk", "laege.txt", text, received=day)
    return tuple(found)
