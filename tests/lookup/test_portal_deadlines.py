"""One case's details and one document are fetched under deadlines: a hung source costs
the page a note, never a long wait; a document may be larger than an answer."""

import pytest

from borgersag.config.loader import Config
from borgersag.lookup.portal import Portal
from borgersag.sdk.connector import DocumentContent
from borgersag.sdk.errors import FatalError, SourceTimeout
from borgersag.sdk.http import SourceSession

from support.fakes import FakeSource
from support.misbehaving import MB, Misbehaving, timed

DEADLINE = 0.5
SLACK = 0.25


class HttpSource(FakeSource):
    """Asks its server for a case's details and a document."""

    def __init__(self, name, url, **limits):
        super().__init__(name)
        self.http = SourceSession(url, source=name, timeout=3.0, **limits)

    def get_case(self, native_id):
        self.http.get_json(f"sager/{native_id}")
        return self.make_case(0, native_id)

    def get_document(self, case_native_id, document_id):
        body = self.http.call("GET", f"filer/{document_id}").content
        return DocumentContent("fil.pdf", "application/pdf", body)


@pytest.fixture
def portal():
    made = []

    def make(*sources):
        config = Config.from_mapping(
            {"portal": {"deadline_seconds": DEADLINE, "document_deadline_seconds": DEADLINE}}
        )
        built = Portal(config, {s.name: s for s in sources})
        made.append(built)
        return built

    yield make
    for built in made:
        built.close()


@pytest.mark.parametrize("mode", ["hang", "trickle"])
def test_a_case_from_a_hung_source_fails_within_the_deadline(portal, mode):
    with Misbehaving(mode, interval=0.1) as server:
        built = portal(HttpSource("esdh", server.url))
        error, took = timed(lambda: built.get_case("esdh/1"))
    assert isinstance(error, SourceTimeout)
    assert took < DEADLINE + SLACK


def test_a_joined_case_is_shown_without_the_view_that_hangs(portal):
    with Misbehaving("ok") as ok, Misbehaving("hang") as hung:
        built = portal(HttpSource("esdh", ok.url), HttpSource("byg", hung.url))
        case, took = timed(lambda: built.get_case("esdh/1", also_known_as=("byg/1",)))
    assert case.id == "esdh/1-0" and [p.source for p in case.all_sources] == ["esdh"]
    assert took < DEADLINE + SLACK


def test_a_joined_case_whose_main_system_hangs_keeps_the_others_view(portal):
    with Misbehaving("hang") as hung, Misbehaving("ok") as ok:
        built = portal(HttpSource("esdh", hung.url), HttpSource("byg", ok.url))
        case, took = timed(lambda: built.get_case("esdh/1", also_known_as=("byg/1",)))
    assert [p.source for p in case.all_sources] == ["byg"]  # what answered, not an error
    assert took < DEADLINE + SLACK


def test_a_joined_case_with_no_system_answering_raises_the_main_ones_error(portal):
    with Misbehaving("hang") as first, Misbehaving("hang") as second:
        built = portal(HttpSource("esdh", first.url), HttpSource("byg", second.url))
        error, took = timed(lambda: built.get_case("esdh/1", also_known_as=("byg/1",)))
    assert isinstance(error, SourceTimeout)
    assert took < DEADLINE + SLACK


def test_a_document_download_has_its_deadline(portal):
    with Misbehaving("trickle", interval=0.1) as server:
        built = portal(HttpSource("esdh", server.url))
        error, took = timed(lambda: built.get_document("esdh/1", "7"))
    assert isinstance(error, SourceTimeout)
    assert took < DEADLINE + SLACK


def test_a_document_may_be_larger_than_an_answer(portal):
    with Misbehaving("huge", size=3 * MB) as server:
        source = HttpSource("esdh", server.url, max_response_bytes=MB, max_document_bytes=8 * MB)
        built = portal(source)
        assert len(built.get_document("esdh/1", "7").content) >= 3 * MB
        error, _ = timed(lambda: built.get_case("esdh/1"))
    assert isinstance(error, FatalError)
    assert "mere end 1 MB" in error.message
