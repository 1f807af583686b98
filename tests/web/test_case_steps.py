"""Steps that fit the kind of case (issue 13, item 4): a jobcentre course of meetings reads
Modtaget / I gang / Afsluttet and never promises a decision; other cases keep the four
steps towards a decision; ``[case_kinds.<name>] steps`` and ``sources`` choose."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from borgersag.domain.model import (
    Progress,
    ProgressStep,
)
from borgersag.people.case_kinds import build_case_kinds
from borgersag.sdk.errors import ConfigError

from support.actions import citizen_user, sign_in
from support.citizen_cases import app_over, karens_case
from support.fake_portal import TYPICAL_CPR

KINDS = {"forloeb": {"title": "forløb i jobcentret", "kle": ["15.24"], "steps": "forloeb"}}
DECISION_WORDS = "Afgørelsen sendes"
case = karens_case


COURSE = case(
    "1",
    title="Jobafklaringsforløb",
    kle="15.24.04",
    area="Beskæftigelse",
    progress=Progress.AFGJORT,
    progress_history=(
        ProgressStep(Progress.OPSTAAET, dt.date(2026, 9, 1), "Oprettet"),
        ProgressStep(Progress.OPLYST, dt.date(2026, 9, 20), "Afklaret"),
        ProgressStep(Progress.AFGJORT, dt.date(2026, 10, 1), "Aktiv"),
    ),
)
DECISION = case(
    "2",
    title="Hjælpemiddel",
    kle="27.37.00",
    progress=Progress.AFGJORT,
    progress_history=(
        ProgressStep(Progress.OPSTAAET, dt.date(2026, 9, 1), "Opstået"),
        ProgressStep(Progress.AFGJORT, dt.date(2026, 10, 2), "Bevilget"),
    ),
)
CASES = (COURSE, DECISION)


@pytest.fixture
def client():
    client = app_over(CASES, case_kinds=KINDS).test_client()
    sign_in(client, citizen_user(TYPICAL_CPR, "Karen Holm"))
    return client


def text(response) -> str:
    assert response.status_code == 200, response.status_code
    return response.get_data(as_text=True)


def stage_names(page: str) -> list[str]:
    return re.findall(r'<span class="stage-name">([^<]*)</span>', page)


def test_a_course_of_meetings_has_its_own_steps_and_promises_no_decision(client):
    page = text(client.get("/mine-sager/sag/sbsys/1"))
    assert "Trin 2 af 3: I gang" in page
    assert stage_names(page) == ["Trin 1: Modtaget", "Trin 2: I gang", "Trin 3: Afsluttet"]
    assert "Dit forløb er i gang" in page
    assert DECISION_WORDS not in page and "Afgjort" not in page
    # the step is dated when the course got there (it was "afklaret" first)
    assert 'aria-current="step"' in page and "20.09.2026" in page


def test_other_cases_keep_the_four_steps_towards_a_decision(client):
    page = text(client.get("/mine-sager/sag/sbsys/2"))
    assert "Trin 3 af 4: Afgjort" in page
    assert len(stage_names(page)) == 4 and DECISION_WORDS in page


def test_mine_sager_shows_each_case_s_own_steps(client):
    page = text(client.get("/mine-sager"))
    assert "Trin 2 af 3: I gang" in page and "Trin 3 af 4: Afgjort" in page


def test_a_kind_limited_to_a_source_fits_only_its_cases():
    kinds = build_case_kinds(
        {
            "job": {
                "title": "forløb",
                "areas": ["Beskæftigelse"],
                "sources": ["momentum"],
                "steps": "forloeb",
            }
        },
        "portal.toml",
        source_names={"momentum", "sbsys"},
    )
    assert kinds.steps("15.24.04", "Beskæftigelse", ("momentum",)) == "forloeb"
    # an ESDH case on the same subject is a decision, and gets the default steps
    assert kinds.steps("15.24.04", "Beskæftigelse", ("sbsys",)) == "afgoerelse"
    assert kinds.of("15.24.04", "Beskæftigelse", ("sbsys",)) is None


@pytest.mark.parametrize(
    ("table", "key"),
    [
        ({"title": "x", "kle": ["15"], "steps": "meetings"}, "case_kinds.k.steps"),
        ({"title": "x", "kle": ["15"], "sources": ["nosuch"]}, "case_kinds.k.sources"),
    ],
)
def test_a_bad_step_model_or_source_is_named(table, key):
    with pytest.raises(ConfigError) as caught:
        build_case_kinds({"k": table}, "portal.toml", source_names={"momentum"})
    assert caught.value.key == key
