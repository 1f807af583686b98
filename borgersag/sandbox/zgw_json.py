"""ZGW JSON for the sandbox's records, shaped as Open Zaak serves them.

Every resource carries absolute URLs built from the address the client used (as Open Zaak
builds them from the request), so the bodies validate against the Zaken API 1.5.1,
Catalogi API 1.3.1 and Documenten API 1.4.2 specifications:
``tests/sandbox/test_sandbox_zgw_spec.py`` checks every operation.
"""

from __future__ import annotations

import datetime as dt
import zlib

from borgersag.sandbox.data import Address, Municipality
from borgersag.sandbox.zgw_data import (
    InformatieObject,
    Rol,
    RolType,
    StatusType,
    Zaak,
    ZaakStatus,
    ZaakType,
    ZgwRegister,
)

__all__ = [
    "RSIN",
    "Urls",
    "catalogus_json",
    "informatieobject_json",
    "rol_json",
    "roltype_json",
    "status_json",
    "statustype_json",
    "zaak_json",
    "zaakinformatieobject_json",
    "zaaktype_json",
]

RSIN = "123456782"
"""``bronorganisatie``: the ZGW APIs want a 9-digit (Dutch) RSIN; a fixed fictitious one."""
CATALOGUE_DATE = dt.date(2019, 1, 1)  # beginGeldigheid of every catalogue item
INFORMATIEOBJECTTYPE = "5b0f1c3e-6d1a-4c4b-9a70-2d1b3e0f0d01"  # one type for every document


class Urls:
    """The absolute URLs of a sandbox ZGW service reached at ``root`` (ending in ``/``)."""

    def __init__(self, root: str):
        self.zaken = root + "zaken/api/v1/"
        self.catalogi = root + "catalogi/api/v1/"
        self.documenten = root + "documenten/api/v1/"

    def informatieobject(self, item: InformatieObject) -> str:
        """A document's URL (Documenten API)."""
        return f"{self.documenten}enkelvoudiginformatieobjecten/{item.uuid}"

    def zaakinformatieobject(self, item: InformatieObject) -> str:
        """The URL of the link between a document and its zaak (Zaken API)."""
        return f"{self.zaken}zaakinformatieobjecten/{item.link_uuid}"

    def zaak(self, item: Zaak) -> str:
        """A zaak's URL."""
        return f"{self.zaken}zaken/{item.uuid}"

    def status(self, item: ZaakStatus) -> str:
        """A status's URL."""
        return f"{self.zaken}statussen/{item.uuid}"

    def rol(self, item: Rol) -> str:
        """A rol's URL."""
        return f"{self.zaken}rollen/{item.uuid}"

    def catalogus(self, register: ZgwRegister) -> str:
        """The catalogue's URL."""
        return f"{self.catalogi}catalogussen/{register.catalogus_uuid}"

    def zaaktype(self, item: ZaakType) -> str:
        """A zaaktype's URL."""
        return f"{self.catalogi}zaaktypen/{item.uuid}"

    def statustype(self, item: StatusType) -> str:
        """A statustype's URL."""
        return f"{self.catalogi}statustypen/{item.uuid}"

    def roltype(self, item: RolType) -> str:
        """A roltype's URL."""
        return f"{self.catalogi}roltypen/{item.uuid}"


