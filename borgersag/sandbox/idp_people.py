"""The demo people of the sandbox identity providers: who you can sign in as, and as what.

:func:`demo_citizens` gives the MitID test people: the municipality's demo citizens
(typical, co-owner, many cases, protected, no cases, and one with only level of assurance
low, whom the portal refuses) with Signicat's claim names. :func:`demo_staff` gives the
staff test people, one per unit, each showing one kind of access (everything,
administrator, a few KLE groups, the data-protection officer, no role at all). Each is a
:class:`DemoPerson`.

Their ``sub`` is a stable pseudonym, the same for every run and every seed, never a CPR
number or a medarbejdernummer. Plain Python: the identity provider apps in
:mod:`borgersag.sandbox.idp`, the demo's start-up banner and the tests all use these.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

from borgersag.domain.model import Sensitivity
from borgersag.sandbox.data import Employee, Municipality

__all__ = [
    "LOA_HIGH",
    "LOA_LOW",
    "LOA_SUBSTANTIAL",
    "DemoPerson",
    "demo_citizens",
    "demo_staff",
]

LOA_LOW, LOA_SUBSTANTIAL, LOA_HIGH = "LOW", "SUBSTANTIAL", "HIGH"
STAFF_COUNT = 6

# Fixed, so every run and every seed gives the same sub for the same demo role.
_SUB_NAMESPACE = uuid.UUID("5b0f3c8e-6f1d-4a57-9d0e-2c7b8a4f1e63")
_LOA_DA = {LOA_LOW: "lavt", LOA_SUBSTANTIAL: "betydeligt", LOA_HIGH: "højt"}


@dataclass(frozen=True, slots=True)
class DemoPerson:
    """A person the mock provider lets you sign in as with one click.

    ``key`` names the demo role (``typical``, ``caseworker``, ...), ``label`` is the
    Danish description on the provider's page and ``claims`` go into the ID token.
    """

    key: str
    sub: str
    name: str
    label: str
    claims: dict[str, Any] = field(hash=False)


def _sub(provider: str, name: str) -> str:
    return str(uuid.uuid5(_SUB_NAMESPACE, f"{provider}/{name}"))


# Demo role, level of assurance, what the person shows. The partner of the co-owner
# has only level low, to show that the portal refuses it.
_CITIZENS = (
    ("typical", LOA_SUBSTANTIAL, "Typisk borger"),
    ("coowner", LOA_SUBSTANTIAL, "Medejer af en ejendom"),
    ("heavy", LOA_HIGH, "Borger med {cases} sager"),
    ("protected", LOA_SUBSTANTIAL, "Navne- og adressebeskyttet"),
    ("nothing", LOA_SUBSTANTIAL, "Borger uden sager"),
    ("coowner_partner", LOA_LOW, "Kun sikringsniveau lavt (afvises)"),
)


def demo_citizens(municipality: Municipality) -> tuple[DemoPerson, ...]:
    """The MitID test people: the municipality's demo citizens with Signicat claim names."""
    people = []
    for role, loa, what in _CITIZENS:
        cpr = getattr(municipality.demo, role)
        citizen = municipality.citizen(cpr)
        if citizen is None:
            continue
        label = what.format(cases=len(municipality.cases_for(cpr)))
        if loa != LOA_LOW:
            label = f"{label} — sikringsniveau {_LOA_DA[loa]}"
        claims = {
            "nin": citizen.cpr,
            "name": citizen.name,
            "given_name": citizen.first_name,
            "family_name": citizen.last_name,
            "mitid_loa": loa,
            "mitid_name_and_address_protection": "true" if citizen.protected else "false",
        }
        people.append(DemoPerson(role, _sub("mitid", role), citizen.name, label, claims))
    return tuple(people)


def _sensitivity(level: Sensitivity) -> str:
    return level.name.lower()


def _demo_employees(municipality: Municipality) -> list[Employee]:
    """The demo caseworker (most cases) first, then one employee from each other unit."""
    ordered = sorted(
        municipality.employees,
        key=lambda e: (e.medarbejdernummer != municipality.demo.caseworker, e.unit, e.name),
    )
    chosen: list[Employee] = []
    units: set[str] = set()
    for employee in ordered:
        if employee.unit not in units:
            units.add(employee.unit)
            chosen.append(employee)
        if len(chosen) == STAFF_COUNT:
            break
    return chosen


