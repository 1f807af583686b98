"""Toy connectors for tests/testing/test_testing_suite.py: one good, the rest broken one way each.

``ToySuite`` opts a toy into the conformance suite; the meta-tests run it with pytester
and check that exactly the right checks fail.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import urllib.request

from borgersag import (
    API_KEY_SETTINGS,
    Case,
    Connector,
    FatalError,
    KeyKind,
    Progress,
    ProgressStep,
    Records,
    RetriableError,
    Setting,
    SourceError,
    api_key_auth,
)
from borgersag.testing import ConformanceSuite

RECORDED = {"id": 7, "nummer": "S-7", "titel": "Bostøtte", "oprettet": "2024-03-05"}
SETTINGS = {"base_url": "https://unused.invalid/", "api_key": "k3y"}
SAMPLE_KEYS = {KeyKind.CPR: "010190-1234"}
ONE_CASE_PER_PAGE = {"page_size": 1}


class Toy(Connector):
    """A well-behaved connector: POSTs the CPR number, pages boundedly, reads defensively."""

    type_name = "toy"
    title = "Toy"
    key_kinds = frozenset({KeyKind.CPR})
    settings_schema = (
        Setting("base_url", str, "root URL of the API"),
        *API_KEY_SETTINGS,
        Setting("page_size", int, "cases per page", default=50),
        Setting("max_pages", int, "most pages per search", default=10),
    )

    @classmethod
    def make_auth(cls, settings):
        """The API key."""
        return api_key_auth(settings)

    def fetch(self, key, page):
        """One page of the search."""
        body = {"cpr": key.value, "side": page, "antal": self.settings["page_size"]}
        return self.http.post_json("sager/soeg", body)

    def search(self, key):
        """Bounded paging over ``fetch``; records read one by one."""
        read, cases, seen = self.reader, Records(), 0
        for page in range(1, self.settings["max_pages"] + 1):
            body = read.expect(self.fetch(key, page), dict, "svaret")
            items = read.field(body, "sager", list, "svaret")
            total = read.field(body, "antal", int, "svaret")
            cases.merge(self.page(read, items, seen))
            seen += len(items)
            if len(items) < self.settings["page_size"] or seen >= total:
                return cases
        raise FatalError(f"{self.display_name} har flere sager, end max_pages tillader.")

    def page(self, read, items, seen):
        """One page's records, read one by one."""
        return read.each(items, "sager", lambda raw, at: self.case(read, raw, at), start=seen)

    def case(self, read, raw, where):
        """One recorded case, mapped."""
        opened = read.date(raw, "oprettet", where, required=True)
        return Case(
            id=self.case_id(read.field(raw, "id", int, where)),
            sagsnummer=read.text(raw, "nummer", where, required=True),
            title=read.text(raw, "titel", where, required=True),
            provenance=self.provenance(),
            progress=Progress.OPLYST,
            progress_history=(ProgressStep(Progress.OPSTAAET, opened),),
            opened=opened,
        )


class ToySuite(ConformanceSuite):
    """The opt-in a toy's test module subclasses (with ``connector = <toy>``)."""

    connector = Toy
    settings = SETTINGS
    sample_keys = SAMPLE_KEYS
    endless_settings = ONE_CASE_PER_PAGE

    def backend(self, mock, base_url):
        mock.post(base_url + "sager/soeg", json={"sager": [RECORDED], "antal": 1})


class KeyErrorOnGarbage(Toy):
    """Indexes the body directly: garbage becomes KeyError/TypeError."""

    def search(self, key):
        cases = []
        for page in range(1, self.settings["max_pages"] + 1):
            body = self.fetch(key, page)
            items = body["sager"]
            cases += [self.plain_case(raw) for raw in items]
            if len(items) < self.settings["page_size"] or len(cases) >= body["antal"]:
                return cases
        raise FatalError(f"{self.display_name} har for mange sider.")

    def plain_case(self, raw):
        opened = dt.date.fromisoformat(raw["oprettet"])
        return Case(
            id=self.case_id(raw["id"]),
            sagsnummer=raw["nummer"],
            title=raw["titel"],
            provenance=self.provenance(),
            progress_history=(ProgressStep(Progress.OPSTAAET, opened),),
            opened=opened,
        )


