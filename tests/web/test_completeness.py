"""Honest completeness (issue 13, item 2): any source that did not answer whole and fresh
puts one notice above the cases, on the caseworker's overview, Mit skrivebord, the
streamed status fragment, the JSON API and the citizen's Mine sager; rows from an old
copy or a cut-off answer are marked."""

from __future__ import annotations

import dataclasses
import re

import pytest

from borgersag.domain.keys import CPR
from borgersag.domain.model import Overview, Provenance, SourceResult, SourceStatus
from borgersag.web.completeness import caseworker_notice, citizen_notice

from support.actions import citizen_user, completeness_notice, csrf_token, sign_in
from support.fake_portal import TYPICAL_CPR, sample_overview

TYPICAL_DASHED = f"{TYPICAL_CPR[:6]}-{TYPICAL_CPR[6:]}"
SBSYS_OFF = SourceResult("sbsys", "SBSYS (ESDH)", SourceStatus.DISABLED)
BYGGESAG_OK = SourceResult("byggesag", "Byggesag", SourceStatus.OK, case_count=1)


def overview_with(*sources: SourceResult, stale: str | None = None) -> Overview:
    """The sample overview with only ``sources``; cases from ``stale`` come from an old copy
    and those of a switched-off source are left out, as the engine would."""
    base = sample_overview(CPR.parse(TYPICAL_CPR))
    off = {r.source for r in sources if r.status is SourceStatus.DISABLED}

    def aged(p: Provenance) -> Provenance:
        return dataclasses.replace(p, stale=True) if p.source == stale else p

    cases = [
        dataclasses.replace(
            case, provenance=aged(case.provenance), sources=tuple(map(aged, case.sources))
        )
        for case in base.cases
        if not all(p.source in off for p in case.all_sources)
    ]
    return dataclasses.replace(base, cases=tuple(cases), sources=sources)


def look_up(client) -> str:
    form = {"kind": "cpr", "value": TYPICAL_DASHED, "csrf_token": csrf_token(client)}
    response = client.post("/", data=form)
    assert response.status_code == 303
    return response.headers["Location"]


def rows(page: str) -> dict[str, str]:
    """Case title → the row's first cell, from the overview's case tables."""
    return {
        m[2]: m[1]
        for m in re.finditer(
            r'<td[^>]*><a href="[^"]*/sag/[^"]*">(([^<]*)</a>.*?)</td>', page, re.S
        )
    }


# -- the wording, one line per kind of shortfall ----------------------------------------------


@pytest.mark.parametrize(
    ("result", "line"),
    [
        (SBSYS_OFF, "Sagerne fra SBSYS (ESDH) mangler: systemet er slået fra."),
        (
            SourceResult("sbsys", "SBSYS (ESDH)", SourceStatus.CIRCUIT_OPEN),
            "Sagerne fra SBSYS (ESDH) mangler: systemet er sat på pause efter gentagne fejl.",
        ),
        (
            SourceResult("sbsys", "SBSYS (ESDH)", SourceStatus.FAILED),
            "Sagerne fra SBSYS (ESDH) mangler: systemet kunne ikke svare.",
        ),
        (
            SourceResult("sbsys", "SBSYS (ESDH)", SourceStatus.TIMEOUT, case_count=2),
            "Nogle af sagerne fra SBSYS (ESDH) mangler: systemet svarede ikke i tide.",
        ),
        (
            SourceResult("sbsys", "SBSYS (ESDH)", SourceStatus.FORBIDDEN),
            "Sagerne fra SBSYS (ESDH) mangler: systemet afviste portalens adgang.",
        ),
    ],
)
def test_a_missing_source_is_named_with_what_it_means(result, line):
    notice = caseworker_notice(overview_with(result, BYGGESAG_OK))
    assert notice is not None and notice.heading == "Oversigten er ikke komplet"
    assert notice.paragraphs == (f"{line} Der kan være flere sager end dem, du ser.",)