def zaak_json(urls: Urls, zaak: Zaak) -> dict:
    """A ``Zaak``."""
    end = zaak.end
    return {
        "url": urls.zaak(zaak),
        "uuid": zaak.uuid,
        "identificatie": zaak.identificatie,
        "bronorganisatie": RSIN,
        "omschrijving": zaak.omschrijving,
        "toelichting": "",
        "zaaktype": urls.zaaktype(zaak.zaaktype),
        "registratiedatum": zaak.start.isoformat(),
        "verantwoordelijkeOrganisatie": RSIN,
        "startdatum": zaak.start.isoformat(),
        "einddatum": end.isoformat() if end else None,
        "einddatumGepland": zaak.planned_end.isoformat(),
        "uiterlijkeEinddatumAfdoening": zaak.deadline.isoformat(),
        "publicatiedatum": None,
        "laatstGemuteerd": _stamp(zaak.last_changed),
        "laatstGeopend": None,
        "communicatiekanaalNaam": "Selvbetjening",
        "productenOfDiensten": [],
        "vertrouwelijkheidaanduiding": zaak.vertrouwelijkheid,
        "betalingsindicatie": "",
        "betalingsindicatieWeergave": "",
        "laatsteBetaaldatum": None,
        "zaakgeometrie": None,
        "verlenging": None,
        "opschorting": {"indicatie": False, "eerdereOpschorting": False, "reden": ""},
        "hoofdzaak": None,
        "deelzaken": [],
        "relevanteAndereZaken": [],
        "gerelateerdeZaken": [],
        "eigenschappen": [],
        "rollen": [urls.rol(r) for r in zaak.rollen],
        "status": urls.status(zaak.status),
        "zaakinformatieobjecten": [urls.zaakinformatieobject(d) for d in zaak.documenten],
        "zaakobjecten": [],
        "kenmerken": [],
        "archiefnominatie": "vernietigen" if end else "",
        "archiefstatus": "nog_te_archiveren",
        "archiefactiedatum": None,
        "resultaat": None,
        "processobjectaard": "",
        "startdatumBewaartermijn": None,
        "processobject": None,
    }


def status_json(urls: Urls, zaak: Zaak, status: ZaakStatus) -> dict:
    """A ``Status``."""
    return {
        "url": urls.status(status),
        "uuid": status.uuid,
        "zaak": urls.zaak(zaak),
        "statustype": urls.statustype(status.statustype),
        "datumStatusGezet": _stamp(status.set_at),
        "statustoelichting": status.toelichting,
        "indicatieLaatstGezetteStatus": status is zaak.status,
        "gezetdoor": None,
        "zaakinformatieobjecten": [],
    }


def rol_json(urls: Urls, m: Municipality, zaak: Zaak, rol: Rol) -> dict:
    """A ``Rol`` of a natural person (CPR in ``anpIdentificatie``) or an employee."""
    body = {
        "url": urls.rol(rol),
        "uuid": rol.uuid,
        "zaak": urls.zaak(zaak),
        "betrokkene": "",
        "betrokkeneType": rol.betrokkene_type,
        "afwijkendeNaamBetrokkene": "",
        "roltype": urls.roltype(rol.roltype),
        "omschrijving": rol.roltype.omschrijving,
        "omschrijvingGeneriek": rol.roltype.generiek,
        "roltoelichting": "",
        "registratiedatum": _stamp(rol.registered),
        "indicatieMachtiging": "",
        "contactpersoonRol": None,
        "statussen": [],
        "beginGeldigheid": None,
        "eindeGeldigheid": None,
    }
    if rol.betrokkene_type == "medewerker":
        worker = m.employee(rol.identificatie)
        first, _, last = (worker.name if worker else "").rpartition(" ")
        body["afwijkendeNaamBetrokkene"] = worker.name if worker else ""
        body["betrokkeneIdentificatie"] = {
            "identificatie": rol.identificatie,
            "achternaam": last,
            "voorletters": "".join(f"{w[0]}." for w in first.split()),
            "voorvoegselAchternaam": "",
        }
        return body
    body["betrokkeneIdentificatie"] = _person(m, rol.identificatie)
    body["authenticatieContext"] = None
    return body


def zaakinformatieobject_json(urls: Urls, zaak: Zaak, doc: InformatieObject) -> dict:
    """A ``ZaakInformatieObject``: which document belongs to which zaak."""
    return {
        "url": urls.zaakinformatieobject(doc),
        "uuid": doc.link_uuid,
        "informatieobject": urls.informatieobject(doc),
        "zaak": urls.zaak(zaak),
        "aardRelatieWeergave": "Hoort bij, omgekeerd: kent",
        "titel": "",
        "beschrijving": "",
        "registratiedatum": _stamp(doc.linked),
        "vernietigingsdatum": None,
        "status": None,
    }


