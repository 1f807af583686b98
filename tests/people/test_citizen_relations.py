"""Building cases in Mine sager follow the ownership relation's role and period, not its words.

Karen bought (a share of) a property on 1 March 2020. Building cases on it that began
since then are hers; older ones are the previous owner's. Ole sold it to her that day:
he sees the building cases begun while he owned it, none begun after, and nothing dated
after the sale.
"""

from __future__ import annotations

import datetime as dt

import pytest

from borgersag.domain.keys import BFE, CPR, Matrikel
from borgersag.domain.model import (
    Case,
    Document,
    DocumentType,
    Event,
    Overview,
    Party,
    PartyRole,
    Provenance,
    SourceResult,
    SourceStatus,
)
from borgersag.domain.relations import Expansion, RelationRole, Share
from borgersag.people.citizen_policy import CitizenPolicy
from borgersag.people.citizen_view import Access, citizen_view

AT = dt.datetime(2026, 11, 1, 9, 30, tzinfo=dt.UTC)
KAREN = CPR.parse("0103854321")
OLE = CPR.parse("1502701235")
PARCEL = Matrikel.of(2000351, "12a")
ESTATE = BFE.parse("100123456")
SALE = dt.date(2020, 3, 1)
OWNER = RelationRole.OWNER


def owns(role=OWNER, since=SALE, until=None, *, share=None, reason=None, key=PARCEL) -> Expansion:
    """How the ownership register relates the citizen to the parcel."""
    wording = reason or f"{role.label.lower()} af matrikel {key.value}"
    return Expansion(
        key, wording, "ejerfortegnelse", since=since, role=role, share=share, until=until
    )


def building(case_id: str, opened: dt.date | None, **kwargs) -> Case:
    """A building case on the parcel that nobody in these tests is a party of."""
    values = dict(
        sagsnummer=case_id,
        title=f"Byggesag {case_id}",
        provenance=Provenance("byggesag", AT),
        kle="02.34.02",
        subjects=(PARCEL,),
        opened=opened,
    )
    return Case(id=f"byggesag/{case_id}", **{**values, **kwargs})


BEFORE = building("before", dt.date(2018, 6, 1))
ON_THE_DAY = building("on-the-day", SALE)
SINCE = building("since", dt.date(2024, 5, 1))
CASES = (BEFORE, ON_THE_DAY, SINCE)


DEFAULTS = CitizenPolicy()


def shown(cpr, *relations: Expansion, cases=CASES, policy=DEFAULTS) -> list[str]:
    sources = (
        SourceResult("byggesag", "Byggesager", SourceStatus.OK),
        SourceResult("ejerfortegnelse", "Ejerfortegnelsen", SourceStatus.OK),
    )
    overview = Overview(cpr, tuple(cases), sources, AT, relations)
    return [c.id.split("/")[1] for c in citizen_view(overview, cpr, policy).cases]


def test_an_owner_sees_the_building_cases_begun_since_the_purchase():
    assert sorted(shown(KAREN, owns())) == ["on-the-day", "since"]


def test_a_co_owner_sees_them_too():
    half = owns(RelationRole.CO_OWNER, share=Share(1, 2))
    assert sorted(shown(KAREN, half)) == ["on-the-day", "since"]


def test_a_building_case_begun_before_the_purchase_is_hidden_and_unreachable():
    view = citizen_view(Overview(KAREN, CASES, (), AT, (owns(),)), KAREN, DEFAULTS)
    assert view.case("byggesag/before") is None
    assert view.detail(BEFORE) is None


def test_a_previous_owner_does_not_see_cases_begun_after_the_sale():
    sold = owns(RelationRole.PREVIOUS_OWNER, dt.date(2009, 8, 1), SALE)
    assert shown(OLE, sold) == ["before"]


def test_a_previous_owner_sees_nothing_dated_after_the_sale():
    """Letters on a case that outlived the sale went to the new owner."""
    letters = (
        Document("d1", "Høring", DocumentType.BREV_UDGAAENDE, dt.date(2019, 1, 10)),
        Document("d2", "Afgørelse til ny ejer", DocumentType.BREV_UDGAAENDE, dt.date(2020, 5, 2)),
        Document("d3", "Udateret brev", DocumentType.BREV_UDGAAENDE, None),
    )
    events = (
        Event(dt.date(2019, 2, 1), "Frist for bemærkninger", "deadline"),
        Event(dt.date(2020, 6, 1), "Frist for ny ejer", "deadline"),
    )
    long_case = building("long", dt.date(2018, 6, 1), documents=letters, events=events)
    sold = owns(RelationRole.PREVIOUS_OWNER, dt.date(2009, 8, 1), SALE)
    overview = Overview(OLE, (long_case,), (), AT, (sold,))
    [case] = citizen_view(overview, OLE, DEFAULTS).cases
    assert case.access is Access.OWNER
    assert case.reason == "Byggesag på din tidligere ejendom (matrikel 2000351-12a)."
    assert [d.id for d in case.documents] == ["d1"]
    assert [e.title for e in case.events] == ["Frist for bemærkninger"]
    # The new owner, who bought on the day, sees the case only if it began since.
    assert shown(KAREN, owns(), cases=(long_case,)) == []


