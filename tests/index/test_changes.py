"""Change detection on two sets of facts of one case: what a citizen would want to hear."""

import datetime as dt

import pytest

from borgersag.domain.model import Progress
from borgersag.index.changes import CaseFacts, changes

D = dt.date(2026, 3, 1)
BASE = CaseFacts(
    "sbsys/1",
    "sbsys",
    "27.24.00-G01-1-26",
    Progress.OPLYST,
    progress_date=D,
    status_text="Afventer",
    area="Social",
    deadline=dt.date(2026, 5, 1),
    documents=(("d1", D),),
)


def with_(**fields):
    values = {f: getattr(BASE, f) for f in BASE.__dataclass_fields__}
    return CaseFacts(**{**values, **fields})


@pytest.mark.parametrize(
    ("new", "kinds"),
    [
        (BASE, []),
        (with_(status_text="Opklaring"), ["status"]),
        (with_(progress=Progress.AFSLUTTET, status_text="Afsluttet"), ["status"]),
        (with_(progress=Progress.AFGJORT, status_text="Afgjort"), ["decision"]),
        (with_(decided=dt.date(2026, 4, 2)), ["decision"]),
        (with_(documents=(("d1", D), ("d2", dt.date(2026, 4, 1)))), ["document"]),
        (with_(documents=()), []),  # a document gone (withdrawn) is not news
        (with_(deadline=dt.date(2026, 6, 1)), ["deadline"]),
        (with_(deadline=None), []),  # a deadline dropped is not news
        (
            with_(progress=Progress.AFGJORT, documents=(("d1", D), ("d9", None))),
            ["decision", "document"],
        ),
    ],
)
def test_changes_between_two_refreshes(new, kinds):
    assert [c.kind for c in changes(BASE, new)] == kinds


def test_the_same_change_found_twice_has_one_key_and_another_change_another():
    moved = with_(status_text="Opklaring")
    first, again = changes(BASE, moved)[0], changes(BASE, moved)[0]
    assert first.dedup_key(7) == again.dedup_key(7)
    assert first.dedup_key(7) != first.dedup_key(8)  # another subscriber's is their own
    other = changes(BASE, with_(status_text="Afgjort"))[0]
    assert other.dedup_key(7) != first.dedup_key(7)


def test_a_change_holds_no_title_and_no_content():
    change = changes(BASE, with_(documents=(("d1", D), ("d2", D))))[0]
    assert set(change.detail) == {"document_id", "date"}


RECEIPTS = frozenset({"modtaget"})


@pytest.mark.parametrize(
    ("new", "kinds"),
    [
        # the municipality received what the citizen sent: their own doing, not told
        (with_(progress=Progress.OPSTAAET, status_text="Modtaget"), []),
        (with_(status_text=" MODTAGET "), []),
        # the municipality's own moves within the first step are told
        (with_(progress=Progress.OPSTAAET, status_text="Opklaring"), ["status"]),
        # a decision is told whatever its status text says
        (with_(progress=Progress.AFGJORT, status_text="Modtaget"), ["decision"]),
        # the citizen's own letter is not told; the municipality's letter is
        (with_(documents=(("d1", D), ("own", D)), incoming=frozenset({"own"})), []),
        (
            with_(documents=(("d1", D), ("own", D), ("theirs", D)), incoming=frozenset({"own"})),
            ["document"],
        ),
    ],
)
def test_no_change_the_citizen_made_themselves(new, kinds):
    found = changes(BASE, new, RECEIPTS)
    assert [c.kind for c in found] == kinds
    assert all(c.detail.get("document_id") != "own" for c in found)


def test_without_receipt_statuses_a_move_to_modtaget_is_told():
    assert [c.kind for c in changes(BASE, with_(status_text="Modtaget"))] == ["status"]


def test_a_citizen_s_own_letter_seen_in_their_case_is_not_news_and_the_answer_is():
    from dataclasses import replace

    from borgersag.domain.model import DocumentType
    from borgersag.index.changes import facts_of
    from borgersag.people.citizen_view import Access, CitizenCase, CitizenDocument

    def letter(doc_id, kind):
        return CitizenDocument(doc_id, "Brev", kind, D, "sbsys")

    seen = CitizenCase(
        "sbsys/1",
        "27.24.00-G01-1-26",
        "Hjælpemidler",
        Access.PARTY,
        "",
        Progress.OPLYST,
        (),
        ("sbsys",),
        documents=(
            letter("application", DocumentType.BREV_INDGAAENDE),
            letter("answer", DocumentType.BREV_UDGAAENDE),
        ),
    )
    new = facts_of(seen, None)
    before = replace(new, documents=())
    found = changes(before, new)
    assert [(c.kind, c.detail["document_id"]) for c in found] == [("document", "answer")]
