"""Who an overview is about (issue 13, item 1): the person header by CPR, the warning for
name and address protection, the notice when no system knows the number, and a
property's address and owners with a POST that opens an owner's overview, audited."""

from __future__ import annotations

import dataclasses
import datetime as dt
import re

from borgersag.domain.keys import BFE, CPR
from borgersag.domain.model import Overview, SourceResult, SourceStatus
from borgersag.domain.person import Person, known_to_sources, person_facts
from borgersag.domain.relations import Expansion, RelationRole

from support.actions import caseworker_user, csrf_token, sign_in
from support.fake_portal import GENERATED, TYPICAL_CPR, sample_overview

KAREN = CPR.parse(TYPICAL_CPR)
OWNER = CPR.parse("2207802468")
CO_OWNER = CPR.parse("1502701235")
ESTATE = BFE.parse("100123456")
ADDRESS = "Møllevej 4, 8000 Aarhus C"


def look_up(client, kind: str = "cpr", value: str = TYPICAL_CPR) -> tuple[str, str]:
    """POST the form; the overview's address and page."""
    form = {"kind": kind, "value": value, "csrf_token": csrf_token(client)}
    response = client.post("/", data=form)
    assert response.status_code == 303
    url = response.headers["Location"]
    return url, client.get(url).get_data(as_text=True)


def header(page: str) -> str:
    found = re.search(r'<section class="person-header"[^>]*>(.*?)</section>', page, re.S)
    return " ".join(re.sub(r"<[^>]+>", " ", found[1]).split()) if found else ""


def protected(overview: Overview) -> Overview:
    """``overview`` with the subject flagged for name and address protection on one case."""
    first, *rest = overview.cases
    parties = tuple(
        dataclasses.replace(p, protected=True) if p.key == overview.subject else p
        for p in first.parties
    )
    return dataclasses.replace(overview, cases=(dataclasses.replace(first, parties=parties), *rest))


def nobody(key, *, failed: bool = False) -> Overview:
    sources = (
        SourceResult("sbsys", "SBSYS (ESDH)", SourceStatus.EMPTY),
        SourceResult(
            "momentum",
            "Momentum",
            SourceStatus.FAILED if failed else SourceStatus.EMPTY,
        ),
    )
    return Overview(key, (), sources, GENERATED)


def estate(key) -> Overview:
    owners = (
        Expansion(OWNER, "ejer (1/2) af ejendom BFE 100123456", "ejerfortegnelse", ADDRESS,
                  searched=False, role=RelationRole.CO_OWNER),
        Expansion(CO_OWNER, "medejer (1/2) af ejendom BFE 100123456", "ejerfortegnelse",
                  ADDRESS, searched=False, role=RelationRole.CO_OWNER),
    )  # fmt: skip
    sources = (
        SourceResult("ejerfortegnelse", "Ejerfortegnelsen", SourceStatus.OK, relation_count=2),
    )
    return Overview(key, (), sources, GENERATED, expansions=owners)


def age_of(born: dt.date) -> int:
    today = dt.date.today()
    return today.year - born.year - ((today.month, today.day) < (born.month, born.day))


# -- the facts, without Flask ------------------------------------------------------------------


def test_the_register_comes_first_and_parties_fill_in():
    base = sample_overview(KAREN)
    facts = person_facts(base)
    assert (facts.name, facts.address, facts.protected) == ("Karen Holm Jensen", ADDRESS, False)
    register = Person(KAREN, "Karen Holm Jensen", "Ny Adresse 1, 8000 Aarhus C", source="cpr")
    facts = person_facts(dataclasses.replace(base, persons=(register,)))
    assert facts.address == "Ny Adresse 1, 8000 Aarhus C" and facts.sources[0] == "cpr"
    assert facts.birth_date == dt.date(1985, 3, 1)
    assert facts.age(dt.date(2026, 2, 28)) == 40 and facts.age(dt.date(2026, 3, 1)) == 41


def test_protection_from_any_source_masks_the_address_for_a_viewer_who_may_not_see_it():
    shielded = protected(sample_overview(KAREN))
    assert person_facts(shielded).address == ADDRESS  # a role that may see it
    masked = person_facts(shielded, masked_address="Adressebeskyttet")
    assert masked.protected and masked.address == "Adressebeskyttet"
    register = Person(KAREN, "Karen", "Hemmelig vej 1", protected=True, source="cpr")
    only_register = dataclasses.replace(sample_overview(KAREN), persons=(register,))
    assert person_facts(only_register, masked_address="Adressebeskyttet").address == (
        "Adressebeskyttet"
    )


def test_a_property_has_no_person_facts_and_nobody_is_known_by_nothing():
    assert person_facts(estate(ESTATE)) is None
    assert not known_to_sources(nobody(KAREN))
    assert known_to_sources(estate(ESTATE))


# -- the pages ----------------------------------------------------------------------------------


def test_the_overview_says_who_the_person_is(caseworker_client):
    _, page = look_up(caseworker_client)
    shown = header(page)
    assert shown.startswith("Karen Holm Jensen")
    assert f"{age_of(dt.date(1985, 3, 1))} år (født 01.03.1985)" in shown
    assert ADDRESS in shown and "010385-xxxx" in shown
    assert TYPICAL_CPR not in shown and "010385-4321" not in shown
    assert "Navne- og adressebeskyttelse" not in page
    # the header comes before the sources and the cases
    assert page.index("person-header") < page.index('id="kilder"') < page.index('id="sager"')