class LosesTheAnswer(Toy):
    """Maps a page's records all at once: one unreadable record fails every good one."""

    def page(self, read, items, seen):
        raws = [read.expect(raw, dict, f"sager[{seen + i}]") for i, raw in enumerate(items)]
        return [self.case(read, raw, f"sager[{seen + i}]") for i, raw in enumerate(raws)]


class DropsSilently(Toy):
    """Skips what it cannot read without saying so: good-looking but incomplete."""

    def page(self, read, items, seen):
        found = super().page(read, items, seen)
        return list(found)[:-1] if found.problems else list(found)


class EndlessPaging(Toy):
    """Follows pages for as long as the backend says there are more."""

    def search(self, key):
        read, cases, page, seen = self.reader, Records(), 1, 0
        while True:
            body = read.expect(self.fetch(key, page), dict, "svaret")
            items = read.field(body, "sager", list, "svaret")
            cases.merge(self.page(read, items, seen))
            seen += len(items)
            total = read.field(body, "antal", int, "svaret")
            if len(items) < self.settings["page_size"] or seen >= total:
                return cases
            page += 1


class SwallowsRetriable(Toy):
    """Turns a failing source into "no cases"."""

    def search(self, key):
        try:
            return super().search(key)
        except RetriableError:
            return []


class RawHttpErrors(Toy):
    """Bypasses the classified calls: raw requests exceptions escape."""

    def fetch(self, key, page):
        response = self.http.post("sager/soeg", json={"cpr": key.value, "side": page})
        response.raise_for_status()
        return response.json()


class CprInUrl(Toy):
    """Puts the CPR number in the path."""

    def fetch(self, key, page):
        return self.http.get_json(f"personer/{key.value}/sager", params={"side": page})


class CprInUrlSuite(ToySuite):
    """CprInUrl's recorded backend."""

    connector = CprInUrl

    def backend(self, mock, base_url):
        body = {"sager": [RECORDED], "antal": 1}
        mock.get(base_url + "personer/0101901234/sager", json=body)


class BadRecords(Toy):
    """Ids without the source name, a datetime where a date belongs."""

    def case(self, read, raw, where):
        case = super().case(read, raw, where)
        return dataclasses.replace(
            case, id=f"toy/{case.sagsnummer}", opened=dt.datetime(2024, 1, 1)
        )


class CprInTitle(Toy):
    """Writes the CPR number into the title."""

    def search(self, key):
        return [
            dataclasses.replace(c, title=f"Sag for {key.format()}") for c in super().search(key)
        ]


class OpensSockets(Toy):
    """Pings a host of its own with urllib, and hides the failure."""

    def search(self, key):
        with contextlib.suppress(Exception):  # the point of this toy
            urllib.request.urlopen("http://status.invalid/ping", timeout=1)
        return super().search(key)


class UnrecordedEndpoint(Toy):
    """Asks an endpoint the recording does not have, and hides the failure."""

    def search(self, key):
        with contextlib.suppress(SourceError):
            self.http.get_json("status")
        return super().search(key)


class LaxSettings(Toy):
    """Accepts anything as settings."""

    @classmethod
    def validate_settings(cls, raw, file="<config>", prefix=""):
        return {s.name: raw.get(s.name, s.default) for s in cls.settings_schema}


class NamelessErrors(Toy):
    """Errors that do not say which source failed."""

    def search(self, key):
        try:
            return super().search(key)
        except SourceError as exc:
            raise type(exc)("Noget gik galt.") from None


class UndeclaredSearch(Connector):
    """Declares key kinds without a search, a setting that clashes, a secret in code."""

    type_name = "Udeklareret"
    key_kinds = frozenset({KeyKind.CPR, KeyKind.BFE})
    settings_schema = (
        Setting("base_url", str, "root URL"),
        Setting("title", str, "clashes with the common setting", default=""),
        Setting("password", str, "a secret with a default", default="hemmelig", secret=True),
        Setting("retries", int, "", default="3"),
    )
