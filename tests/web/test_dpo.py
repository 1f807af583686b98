"""The data-protection officer's page (borgersag/web/dpo.py): who may use it, the search,
its pages, the art. 15 export, and that every search is itself audited.

The audit log is a file of the test's own (SQLite); the store's queries are tested on
PostgreSQL too in tests/audit/test_audit_search.py.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re

import pytest

from borgersag.audit import AUDIT, AuditEvent, AuditLog, AuditUnavailable
from borgersag.web import create_app
from borgersag.web.dpo import PER_PAGE

from support.actions import caseworker_user, citizen_user, csrf_token, sign_in
from support.fake_portal import FakePortal, make_config

KAREN = "0101701234"
OLE = "0202802345"
START = dt.datetime(2026, 11, 2, 8, 0, tzinfo=dt.UTC)


def build(tmp_path, **audit):
    url = f"sqlite:///{tmp_path / 'audit.sqlite3'}"
    portal = FakePortal(config=make_config(tables={"audit": {"url": url, **audit}}))
    app = create_app(portal.config, portal=portal)
    app.config["TESTING"] = True
    return app, AuditLog.from_settings(portal.config.section(AUDIT))  # with the app's keys


@pytest.fixture
def dpo_app(tmp_path):
    app, log = build(tmp_path)
    yield app, log
    log.close()
    app.extensions["borgersag.audit"].close()


def staff_row(cpr: str, at: dt.datetime, **fields) -> AuditEvent:
    values = {
        "actor_id": "MK4821",
        "actor_name": "Mette Kjær",
        "actor_unit": "Jobcenter, Ydelser",
        "purpose": "Sagsbehandling",
        "subject": f"cpr:{cpr}",
        "at": at,
        **fields,
    }
    return AuditEvent(values.pop("kind", "lookup"), "caseworker", **values)


def officer(app):
    client = app.test_client()
    sign_in(client, caseworker_user(2))
    return client


def search(client, **fields):
    form = {"csrf_token": csrf_token(client), **fields}
    return client.post("/databeskyttelse", data=form)


def rows_of(page: str) -> list[str]:
    body = page.split("<tbody>", 1)[1].split("</tbody>", 1)[0] if "<tbody>" in page else ""
    return re.findall(r"<tr>(.*?)</tr>", body, re.S)


def events(log: AuditLog) -> list[AuditEvent]:
    return [record.event for record in reversed(log.recent(10_000))]


# --- who may ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "user",
    [caseworker_user(0), caseworker_user(1), citizen_user(KAREN)],
    ids=["caseworker", "administrator", "citizen"],
)
def test_no_one_but_the_officer_may_search_and_each_try_is_a_refused_row(dpo_app, user):
    app, log = dpo_app
    client = app.test_client()
    sign_in(client, user)
    token = csrf_token(client)
    answers = [
        client.get("/databeskyttelse"),
        client.post("/databeskyttelse", data={"cpr": KAREN, "csrf_token": token}),
        client.get("/databeskyttelse/soegning/" + "a" * 24),
        client.get("/databeskyttelse/soegning/" + "a" * 24 + "/udtraek.csv"),
        client.get("/databeskyttelse/soegning/" + "a" * 24 + "/udskrift"),
    ]
    assert [a.status_code for a in answers] == [403] * 5
    refused = [e for e in events(log) if e.kind.value == "refused"]
    endpoints = ["form", "form_post", "results", "export_as_csv", "export_for_print"]
    assert len(refused) == len(endpoints)
    for row, endpoint in zip(refused, endpoints, strict=True):
        assert f"dpo.{endpoint}" in row.detail, row.detail  # e.g. "ingen adgang til dpo.form"
    assert not [e for e in events(log) if e.kind.value.startswith("audit_")]
    assert "Loggen over opslag" not in client.get("/tilgaengelighed").get_data(as_text=True)


def test_a_visitor_is_sent_to_sign_in(dpo_app):
    app, _log = dpo_app
    answer = app.test_client().get("/databeskyttelse")
    assert answer.status_code == 303 and answer.location.endswith("/log-ind")


def test_the_officer_sees_the_form_and_no_lookup_links(dpo_app):
    app, _log = dpo_app
    page = officer(app).get("/databeskyttelse").get_data(as_text=True)
    assert "Søg i loggen over opslag" in page
    assert 'href="/databeskyttelse">Loggen over opslag' in page
    assert "Nyt opslag" not in page and "Mit skrivebord" not in page
    assert officer(app).get("/").status_code == 403, "the officer looks no one up"


# --- the search ------------------------------------------------------------------------------


def test_a_search_by_person_shows_their_rows_with_everything_and_no_cpr_anywhere(dpo_app):
    app, log = dpo_app
    log.record(staff_row(KAREN, START, sources=(("sbsys", "ok"),), case_ids=("sbsys/1002",)))
    log.record(staff_row(OLE, START + dt.timedelta(hours=1)))
    log.record(staff_row(KAREN, START + dt.timedelta(hours=2), kind="refused",
                         detail="ingen adgang til web.case"))  # fmt: skip
    client = officer(app)
    made = search(client, cpr="010170-1234", formaal="Kontrol af opslag")
    assert made.status_code == 303
    page_answer = client.get(made.location)
    page = page_answer.get_data(as_text=True)
    assert page_answer.status_code == 200

    rows = rows_of(page)
    assert len(rows) == 2, "Karen's rows only"
    assert "Afvist" in rows[0] and "ingen adgang til web.case" in rows[0], "newest first"
    first = rows[1]
    expected = ("Medarbejder MK4821", "Mette Kjær", "Jobcenter, Ydelser", "Opslag")
    expected += ("CPR-nummer 010170-xxxx", "Sagsbehandling", "sbsys: ok", "sbsys/1002")
    for shown in expected:
        assert shown in first, shown
    assert "02.11.2026 kl. 09.00" in first, "Danish time"

    # The CPR number is in no address, no link and nowhere on the page.
    for answer_ in (made, page_answer):
        assert KAREN not in answer_.headers.get("Location", "")
    links = re.findall(r'(?:href|action|src)="([^"]*)"', page)
    assert links and not any(re.search(r"\d{6}-?\d{4}", link) for link in links)
    assert KAREN not in page and "010170-1234" not in page
    assert re.fullmatch(r"/databeskyttelse/soegning/[A-Za-z0-9_-]{24}", made.location)


def test_each_results_page_is_an_audit_row_about_the_person_written_first(dpo_app):
    app, log = dpo_app
    log.record(staff_row(KAREN, START))
    client = officer(app)
    made = search(client, cpr=KAREN, medarbejder="mk4821", formaal="Anmodning om indsigt (art. 15)")
    assert not [e for e in events(log) if e.kind.value == "audit_search"], "not before shown"
    answer = client.get(made.location)
    [row] = [e for e in events(log) if e.kind.value == "audit_search"]
    officer_user = caseworker_user(2)
    assert (row.actor_type, row.actor_id, row.actor_name, row.actor_unit) == (
        "caseworker",
        officer_user.medarbejdernummer,
        officer_user.name,
        officer_user.unit,
    )
    assert row.subject == f"cpr:{KAREN}"
    assert row.purpose == "Anmodning om indsigt (art. 15)"
    assert row.detail == "søgning side 1; medarbejder mk4821; 1 rækker"
    assert row.request_id == answer.headers["X-Request-ID"]
    assert KAREN not in row.detail
    client.get(made.location)
    assert len([e for e in events(log) if e.kind.value == "audit_search"]) == 2
    assert log.verify().ok


def test_a_search_without_a_person_is_about_the_employee(dpo_app):
    app, log = dpo_app
    log.record(staff_row(KAREN, START))
    client = officer(app)
    client.get(search(client, medarbejder="MK4821", enhed="jobcenter").location)
    row = events(log)[-1]
    assert (row.kind.value, row.subject) == ("audit_search", "medarbejder:MK4821")
    assert row.detail == "søgning side 1; medarbejder MK4821; enhed 'jobcenter'; 1 rækker"


def test_the_search_fails_closed_when_its_row_cannot_be_written(dpo_app, monkeypatch):
    app, log = dpo_app
    log.record(staff_row(KAREN, START, actor_unit="Hemmelig enhed"))
    client = officer(app)
    made = search(client, cpr=KAREN)
    audit = app.extensions["borgersag.audit"]

    def refuse(_event):
        raise AuditUnavailable("The audit log (test) could not record the event: down.")

    monkeypatch.setattr(audit, "record", refuse)
    answer = client.get(made.location)
    page = answer.get_data(as_text=True)
    assert answer.status_code == 503 and "Opslaget kunne ikke registreres" in page
    assert "Hemmelig enhed" not in page
    csv_answer = client.get(made.location + "/udtraek.csv")
    assert csv_answer.status_code == 503 and b"Hemmelig" not in csv_answer.data


def test_filters_period_and_pages_newest_first(dpo_app):
    app, log = dpo_app
    total = PER_PAGE + 7
    for n in range(total):  # one row an hour from 2 Nov 09:00 Danish time
        unit = "Byggeri og Miljø" if n % 2 else "Jobcenter, Ydelser"
        log.record(staff_row(KAREN, START + dt.timedelta(hours=n), actor_unit=unit,
                             purpose=f"række {n}"))  # fmt: skip
    log.record(staff_row(OLE, START))
    client = officer(app)
    made = search(client, cpr=KAREN).location
    first = client.get(made).get_data(as_text=True)
    rows = rows_of(first)
    assert len(rows) == PER_PAGE and f"række {total - 1}<" in rows[0]
    assert f"{total} rækker, nyeste først (side 1 af 2)" in first
    assert f'href="{made}?side=2"' in first
    second = rows_of(client.get(made + "?side=2").get_data(as_text=True))
    assert [re.search(r"række (\d+)<", r)[1] for r in second] == [str(n) for n in range(6, -1, -1)]
    assert rows_of(client.get(made + "?side=3").get_data(as_text=True)) == []
    assert client.get(made + "?side=abc").status_code == 200

    # the unit, and a period in Danish days: 2 Nov is 09:00 to 23:00 Danish time, 15 rows
    unit = search(client, cpr=KAREN, enhed="MILJØ").location
    assert "28 rækker" in client.get(unit).get_data(as_text=True)
    day = search(client, cpr=KAREN, fra="2026-11-02", til="02.11.2026").location
    assert "15 rækker" in client.get(day).get_data(as_text=True)
    after = search(client, fra="2026-11-03", til="2026-11-04").location  # not today's searches
    assert f"{total - 15} rækker" in client.get(after).get_data(as_text=True)


def test_the_pages_do_not_shift_while_the_officer_pages_through(dpo_app):
    app, log = dpo_app
    for n in range(PER_PAGE + 1):
        log.record(staff_row(KAREN, START + dt.timedelta(minutes=n), purpose=f"række {n}"))
    client = officer(app)
    made = search(client, cpr=KAREN).location
    client.get(made)  # this page's own audit_search row is about Karen too
    log.record(staff_row(KAREN, START + dt.timedelta(days=1), purpose="senere"))
    second = rows_of(client.get(made + "?side=2").get_data(as_text=True))
    assert len(second) == 1 and "række 0<" in second[0]


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({}, "cpr", "Udfyld mindst ét af felterne"),
        ({"cpr": "310201-1234"}, "cpr", "februar"),
        ({"medarbejder": "010170-1234"}, "medarbejder", "Det ligner et CPR-nummer"),
        ({"enhed": "Jobcenter 0101701234"}, "enhed", "uden numre"),
        ({"fra": "2. november"}, "fra", "dd.mm.åååå"),
        ({"fra": "2026-11-05", "til": "2026-11-01"}, "til", "på eller efter startdatoen"),
        ({"cpr": KAREN, "formaal": "Nysgerrighed"}, "formaal", "Vælg et af formålene"),
    ],
)
def test_a_bad_form_says_what_is_wrong_and_searches_nothing(dpo_app, fields, field, message):
    app, log = dpo_app
    client = officer(app)
    answer = search(client, **fields)
    page = answer.get_data(as_text=True)
    assert answer.status_code == 400
    assert message in page and f'href="#{field}"' in page
    assert f'id="{field}-error"' in page
    assert not [e for e in events(log) if e.kind.value.startswith("audit_")]


def test_a_search_is_only_in_the_session_that_made_it(dpo_app):
    app, log = dpo_app
    log.record(staff_row(KAREN, START))
    made = search(officer(app), cpr=KAREN).location
    other = officer(app)
    for path in (made, made + "/udtraek.csv", made + "/udskrift"):
        answer = other.get(path)
        assert answer.status_code == 404
        assert "Søgningen findes ikke længere" in answer.get_data(as_text=True)
    assert other.get("/databeskyttelse/soegning/x%00y").status_code == 404


# --- the export --------------------------------------------------------------------------------


def read_csv(data: bytes) -> list[list[str]]:
    assert data.startswith(b"\xef\xbb\xbf"), "UTF-8 with a BOM, for Excel"
    assert b"\r\n" in data
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig")), delimiter=";"))


def test_the_csv_export_is_the_persons_log_for_excel_and_safe(dpo_app):
    app, log = dpo_app
    log.record(staff_row(KAREN, START, purpose="Borgerhenvendelse", actor_unit="Børn og Familie"))
    log.record(staff_row(KAREN, START + dt.timedelta(hours=1), kind="case_view",
                         purpose='=HYPERLINK("http://evil.invalid";"klik")',
                         actor_unit="+45 Ydelser"))  # fmt: skip
    log.record(staff_row(KAREN, START + dt.timedelta(hours=2), kind="document",
                         purpose="@SUM(A1:A9)", actor_unit="-1+1"))  # fmt: skip
    log.record(AuditEvent("case_view", "citizen", actor_id="pseud", subject=f"cpr:{KAREN}"))
    log.record(staff_row(OLE, START + dt.timedelta(hours=3)))
    client = officer(app)
    made = search(client, cpr=KAREN).location
    answer = client.get(made + "/udtraek.csv")
    assert answer.status_code == 200
    assert answer.headers["Content-Type"] == "text/csv; charset=utf-8"
    disposition = answer.headers["Content-Disposition"]
    assert disposition.startswith("attachment;") and "0101" not in disposition
    table = read_csv(answer.data)
    assert table[0] == ["Tidspunkt (dansk tid)", "Hvad", "Formål", "Enhed"], "no names by default"
    hyperlink = '\'=HYPERLINK("http://evil.invalid";"klik")'
    assert table[1:] == [
        ["2026-11-02 11:00:00", "Hentede et dokument", "'@SUM(A1:A9)", "'-1+1"],
        ["2026-11-02 10:00:00", "Så en af dine sager", hyperlink, "'+45 Ydelser"],
        ["2026-11-02 09:00:00", "Slog dig op", "Borgerhenvendelse", "Børn og Familie"],
    ], "the citizen's own visit and Ole's row are not in it"
    assert "Mette" not in answer.data.decode("utf-8-sig")

    row = events(log)[-1]
    assert (row.kind.value, row.subject) == ("audit_export", f"cpr:{KAREN}")
    assert row.detail == "udtræk csv; 3 rækker"
    again = read_csv(client.get(made + "/udtraek.csv").data)
    assert again[1][1] == "Lavede et udtræk af din log", "the earlier export is in the next"


def test_rows_that_only_showed_the_person_are_found_and_worded_as_such(dpo_app):
    """A property lookup naming Karen as owner, and a desk view holding her case, are
    about her too (``audit_person``): found by a search by person, in her export as what
    they were, and nothing in it names Ole, the other owner."""
    app, log = dpo_app
    owners = (f"cpr:{KAREN}", f"cpr:{OLE}")
    log.record(staff_row(KAREN, START, subject="bfe:100123456", persons=owners))
    log.record(staff_row(KAREN, START + dt.timedelta(hours=1), subject="medarbejder:MK4821",
                         purpose="Eget skrivebord", persons=(f"cpr:{KAREN}",)))  # fmt: skip
    log.record(staff_row(OLE, START + dt.timedelta(hours=2)))
    client = officer(app)
    made = search(client, cpr=KAREN).location
    page = client.get(made).get_data(as_text=True)
    assert len(rows_of(page)) == 2 and "BFE-nummer 100123456" in page

    table = read_csv(client.get(made + "/udtraek.csv").data)
    assert [row[1:3] for row in table[1:]] == [
        ["Søgte i loggen over opslag", "Ikke oplyst"],  # the officer's own search above
        ["Så din sag i en medarbejders liste over sager", "Eget skrivebord"],
        ["Slog en ejendom op, hvor du er nævnt", "Sagsbehandling"],
    ]
    assert "0202" not in client.get(made + "/udskrift").get_data(as_text=True)


def test_the_export_names_the_employee_when_the_municipality_shows_names(tmp_path):
    app, log = build(tmp_path, show_staff_names=True)
    try:
        log.record(staff_row(KAREN, START))
        client = officer(app)
        made = search(client, cpr=KAREN).location
        table = read_csv(client.get(made + "/udtraek.csv").data)
        assert table[0][-1] == "Medarbejder" and table[1][-1] == "Mette Kjær"
        page = client.get(made + "/udskrift").get_data(as_text=True)
        assert "Mette Kjær" in page and '<th scope="col">Medarbejder</th>' in page
    finally:
        log.close()
        app.extensions["borgersag.audit"].close()


def test_the_printable_export_has_the_rows_and_a_print_stylesheet(dpo_app):
    app, log = dpo_app
    log.record(staff_row(KAREN, START, purpose="Partshøring eller aktindsigt"))
    client = officer(app)
    made = search(client, cpr=KAREN, fra="01.11.2026", til="30.11.2026").location
    answer = client.get(made + "/udskrift")
    page = answer.get_data(as_text=True)
    assert answer.status_code == 200
    assert "Udtræk af loggen over opslag" in page and "CPR-nummer 010170-xxxx" in page
    assert "i perioden 01.11.2026 – 30.11.2026" in page
    [row] = rows_of(page)
    assert "2026-11-02 09:00:00" in row and "Partshøring eller aktindsigt" in row
    assert "Jobcenter, Ydelser" in row and "Mette" not in page
    assert "css/dpo.css" in page and KAREN not in page
    with client.get("/static/css/dpo.css") as css:
        assert "@media print" in css.get_data(as_text=True)
    assert events(log)[-1].detail == "udtræk udskrift; periode 2026-11-01 – 2026-11-30; 1 rækker"


def test_a_search_without_a_person_offers_no_export(dpo_app):
    app, log = dpo_app
    log.record(staff_row(KAREN, START))
    client = officer(app)
    made = search(client, enhed="Jobcenter").location
    assert "udtraek.csv" not in client.get(made).get_data(as_text=True)
    assert client.get(made + "/udtraek.csv").status_code == 404


def test_the_operators_audit_show_prints_the_officers_rows_masked(dpo_app, capsys):
    import argparse
    from types import SimpleNamespace

    from borgersag.audit import validate_audit_settings
    from borgersag.cli.audit import add_audit_commands

    app, log = dpo_app
    log.record(staff_row(KAREN, START))
    client = officer(app)
    made = search(client, cpr=KAREN).location
    client.get(made)
    client.get(made + "/udtraek.csv")
    settings = validate_audit_settings({"url": str(log.url)})
    parser = argparse.ArgumentParser(prog="borgersag")
    add_audit_commands(
        parser.add_subparsers(dest="command"),
        lambda _args: SimpleNamespace(section=lambda _section: settings),
    )
    args = parser.parse_args(["audit", "show", "--last", "2"])
    assert args.handler(args) == 0
    search_line, export_line = capsys.readouterr().out.splitlines()
    assert search_line.split()[3:6] == ["audit_search", "caseworker:DV3050", "(Databeskyttelse)"]
    assert "cpr:010170-xxxx" in search_line and "detail='søgning side 1; 1 rækker'" in search_line
    assert export_line.split()[3] == "audit_export" and "udtræk csv; 2 rækker" in export_line
    assert KAREN not in search_line + export_line and "Dorte" not in search_line + export_line


# --- the sandbox's officer ---------------------------------------------------------------------


def test_the_sandbox_officer_signs_in_to_the_page_and_finds_a_caseworkers_lookup(live_app, sandbox):
    from support.actions import sandbox_login

    worker = live_app.test_client()
    assert sandbox_login(worker, sandbox, "medarbejder", "caseworker").status_code == 303
    typical = sandbox.municipality.demo.typical
    form = {"kind": "cpr", "value": typical, "purpose": "", "csrf_token": csrf_token(worker)}
    assert worker.post("/", data=form).status_code == 303

    client = live_app.test_client()
    signed_in = sandbox_login(client, sandbox, "medarbejder", "dpo")
    assert signed_in.status_code == 303 and signed_in.location == "/databeskyttelse"
    made = search(client, cpr=typical, formaal="Kontrol af opslag")
    page = client.get(made.location).get_data(as_text=True)
    number = sandbox.municipality.demo.caseworker
    assert any(f"Medarbejder {number}" in row and "Opslag" in row for row in rows_of(page))
    assert typical not in page


def test_a_lookup_shown_as_it_filled_in_is_one_row_of_the_export(dpo_app):
    app, log = dpo_app
    steps = [("opslag startet", "r-1"), ("delsvar", "r-1"), ("", "r-1"), ("opslag startet", "r-2")]
    for n, (detail, rid) in enumerate(steps):
        log.record(staff_row(KAREN, START + dt.timedelta(minutes=n), detail=detail, request_id=rid))
    client = officer(app)
    made = search(client, cpr=KAREN).location
    assert len(rows_of(client.get(made).get_data(as_text=True))) == 4, "the officer sees all"
    table = read_csv(client.get(made + "/udtraek.csv").data)
    times = [row[0] for row in table[1:] if row[1] == "Slog dig op"]
    assert times == ["2026-11-02 09:03:00", "2026-11-02 09:02:00"], "the end, and one cut short"
