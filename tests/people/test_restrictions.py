"""Data restrictions and address protection, on hand-built model values (no Flask)."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from borgersag.domain.join import join_cases
from borgersag.domain.keys import CPR
from borgersag.domain.model import (
    Case,
    Document,
    DocumentType,
    Overview,
    Party,
    PartyRole,
    Provenance,
    Sensitivity,
    SourceResult,
    SourceStatus,
)
from borgersag.people.identity import Audience, Restrictions, User
from borgersag.people.restrictions import (
    PROTECTED_ADDRESS,
    case_ids,
    kle_allowed,
    restrict,
    restrict_case,
    visible,
)

T = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
S = Sensitivity
SOCIAL = "Socialområdet, Voksne"
BYG = "Byggeri og Miljø"


def case(
    cid: str,
    *,
    kle: str | None = "27.24.00",
    unit: str | None = SOCIAL,
    sensitivity: Sensitivity = S.IKKE_FORTROLIG,
    **extra,
) -> Case:
    source = cid.split("/")[0]
    return Case(
        id=cid,
        sagsnummer=f"nr-{cid}",
        title=f"Sag {cid}",
        provenance=Provenance(source, T),
        kle=kle,
        unit=unit,
        sensitivity=sensitivity,
        **extra,
    )


NONE = Restrictions()


def user(restrictions: Restrictions = NONE, *permissions: str) -> User:
    return User(
        kind=Audience.CASEWORKER,
        id="cw",
        name="Mette Kjær",
        roles=("sagsbehandler",),
        permissions=frozenset({"opslag", *permissions}),
        restrictions=restrictions,
    )


def overview(cases, sources=()) -> Overview:
    return Overview(CPR.parse("0103854321"), tuple(cases), tuple(sources), T)


PROTECTED = Party(
    CPR.parse("0101901234"), PartyRole.PRIMARY, "Skjult Person", "Hemmelig Vej 1", protected=True
)
PLAIN = Party(CPR.parse("0103854321"), PartyRole.SECONDARY, "Karen Jensen", "Møllevej 4")


# -- the rule: each condition alone -------------------------------------------------------


@pytest.mark.parametrize(
    ("kle", "prefixes", "shown"),
    [
        ("27.24.00", (), True),
        (None, (), True),
        ("27.24.00", ("27",), True),
        ("27.24.00", ("27.24",), True),
        ("27.24.00", ("27.24.00",), True),
        ("27.24.00", ("32", "27"), True),
        ("27.24.00", ("27.",), True),  # a trailing dot is the same level
        ("27.24.00", ("32",), False),
        ("27.24.00", ("27.2",), False),  # not a whole level
        ("27.24.00", ("2",), False),
        ("27.24.00", ("27.24.001",), False),
        (None, ("27",), False),
        ("", ("27",), False),
        ("  ", ("27",), False),
    ],
)
def test_kle_prefix_matches_whole_levels(kle, prefixes, shown):
    assert kle_allowed(kle, prefixes) is shown
    assert visible(case("a/1", kle=kle), Restrictions(kle_prefixes=prefixes)) is shown


@pytest.mark.parametrize(
    ("unit", "units", "shown"),
    [
        (SOCIAL, (), True),
        (None, (), True),
        (SOCIAL, (SOCIAL,), True),
        (SOCIAL, (BYG, SOCIAL), True),
        (BYG, (SOCIAL,), False),
        ("Socialområdet", (SOCIAL,), False),  # a unit is matched by its whole name
        (None, (SOCIAL,), False),
        ("", (SOCIAL,), False),
    ],
)
def test_unit_must_be_one_of_the_units(unit, units, shown):
    assert visible(case("a/1", unit=unit), Restrictions(units=units)) is shown


@pytest.mark.parametrize("maximum", list(Sensitivity))
@pytest.mark.parametrize("level", list(Sensitivity))
def test_sensitivity_up_to_and_including_the_maximum(level, maximum):
    restrictions = Restrictions(max_sensitivity=maximum)
    assert visible(case("a/1", sensitivity=level), restrictions) is (level <= maximum)


def test_sensitivity_boundary():
    restrictions = Restrictions(max_sensitivity=S.FORTROLIGE_PERSONOPLYSNINGER)
    assert visible(case("a/1", sensitivity=S.FORTROLIGE_PERSONOPLYSNINGER), restrictions)
    assert not visible(case("a/1", sensitivity=S.FOELSOMME_PERSONOPLYSNINGER), restrictions)


# -- all together -------------------------------------------------------------------------

ALL = Restrictions(("27",), (SOCIAL,), S.FORTROLIGE_PERSONOPLYSNINGER)


@pytest.mark.parametrize(
    ("changes", "shown"),
    [
        ({}, True),
        ({"kle": "32.18.00"}, False),
        ({"unit": BYG}, False),
        ({"sensitivity": S.VIP}, False),
        ({"kle": None}, False),
        ({"unit": None}, False),
        ({"kle": "32.18.00", "unit": BYG, "sensitivity": S.VIP}, False),
    ],
)
def test_every_restriction_must_hold(changes, shown):
    assert visible(case("a/1", **changes), ALL) is shown


def test_no_restrictions_shows_everything():
    anything = case("a/1", kle=None, unit=None, sensitivity=S.VIP)
    assert visible(anything, Restrictions())


# -- restrict: hidden cases leave only their number ---------------------------------------


def test_restrict_hides_cases_and_counts_them():
    cases = [
        case("esdh/1"),
        case("esdh/2", kle="32.18.00"),
        case("esdh/3", unit=BYG),
        case("esdh/4", sensitivity=S.VIP),
    ]
    view = restrict(overview(cases), user(ALL))
    assert [c.id for c in view.overview.cases] == ["esdh/1"]
    assert view.hidden_count == 3


def test_unrestricted_user_sees_the_overview_unchanged():
    cases = [case("esdh/1", related=("other/9",)), case("esdh/2", sensitivity=S.VIP)]
    sources = [SourceResult("esdh", "ESDH", SourceStatus.OK, case_count=2)]
    original = overview(cases, sources)
    view = restrict(original, user())
    assert view.hidden_count == 0
    assert view.overview == original
    # the very object: what was worked out from a kept overview once (its JSON) is reused
    assert view.overview is original
    narrowed = restrict(original, user(ALL))
    assert narrowed.overview is not original and narrowed.hidden_count == 1


def test_per_source_counts_are_recomputed_to_the_visible_cases():
    cases = [
        case("esdh/1"),
        case("esdh/2", sensitivity=S.VIP),
        case("esdh/3", sensitivity=S.VIP),
        case("byg/B1", sensitivity=S.VIP),
        case("stale/1"),
        case("stale/2", kle=None),
    ]
    sources = [
        SourceResult("esdh", "ESDH", SourceStatus.OK, case_count=3, latency_ms=10.0),
        SourceResult("byg", "Byggesag", SourceStatus.OK, case_count=1),
        SourceResult("stale", "Arkiv", SourceStatus.STALE, case_count=2, age_seconds=60.0),
        SourceResult("ejer", "Ejere", SourceStatus.OK, relation_count=2),
        SourceResult("tom", "Tom", SourceStatus.EMPTY),
        SourceResult("nede", "Nede", SourceStatus.FAILED, message="Serverfejl"),
    ]
    view = restrict(overview(cases, sources), user(ALL))
    by_source = {r.source: r for r in view.overview.sources}
    assert by_source["esdh"].case_count == 1 and by_source["esdh"].status is SourceStatus.OK
    assert by_source["esdh"].latency_ms == 10.0
    # every case of it hidden: it reads like a source with none, not "answered, 0 cases"
    assert by_source["byg"].case_count == 0 and by_source["byg"].status is SourceStatus.EMPTY
    assert by_source["stale"].case_count == 1 and by_source["stale"].status is SourceStatus.STALE
    for name in ("ejer", "tom", "nede"):
        assert by_source[name] == next(s for s in sources if s.source == name)
    assert view.hidden_count == 4


def test_joined_case_counts_for_every_source_it_is_visible_in():
    esdh = case("esdh/1", join_keys=frozenset({"byggesag:B1"}))
    byg = case("byg/B1", join_keys=frozenset({"byggesag:B1"}), unit=None)
    hidden = case("byg/B2", sensitivity=S.VIP)
    cases = join_cases([esdh, byg, hidden])
    sources = [
        SourceResult("esdh", "ESDH", SourceStatus.OK, case_count=1),
        SourceResult("byg", "Byggesag", SourceStatus.OK, case_count=2),
    ]
    view = restrict(overview(cases, sources), user(ALL))
    (joined,) = view.overview.cases
    assert case_ids([joined]) == {"esdh/1", "byg/B1"}
    assert [r.case_count for r in view.overview.sources] == [1, 1]


def test_joined_case_is_as_sensitive_as_its_most_sensitive_system():
    esdh = case("esdh/1", join_keys=frozenset({"x"}), sensitivity=S.FOELSOMME_PERSONOPLYSNINGER)
    byg = case("byg/B1", join_keys=frozenset({"x"}), sensitivity=S.IKKE_FORTROLIG)
    for order in ([esdh, byg], [byg, esdh]):
        (joined,) = join_cases(order)
        assert joined.sensitivity is S.FOELSOMME_PERSONOPLYSNINGER
        view = restrict(overview([joined]), user(ALL))
        assert view.overview.cases == () and view.hidden_count == 1


def test_joined_case_takes_a_unit_from_another_system_when_the_lead_has_none():
    lead = case("byg/B1", join_keys=frozenset({"x"}), unit=None, opened=dt.date(2025, 1, 1))
    esdh = case("esdh/1", join_keys=frozenset({"x"}), unit=SOCIAL)
    (joined,) = join_cases([esdh, lead])
    assert joined.id == "byg/B1" and joined.unit == SOCIAL
    assert visible(joined, Restrictions(units=(SOCIAL,)))


def test_related_ids_are_pruned_to_visible_cases():
    cases = [
        case("esdh/1", related=("esdh/2", "esdh/3", "byg/B1", "elsewhere/7")),
        case("esdh/2", sensitivity=S.VIP),
        case("esdh/3"),
        case("esdh/4", also_known_as=("byg/B1",)),
    ]
    view = restrict(overview(cases), user(ALL))
    first = view.overview.cases[0]
    # the hidden one and the one outside the overview (it cannot be checked) are gone
    assert first.related == ("esdh/3", "byg/B1")
    # an unrestricted user keeps every related id
    assert restrict(overview(cases), user()).overview.cases[0].related == cases[0].related


def test_documents_above_the_highest_sensitivity_are_left_out():
    docs = (
        Document("d1", "Ansøgning", DocumentType.BREV_INDGAAENDE, None),
        Document(
            "d2",
            "Lægeerklæring",
            DocumentType.BREV_INDGAAENDE,
            None,
            sensitivity=S.FOELSOMME_PERSONOPLYSNINGER,
        ),
    )
    view = restrict(overview([case("esdh/1", documents=docs)]), user(ALL))
    assert [d.id for d in view.overview.cases[0].documents] == ["d1"]
    assert view.hidden_count == 0


def test_restrict_twice_changes_nothing():
    cases = [
        case("esdh/1", parties=(PROTECTED,)),
        case("esdh/2", sensitivity=S.VIP),
        case("byg/1", unit=BYG),
    ]
    sources = [
        SourceResult("esdh", "ESDH", SourceStatus.OK, case_count=2),
        SourceResult("byg", "Byggesag", SourceStatus.OK, case_count=1),
    ]
    once = restrict(overview(cases, sources), user(ALL))
    twice = restrict(once.overview, user(ALL))
    assert twice.overview == once.overview and twice.hidden_count == 0


# -- a single case from its source ---------------------------------------------------------


def test_restrict_case_hides_a_detail_outside_the_rules():
    assert restrict_case(case("esdh/1", sensitivity=S.VIP), user(ALL), known_ids=()) is None
    shown = restrict_case(
        case("esdh/1", related=("esdh/2", "esdh/9"), parties=(PROTECTED,)),
        user(ALL),
        known_ids={"esdh/1", "esdh/2"},
    )
    assert shown.related == ("esdh/2",)
    assert shown.parties[0].address == PROTECTED_ADDRESS


# -- name and address protection -----------------------------------------------------------


def test_protected_address_is_masked_name_and_others_kept():
    view = restrict(overview([case("esdh/1", parties=(PROTECTED, PLAIN))]), user())
    masked, plain = view.overview.cases[0].parties
    assert masked.address == PROTECTED_ADDRESS == "Adressebeskyttet"
    assert masked.name == "Skjult Person" and masked.protected
    assert plain == PLAIN


def test_protected_address_without_an_address_still_says_protected():
    party = Party(PROTECTED.key, PartyRole.PRIMARY, None, None, protected=True)
    view = restrict(overview([case("esdh/1", parties=(party,))]), user())
    assert view.overview.cases[0].parties[0].address == PROTECTED_ADDRESS


def test_permission_shows_the_protected_address():
    view = restrict(
        overview([case("esdh/1", parties=(PROTECTED, PLAIN))]), user(ALL, "se_beskyttet_adresse")
    )
    assert view.overview.cases[0].parties == (PROTECTED, PLAIN)


def test_a_citizen_never_sees_a_protected_address():
    may_see = frozenset({"se_beskyttet_adresse"})
    citizen = User(kind=Audience.CITIZEN, id="c", name="Borger", permissions=may_see)
    view = restrict(overview([case("esdh/1", parties=(PROTECTED,))]), citizen)
    assert view.overview.cases[0].parties[0].address == PROTECTED_ADDRESS


# -- the owned property's address of a protected person --------------------------------------


def owner_overview(subject_party: Party) -> Overview:
    from borgersag.domain.keys import BFE
    from borgersag.domain.relations import Expansion, RelationRole

    owned = Expansion(
        BFE.parse("100123456"),
        "ejer af ejendom BFE 100123456",
        "ejer",
        "Hemmelig Vej 1",
        role=RelationRole.OWNER,
    )
    return Overview(
        subject_party.key,
        (case("sbsys/1", parties=(subject_party,)),),
        (),
        T,
        expansions=(owned,),
    )


def test_a_protected_subjects_owned_property_address_is_masked():
    shown = restrict(owner_overview(PROTECTED), user()).overview
    assert [e.address for e in shown.expansions] == [PROTECTED_ADDRESS]
    assert "Hemmelig Vej" not in repr(shown)


def test_the_owned_address_is_shown_when_allowed_or_not_protected():
    allowed = restrict(owner_overview(PROTECTED), user(NONE, "se_beskyttet_adresse")).overview
    assert [e.address for e in allowed.expansions] == ["Hemmelig Vej 1"]
    plain_subject = dataclasses.replace(PROTECTED, protected=False)
    plain = restrict(owner_overview(plain_subject), user()).overview
    assert [e.address for e in plain.expansions] == ["Hemmelig Vej 1"]


def test_a_person_registers_protection_masks_its_address_and_the_owned_property():
    from borgersag.domain.person import Person

    plain_subject = dataclasses.replace(PROTECTED, protected=False)
    register = Person(plain_subject.key, "Bent Laursen", "Hemmelig Vej 1", True, "cpr")
    flagged = dataclasses.replace(owner_overview(plain_subject), persons=(register,))
    shown = restrict(flagged, user()).overview
    assert [p.address for p in shown.persons] == [PROTECTED_ADDRESS]
    assert [e.address for e in shown.expansions] == [PROTECTED_ADDRESS]
    assert "Hemmelig Vej" not in repr(shown)
    allowed = restrict(flagged, user(NONE, "se_beskyttet_adresse")).overview
    assert [p.address for p in allowed.persons] == ["Hemmelig Vej 1"]
