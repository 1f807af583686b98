"""OS2mo connector: who an employee is, which unit they work in and its KLE responsibilities.

OS2mo is the municipality's organisation register: employees, their engagements in
organisation units, and units tagged with KLE numbers in the aspects Ansvarlig (owns the
subject), Indsigt (may look) and Udførende (does the work). The connector asks OS2mo's
GraphQL API (``POST graphql/v22``) with a fixed query and logs in with OAuth2 client
credentials (OS2mo's Keycloak).

It is an enrichment source, keyed by medarbejdernummer (the engagement's user key):

* :meth:`Os2moConnector.employee` gives an :class:`EmployeeInfo` (name, unit, the unit's
  ancestors, KLE responsibilities by aspect) for pages such as "Mit skrivebord";
* :meth:`Os2moConnector.relations` asks OS2mo about the employee during a lookup, so the
  source panel shows whether the register answered, and returns no keys: the canonical
  model has no key kind for an organisation unit yet.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import requests

from borgersag import (
    OAUTH2_CLIENT_CREDENTIALS_SETTINGS,
    Case,
    Connector,
    FatalError,
    Key,
    KeyKind,
    Relation,
    Setting,
    oauth2_client_credentials_auth,
)

__all__ = ["KLE_ASPECTS", "EmployeeInfo", "KleResponsibility", "Os2moConnector"]

KLE_ASPECTS = ("Ansvarlig", "Indsigt", "Udførende")
GRAPHQL_PATH = "graphql/v22"

EMPLOYEE_QUERY = """
query Employee($user_keys: [String!]) {
  employees(filter: {user_keys: $user_keys}) {
    objects {
      current {
        uuid
        user_key
        name
        engagements {
          user_key
          is_primary
          job_function { name }
          org_unit {
            uuid
            user_key
            name
            ancestors { uuid name }
            kles {
              kle_number { user_key name }
              kle_aspects { user_key name }
            }
          }
        }
      }
    }
  }
}
"""

VERSION_QUERY = "query Version { version { mo_version } }"


@dataclass(frozen=True, slots=True)
class KleResponsibility:
    """A KLE number (main group, group or subject) a unit has, with its aspects."""

    number: str
    title: str | None
    aspects: tuple[str, ...]  # in the order of KLE_ASPECTS


@dataclass(frozen=True, slots=True)
class EmployeeInfo:
    """An employee as the organisation register knows them."""

    medarbejdernummer: str
    name: str
    unit: str | None
    unit_path: tuple[str, ...] = ()  # from the top of the organisation down to the unit
    job_function: str | None = None
    kle: tuple[KleResponsibility, ...] = ()

    def kle_by_aspect(self) -> dict[str, tuple[KleResponsibility, ...]]:
        """The unit's KLE numbers under each aspect (all three keys, possibly empty)."""
        return {a: tuple(k for k in self.kle if a in k.aspects) for a in KLE_ASPECTS}

    def kle_numbers(self, aspect: str) -> tuple[str, ...]:
        """Just the KLE numbers under ``aspect``, e.g. ``("15", "32.18.06")``."""
        return tuple(k.number for k in self.kle if aspect in k.aspects)


