"""Join: the same matter seen by two systems shows once, with both sources."""

import dataclasses
import datetime as dt

from borgersag.domain.join import join_cases
from borgersag.domain.model import (
    Case,
    Document,
    DocumentType,
    Progress,
    ProgressStep,
    Provenance,
    Sensitivity,
)

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


def doc(source, doc_id, title="Byggetilladelse", date=dt.date(2025, 2, 3), **facts):
    return Document(doc_id, title, DocumentType.ANDET, date, source=source, **facts)


def joined_documents(esdh_docs, byg_docs):
    esdh = case("esdh", "1", ["byggesag:B1"], changed=dt.date(2025, 3, 1))
    byg = case("byg", "B1", ["byggesag:B1"])
    esdh = dataclasses.replace(esdh, documents=tuple(esdh_docs))
    byg = dataclasses.replace(byg, documents=tuple(byg_docs))
    (merged,) = join_cases([esdh, byg])
    return merged.documents


def test_a_document_both_systems_hold_is_listed_once_with_both_named():
    (one,) = joined_documents([doc("esdh", "e1")], [doc("byg", "b7", title=" byggetilladelse ")])
    assert (one.source, one.id) == ("esdh", "e1")  # the leading system's copy
    assert one.also_in == ("byg",)


def test_the_copies_together_decide_how_the_document_may_be_shown():
    (one,) = joined_documents(
        [doc("esdh", "e1", party_may_see=True)],
        [
            doc(
                "byg",
                "b7",
                party_may_see=False,
                sensitivity=Sensitivity.FOELSOMME_PERSONOPLYSNINGER,
            )
        ],
    )
    assert one.party_may_see is False
    assert one.sensitivity is Sensitivity.FOELSOMME_PERSONOPLYSNINGER


def test_documents_that_only_look_alike_stay_apart():
    docs = joined_documents(
        [doc("esdh", "e1"), doc("esdh", "e2"), doc("esdh", "e3", date=None)],
        [
            doc("byg", "b1", date=dt.date(2025, 2, 4)),  # another day
            doc("byg", "b2", title="Byggetilladelse, bilag"),
            doc("byg", "b3", date=None),  # no date: nothing to compare
        ],
    )
    # two of one name on one day in one system are two documents
    assert [(d.source, d.id) for d in docs] == [
        ("esdh", "e1"), ("esdh", "e2"), ("esdh", "e3"), ("byg", "b1"), ("byg", "b2"), ("byg", "b3"),
    ]  # fmt: skip


def test_a_content_digest_decides_when_both_give_one():
    same = "sha_256:" + "ab" * 32
    docs = joined_documents(
        [doc("esdh", "e1", title="Tilladelse", content_hash=same)],
        [doc("byg", "b1", title="Byggetilladelse endelig", date=None, content_hash=same.upper())],
    )
    assert len(docs) == 1 and docs[0].also_in == ("byg",)
    differs = joined_documents(
        [doc("esdh", "e1", content_hash="sha_256:" + "ab" * 32)],
        [doc("byg", "b1", content_hash="sha_256:" + "cd" * 32)],  # same title and date
    )
    assert len(differs) == 2
    other_algorithm = joined_documents(
        [doc("esdh", "e1", content_hash="md5:" + "ab" * 16)],
        [doc("byg", "b1", content_hash="sha_256:" + "cd" * 32)],
    )
    assert len(other_algorithm) == 1  # not comparable: title and date decide
