"""Time made plain: overdue deadlines marked everywhere, "I dag" on timelines, a refusal
read as a decision with how to complain, and the citizen's deadline and the published
processing time (issue 13, item 4)."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from borgersag.domain.model import (
    Event,
    Progress,
    ProgressStep,
)
from borgersag.people.case_kinds import DEFAULT_APPEAL_TEXT, build_case_kinds, decision_outcome
from borgersag.sdk.errors import ConfigError

from support.actions import citizen_user, csrf_token, login_as_caseworker, sign_in
from support.citizen_cases import app_over, karens_case
from support.fake_portal import TYPICAL_CPR

TODAY = dt.date(2026, 11, 28)
KINDS = {
    "byggetilladelse": {
        "title": "byggetilladelser",
        "kle": ["02.34"],
        "processing_weeks": 8,
        "published_url": "https://www.kommune.example/frister",
        "appeal_text": "Klag til Byggeklageenheden inden 4 uger.",
        "appeal_url": "https://www.kommune.example/klage",
    },
    "tandpleje": {"title": "tandpleje", "areas": ["Sundhed"], "processing_text": "4 uger"},
}


case = karens_case


LATE = case(
    "1",
    title="Carport",
    kle="02.34.03",
    progress=Progress.OPLYST,
    status_text="Opklaring",
    deadline=dt.date(2026, 11, 20),
)
SOON = case(
    "2",
    title="Tagterrasse",
    kle="02.34.03",
    progress=Progress.OPLYST,
    deadline=dt.date(2026, 12, 2),
)
CLOSED_LATE = case(
    "3",
    title="Skur",
    progress=Progress.AFSLUTTET,
    deadline=dt.date(2026, 10, 1),
    closed=dt.date(2026, 10, 5),
)
REFUSED = case(
    "4",
    title="Omsorgstandpleje",
    area="Sundhed",
    progress=Progress.AFGJORT,
    status_text="Ikke visiteret – kan bruge egen tandlæge",
    decided=dt.date(2026, 11, 2),
    progress_history=(
        ProgressStep(Progress.OPSTAAET, dt.date(2026, 9, 1), "Opstået"),
        ProgressStep(
            Progress.AFGJORT, dt.date(2026, 11, 2), "Ikke visiteret – kan bruge egen tandlæge"
        ),
    ),
)
PARTIAL = case(
    "5",
    title="Tilbygning",
    kle="02.34.01",
    progress=Progress.AFGJORT,
    status_text="Delvist bevilget",
    decided=dt.date(2026, 11, 3),
)
GRANTED = case(
    "6",
    title="Garage",
    kle="02.34.02",
    progress=Progress.AFGJORT,
    status_text="Tilladelse meddelt",
    deadline=dt.date(2026, 11, 1),  # met: the decision came
)
WITH_MEETING = case(
    "7",
    title="Jobsamtaler",
    progress=Progress.OPLYST,
    events=(
        Event(dt.date(2026, 9, 1), "Modtaget", "status", "momentum"),
        Event(dt.date(2026, 10, 1), "Samtale i jobcentret", "status", "sbsys"),
        Event(dt.date(2026, 12, 15), "Næste samtale", "deadline", "sbsys"),
    ),
)
CASES = (LATE, SOON, CLOSED_LATE, REFUSED, PARTIAL, GRANTED, WITH_MEETING)


@pytest.fixture
def app():
    app = app_over(CASES, case_kinds=KINDS)
    app.jinja_env.globals["today"] = lambda: TODAY
    return app


def text(response) -> str:
    assert response.status_code == 200, response.status_code
    return response.get_data(as_text=True)


def row_of(page: str, title: str) -> str:
    found = re.search(rf"<tr>(?:(?!</tr>).)*>{re.escape(title)}<(?:(?!</tr>).)*</tr>", page, re.S)
    assert found, title
    return found[0]


def caseworker_overview(app) -> tuple[object, str]:
    client = app.test_client()
    login_as_caseworker(client)
    response = client.post(
        "/", data={"kind": "cpr", "value": TYPICAL_CPR, "csrf_token": csrf_token(client)}
    )
    return client, response.location


def test_the_caseworker_overview_marks_overdue_and_soon_deadlines_of_open_cases(app):
    client, url = caseworker_overview(app)
    page = text(client.get(url))
    assert "Overskredet" in row_of(page, "Carport")
    assert "Snart" in row_of(page, "Tagterrasse")
    assert "Overskredet" not in row_of(page, "Skur")  # closed: the deadline no longer runs
    assert "Overskredet" not in row_of(page, "Garage")  # decided: the deadline was met


def test_a_refusal_is_not_shown_in_the_green_of_a_grant(app):
    client, url = caseworker_overview(app)
    page = text(client.get(url))
    assert "badge-success" not in row_of(page, "Omsorgstandpleje")
    assert "badge-success" in row_of(page, "Garage")


def test_the_case_page_marks_the_deadline_and_puts_today_on_the_timeline(app):
    client, url = caseworker_overview(app)
    late = text(client.get(f"{url}/sag/sbsys/1"))
    assert re.search(r"<dt>Frist</dt><dd>20\.11\.2026 <span class=\"badge[^\"]*badge-error", late)
    meetings = text(client.get(f"{url}/sag/sbsys/7"))
    timeline = re.search(r'<ol class="timeline">(.*?)</ol>', meetings, re.S)[1]
    titles = re.findall(r'<span class="timeline-title">(.*?)</span>', timeline)
    assert titles.index("I dag") == titles.index("Næste samtale") - 1  # between past and future
    assert titles.count("I dag") == 1


def citizen(app):
    client = app.test_client()
    sign_in(client, citizen_user(TYPICAL_CPR, "Karen Holm"))
    return client


def test_the_citizen_sees_the_deadline_and_is_told_whom_to_contact_when_it_passed(app):
    client = citizen(app)
    soon = text(client.get("/mine-sager/sag/sbsys/2"))
    assert "Kommunens frist for at svare dig: <strong>02.12.2026</strong>" in soon
    late = text(client.get("/mine-sager/sag/sbsys/1"))
    assert "Kommunens frist for at svare dig var 20.11.2026." in late
    overview_page = text(client.get("/mine-sager"))
    assert "Overskredet" in overview_page


def test_the_citizen_sees_the_published_processing_time_with_its_link(app):
    page = text(citizen(app).get("/mine-sager/sag/sbsys/1"))
    assert "Kommunens sagsbehandlingsfrist for byggetilladelser er 8 uger." in page
    assert 'href="https://www.kommune.example/frister"' in page


def test_a_refusal_reads_as_a_decision_with_how_to_complain(app):
    client = citizen(app)
    refused = text(client.get("/mine-sager/sag/sbsys/4"))
    assert "Kommunen har givet afslag" in refused
    assert "Afgørelsen: Ikke visiteret – kan bruge egen tandlæge (02.11.2026)" in refused
    assert "Sådan klager du" in refused and DEFAULT_APPEAL_TEXT in refused  # no appeal_text set
    partial = text(client.get("/mine-sager/sag/sbsys/5"))
    assert "Kommunen har givet dig delvist medhold" in partial
    assert "Klag til Byggeklageenheden inden 4 uger." in partial
    assert 'href="https://www.kommune.example/klage"' in partial
    granted = text(client.get("/mine-sager/sag/sbsys/6"))
    assert "Sådan klager du" not in granted
    assert "frist" not in granted.lower()  # decided: neither deadline nor processing time


def test_citizens_do_not_see_the_systems_internal_states(app):
    page = text(citizen(app).get("/mine-sager/sag/sbsys/1"))
    assert "Opstået" not in page and "Opklaring" not in page
    assert "Status i kommunens system" not in page
    assert "Kommunens system" not in page
    assert page.count('<span class="timeline-title">Modtaget</span>') == 1


def test_a_step_two_systems_recorded_alike_on_one_day_is_shown_once(app):
    page = text(citizen(app).get("/mine-sager/sag/sbsys/7"))
    # "Opstået" reads "Modtaget" to the citizen; the other system said "Modtaget" too
    assert page.count('<span class="timeline-title">Modtaget</span>') == 1


@pytest.mark.parametrize(
    ("texts", "expected"),
    [
        (["Afslag – kan bruge egen transport"], "refusal"),
        (["Ikke visiteret"], "refusal"),
        (["Afslag meddelt"], "refusal"),
        (["Delvist bevilget"], "partial"),
        (["Tilladelse meddelt"], ""),
        (["Bevilget", None], ""),
        (["Afslagsgrundlag undersøges"], ""),  # a whole word only
        ([], ""),
    ],
)
def test_a_decision_against_the_citizen_is_read_from_the_systems_words(texts, expected):
    assert decision_outcome(texts) == expected


def test_the_longest_kle_prefix_decides_the_kind_and_the_area_is_a_fallback():
    kinds = build_case_kinds(
        {
            "byg": {"title": "byggesager", "kle": ["02"]},
            "tilladelse": {"title": "byggetilladelser", "kle": ["02.34"]},
            "tand": {"title": "tandpleje", "areas": ["Sundhed"]},
        },
        "portal.toml",
    )
    assert kinds.of("02.34.03", None).name == "tilladelse"
    assert kinds.of("02.10.00", None).name == "byg"
    assert kinds.of("020.34", None) is None  # not a whole KLE group
    assert kinds.of(None, "sundhed").name == "tand"
    assert kinds.of("29.30.00", "Andet") is None


@pytest.mark.parametrize(
    ("table", "key"),
    [
        ({"title": "x"}, "case_kinds.k.kle"),  # nothing to know it by
        ({"title": " ", "kle": ["02"]}, "case_kinds.k.title"),
        ({"title": "x", "kle": ["02"], "processing_weeks": -1}, "case_kinds.k.processing_weeks"),
        ({"title": "x", "kle": ["02"], "appeal_url": "http://x.dk"}, "case_kinds.k.appeal_url"),
        ({"title": "x", "kle": ["02"], "deadline": 3}, "case_kinds.k.deadline"),
    ],
)
def test_a_bad_case_kind_is_named(table, key):
    with pytest.raises(ConfigError) as caught:
        build_case_kinds({"k": table}, "portal.toml")
    assert caught.value.key == key
