"""Narrowing many cases: search, filters, order and pages on the caseworker overview, Mit
skrivebord and Mine sager (borgersag/web/narrowing.py), through the test client."""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from html import unescape

import pytest

from borgersag.domain.keys import CPR, Key
from borgersag.domain.model import Case, Overview, Party, PartyRole, Progress, Provenance
from borgersag.web.narrowing import BadNarrowing, Sort, State, parse_narrowing

from support.actions import (
    caseworker_user,
    citizen_user,
    completeness_notice,
    csrf_token,
    sign_in,
)
from support.fake_portal import GENERATED, TYPICAL_CPR, build_app, sample_overview

HEAVY_CASES = 532
HEAVY_OPEN = 12


def heavy_overview(key: Key) -> Overview:
    """``key``'s 532 cases, the citizen the primary party of each; 12 still open."""
    person = key if isinstance(key, CPR) else CPR.parse(TYPICAL_CPR)
    base = sample_overview(key)
    areas = ("Beskæftigelse", "Byggeri", "Socialområdet", "Sundhed")
    cases = [
        Case(
            id=f"sbsys/{7000 + n}",
            sagsnummer=f"27.24.00-G01-{n}-25",
            title=f"Ansøgning nr. {n}",
            provenance=Provenance("sbsys", GENERATED),
            progress=Progress.OPLYST if n < HEAVY_OPEN else Progress.AFSLUTTET,
            area=areas[n % len(areas)],
            parties=(Party(person, PartyRole.PRIMARY, "Karen Holm Jensen"),),
            opened=dt.date(2020, 1, 1) + dt.timedelta(days=n),
            deadline=dt.date(2027, 1, 1) - dt.timedelta(days=n) if n < HEAVY_OPEN else None,
        )
        for n in range(HEAVY_CASES)
    ]
    return dataclasses.replace(base, cases=tuple(cases))


def text(response) -> str:
    return response.get_data(as_text=True)


def summary(page: str) -> str:
    found = re.search(r'class="narrowing-summary"[^>]*><strong>([^<]*)</strong>', page)
    return found[1] if found else ""


def case_links(page: str) -> list[str]:
    return re.findall(r'href="/(?:oversigt/[^"/]+|mine-sager)/sag/([^"]+)"', page)


@pytest.fixture
def heavy(app, fake_portal):
    fake_portal.overview_for = heavy_overview
    return app


def overview_url(client) -> str:
    made = client.post(
        "/", data={"kind": "cpr", "value": TYPICAL_CPR, "csrf_token": csrf_token(client)}
    )
    assert made.status_code == 303
    return made.location


# -- the rules, without Flask --------------------------------------------------------------

SORTS = (Sort.CHANGED, Sort.DEADLINE, Sort.OPENED)


@pytest.mark.parametrize(
    ("args", "field", "says"),
    [
        ({"q": "x" * 101}, "q", "højst være 100 tegn"),
        ({"q": "010385-4321"}, "q", "ikke på CPR-nummer"),
        ({"q": "0103854321"}, "q", "ikke på CPR-nummer"),
        ({"q": "sag for 010385 4321 i går"}, "q", "ikke på CPR-nummer"),
        ({"status": "lukkede"}, "status", "Vælg åbne, afsluttede eller alle"),
        ({"sorter": "titel"}, "sorter", "Vælg en af sorteringerne"),
        ({"omraade": "Hemmeligt"}, "omraade", "Fagområdet findes ikke"),
        ({"system": "sbsys"}, "system", "Systemet findes ikke"),
        ({"side": "0"}, "side", "helt tal fra 1"),
        ({"side": "-2"}, "side", "helt tal fra 1"),
        ({"side": "to"}, "side", "helt tal fra 1"),
        ({"side": "99999999"}, "side", "helt tal fra 1"),
    ],
)
def test_a_parameter_the_page_cannot_use_is_refused_with_a_message(args, field, says):
    with pytest.raises(BadNarrowing) as refused:
        parse_narrowing(args, sorts=SORTS, areas=["Byggeri"], systems=["byggesag"])
    assert refused.value.field == field
    assert says in refused.value.message


