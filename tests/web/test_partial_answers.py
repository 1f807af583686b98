"""A source that answers with some records it cannot read: the caseworker sees the rest
and is told what is missing (issue 10, "Done when": an SBSYS answer with one unreadable
record shows the other cases and says one could not be read)."""

from __future__ import annotations

import re

import pytest
import responses

from borgersag.lookup.portal import Portal
from borgersag.web import create_app

from support.actions import csrf_token, login_as_caseworker
from support.fake_portal import TYPICAL_CPR, make_config

SBSYS = "https://sbsys.kommune.test/"
TYPICAL_DASHED = f"{TYPICAL_CPR[:6]}-{TYPICAL_CPR[6:]}"


def sbsys_case(native: int, title: str, **changes) -> dict:
    case = {
        "Id": native,
        "Nummer": f"27.24.00-G01-{native}-24",
        "SagsTitel": title,
        "Opstaaet": "2024-03-05T09:00:00",
        "SagsStatus": {"Navn": "Afventer", "SagsTilstand": "Aktiv"},
        "Fagomraade": {"Navn": "Social service (voksne)"},
        "Foelsomhed": "IKKE_FORTROLIGE_DATA",
        "PrimaryPart": {"Navn": "Karen Nielsen", "CPRnummer": TYPICAL_DASHED},
    }
    return {**case, **changes}


@pytest.fixture
def sbsys_client():
    """The real portal (engine, SBSYS connector) and web app; SBSYS is a recorded server."""
    config = make_config(
        tables={
            "sources": {
                "sbsys": {
                    "type": "sbsys",
                    "title": "SBSYS (ESDH)",
                    "base_url": SBSYS,
                    "client_id": "borgersag",
                    "client_secret": "s3cret",
                    "username": "svc",
                    "password": "pw",
                    "limit": 5,
                }
            }
        }
    )
    portal = Portal.from_config(config)
    app = create_app(config, portal=portal)
    app.config["TESTING"] = True
    client = app.test_client()
    login_as_caseworker(client)
    with responses.RequestsMock(assert_all_requests_are_fired=False) as server:
        server.post(SBSYS + "connect/token", json={"access_token": "t", "expires_in": 3600})
        yield client, server
    portal.close()


def look_up(client) -> str:
    form = {"kind": "cpr", "value": TYPICAL_DASHED, "csrf_token": csrf_token(client)}
    response = client.post("/", data=form)
    assert response.status_code == 303
    page = client.get(response.headers["Location"])
    assert page.status_code == 200
    return page.get_data(as_text=True)


def test_one_unreadable_sbsys_case_hides_nothing_else_and_is_told(sbsys_client, caplog):
    client, server = sbsys_client
    good = [sbsys_case(1, "Bostøtte"), sbsys_case(3, "Hjemmehjælp"), sbsys_case(4, "Hjælpemidler")]
    broken = sbsys_case(2, "Ledsagelse", Nummer=None, Opstaaet="2024-02-30T09:00:00")
    server.post(SBSYS + "api/sag/search", json={"Results": [good[0], broken, *good[1:]]})
    page = look_up(client)
    for title in ("Bostøtte", "Hjemmehjælp", "Hjælpemidler"):
        assert title in page
    assert "Ledsagelse" not in page
    assert "kunne ikke svare" not in page.lower()
    assert "Oversigten er ikke komplet" in page
    assert "1 sag kunne ikke læses" in page
    # the log names the source, the record's position and the field, never a value
    logged = " ".join(
        r.getMessage() for r in caplog.records if "could not be read" in r.getMessage()
    )
    assert "SBSYS (ESDH)" in logged and "Results[1]" in logged and "Results[1].Nummer" in logged
    assert TYPICAL_CPR[:6] not in logged and "Ledsagelse" not in logged


def test_a_search_that_hits_its_limit_says_there_may_be_more(sbsys_client):
    client, server = sbsys_client
    cases = [sbsys_case(i, f"Sag nummer {i}") for i in range(1, 6)]  # limit = 5
    server.post(SBSYS + "api/sag/search", json={"Results": cases})
    page = look_up(client)
    assert len(re.findall(r"Sag nummer \d", page)) >= 5
    assert "Der kan være flere sager end de 5 viste" in page
    assert "Oversigten er ikke komplet" in page


def test_an_answer_below_the_limit_is_complete(sbsys_client):
    client, server = sbsys_client
    server.post(SBSYS + "api/sag/search", json={"Results": [sbsys_case(1, "Bostøtte")]})
    page = look_up(client)
    assert "Bostøtte" in page and "ikke komplet" not in page and "kunne ikke læses" not in page


def test_the_desk_shows_the_readable_cases_and_says_one_is_missing(sbsys_client):
    client, server = sbsys_client
    mine = {"Behandler": {"Medarbejdernummer": "MK4821", "Navn": "Mette Kjær"}}
    cases = [sbsys_case(1, "Bostøtte", **mine), sbsys_case(2, "Ledsagelse", Id=None, **mine)]
    server.post(SBSYS + "api/sag/search", json={"Results": cases})
    page = client.get("/mit-skrivebord").get_data(as_text=True)
    assert "Bostøtte" in page and "Ledsagelse" not in page
    assert "Skrivebordet er ikke komplet" in page and "1 sag kunne ikke læses" in page