def informatieobject_json(urls: Urls, doc: InformatieObject) -> dict:
    """An ``EnkelvoudigInformatieObject`` (Documenten API); content at ``…/download``."""
    return {
        "url": urls.informatieobject(doc),
        "identificatie": f"DOK-{doc.uuid[:8].upper()}",
        "bronorganisatie": RSIN,
        "creatiedatum": doc.created.isoformat(),
        "titel": doc.titel[:200],
        "vertrouwelijkheidaanduiding": doc.vertrouwelijkheid,
        "auteur": "Sandkasse Kommune",
        "status": doc.status,
        "formaat": doc.formaat,
        "taal": "dan",
        "versie": 1,
        "beginRegistratie": _stamp(doc.linked),
        "bestandsnaam": doc.bestandsnaam,
        "inhoud": urls.informatieobject(doc) + "/download?versie=1",
        "bestandsomvang": len(doc.content),
        "link": "",
        "beschrijving": "",
        "ontvangstdatum": doc.received.isoformat() if doc.received else None,
        "verzenddatum": doc.sent.isoformat() if doc.sent else None,
        "indicatieGebruiksrecht": None,
        "verschijningsvorm": "",
        "ondertekening": None,
        "integriteit": None,
        "informatieobjecttype": f"{urls.catalogi}informatieobjecttypen/{INFORMATIEOBJECTTYPE}",
        "locked": False,
        "bestandsdelen": [],
        "trefwoorden": [],
    }


def catalogus_json(urls: Urls, register: ZgwRegister) -> dict:
    """The ``Catalogus``."""
    return {
        "url": urls.catalogus(register),
        "domein": "SANDK",
        "rsin": RSIN,
        "contactpersoonBeheerNaam": "Sandkasse Kommune, Digitalisering",
        "naam": "Sandkasse Kommune – selvbetjening",
        "versie": "1",
        "begindatumVersie": CATALOGUE_DATE.isoformat(),
        "zaaktypen": [urls.zaaktype(zt) for zt in register.zaaktypen],
        "besluittypen": [],
        "informatieobjecttypen": [],
    }


def zaaktype_json(urls: Urls, register: ZgwRegister, zt: ZaakType) -> dict:
    """A ``ZaakType``: the KLE number is its first trefwoord (``KLE 29.30.00``)."""
    spec = zt.spec
    return {
        "url": urls.zaaktype(zt),
        "identificatie": zt.identificatie,
        "omschrijving": spec.omschrijving,
        "omschrijvingGeneriek": "",
        "vertrouwelijkheidaanduiding": spec.vertrouwelijkheid,
        "doel": f"{spec.omschrijving} (KLE {spec.kle}).",
        "aanleiding": f"Borgeren vil {spec.handeling_initiator.lower()} via selvbetjening.",
        "toelichting": "",
        "indicatieInternOfExtern": "extern",
        "handelingInitiator": spec.handeling_initiator,
        "onderwerp": spec.onderwerp,
        "handelingBehandelaar": "Behandle",
        "doorlooptijd": f"P{spec.doorlooptijd_days}D",
        "servicenorm": f"P{spec.servicenorm_days}D",
        "opschortingEnAanhoudingMogelijk": False,
        "verlengingMogelijk": False,
        "verlengingstermijn": None,
        "trefwoorden": [f"KLE {spec.kle}"],
        "publicatieIndicatie": False,
        "publicatietekst": "",
        "verantwoordingsrelatie": [],
        "productenOfDiensten": [],
        "referentieproces": {"naam": spec.flow.name},
        "concept": False,
        "verantwoordelijke": spec.unit,
        "beginGeldigheid": CATALOGUE_DATE.isoformat(),
        "eindeGeldigheid": None,
        "versiedatum": CATALOGUE_DATE.isoformat(),
        "beginObject": CATALOGUE_DATE.isoformat(),
        "eindeObject": CATALOGUE_DATE.isoformat(),
        "catalogus": urls.catalogus(register),
        "statustypen": [urls.statustype(s) for s in zt.statustypen],
        "resultaattypen": [],
        "eigenschappen": [],
        "informatieobjecttypen": [],
        "roltypen": [urls.roltype(zt.initiator), urls.roltype(zt.behandelaar)],
        "besluittypen": [],
        "deelzaaktypen": [],
        "gerelateerdeZaaktypen": [],
        "zaakobjecttypen": [],
    }