def test_valid_parameters_are_read_and_links_leave_defaults_out():
    how = parse_narrowing(
        {"q": "  Tilbygning   carport ", "status": "aabne", "sorter": "frist", "side": "3",
         "omraade": "Byggeri", "system": "byggesag", "ukendt": "x"},
        sorts=SORTS, areas=["Byggeri"], systems=["byggesag"],
    )  # fmt: skip
    assert (how.q, how.status, how.sorter, how.side) == (
        "Tilbygning carport",
        State.OPEN,
        Sort.DEADLINE,
        3,
    )
    assert how.query(side=1) == {
        "q": "Tilbygning carport",
        "status": "aabne",
        "omraade": "Byggeri",
        "system": "byggesag",
        "sorter": "frist",
    }
    # a case number that is no date is searched for, not taken for a CPR number
    assert parse_narrowing({"q": "2024991234"}, sorts=()).q == "2024991234"
    # no system filter, or no open / closed, on a page that offers none: ignored
    assert parse_narrowing({"system": "sbsys"}, sorts=(), systems=None).system == ""
    assert parse_narrowing({"status": "x"}, sorts=(), states=False).status is State.ALL


# -- the caseworker overview ---------------------------------------------------------------


def test_a_big_overview_shows_25_cases_a_summary_and_a_pager(heavy, caseworker_client):
    url = overview_url(caseworker_client)
    first = text(caseworker_client.get(url))
    assert summary(first) == f"Viser 1–25 af {HEAVY_CASES} sager"
    assert len(case_links(first)) == 25
    assert 'aria-current="page"' in first and f'aria-label="Side {-(-HEAVY_CASES // 25)}"' in first
    second = text(caseworker_client.get(url + "?side=2"))
    assert summary(second) == f"Viser 26–50 af {HEAVY_CASES} sager"
    assert not set(case_links(first)) & set(case_links(second))
    # past the last page: the last page
    last = text(caseworker_client.get(url + "?side=500"))
    assert summary(last) == f"Viser 526–{HEAVY_CASES} af {HEAVY_CASES} sager"


def test_q_finds_a_case_by_its_number_and_by_words_of_its_title(heavy, caseworker_client):
    url = overview_url(caseworker_client)
    page = text(caseworker_client.get(url, query_string={"q": "27.24.00-G01-417-25"}))
    assert case_links(page) == ["sbsys/7417"]
    assert summary(page) == f"Viser 1 sag (ud af {HEAVY_CASES} i alt)"
    assert 'value="27.24.00-G01-417-25"' in page  # the field keeps the search
    assert ">Nulstil</a>" in page
    words = text(caseworker_client.get(url, query_string={"q": "ansøgning NR. 41"}))
    # every word, anywhere in the title or number: "41" is in 141 and 410 too
    assert set(case_links(words)) == {
        f"sbsys/{7000 + n}" for n in range(HEAVY_CASES) if "41" in str(n)
    }
    none = text(caseworker_client.get(url, query_string={"q": "carport"}))
    assert "Ingen sager passer på søgningen" in none and not case_links(none)


def test_filters_by_system_area_and_state(app, caseworker_client):
    url = overview_url(caseworker_client)  # the sample: three cases, one joined with byggesag
    page = text(caseworker_client.get(url, query_string={"system": "byggesag"}))
    assert case_links(page) == ["sbsys/1002"]
    assert '<option value="byggesag" selected>Byggesag</option>' in page
    closed = text(caseworker_client.get(url, query_string={"status": "afsluttede"}))
    assert case_links(closed) == ["sbsys/1003"]
    area = text(caseworker_client.get(url, query_string={"omraade": "Socialområdet"}))
    assert case_links(area) == ["sbsys/1001"]


def test_sorting_gives_one_list_in_that_order(heavy, caseworker_client):
    url = overview_url(caseworker_client)
    page = text(caseworker_client.get(url, query_string={"sorter": "frist"}))
    # the open cases by deadline, soonest first: the last-made has the soonest
    assert case_links(page)[:3] == ["sbsys/7011", "sbsys/7010", "sbsys/7009"]
    assert "sorteret efter frist" in page and '<details class="area-group"' not in page
    opened = text(caseworker_client.get(url, query_string={"sorter": "oprettet"}))
    assert case_links(opened)[0] == f"sbsys/{7000 + HEAVY_CASES - 1}"