def test_stale_truncated_and_unreadable_answers_are_named_too():
    notice = caseworker_notice(
        overview_with(
            SourceResult("sbsys", "SBSYS", SourceStatus.STALE, case_count=3, age_seconds=840),
            SourceResult("byg", "Byggesag", SourceStatus.OK, case_count=5, truncated=True),
            SourceResult("zaak", "Open Zaak", SourceStatus.OK, case_count=2, unreadable=1),
            SourceResult("cvr", "CVR-arkiv", SourceStatus.NOT_APPLICABLE),
            SourceResult("ok", "Momentum", SourceStatus.OK, case_count=1),
        )
    )
    stale, cut, unreadable = notice.paragraphs
    assert stale.startswith("Sagerne fra SBSYS vises fra et gemt svar, hentet for 14 minutter")
    assert "Nyere ændringer og nye sager kan mangle." in stale
    assert cut.startswith("Byggesag: Der kan være flere sager end de 5 viste")
    assert unreadable.startswith("Open Zaak: 1 sag kunne ikke læses")
    assert notice.advice == "Prøv at lave opslaget igen om lidt."


def test_a_silent_ownership_register_says_the_cases_it_leads_to_may_be_missing():
    owners = SourceResult("ejer", "Ejerfortegnelsen", SourceStatus.FAILED, relation_source=True)
    [line] = caseworker_notice(overview_with(owners, BYGGESAG_OK)).paragraphs
    assert line.startswith("Oplysningerne fra Ejerfortegnelsen mangler: systemet kunne ikke")
    assert "Sager på de ejendomme eller nøgler, den ville have fundet" in line


def test_a_silent_person_register_says_who_may_be_wrong_not_that_cases_are_missing():
    register = SourceResult("cpr", "CPR-registret", SourceStatus.TIMEOUT, person_register=True)
    [line] = caseworker_notice(overview_with(register, BYGGESAG_OK)).paragraphs
    assert line.startswith("Personoplysningerne fra CPR-registret mangler: systemet svarede")
    assert "navne- og adressebeskyttelse kan være ukendt" in line and "Sagerne" not in line
    # a citizen's own cases do not come from it: nothing to tell them
    assert citizen_notice([register]) is None


def test_a_whole_fresh_overview_has_no_notice():
    assert caseworker_notice(overview_with(BYGGESAG_OK)) is None
    assert citizen_notice(()) is None


def test_the_citizen_wording_names_no_system():
    notice = citizen_notice(
        [SBSYS_OFF, SourceResult("arkiv", "Sagsarkiv", SourceStatus.STALE, age_seconds=60)]
    )
    assert notice.heading == "Nogle af dine sager kan mangle lige nu"
    text = " ".join(notice.paragraphs) + notice.advice
    assert "Vi kunne ikke hente sager fra alle kommunens systemer lige nu." in text
    assert "som de så ud ved et tidligere opslag" in text
    assert "SBSYS" not in text and "Sagsarkiv" not in text and "slået fra" not in text


# -- the pages ----------------------------------------------------------------------------------


def test_a_switched_off_source_makes_the_caseworker_overview_say_so(caseworker_client, fake_portal):
    fake_portal.overview_for = lambda key: overview_with(SBSYS_OFF, BYGGESAG_OK)
    page = caseworker_client.get(look_up(caseworker_client)).get_data(as_text=True)
    notice = completeness_notice(page)
    assert (
        "Sagerne fra SBSYS (ESDH) mangler: systemet er slået fra. Der kan være flere sager"
        " end dem, du ser." in notice
    )
    # above the cases, and the cases that did come are still shown
    assert page.index("completeness-notice") < page.index('id="sager"')
    assert "Tilbygning til carport" in page


def test_rows_from_an_old_copy_are_marked_and_the_source_is_named(caseworker_client, fake_portal):
    stale = SourceResult("sbsys", "SBSYS (ESDH)", SourceStatus.STALE, age_seconds=840.0)
    fake_portal.overview_for = lambda key: overview_with(stale, BYGGESAG_OK, stale="sbsys")
    page = caseworker_client.get(look_up(caseworker_client)).get_data(as_text=True)
    assert "Sagerne fra SBSYS (ESDH) vises fra et gemt svar" in completeness_notice(page)
    cells = rows(page)
    assert "Gemt svar" in cells["Ansøgning om personlig tillæg"]
    assert "Gemt svar" in cells["Tilbygning til carport"]  # joined: SBSYS's part is old