def test_an_owner_whose_ownership_ended_is_treated_by_its_period():
    ended = owns(OWNER, dt.date(2009, 8, 1), SALE)
    assert shown(OLE, ended) == ["before"]


def test_a_previous_owner_without_the_sale_date_gets_nothing():
    assert shown(OLE, owns(RelationRole.PREVIOUS_OWNER, dt.date(2009, 8, 1), None)) == []


def test_a_case_without_a_start_date_is_not_covered_by_a_dated_ownership():
    undated = building("undated", None)
    assert shown(KAREN, owns(), cases=(undated,)) == []
    # With neither date known, the register says nothing about when: every case counts.
    assert shown(KAREN, owns(since=None), cases=(undated,)) == ["undated"]


@pytest.mark.parametrize("role", [RelationRole.TENANT, RelationRole.EMPLOYEE, RelationRole.OTHER])
def test_the_words_ejer_grant_nothing_without_an_ownership_role(role):
    """The reason text is only wording: the policy reads the role."""
    impostor = owns(role, since=None, reason="ejer af matrikel 2000351-12a (BFE 100123456)")
    assert shown(KAREN, impostor) == []


def test_an_ownership_role_grants_whatever_the_wording():
    plain = owns(reason="registreret på matrikel 2000351-12a", since=None)
    assert sorted(shown(KAREN, plain)) == ["before", "on-the-day", "since"]


def test_a_sold_parcel_and_a_current_one_on_the_same_case():
    """Karen owned the BFE before and owns the parcel now: the current ownership decides."""
    both = building("both", dt.date(2024, 5, 1), subjects=(PARCEL, ESTATE))
    sold = owns(RelationRole.PREVIOUS_OWNER, dt.date(2009, 8, 1), SALE, key=ESTATE)
    overview = Overview(KAREN, (both,), (), AT, (owns(), sold))
    [case] = citizen_view(overview, KAREN, DEFAULTS).cases
    assert case.reason == "Byggesag på din ejendom (matrikel 2000351-12a)."
    assert case.properties == (PARCEL,)


def test_a_primary_party_sees_the_case_whatever_the_ownership():
    applied = building("applied", dt.date(2024, 5, 1), parties=(Party(OLE, PartyRole.PRIMARY),))
    sold = owns(RelationRole.PREVIOUS_OWNER, dt.date(2009, 8, 1), SALE)
    assert shown(OLE, sold, cases=(applied,)) == ["applied"]


def test_the_ownership_register_must_be_an_allowed_source():
    policy = CitizenPolicy(sources=("byggesag",))
    assert shown(KAREN, owns(), policy=policy) == []


# -- end to end: the sandbox register, the engine and Mine sager ---------------------------


def test_a_previous_owner_in_the_sandbox_sees_none_of_the_buyers_building_cases(
    sandbox, live_portal
):
    from borgersag.domain.keys import parse_key

    town = sandbox.municipality
    sold = next(o for o in town.ownerships if o.until and town.building_cases_on_property(o.bfe))
    seller = parse_key("cpr", sold.cpr)
    overview = live_portal.lookup(seller)
    # The caseworker's overview shows the relation and what was found on it …
    estate = next(e for e in overview.expansions if e.key == BFE.parse(str(sold.bfe)))
    assert (estate.role, estate.since, estate.until) == (
        RelationRole.PREVIOUS_OWNER,
        sold.since,
        sold.until,
    )
    assert estate.reason.startswith("tidligere ejer af ejendom BFE")
    on_it = {f"byggesag/{b.sagsnummer}" for b in town.building_cases_on_property(sold.bfe)}
    assert on_it <= {c.id for c in overview.cases} | {
        a for c in overview.cases for a in c.also_known_as
    }
    # … but the seller's Mine sager has none of them: they all began after the sale.
    view = citizen_view(overview, seller, DEFAULTS)
    assert not on_it & {i for c in view.cases for i in (c.id, *c.also_known_as)}
    # The buyer sees them.
    buyer = parse_key("cpr", town.owners_of(sold.bfe)[0].cpr)
    mine = citizen_view(live_portal.lookup(buyer), buyer, DEFAULTS)
    assert on_it <= {i for c in mine.cases for i in (c.id, *c.also_known_as)}


def test_the_pages_show_a_previous_ownership_in_words(sandbox, live_app):
    from support.actions import caseworker_user, citizen_user, csrf_token, sign_in

    town = sandbox.municipality
    sold = next(o for o in town.ownerships if o.until and town.building_cases_on_property(o.bfe))
    buildings = town.building_cases_on_property(sold.bfe)
    client = live_app.test_client()
    sign_in(client, caseworker_user(1))
    form = {"kind": "cpr", "value": sold.cpr, "csrf_token": csrf_token(client)}
    answer = client.post("/", data=form)
    assert sold.cpr not in answer.location
    page = client.get(answer.location).get_data(as_text=True)
    assert f"tidligere ejer af ejendom BFE {sold.bfe} {sold.since:%d.%m.%Y}–" in page
    citizen = live_app.test_client()
    sign_in(citizen, citizen_user(sold.cpr))
    mine = citizen.get("/mine-sager")
    assert mine.status_code == 200
    assert not any(b.sagsnummer in mine.get_data(as_text=True) for b in buildings)