def test_bad_parameters_give_400_with_a_message_and_never_echo_a_cpr(app, caseworker_client):
    url = overview_url(caseworker_client)
    for args in ({"q": "010385-4321"}, {"side": "x"}, {"sorter": "<b>"}, {"status": "\x00"}):
        answer = caseworker_client.get(url, query_string=args)
        page = text(answer)
        assert answer.status_code == 400, args
        assert "Sagerne kunne ikke afgrænses" in page
        field = re.search(r'<input[^>]*id="narrow-q"[^>]*>', page)[0]
        assert 'value=""' in field, "the search field does not show the text again"
        assert "4321" not in page.split('id="sager"')[1]
        assert case_links(page), "the cases are still shown, un-narrowed"
    assert "<b>" not in text(caseworker_client.get(url, query_string={"sorter": "<b>"}))


def test_the_completeness_notice_stays_above_the_narrowed_cases(app, caseworker_client):
    url = overview_url(caseworker_client)  # the sample has a failed and a stale source
    page = text(caseworker_client.get(url, query_string={"q": "carport", "sorter": "aendret"}))
    assert completeness_notice(page)
    assert page.index("completeness-notice") < page.index('class="narrowing"')
    assert page.index('class="narrowing"') < page.index("sbsys/1002")


def test_the_status_fragment_is_narrowed_by_the_same_query(heavy, caseworker_client):
    url = overview_url(caseworker_client)
    token = url.rsplit("/", 1)[1]
    state = caseworker_client.get(f"/oversigt/{token}/status?q=27.24.00-G01-417-25").get_json()
    assert case_links(state["html"]) == ["sbsys/7417"]
    assert "Viser 1 sag" in state["html"]


def test_paging_the_overview_writes_no_audit_row_and_asks_nobody(audit_url):
    app, portal = build_app(audit_url)
    portal.overview_for = heavy_overview
    client = app.test_client()
    sign_in(client, caseworker_user())
    url = overview_url(client)
    audit = app.extensions["borgersag.audit"]
    rows = len(audit.recent(100))
    for args in ({"side": "2"}, {"sorter": "frist", "side": "3"}, {"q": "nr. 4"}):
        assert client.get(url, query_string=args).status_code == 200
    assert len(audit.recent(100)) == rows
    assert len(portal.lookups) == 1
    [lookup] = [r.event for r in audit.recent(100) if r.event.kind.value == "lookup"]
    # the lookup's row names every case a page of it can show
    assert len(lookup.case_ids) == HEAVY_CASES
    audit.close()


# -- Mit skrivebord ------------------------------------------------------------------------


def test_the_desk_names_the_party_masked_sorts_and_pages_without_asking_again(
    heavy, caseworker_client, fake_portal
):
    first = text(caseworker_client.get("/mit-skrivebord"))
    assert summary(first) == f"Viser {HEAVY_OPEN} sager"  # the open ones
    assert '<th scope="col">Part</th>' in first
    assert "Karen Holm Jensen" in first and "010385-xxxx" in first
    assert TYPICAL_CPR not in first and "010385-4321" not in first
    kept = re.search(r'name="liste" value="([^"]+)"', first)[1]
    asked = len(fake_portal.lookups)
    again = {"liste": kept, "sorter": "oprettet"}
    opened = text(caseworker_client.get("/mit-skrivebord", query_string=again))
    assert len(fake_portal.lookups) == asked, "the kept desk is read again"
    assert case_links(opened)[0] == f"sbsys/{7000 + HEAVY_OPEN - 1}"
    assert "sorteret efter oprettet" in opened
    # an unknown list makes a new lookup, as opening the page does
    caseworker_client.get("/mit-skrivebord", query_string={"liste": "x" * 32})
    assert len(fake_portal.lookups) == asked + 1


