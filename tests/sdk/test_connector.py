"""The connector base class: its working defaults, and building an instance."""

from __future__ import annotations

import pytest
import responses

from borgersag import (
    API_KEY_SETTINGS,
    BFE,
    ConfigError,
    Connector,
    FatalError,
    KeyKind,
    NotFound,
    RetriableError,
    Setting,
    api_key_auth,
    parse_key,
)
from borgersag.lookup.registry import build_connector

CPR = parse_key(KeyKind.CPR, "010190-1234")


class Minimal(Connector):
    """Declares a key kind and overrides nothing."""

    type_name = "minimal"
    title = "Minimal"
    key_kinds = frozenset({KeyKind.CPR})
    settings_schema = (
        *Connector.settings_schema,
        Setting("status_url", str, "where health is asked", default=""),
        *API_KEY_SETTINGS,
    )

    @classmethod
    def make_auth(cls, settings):
        return api_key_auth(settings)


def minimal(**changes):
    raw = {"base_url": "https://min.example/", "api_key": "k", **changes}
    return build_connector(Minimal, "min", raw, title="Min kilde")


def test_build_connector_validates_and_wires_the_session():
    source = minimal()
    assert (source.name, source.display_name) == ("min", "Min kilde")
    assert source.http.base_url == "https://min.example/" and source.http.source == "Min kilde"
    assert source.http.auth.header == "X-Api-Key" and source.http.cert is None
    assert source.reader.source == "Min kilde"


@pytest.mark.parametrize(
    ("change", "key"),
    [({"base_url": "min.example"}, "base_url"), ({"status_url": "ftp://x"}, "status_url")],
)
def test_urls_are_checked_by_default(change, key):
    with pytest.raises(ConfigError) as info:
        minimal(**change)
    assert info.value.key == f"sources.min.{key}" and "http" in info.value.expected


def test_auth_that_cannot_be_built_is_a_config_error():
    class Broken(Minimal):
        @classmethod
        def make_auth(cls, settings):
            return api_key_auth({})

    with pytest.raises(ConfigError) as info:
        build_connector(Broken, "b", {"base_url": "https://b.example/", "api_key": "k"})
    assert info.value.key == "sources.b"


def test_default_search_and_relations():
    source = minimal()
    with pytest.raises(NotImplementedError):
        source.search(CPR)  # declared but not written: a programming error
    with pytest.raises(FatalError) as info:
        source.search(BFE.parse("1"))  # not declared: the source says so
    assert "Min kilde" in info.value.message
    assert source.relations(CPR) == []


def test_default_case_and_document_are_not_found():
    source = minimal()
    with pytest.raises(NotFound):
        source.get_case("1")
    with pytest.raises(NotFound):
        source.get_document("1", "2")


def test_default_health_is_a_classified_get_of_the_base_url():
    source = minimal()
    with responses.RequestsMock() as mock:
        mock.get("https://min.example/", body="velkommen")
        assert source.health() == "svarer"
        mock.replace(responses.GET, "https://min.example/", status=503)
        with pytest.raises(RetriableError):
            source.health()
