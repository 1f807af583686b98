"""Mit skrivebord: a caseworker's own open cases across systems, deadlines first, paged."""

from __future__ import annotations

import datetime as dt
import re

from support.actions import sandbox_login


def test_desk_lists_the_caseworkers_open_cases_deadlines_first(live_app, sandbox):
    client = live_app.test_client()
    assert sandbox_login(client, sandbox, "medarbejder", "caseworker").status_code == 303
    response = client.get("/mit-skrivebord")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "<h1>Mit skrivebord</h1>" in page
    number = sandbox.municipality.demo.caseworker
    mine = [
        c for c in sandbox.municipality.cases
        if c.caseworker == number and c.history[-1].progress != "afsluttet"
    ]  # fmt: skip
    assert mine, "the demo caseworker has open ESDH cases"
    systems = set(re.findall(r"/sag/([a-z0-9_-]+)/", page))
    assert {"sbsys", "byggesag", "zgw", "momentum"} <= systems, systems
    row = (
        r'<td class="nowrap"[^>]*>([^<]*)(?:<span[^>]*>[^<]*</span>)?</td>'
        r'\s*<td[^>]*><a href="(/oversigt/[^"]+)"'
    )
    rows = re.findall(row, page)
    while following := re.search(r'href="([^"]+)" rel="next"', page):  # every page
        page = client.get(following[1].replace("&amp;", "&")).get_data(as_text=True)
        rows += re.findall(row, page)
    assert len([r for r in rows if "/sag/sbsys/" in r[1]]) == len(mine)
    dates = [d.strip() for d, _ in rows]
    deadlines = [dt.datetime.strptime(d, "%d.%m.%Y").date() for d in dates if d != "–"]
    assert deadlines == sorted(deadlines)
    # cases with a deadline come before those without
    assert dates == [d for d in dates if d != "–"] + [d for d in dates if d == "–"]
    # every case link opens the case page
    assert client.get(rows[0][1]).status_code == 200


def test_desk_is_for_caseworkers_only(live_app):
    from support.actions import citizen_user, sign_in

    client = live_app.test_client()
    sign_in(client, citizen_user("0103854321"))
    assert client.get("/mit-skrivebord").status_code == 403