def statustype_json(urls: Urls, register: ZgwRegister, zt: ZaakType, st: StatusType) -> dict:
    """A ``StatusType`` with its ``volgnummer`` and citizen-facing ``statustekst``."""
    return {
        "url": urls.statustype(st),
        "omschrijving": st.omschrijving,
        "omschrijvingGeneriek": "",
        "statustekst": st.statustekst,
        "zaaktype": urls.zaaktype(zt),
        "zaaktypeIdentificatie": zt.identificatie,
        "volgnummer": st.volgnummer,
        "isEindstatus": st.final,
        "informeren": True,
        "doorlooptijd": None,
        "toelichting": None,
        "checklistitemStatustype": [],
        "catalogus": urls.catalogus(register),
        "eigenschappen": [],
        "zaakobjecttypen": [],
        "beginGeldigheid": CATALOGUE_DATE.isoformat(),
        "eindeGeldigheid": None,
        "beginObject": CATALOGUE_DATE.isoformat(),
        "eindeObject": CATALOGUE_DATE.isoformat(),
    }


def roltype_json(urls: Urls, register: ZgwRegister, zt: ZaakType, rt: RolType) -> dict:
    """A ``RolType``."""
    return {
        "url": urls.roltype(rt),
        "zaaktype": urls.zaaktype(zt),
        "zaaktypeIdentificatie": zt.identificatie,
        "omschrijving": rt.omschrijving,
        "omschrijvingGeneriek": rt.generiek,
        "catalogus": urls.catalogus(register),
        "beginGeldigheid": CATALOGUE_DATE.isoformat(),
        "eindeGeldigheid": None,
        "beginObject": CATALOGUE_DATE.isoformat(),
        "eindeObject": CATALOGUE_DATE.isoformat(),
    }


def _person(m: Municipality, cpr: str) -> dict:
    """``NatuurlijkPersoonIdentificatie``. The CPR number goes in ``anpIdentificatie``:
    ``inpBsn`` is exactly nine characters (a Dutch BSN), a CPR number is ten. No address
    for a person with name and address protection."""
    person = m.citizen(cpr)
    body: dict = {"anpIdentificatie": cpr}
    if person is None:
        return body
    body.update(
        geslachtsnaam=person.last_name,
        voorvoegselGeslachtsnaam="",
        voorletters="".join(f"{w[0]}." for w in person.first_name.split()),
        voornamen=person.first_name,
        geslachtsaanduiding="m" if person.gender == "M" else "v",
        geboortedatum=person.birth_date.isoformat(),
        verblijfsadres=None if person.protected else _address(person.address),
        subVerblijfBuitenland=None,
    )
    return body


def _address(address: Address) -> dict:
    """``VerblijfsAdres``; the floor, which has no field of its own, as the description."""
    return {
        "aoaIdentificatie": f"sandkasse-adresse-{zlib.crc32(str(address).encode()):08x}",
        "wplWoonplaatsNaam": address.by,
        "gorOpenbareRuimteNaam": address.street,
        "aoaPostcode": address.postnummer,
        "aoaHuisnummer": address.number,
        "aoaHuisletter": "",
        "aoaHuisnummertoevoeging": "",
        "inpLocatiebeschrijving": address.floor or "",
    }


def _stamp(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")