def test_rows_of_a_cut_off_answer_are_marked(caseworker_client, fake_portal):
    cut = SourceResult("byggesag", "Byggesag", SourceStatus.OK, case_count=1, truncated=True)
    fresh = SourceResult("sbsys", "SBSYS (ESDH)", SourceStatus.OK, case_count=3)
    fake_portal.overview_for = lambda key: overview_with(fresh, cut)
    page = caseworker_client.get(look_up(caseworker_client)).get_data(as_text=True)
    cells = rows(page)
    assert "Afkortet svar" in cells["Tilbygning til carport"]
    assert "Afkortet svar" not in cells["Ansøgning om personlig tillæg"]


def test_a_complete_overview_shows_no_notice_and_no_marks(caseworker_client, fake_portal):
    fresh = SourceResult("sbsys", "SBSYS (ESDH)", SourceStatus.OK, case_count=3)
    fake_portal.overview_for = lambda key: overview_with(fresh, BYGGESAG_OK)
    page = caseworker_client.get(look_up(caseworker_client)).get_data(as_text=True)
    assert completeness_notice(page) == ""
    assert "row-mark" not in page


def test_the_streamed_fragment_and_the_api_carry_the_same_notice(caseworker_client, fake_portal):
    fake_portal.overview_for = lambda key: overview_with(SBSYS_OFF, BYGGESAG_OK)
    url = look_up(caseworker_client)
    state = caseworker_client.get(f"{url}/status").json
    line = "Sagerne fra SBSYS (ESDH) mangler: systemet er slået fra."
    assert line in completeness_notice(state["html"])
    assert state["announce"] == "Oversigten er færdig, men ikke komplet: SBSYS (ESDH) mangler."
    token = csrf_token(caseworker_client)
    made = caseworker_client.post(
        "/api/v1/overviews",
        json={"kind": "cpr", "value": TYPICAL_DASHED},
        headers={"X-CSRFToken": token},
    )
    assert made.status_code == 201, made.json
    notice = made.json["notice"]
    assert notice["heading"] == "Oversigten er ikke komplet"
    assert [(i["source"], i["status"]) for i in notice["items"]] == [("sbsys", "disabled")]
    assert notice["items"][0]["text"].startswith(line)
    assert made.json["overview"]["complete"] is False


def test_the_desk_says_a_switched_off_source_is_missing(caseworker_client, fake_portal):
    fake_portal.overview_for = lambda key: overview_with(SBSYS_OFF, BYGGESAG_OK)
    page = caseworker_client.get("/mit-skrivebord").get_data(as_text=True)
    notice = completeness_notice(page)
    assert notice.startswith("Skrivebordet er ikke komplet")
    assert "Sagerne fra SBSYS (ESDH) mangler: systemet er slået fra." in notice


@pytest.mark.parametrize(
    ("sources", "stale", "expected"),
    [
        ((SBSYS_OFF, BYGGESAG_OK), None, "Vi kunne ikke hente sager fra alle kommunens systemer"),
        (
            (
                SourceResult("sbsys", "SBSYS (ESDH)", SourceStatus.STALE, age_seconds=90),
                BYGGESAG_OK,
            ),
            "sbsys",
            "Nogle sager vises, som de så ud ved et tidligere opslag",
        ),
    ],
    ids=["switched-off", "stale"],
)
def test_mine_sager_says_cases_may_be_missing_without_naming_systems(
    client, fake_portal, sources, stale, expected
):
    fake_portal.overview_for = lambda key: overview_with(*sources, stale=stale)
    sign_in(client, citizen_user(TYPICAL_CPR, "Karen Holm Jensen"))
    page = client.get("/mine-sager").get_data(as_text=True)
    notice = completeness_notice(page)
    assert notice.startswith("Nogle af dine sager kan mangle lige nu")
    assert expected in notice
    assert "SBSYS" not in notice and "slået fra" not in notice
    marked = re.findall(r'<h3 class="citizen-case-title">(.*?)</h3>', page, re.S)
    stale_marks = [h for h in marked if "Vist fra et tidligere opslag" in h]
    if stale:
        assert stale_marks
    else:
        assert not stale_marks