def test_the_desk_marks_a_protected_party_and_never_shows_the_address(
    app, caseworker_client, fake_portal
):
    def protected(key: Key) -> Overview:
        base = heavy_overview(key)
        hidden = Party(CPR.parse(TYPICAL_CPR), PartyRole.PRIMARY, "Karen Holm Jensen",
                       "Skjultvej 1, 8000 Aarhus C", protected=True)  # fmt: skip
        first = dataclasses.replace(base.cases[0], parties=(hidden,))
        return dataclasses.replace(base, cases=(first, *base.cases[1:]))

    fake_portal.overview_for = protected
    page = text(caseworker_client.get("/mit-skrivebord", query_string={"q": "G01-0-25"}))
    assert case_links(page) == ["sbsys/7000"]
    party = re.search(r'<td class="desk-party"[^>]*>(.*?)</td>', page, re.S)[1]
    assert "Navne- og adressebeskyttelse" in party and "010385-xxxx" in party
    assert "Skjultvej" not in page


def test_the_desk_does_not_reuse_a_form_lookup_of_the_own_number(
    app, caseworker_client, fake_portal
):
    number = caseworker_user().medarbejdernummer
    made = caseworker_client.post(
        "/",
        data={"kind": "medarbejder", "value": number, "csrf_token": csrf_token(caseworker_client)},
    )
    assert made.status_code == 303
    token = made.location.rsplit("/", 1)[1]
    asked = len(fake_portal.lookups)
    assert (
        caseworker_client.get("/mit-skrivebord", query_string={"liste": token}).status_code == 200
    )
    assert len(fake_portal.lookups) == asked + 1  # its own lookup, purpose "Eget skrivebord"


# -- Mine sager ----------------------------------------------------------------------------


@pytest.fixture
def heavy_citizen(heavy):
    client = heavy.test_client()
    sign_in(client, citizen_user(TYPICAL_CPR))
    return client


def test_the_heavy_citizen_sees_ten_cases_open_first_and_a_pager(heavy_citizen):
    page = text(heavy_citizen.get("/mine-sager"))
    assert summary(page) == f"Viser 1–10 af {HEAVY_CASES} sager"
    assert page.count('class="citizen-case"') == 10
    assert f'Igangværende sager <span class="citizen-count">({HEAVY_OPEN})</span>' in page
    assert "Afsluttede sager" not in page  # ten of the twelve open ones first
    second = text(heavy_citizen.get("/mine-sager?side=2"))
    assert second.count('class="citizen-case"') == 10
    assert second.index("Igangværende sager") < second.index("Afsluttede sager")
    assert 'rel="next"' in second and 'rel="prev"' in second


def test_the_citizen_searches_and_filters_without_system_names(heavy_citizen):
    found = text(heavy_citizen.get("/mine-sager", query_string={"q": "27.24.00-G01-300-25"}))
    assert case_links(found) == ["sbsys/7300"]
    closed = text(heavy_citizen.get("/mine-sager", query_string={"status": "afsluttede"}))
    assert (
        summary(closed)
        == f"Viser 1–10 af {HEAVY_CASES - HEAVY_OPEN} sager (ud af {HEAVY_CASES} i alt)"
    )
    assert "Igangværende sager" not in closed
    form = re.search(r'<form class="narrowing".*?</form>', closed, re.S)[0]
    assert 'name="system"' not in form and "SBSYS" not in form


def test_a_citizen_typing_their_cpr_is_told_and_it_is_not_shown_again(heavy_citizen):
    answer = heavy_citizen.get("/mine-sager", query_string={"q": "0103854321"})
    page = unescape(text(answer))
    assert answer.status_code == 400
    assert "ikke på CPR-nummer" in page and "0103854321" not in page
    assert 'rel="next"' in page  # the cases, un-narrowed


def test_each_page_of_mine_sager_is_the_citizens_own_lookup(audit_url):
    app, portal = build_app(audit_url)
    portal.overview_for = heavy_overview
    client = app.test_client()
    sign_in(client, citizen_user(TYPICAL_CPR))
    audit = app.extensions["borgersag.audit"]
    client.get("/mine-sager")
    client.get("/mine-sager?side=2")
    rows = [r.event for r in audit.recent(100) if r.event.kind.value == "lookup"]
    assert len(rows) == 2 and {r.actor_type for r in rows} == {"citizen"}
    assert all(len(r.case_ids) == HEAVY_CASES for r in rows)
    audit.close()
