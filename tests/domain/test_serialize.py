"""The JSON shape of overviews (documented in docs/api.md)."""

from __future__ import annotations

import json

import pytest

from borgersag.domain.keys import CPR, CVR
from borgersag.domain.serialize import key_to_dict, overview_to_dict

from support.fake_portal import sample_overview


def test_keys_are_kind_and_value_and_cpr_has_its_masked_form():
    assert key_to_dict(CPR.parse("010385-4321")) == {
        "kind": "cpr",
        "value": "0103854321",
        "masked": "010385-xxxx",
    }
    assert key_to_dict(CVR.parse("29189846")) == {"kind": "cvr", "value": "29189846"}


def test_overview_is_plain_json_with_iso_dates_and_enum_values():
    data = overview_to_dict(sample_overview(CPR.parse("0103854321")))
    json.dumps(data)  # only JSON types
    assert data["generated_at"] == "2026-11-01T09:30:00+00:00"
    assert data["complete"] is False
    assert data["unavailable_sources"] == ["momentum"]
    statuses = {s["source"]: s["status"] for s in data["sources"]}
    assert statuses["zaken"] == "empty" and statuses["cvr-arkiv"] == "not_applicable"
    assert next(s for s in data["sources"] if s["source"] == "sag-arkiv")["answered"] is True
    case = data["cases"][0]
    assert case["progress"] == "oplyst"
    assert case["sensitivity"] == 2
    assert case["opened"] == "2024-03-04"
    assert case["documents"][0]["type"] == "brev_indgaaende"
    assert case["parties"][0]["key"]["masked"] == "010385-xxxx"
    assert case["provenance"] == {
        "source": "sbsys",
        "fetched_at": "2026-11-01T09:30:00+00:00",
        "stale": False,
    }
    joined = data["cases"][1]
    assert joined["all_sources"] == ["sbsys", "byggesag"]
    assert joined["subjects"][0] == {"kind": "matrikel", "value": "2000351-12a"}
    assert joined["join_keys"] == []
    assert data["expansions"][0]["key"] == {"kind": "matrikel", "value": "2000351-12a"}


def test_expansions_carry_role_share_and_period():
    import dataclasses
    import datetime as dt

    from borgersag.domain.relations import RelationRole, Share

    overview = sample_overview(CPR.parse("0103854321"))
    sold = dataclasses.replace(
        overview.expansions[0],
        reason="tidligere medejer (1/2) af matrikel 2000351-12a",
        role=RelationRole.PREVIOUS_OWNER,
        share=Share(1, 2),
        since=dt.date(2010, 9, 1),
        until=dt.date(2024, 2, 26),
    )
    data = overview_to_dict(dataclasses.replace(overview, expansions=(sold,)))
    json.dumps(data)
    [expansion] = data["expansions"]
    assert expansion["role"] == "tidligere_ejer"
    assert expansion["share"] == {"numerator": 1, "denominator": 2}
    assert (expansion["since"], expansion["until"]) == ("2010-09-01", "2024-02-26")
    assert expansion["reason"] == "tidligere medejer (1/2) af matrikel 2000351-12a"
    owner = overview_to_dict(overview)["expansions"][0]
    assert (owner["role"], owner["share"], owner["until"]) == ("ejer", None, None)


def test_a_partial_answer_is_in_the_json_and_makes_it_incomplete():
    import dataclasses

    overview = sample_overview(CPR.parse("0103854321"))
    sources = [
        dataclasses.replace(s, unreadable=1, truncated=True, at_least=2000)
        if s.source == "sbsys"
        else s
        for s in overview.sources
        if s.source != "momentum"
    ]
    data = overview_to_dict(dataclasses.replace(overview, sources=tuple(sources)))
    assert data["unavailable_sources"] == [] and data["partial_sources"] == ["sbsys"]
    assert data["complete"] is False
    sbsys = next(s for s in data["sources"] if s["source"] == "sbsys")
    assert (sbsys["unreadable"], sbsys["truncated"], sbsys["at_least"]) == (1, True, 2000)


def test_an_overview_comes_back_from_its_json_as_the_same_value():
    """What the Redis overview store relies on: to_json, then from_json, is the identity —
    for keys of every kind, enums, dates and times, nested cases and expansions."""
    import json

    from borgersag.domain.serialize import overview_from_dict, to_json

    from support.fake_portal import TYPICAL_CPR, sample_overview

    overview = sample_overview(CPR.parse(TYPICAL_CPR), extra_cases=3)
    assert overview.expansions and overview.cases and overview.sources
    assert overview_from_dict(json.loads(json.dumps(to_json(overview)))) == overview


def test_reading_back_refuses_what_it_did_not_write():
    from borgersag.domain.model import Provenance
    from borgersag.domain.serialize import from_json

    good = {"source": "sbsys", "fetched_at": "2026-11-01T09:30:00+00:00", "stale": False}
    assert from_json(Provenance, good).source == "sbsys"
    for bad in ({**good, "extra": 1}, {**good, "stale": "no"}, [good], {**good, "fetched_at": 7}):
        with pytest.raises((ValueError, TypeError)):
            from_json(Provenance, bad)