def _officer(municipality: Municipality, chosen: list[Employee]) -> Employee | None:
    """The data-protection officer: an employee of a unit none of the others is from."""
    units = {e.unit for e in chosen}
    numbers = {e.medarbejdernummer for e in chosen}
    rest = sorted(
        (e for e in municipality.employees if e.medarbejdernummer not in numbers),
        key=lambda e: (e.unit in units, e.unit, e.name),
    )
    return rest[0] if rest else None


def demo_staff(municipality: Municipality) -> tuple[DemoPerson, ...]:
    """The staff test people, one per unit, each showing one kind of access.

    ``caseworker`` (the demo caseworker) sees everything; ``administrator`` also has the
    administrator role; ``restricted`` sees only their unit's KLE groups (the social
    area when possible: it has cases at every sensitivity) up to confidential data;
    ``no_role`` has no role in borgersag and is refused; the rest (``unit_<KLE>``) are
    ordinary caseworkers limited to their unit's KLE groups. ``dpo``, from a unit of its
    own, is the data-protection officer: it searches the audit log and looks no one up.
    """
    employees = _demo_employees(municipality)
    rest = employees[2:]
    restricted = next((e for e in rest if "27" in e.kle_groups), rest[0] if rest else None)
    others = [e for e in rest if e is not restricted]
    no_role = others.pop() if others else None
    people = []
    for index, employee in enumerate(employees):
        unit, kle = employee.unit, list(employee.kle_groups)
        shown_kle = ", ".join(kle)
        if index == 0:
            key, roles, allowed, level = "caseworker", ["sagsbehandler"], [], Sensitivity.VIP
            label = f"Sagsbehandler, {unit} — alle KLE-emner og følsomhedsniveauer"
        elif index == 1:
            key, roles, allowed = "administrator", ["sagsbehandler", "administrator"], []
            level = Sensitivity.FOELSOMME_PERSONOPLYSNINGER
            label = f"Sagsbehandler og administrator, {unit} — alle KLE-emner"
        elif employee is restricted:
            key, roles, allowed = "restricted", ["sagsbehandler"], kle
            level = Sensitivity.FORTROLIGE_PERSONOPLYSNINGER
            label = f"Sagsbehandler, {unit} — kun KLE {shown_kle}, højst fortrolige oplysninger"
        elif employee is no_role:
            key, roles, allowed, level = "no_role", [], kle, Sensitivity.IKKE_FORTROLIG
            label = f"{unit} — ingen rolle i borgersag (afvises)"
        else:
            key, roles, allowed = f"unit_{kle[0]}", ["sagsbehandler"], kle
            level = Sensitivity.FOELSOMME_PERSONOPLYSNINGER
            label = f"Sagsbehandler, {unit} — KLE {shown_kle}"
        claims = {
            "name": employee.name,
            "medarbejdernummer": employee.medarbejdernummer,
            "organisationsenhed": unit,
            "roles": roles,
            "kle_emner": allowed,
            "max_foelsomhed": _sensitivity(level),
        }
        sub = _sub("medarbejderlogin", employee.medarbejdernummer)
        people.append(DemoPerson(key, sub, employee.name, label, claims))
    officer = _officer(municipality, employees)
    if officer is not None:
        claims = {
            "name": officer.name,
            "medarbejdernummer": officer.medarbejdernummer,
            "organisationsenhed": officer.unit,
            "roles": ["databeskyttelsesraadgiver"],
            "kle_emner": [],
            "max_foelsomhed": _sensitivity(Sensitivity.IKKE_FORTROLIG),
        }
        label = (
            f"Databeskyttelsesrådgiver, {officer.unit} — søger i loggen over opslag, slår ingen op"
        )
        sub = _sub("medarbejderlogin", officer.medarbejdernummer)
        people.append(DemoPerson("dpo", sub, officer.name, label, claims))
    # The special cases first, the refused one last, as on the MitID page.
    rank = {"caseworker": 0, "administrator": 1, "restricted": 2, "dpo": 3, "no_role": 9}
    return tuple(sorted(people, key=lambda p: rank.get(p.key, 5)))
