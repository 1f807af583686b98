"""A case joined across two systems, one of which does not answer when the case is opened:
the page shows what the other system holds (its documents too) and says what is missing,
for caseworkers and citizens alike, within the deadline."""

from __future__ import annotations

import re
import time

from support.actions import caseworker_user, citizen_user, csrf_token, sign_in

SBSYS, PERMITS = "SBSYS (sandkasse)", "Byggesager (sandkasse)"


def _joined_case_link(page: str, prefix: str) -> str:
    """The first case listed as held by both systems (a table row)."""
    for row in re.findall(r"<tr.*?</tr>", page, re.S):
        if SBSYS in row and PERMITS in row:
            return re.search(rf'href="({re.escape(prefix)}[^"]*/sag/[^"]+)"', row)[1]
    raise AssertionError("the typical citizen has a case joined from SBSYS and byggesag")


def _documents_section(page: str) -> str:
    return page[page.index("<h2", page.index("Dokumenter") - 40) :]


def test_caseworker_sees_the_answering_systems_documents_when_the_esdh_hangs(
    live_app, fault_sandbox
):
    client = live_app.test_client()
    sign_in(client, caseworker_user())
    cpr = fault_sandbox.municipality.demo.typical
    made = client.post("/", data={"kind": "cpr", "value": cpr, "csrf_token": csrf_token(client)})
    overview = client.get(made.location).get_data(as_text=True)
    link = _joined_case_link(overview, "/oversigt/")
    fault_sandbox.faults("esdh").update(hang=True)
    started = time.monotonic()
    page = client.get(link)
    took = time.monotonic() - started
    text = page.get_data(as_text=True)
    assert page.status_code == 200
    assert took < live_app.extensions["borgersag"].config.portal.deadline_seconds + 1.0
    assert "Ikke alle sagens systemer svarede" in text
    documents = _documents_section(text)
    assert "Ingen dokumenter" not in documents
    assert "/dokument/" in documents  # byggesag's documents are there to open


def test_citizen_sees_the_answering_systems_part_and_a_note_when_the_esdh_hangs(
    live_app, fault_sandbox
):
    client = live_app.test_client()
    sign_in(client, citizen_user(fault_sandbox.municipality.demo.typical))
    overview = client.get("/mine-sager").get_data(as_text=True)
    # Citizens are not told which systems hold a case: find the joined one by its ids.
    joined = [
        (f"/mine-sager/sag/byggesag/{b.sagsnummer}", f"/mine-sager/sag/sbsys/{b.esdh_case_id}")
        for b in fault_sandbox.municipality.building_cases
        if b.esdh_case_id is not None
    ]
    link = next(url for pair in joined for url in pair if f'href="{url}"' in overview)
    fault_sandbox.faults("esdh").update(hang=True)
    page = client.get(link)
    text = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "noget kan mangle" in text
    assert "/dokument/" in _documents_section(text)  # the permit's letters to the citizen