def test_a_protected_person_gets_a_warning_and_a_masked_address(caseworker_client, fake_portal):
    fake_portal.overview_for = lambda key: protected(sample_overview(key))
    _, page = look_up(caseworker_client)
    warning = re.search(
        r'<div class="alert alert-error person-protected"[^>]*>(.*?)</div>\s*</div>', page, re.S
    )[1]
    assert "Navne- og adressebeskyttelse" in warning
    assert "Karen Holm Jensen har navne- og adressebeskyttelse" in warning
    assert "Adressebeskyttet" in header(page) and ADDRESS not in page


def test_a_number_no_system_knows_says_so_instead_of_an_empty_overview(
    caseworker_client, fake_portal
):
    fake_portal.overview_for = nobody
    _, page = look_up(caseworker_client)
    assert "Ingen af kommunens systemer kender CPR-nummer 010385-xxxx" in page
    assert header(page) == ""  # no header of a person nobody knows
    assert "Ingen sager fundet" not in page


def test_when_a_system_did_not_answer_it_only_speaks_for_those_that_did(
    caseworker_client, fake_portal
):
    fake_portal.overview_for = lambda key: nobody(key, failed=True)
    _, page = look_up(caseworker_client)
    assert "Ingen af de systemer, der svarede, kender CPR-nummer 010385-xxxx" in page
    assert "Sagerne fra Momentum mangler" in page


def test_a_property_shows_its_address_and_owners_masked(caseworker_client, fake_portal):
    fake_portal.overview_for = estate
    _, page = look_up(caseworker_client, "bfe", ESTATE.value)
    section = re.search(r'<section class="property-header".*?</section>', page, re.S)[0]
    assert ADDRESS in section
    assert "CPR-nummer 220780-xxxx" in section and "CPR-nummer 150270-xxxx" in section
    assert OWNER.value not in page and CO_OWNER.value not in page
    assert section.count("Åbn ejerens oversigt") == 2
    assert "Ingen af kommunens systemer kender" not in page


def test_an_owner_opens_by_post_without_the_number_leaving_the_server(audited):
    app, portal, log = audited
    portal.overview_for = lambda key: estate(key) if key == ESTATE else sample_overview(key)
    client = app.test_client()
    sign_in(client, caseworker_user(0))
    _, page = look_up(client, "bfe", ESTATE.value)
    form = re.search(r'<form method="post" action="([^"]+/ejer)"[^>]*>(.*?)</form>', page, re.S)
    fields = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', form[2]))
    assert fields["ejer"] == "1"  # only a place in the list, never the number
    assert OWNER.value not in form[0]
    response = client.post(form[1], data={"ejer": "1", "csrf_token": csrf_token(client)})
    assert response.status_code == 303
    assert OWNER.value not in response.headers["Location"]
    assert portal.lookups[-1] == OWNER
    opened = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Sagsoverblik for CPR-nummer 220780-xxxx" in opened
    rows = [record.event for record in reversed(log.recent(10))]
    assert [(r.kind.value, r.subject) for r in rows] == [
        ("lookup", f"bfe:{ESTATE.value}"),
        ("lookup", f"cpr:{OWNER.value}"),
    ]


def test_an_owner_number_outside_the_list_is_refused_and_looks_nobody_up(
    caseworker_client, fake_portal
):
    fake_portal.overview_for = estate
    url, _ = look_up(caseworker_client, "bfe", ESTATE.value)
    asked = len(fake_portal.lookups)
    for bad in ("0", "3", "-1", "x", "", OWNER.value):
        response = caseworker_client.post(
            f"{url}/ejer", data={"ejer": bad, "csrf_token": csrf_token(caseworker_client)}
        )
        assert response.status_code == 400, bad
    assert len(fake_portal.lookups) == asked
    other = caseworker_client.post(
        "/oversigt/abcdefghijklmnopqrstuvwxyz/ejer",
        data={"ejer": "1", "csrf_token": csrf_token(caseworker_client)},
    )
    assert other.status_code == 404 and len(fake_portal.lookups) == asked


# -- against the sandbox, with its person register ---------------------------------------------


def test_the_sandbox_register_names_a_protected_person_and_a_citizen_with_no_cases(
    live_app, sandbox
):
    from support.actions import sandbox_login

    client = live_app.test_client()
    assert sandbox_login(client, sandbox, "medarbejder", "caseworker").status_code == 303
    town = sandbox.municipality
    shielded = town.citizen(town.demo.protected)
    _, page = look_up(client, value=town.demo.protected)
    shown = header(page)
    assert shown.startswith(shielded.name) and "CPR-registret (sandkasse)" in shown
    assert "Adressebeskyttet" in shown and shielded.address.street not in page
    assert "Navne- og adressebeskyttelse" in page
    # a citizen with no cases anywhere is still known: by the register
    quiet = town.citizen(town.demo.nothing)
    _, page = look_up(client, value=town.demo.nothing)
    assert header(page).startswith(quiet.name) and str(quiet.address) in header(page)
    assert "Ingen af kommunens systemer kender" not in page
