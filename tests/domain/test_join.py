"""Join: the same matter seen by two systems shows once, with both sources."""

import datetime as dt

from borgersag.domain.join import join_cases
from borgersag.domain.model import Case, Document, DocumentType, Progress, ProgressStep, Provenance

T = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)


def case(
    source, native, keys=(), *, changed=dt.date(2025, 1, 1), docs=(), progress=Progress.OPLYST
):
    return Case(
        id=f"{source}/{native}",
        sagsnummer=native,
        title=f"{source} {native}",
        provenance=Provenance(source, T),
        join_keys=frozenset(keys),
        progress=progress,
        progress_history=(ProgressStep(progress, changed),),
        documents=tuple(Document(d, d, DocumentType.ANDET, None, source=source) for d in docs),
        opened=dt.date(2024, 5, 1) if source == "byg" else dt.date(2024, 6, 1),
    )


def test_cases_sharing_a_join_key_become_one():
    esdh = case("esdh", "1", ["byggesag:B1"], docs=["d1"], changed=dt.date(2025, 1, 1))
    byg = case(
        "byg",
        "B1",
        ["byggesag:B1"],
        docs=["d2"],
        changed=dt.date(2025, 3, 1),
        progress=Progress.AFGJORT,
    )
    other = case("esdh", "2")
    joined = join_cases([esdh, other, byg])
    assert [c.id for c in joined] == ["byg/B1", "esdh/2"]
    merged = joined[0]
    assert merged.progress is Progress.AFGJORT  # the most recently changed view leads
    assert [p.source for p in merged.all_sources] == ["byg", "esdh"]
    assert merged.also_known_as == ("esdh/1",)
    assert {d.id for d in merged.documents} == {"d1", "d2"}
    assert merged.opened == dt.date(2024, 5, 1)


def test_join_is_transitive():
    a = case("a", "1", ["x:1"])
    b = case("b", "2", ["x:1", "y:2"])
    c = case("c", "3", ["y:2"])
    joined = join_cases([a, b, c])
    assert len(joined) == 1
    assert len(joined[0].all_sources) == 3


def test_cases_without_join_keys_are_untouched():
    cases = [case("a", str(i)) for i in range(5)]
    assert join_cases(cases) == cases


def test_joined_timeline_shows_every_systems_status_changes():
    esdh = case("esdh", "1", ["byggesag:B1"], changed=dt.date(2025, 3, 1))
    byg = case("byg", "B1", ["byggesag:B1"], changed=dt.date(2025, 1, 1))
    merged = join_cases([esdh, byg])[0]
    timeline = [(e.date, e.source) for e in merged.timeline()]
    assert (dt.date(2025, 1, 1), "byg") in timeline
    assert (dt.date(2025, 3, 1), "esdh") in timeline