class Os2moConnector(Connector):
    """Employees and their units' KLE responsibilities from OS2mo."""

    type_name = "os2mo"
    title = "OS2mo"
    key_kinds = frozenset()
    relation_kinds = frozenset({KeyKind.MEDARBEJDER})
    settings_schema = (
        Setting("base_url", str, "root URL of OS2mo, ending in / (GraphQL at graphql/v22)"),
        *OAUTH2_CLIENT_CREDENTIALS_SETTINGS,  # token_url: OS2mo's Keycloak
    )

    @classmethod
    def make_auth(
        cls, settings: Mapping[str, Any], name: str | None = None
    ) -> requests.auth.AuthBase:
        """OAuth2 client credentials against ``token_url``."""
        return oauth2_client_credentials_auth(settings, name or cls.title)

    # -- the contract ---------------------------------------------------------------------

    def search(self, key: Key) -> list[Case]:
        """Holds no cases (``key_kinds`` is empty, so the engine never asks)."""
        raise FatalError(f"{self.display_name} har ingen sager; den kender kun medarbejdere.")

    def relations(self, key: Key) -> list[Relation]:
        """Looks the employee up (so a failing register shows in the source panel) and
        returns no keys: an organisation unit is not a key kind the engine searches by."""
        if key.kind is KeyKind.MEDARBEJDER:
            self.employee(key.value)
        return []

    def health(self) -> str:
        """Logs in and asks for OS2mo's version: proves URL, credentials and API."""
        data = self._graphql("Version", VERSION_QUERY, {})
        version = self.reader.obj(data, "version", "data")
        shown = self.reader.text(version, "mo_version", "data.version")
        return f"svarer (OS2mo {shown})" if shown else "svarer"

    # -- enrichment -----------------------------------------------------------------------

    def employee(self, medarbejdernummer: str) -> EmployeeInfo | None:
        """The employee with this medarbejdernummer, or ``None`` when OS2mo has no current
        employee with it. Raises classified errors when OS2mo cannot answer."""
        r = self.reader
        data = self._graphql("Employee", EMPLOYEE_QUERY, {"user_keys": [medarbejdernummer]})
        employees = r.obj(data, "employees", "data", required=True)
        # One employee, not a list of records to tolerate: an unreadable employee must not
        # look like "no such employee", so any problem here fails the lookup.
        for i, obj in enumerate(r.items(employees, "objects", "data.employees", required=True)):
            at = f"data.employees.objects[{i}]"
            current = r.field(obj, "current", dict, at, required=False)
            if current is not None:
                return self._employee(current, f"{at}.current", medarbejdernummer)
        return None

    def _graphql(self, operation: str, query: str, variables: dict) -> dict:
        """``data`` of a GraphQL answer; GraphQL ``errors`` are a :class:`FatalError`."""
        r = self.reader
        body = self.http.post_json(
            GRAPHQL_PATH, {"query": query, "operationName": operation, "variables": variables}
        )
        body = r.expect(body, dict, "svaret")
        errors = r.field(body, "errors", list, "svaret", required=False)
        if errors:
            first = errors[0].get("message") if isinstance(errors[0], dict) else None
            detail = f": {first}" if isinstance(first, str) and first else ""
            raise FatalError(f"{self.display_name} afviste forespørgslen {operation}{detail}")
        return r.obj(body, "data", "svaret", required=True)

    def _employee(self, raw: dict, where: str, medarbejdernummer: str) -> EmployeeInfo:
        r = self.reader
        engagements = r.items(raw, "engagements", where)
        index = next((i for i, e in enumerate(engagements) if e.get("is_primary") is True), 0)
        engagement = engagements[index] if engagements else {}
        at = f"{where}.engagements[{index}]"
        unit = self._unit(engagement.get("org_unit"), f"{at}.org_unit")
        job = r.obj(engagement, "job_function", at)
        path: tuple[str, ...] = ()
        kle: tuple[KleResponsibility, ...] = ()
        if unit:
            ancestors = [
                r.text(a, "name", f"{at}.org_unit.ancestors[{i}]", required=True)
                for i, a in enumerate(r.items(unit, "ancestors", f"{at}.org_unit"))
            ]
            name = r.text(unit, "name", f"{at}.org_unit", required=True)
            path = (*reversed(ancestors), name)
            kle = self._kles(r.items(unit, "kles", f"{at}.org_unit"), f"{at}.org_unit.kles")
        return EmployeeInfo(
            medarbejdernummer=r.text(raw, "user_key", where) or medarbejdernummer,
            name=r.text(raw, "name", where, required=True),
            unit=path[-1] if path else None,
            unit_path=path,
            job_function=r.text(job, "name", f"{at}.job_function") if job else None,
            kle=kle,
        )

    def _unit(self, value: Any, where: str) -> dict | None:
        """OS2mo answers ``org_unit`` as a list of units; accept a single object too."""
        if value is None:
            return None
        if isinstance(value, list):
            return self.reader.expect(value[0], dict, f"{where}[0]") if value else None
        return self.reader.expect(value, dict, where)

    def _kles(self, items: list[dict], where: str) -> tuple[KleResponsibility, ...]:
        """KLE numbers with the aspects OS2mo knows; one entry per number, sorted."""
        r = self.reader
        by_name = {a.lower(): a for a in KLE_ASPECTS}
        found: dict[str, tuple[str | None, set[str]]] = {}
        for i, item in enumerate(items):
            at = f"{where}[{i}]"
            number_obj = r.obj(item, "kle_number", at, required=True)
            number = r.text(number_obj, "user_key", f"{at}.kle_number", required=True).strip()
            _, aspects = found.setdefault(
                number, (r.text(number_obj, "name", f"{at}.kle_number"), set())
            )
            for j, aspect in enumerate(r.items(item, "kle_aspects", at)):
                name = r.text(aspect, "name", f"{at}.kle_aspects[{j}]") or r.text(
                    aspect, "user_key", f"{at}.kle_aspects[{j}]"
                )
                if name and name.strip().lower() in by_name:
                    aspects.add(by_name[name.strip().lower()])
        return tuple(
            KleResponsibility(number, title, tuple(a for a in KLE_ASPECTS if a in aspects))
            for number, (title, aspects) in sorted(found.items())
        )
