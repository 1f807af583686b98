"""Small in-process connectors for engine tests: no network, behaviour set per test."""

from __future__ import annotations

import datetime as dt
import threading
import time

from borgersag.domain.keys import KeyKind, Matrikel
from borgersag.domain.model import Case, Progress, ProgressStep
from borgersag.domain.person import Person
from borgersag.domain.relations import Relation, RelationRole
from borgersag.sdk.connector import Connector, Setting
from borgersag.sdk.errors import FatalError, RetriableError
from borgersag.sdk.http import SourceSession
from borgersag.sdk.records import Records, Unreadable


class FakeSource(Connector):
    """Answers from a dict key -> list of case titles; can be slow, hang or fail."""

    type_name = "fake"
    title = "Fake"
    key_kinds = frozenset({KeyKind.CPR})
    settings_schema = (Setting("base_url", str, default="http://fake.invalid/"),)

    def __init__(
        self,
        name,
        *,
        kinds=(KeyKind.CPR,),
        cases=None,
        delay=0.0,
        fail=None,
        join_keys=None,
        unreadable=0,
        truncated=False,
    ):
        super().__init__(name, {}, SourceSession("http://fake.invalid/", source=name))
        self.key_kinds = frozenset(kinds)
        self.cases = cases or {}
        self.delay = delay
        self.fail = fail  # None | "retriable" | "fatal" | "bug" | "hang"
        self.join_keys = join_keys or {}
        self.unreadable = unreadable  # records the answer says it could not read
        self.truncated = truncated  # the answer says there may be more than it holds
        self.calls = 0
        self.running = 0  # calls in progress now
        self.peak = 0  # the most calls in progress at once
        self.release = threading.Event()
        self._lock = threading.Lock()

    def search(self, key):
        with self._lock:
            self.calls += 1
            self.running += 1
            self.peak = max(self.peak, self.running)
        try:
            return self._answer(key)
        finally:
            with self._lock:
                self.running -= 1

    def _answer(self, key):
        if self.delay:
            time.sleep(self.delay)
        if self.fail == "hang":
            self.release.wait(30)
        elif self.fail == "retriable":
            raise RetriableError(f"{self.name} svarede med fejl 503.", status_code=503)
        elif self.fail == "fatal":
            raise FatalError(f"{self.name} sendte et svar, der ikke er gyldig JSON.")
        elif self.fail == "bug":
            raise KeyError("Results")
        cases = [self.make_case(n, title) for n, title in enumerate(self.cases.get(key.value, []))]
        if not (self.unreadable or self.truncated):
            return cases
        problems = [
            Unreadable(f"sager[{i}]", f"sager[{i}].nummer", "mangler")
            for i in range(len(cases), len(cases) + self.unreadable)
        ]
        return Records(
            cases,
            problems=problems,
            truncated=self.truncated,
            at_least=len(cases) + self.unreadable if self.truncated else None,
        )

    def make_case(self, n, title):
        opened = dt.date(2024, 1, 1) + dt.timedelta(days=n)
        return Case(
            id=self.case_id(f"{title}-{n}"),
            sagsnummer=f"{self.name.upper()}-{n}",
            title=title,
            provenance=self.provenance(),
            area="Byggeri" if "byg" in title.lower() else "Beskæftigelse",
            opened=opened,
            progress=Progress.OPLYST,
            progress_history=(ProgressStep(Progress.OPSTAAET, opened),),
            join_keys=frozenset(self.join_keys.get(title, ())),
        )


class FakeOwnership(Connector):
    """Relation source: CPR -> parcels."""

    type_name = "fake-ejer"
    relation_kinds = frozenset({KeyKind.CPR})
    settings_schema = ()

    def __init__(self, name, parcels, *, fail=None):
        super().__init__(name, {}, SourceSession("http://fake.invalid/", source=name))
        self.parcels = parcels
        self.fail = fail

    def relations(self, key):
        if self.fail:
            raise RetriableError(f"{self.name} kunne ikke kontaktes.")
        return [
            Relation(Matrikel.parse(p), f"ejer af matrikel {p}", role=RelationRole.OWNER)
            for p in self.parcels.get(key.value, [])
        ]


class FakeRegister(Connector):
    """Person register: CPR -> name, address and protection (no cases)."""

    type_name = "fake-cpr"
    person_kinds = frozenset({KeyKind.CPR})
    settings_schema = ()

    def __init__(self, name, people, *, fail=None):
        super().__init__(name, {}, SourceSession("http://fake.invalid/", source=name))
        self.people = people  # CPR value -> (name, address, protected)
        self.fail = fail
        self.asked = []

    def person(self, key):
        self.asked.append(key)
        if self.fail:
            raise RetriableError(f"{self.name} kunne ikke kontaktes.")
        if key.value not in self.people:
            return []
        name, address, protected = self.people[key.value]
        return [Person(key, name, address, protected)]
