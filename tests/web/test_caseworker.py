"""The caseworker web front end, through Flask's test client and a fake portal."""

from __future__ import annotations

import dataclasses
import re

import pytest
import responses

from borgersag.sdk.errors import NotFound
from borgersag.web.overviews import OverviewStore

from support.actions import completeness_notice, csrf_token, login_as_caseworker
from support.fake_portal import STAFF_ISSUER, TYPICAL_CPR, XSS_TITLE, RetriableError

TYPICAL_DASHED = f"{TYPICAL_CPR[:6]}-{TYPICAL_CPR[6:]}"


def lookup(client, kind: str = "cpr", value: str = TYPICAL_DASHED):
    """POST the lookup form as a browser would."""
    return client.post("/", data={"kind": kind, "value": value, "csrf_token": csrf_token(client)})


def overview_url(client, **kwargs) -> str:
    response = lookup(client, **kwargs)
    assert response.status_code == 303
    return response.headers["Location"]


def text(response) -> str:
    return response.get_data(as_text=True)


# -- sign-in -------------------------------------------------------------------------------

PERSONAL_PAGES = [
    ("GET", "/"),
    ("POST", "/"),
    ("GET", "/oversigt/abcdefghijklmnopqrstuvwxyz"),
    ("GET", "/oversigt/abcdefghijklmnopqrstuvwxyz/sag/sbsys/1001"),
    ("GET", "/oversigt/abcdefghijklmnopqrstuvwxyz/sag/sbsys/1001/dokument/d1"),
]


@pytest.mark.parametrize(("method", "path"), PERSONAL_PAGES)
def test_personal_pages_redirect_to_sign_in(client, method, path):
    response = client.open(path, method=method, data={"kind": "cpr", "value": TYPICAL_CPR})
    assert response.status_code == 303
    assert response.headers["Location"].endswith("/log-ind")


@pytest.mark.parametrize(
    ("method", "path"),
    [("POST", "/api/v1/overviews"), ("GET", "/api/v1/overviews/abcdefghijklmnopqrstuvwxyz")],
)
def test_api_without_sign_in_is_401_json(client, method, path):
    response = client.open(path, method=method, json={"kind": "cpr", "value": TYPICAL_CPR})
    assert response.status_code == 401
    assert response.is_json
    assert response.json["error"]["message"]


def test_sign_in_page_offers_both_logins_and_no_sandbox_banner(client):
    page = text(client.get("/log-ind"))
    assert 'href="/log-ind/borger"' in page and "Log ind med MitID" in page
    assert 'href="/log-ind/medarbejder"' in page and "Log ind med Medarbejderlogin" in page
    assert "Sandkasse" not in page  # this config has no sandbox


def test_sign_in_and_out(client):
    from support.oidc_fake import FakeProvider

    user = login_as_caseworker(client, 1)
    page = text(client.get("/"))
    assert user.name in page and "administrator" in page
    assert "Log ud" in page
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        FakeProvider(issuer=STAFF_ISSUER).install(mock)
        response = client.post("/log-ud", data={"csrf_token": csrf_token(client)})
    assert response.status_code == 303
    assert response.location.startswith(f"{STAFF_ISSUER}/logout?")
    assert client.get("/").status_code == 303


def test_citizen_is_sent_from_the_lookup_page_to_mine_sager(client):
    from support.actions import citizen_user, sign_in

    sign_in(client, citizen_user(TYPICAL_CPR))
    response = client.get("/")
    assert response.status_code == 303 and response.location.endswith("/mine-sager")
    assert (
        client.post(
            "/", data={"kind": "cpr", "value": TYPICAL_CPR, "csrf_token": csrf_token(client)}
        ).status_code
        == 403
    )


def test_post_after_the_session_ended_goes_to_sign_in(client, fake_portal):
    response = client.post("/", data={"kind": "cpr", "value": TYPICAL_CPR, "csrf_token": "x"})
    assert response.status_code == 303 and "/log-ind" in response.location
    assert fake_portal.lookups == []


def test_session_cookie_is_httponly_and_samesite(client):
    login_as_caseworker(client)
    cookie = client.get_cookie("borgersag_session")
    assert cookie.http_only
    assert cookie.same_site == "Lax"


def test_form_post_without_csrf_token_is_refused(caseworker_client, fake_portal):
    response = caseworker_client.post("/", data={"kind": "cpr", "value": TYPICAL_DASHED})
    assert response.status_code == 400
    assert "Formularen er udløbet" in text(response)
    assert fake_portal.lookups == []


# -- lookup form ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "value", "message"),
    [
        ("cpr", "01038543", "Et CPR-nummer har 10 cifre"),
        ("cpr", "310285-1234", "ingen 31. februar"),
        ("cpr", "0103AB4321", "Må kun indeholde cifre"),
        ("cpr", "", "Udfyld feltet"),
        ("cvr", "29189847", "kontrolcifferet passer ikke"),
        ("cvr", "1234", "Et CVR-nummer har 8 cifre"),
        ("matrikel", "Hovedgaden 12", "En matrikel skrives som ejerlavskode og matrikelnummer"),
        ("bfe", "0", "Et BFE-nummer er et positivt tal"),
    ],
)
def test_bad_key_shows_message_next_to_field_with_400(
    caseworker_client, fake_portal, kind, value, message
):
    response = lookup(caseworker_client, kind, value)
    page = text(response)
    assert response.status_code == 400
    assert message in page
    # DKFDS error pattern: the group is marked, the message is linked to the input.
    assert 'class="form-group form-error"' in page
    assert 'id="value-error"' in page
    assert re.search(r'<input[^>]*id="value"[^>]*aria-describedby="value-error"', page, re.S)
    assert 'aria-invalid="true"' in page
    assert 'data-module="error-summary"' in page
    assert "<title>Fejl:" in page
    # the typed value is kept and the chosen kind stays selected
    assert f'value="{value}"' in page
    assert re.search(rf'value="{kind}"\s+aria-describedby="kind-{kind}-hint" checked', page)
    assert fake_portal.lookups == []


def test_unknown_kind_is_an_error_on_the_kind_field(caseworker_client):
    response = lookup(caseworker_client, "pas", "123")
    assert response.status_code == 400
    assert 'id="kind-error"' in text(response)


def test_successful_lookup_redirects_to_an_opaque_url(caseworker_client, fake_portal):
    response = lookup(caseworker_client)
    assert response.status_code == 303
    location = response.headers["Location"]
    assert re.fullmatch(r"/oversigt/[A-Za-z0-9_-]{20,64}", location)
    digits = re.sub(r"\D", "", location)
    assert TYPICAL_CPR not in digits
    assert TYPICAL_CPR[:6] not in location
    assert TYPICAL_DASHED not in location
    assert [k.value for k in fake_portal.lookups] == [TYPICAL_CPR]


def test_another_users_token_is_404_expired(app, caseworker_client):
    url = overview_url(caseworker_client)
    other = app.test_client()
    login_as_caseworker(other, 1)
    response = other.get(url)
    assert response.status_code == 404
    assert "Oversigten er udløbet" in text(response)
    assert response.headers["Cache-Control"] == "no-store"


def test_expired_token_is_404(app, caseworker_client):
    now = [0.0]
    app.extensions["borgersag.overviews"] = OverviewStore(1800, clock=lambda: now[0])
    url = overview_url(caseworker_client)
    now[0] = 1799
    assert caseworker_client.get(url).status_code == 200
    now[0] = 1800
    response = caseworker_client.get(url)
    assert response.status_code == 404
    assert "Lav opslaget igen" in text(response)
    assert "30 minutter" in text(response)


@pytest.mark.parametrize(
    "path",
    [
        "/oversigt/x",
        "/oversigt/%00%ff",
        "/oversigt/" + "a" * 500,
        "/oversigt/abcdefghijklmnopqrstuvwxyz/sag/..%2F..%2Fetc",
        "/oversigt/abcdefghijklmnopqrstuvwxyz/sag/sbsys/1001/dokument/%3Cx%3E",
    ],
)
def test_malformed_tokens_and_ids_are_404_not_500(caseworker_client, path):
    assert caseworker_client.get(path).status_code == 404


# -- overview ------------------------------------------------------------------------------


def test_overview_masks_the_cpr_and_offers_a_reveal(caseworker_client):
    page = text(caseworker_client.get(overview_url(caseworker_client)))
    assert f"{TYPICAL_CPR[:6]}-xxxx" in page
    title = re.search(r"<title>(.*?)</title>", page, re.S).group(1)
    assert TYPICAL_DASHED not in title and "xxxx" in title
    assert "<details" in page and TYPICAL_DASHED in page  # only inside the reveal


def test_source_panel_tells_empty_failed_not_applicable_and_stale_apart(caseworker_client):
    page = text(caseworker_client.get(overview_url(caseworker_client)))
    rows = {
        status: re.search(rf'<tr class="source-row source-{status}">(.*?)</tr>', page, re.S)[1]
        for status in ("ok", "empty", "failed", "not_applicable", "stale")
    }
    assert "Ingen sager" in rows["empty"] and "har ingen sager på nøglen" in rows["empty"]
    assert "Kunne ikke svare" in rows["failed"]
    assert "Sagerne herfra mangler i oversigten." in rows["failed"]
    assert "Serverfejl (HTTP 500)." in rows["failed"]  # the source's own error, as detail
    assert "Ingen sager" not in rows["failed"]
    assert "søger ikke på denne nøgletype" in rows["not_applicable"]
    assert "Gemt svar" in rows["stale"]
    # A stale source is described once: one sentence, with its age.
    assert "Kilden svarede ikke; viser svaret fra for 14 minutter siden." in rows["stale"]
    assert rows["stale"].count("siden") == 1 and rows["stale"].count("svarede ikke") == 1
    assert "badge-success" in rows["ok"]
    assert "badge-error" in rows["failed"]


def test_unavailable_and_stale_sources_are_named_in_one_notice(caseworker_client):
    notice = completeness_notice(text(caseworker_client.get(overview_url(caseworker_client))))
    assert notice.startswith("Oversigten er ikke komplet")
    assert "Sagerne fra Momentum (beskæftigelse) mangler: systemet kunne ikke svare." in notice
    assert "Der kan være flere sager end dem, du ser." in notice
    assert "Sagerne fra Sagsarkiv vises fra et gemt svar, hentet for 14 minutter siden" in notice
    # sources that answered fresh, or that do not search on the key, are not named
    for title in ("SBSYS (ESDH)", "Open Zaak", "Virksomhedsarkiv"):
        assert title not in notice


def test_cases_grouped_by_area_with_joined_sources_and_reason(caseworker_client):
    page = text(caseworker_client.get(overview_url(caseworker_client)))
    assert "3 sager" in page
    for area in ("Beskæftigelse", "Byggeri", "Socialområdet"):
        assert f'<span class="area-title">{area}</span>' in page
    assert "SBSYS (ESDH) + Byggesag" in page
    assert "Fundet via: ejer af matrikel 2000351-12a" in page
    assert "Matrikel 2000351-12a</strong> – ejer af matrikel 2000351-12a" in page
    assert "Oplyst" in page and "Afventer lægeerklæring" in page


def test_back_end_text_is_escaped(caseworker_client):
    url = overview_url(caseworker_client)
    for page in (
        text(caseworker_client.get(url)),
        text(caseworker_client.get(f"{url}/sag/sbsys/1003")),
    ):
        assert XSS_TITLE not in page
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
        assert "<b>lukket</b>" not in page


def test_javascript_deep_link_is_not_rendered(caseworker_client):
    page = text(caseworker_client.get(overview_url(caseworker_client) + "/sag/sbsys/1003"))
    assert "javascript:" not in page


def test_big_overview_shows_a_page_of_open_groups(app, caseworker_client, fake_portal):
    from support.fake_portal import sample_overview

    fake_portal.overview_for = lambda key: sample_overview(key, extra_cases=520)
    page = text(caseworker_client.get(overview_url(caseworker_client)))
    assert "523 sager" in page and "Viser 1–25 af 523 sager" in page
    assert '<details class="area-group" id="omraade-1" open>' in page
    assert 'aria-label="Side 2"' in page  # the pager


# -- case page and documents ---------------------------------------------------------------


def test_case_page_shows_details_from_the_source(caseworker_client, fake_portal):
    url = overview_url(caseworker_client)
    page = text(caseworker_client.get(f"{url}/sag/sbsys/1001"))
    assert "Ansøgning om personlig tillæg" in page
    assert "27.24.00-G01-12-24" in page
    assert "27.24.00, handlingsfacet G01" in page
    assert "Følsomme personoplysninger" in page
    assert "Mette Kjær (MK4821)" in page
    assert "Telefonnotat fra kilden" in page  # only the detail view has it
    assert "Partshøring sendt" in page
    assert f"{TYPICAL_CPR[:6]}-xxxx" in page and TYPICAL_DASHED not in page
    assert 'aria-current="step"' in page
    assert "/dokument/d1" in page and "Brev indgående" in page
    assert 'href="https://sbsys.example/sag/1001"' in page
    assert fake_portal.case_requests == [("sbsys/1001", ())]


def test_joined_case_asks_every_source_and_lists_them(caseworker_client, fake_portal):
    url = overview_url(caseworker_client)
    page = text(caseworker_client.get(f"{url}/sag/sbsys/1002"))
    assert fake_portal.case_requests == [("sbsys/1002", ("byggesag/BYG-2024-00012",))]
    assert "SBSYS (ESDH) + Byggesag" in page
    assert "ejer af matrikel 2000351-12a" in page  # kept from the overview
    assert "Matrikel 2000351-12a" in page and "BFE-nummer 100123456" in page
    # reachable through the other source's id too
    assert caseworker_client.get(f"{url}/sag/byggesag/BYG-2024-00012").status_code == 200


@pytest.mark.parametrize("error", [RetriableError("down"), NotFound("gone"), RuntimeError("x")])
def test_case_page_falls_back_to_overview_copy(caseworker_client, fake_portal, error):
    url = overview_url(caseworker_client)
    fake_portal.detail_error = error  # a RuntimeError stands for a connector's bug
    response = caseworker_client.get(f"{url}/sag/sbsys/1001")
    assert response.status_code == 200
    page = text(response)
    assert "Viser oplysningerne fra oversigten" in page
    assert "Ansøgning om personlig tillæg" in page


def test_case_page_says_how_many_documents_the_portal_may_not_see(
    caseworker_client, fake_portal, monkeypatch
):
    url = overview_url(caseworker_client)
    fetch = fake_portal.get_case

    def without_documents(case_id, **kwargs):
        return dataclasses.replace(fetch(case_id, **kwargs), documents=(), documents_withheld=2)

    monkeypatch.setattr(fake_portal, "get_case", without_documents)
    page = text(caseworker_client.get(f"{url}/sag/sbsys/1001"))
    assert "Ingen dokumenter, som portalen har adgang til." in page
    assert "2 dokumenter på sagen kan portalen ikke se" in page


def test_case_not_in_the_overview_is_404(caseworker_client, fake_portal):
    url = overview_url(caseworker_client)
    response = caseworker_client.get(f"{url}/sag/sbsys/424242")
    assert response.status_code == 404
    assert "Sagen findes ikke i oversigten" in text(response)
    assert fake_portal.case_requests == []


def test_document_download_is_an_attachment(caseworker_client, fake_portal):
    url = overview_url(caseworker_client)
    response = caseworker_client.get(f"{url}/sag/sbsys/1001/dokument/d1")
    assert response.status_code == 200
    assert response.content_type == "application/pdf"
    assert response.headers["Content-Disposition"].startswith("attachment;")
    assert "d1-ans%C3%B8gning" in response.headers["Content-Disposition"]
    assert response.data.startswith(b"%PDF")
    assert fake_portal.document_requests == [("sbsys/1001", "d1")]


def test_document_of_joined_case_is_fetched_from_its_own_source(caseworker_client, fake_portal):
    url = overview_url(caseworker_client)
    assert caseworker_client.get(f"{url}/sag/sbsys/1002/dokument/b7").status_code == 200
    assert fake_portal.document_requests == [("byggesag/BYG-2024-00012", "b7")]


def test_unknown_document_is_404_and_failing_source_502(caseworker_client, fake_portal):
    url = overview_url(caseworker_client)
    assert caseworker_client.get(f"{url}/sag/sbsys/1001/dokument/nope").status_code == 404
    fake_portal.document_error = RetriableError("down")
    response = caseworker_client.get(f"{url}/sag/sbsys/1001/dokument/d1")
    assert response.status_code == 502
    assert "Dokumentet kunne ikke hentes" in text(response)


# -- JSON API ------------------------------------------------------------------------------


def test_api_creates_and_returns_an_overview(caseworker_client):
    response = caseworker_client.post(
        "/api/v1/overviews", json={"kind": "cpr", "value": TYPICAL_DASHED}
    )
    assert response.status_code == 201
    body = response.json
    assert re.fullmatch(r"[A-Za-z0-9_-]{20,64}", body["id"])
    assert response.headers["Location"] == f"/api/v1/overviews/{body['id']}"
    subject = body["overview"]["subject"]
    assert subject == {"kind": "cpr", "value": TYPICAL_CPR, "masked": "010385-xxxx"}
    assert body["overview"]["unavailable_sources"] == ["momentum"]
    # Each source carries the pages' wording of its state next to the facts.
    sources = {s["source"]: s for s in body["overview"]["sources"]}
    assert sources["momentum"]["label"] == "Kunne ikke svare"
    assert sources["momentum"]["explanation"] == "Sagerne herfra mangler i oversigten."
    assert sources["momentum"]["message"] == "Serverfejl (HTTP 500)."
    assert sources["sag-arkiv"]["age_seconds"] == 840.0
    assert "for 14 minutter siden" in sources["sag-arkiv"]["explanation"]
    again = caseworker_client.get(response.headers["Location"])
    assert again.status_code == 200
    assert again.json == body


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"kind": "cpr", "value": "310285-1234"}, "value"),
        ({"kind": "cvr", "value": "29189847"}, "value"),
        ({"kind": "pas", "value": "1"}, "kind"),
        ({"kind": "cpr", "value": 103854321}, "value"),
        ([1, 2], None),
    ],
)
def test_api_bad_input_is_400_with_field(caseworker_client, body, field):
    response = caseworker_client.post("/api/v1/overviews", json=body)
    assert response.status_code == 400
    assert response.json["error"]["field"] == field
    assert response.json["error"]["message"]


def test_api_needs_json_and_unknown_token_is_404(caseworker_client):
    response = caseworker_client.post("/api/v1/overviews", data={"kind": "cpr"})
    assert response.status_code == 415 and response.is_json
    response = caseworker_client.get("/api/v1/overviews/abcdefghijklmnopqrstuvwxyz")
    assert response.status_code == 404 and response.is_json


# -- errors, headers, accessibility -----------------------------------------------------


def test_404_and_405_pages_are_danish_with_request_id(caseworker_client):
    response = caseworker_client.get("/findes-ikke", headers={"X-Request-ID": "support-1234"})
    page = text(response)
    assert response.status_code == 404
    assert "Siden findes ikke" in page
    # the page names the server's own id; the client's is echoed beside it, not used
    assert response.headers["X-Request-ID"] in page and "support-1234" not in page
    assert response.headers["X-Request-ID"] != "support-1234"
    assert response.headers["X-Client-Request-ID"] == "support-1234"
    response = caseworker_client.delete("/")
    assert response.status_code == 405 and "Handlingen er ikke tilladt" in text(response)


def test_500_page_has_no_traceback_and_no_cpr(app, caseworker_client, fake_portal, caplog):
    def broken(key):
        raise RuntimeError(f"boom for {key.value}")

    fake_portal.overview_for = broken
    app.config["TESTING"] = False
    app.config["PROPAGATE_EXCEPTIONS"] = False
    response = lookup(caseworker_client)
    page = text(response)
    assert response.status_code == 500
    assert "Der opstod en fejl hos os" in page
    assert "Traceback" not in page and "RuntimeError" not in page
    assert TYPICAL_CPR not in page and TYPICAL_DASHED not in page
    assert response.headers["X-Request-ID"] in page
    assert TYPICAL_CPR not in caplog.text  # the message is not logged, only the frames
    assert "RuntimeError" in caplog.text


def test_error_pages_do_not_echo_the_typed_cpr(caseworker_client):
    response = caseworker_client.post("/", data={"kind": "cpr", "value": TYPICAL_DASHED})
    assert response.status_code == 400  # no CSRF token
    assert TYPICAL_DASHED not in text(response)


def test_every_page_has_layout_landmarks_and_no_inline_script(app, caseworker_client):
    anonymous = app.test_client()
    for page in (
        text(anonymous.get("/log-ind")),
        text(anonymous.get("/tilgaengelighed")),
        text(caseworker_client.get(overview_url(caseworker_client))),
    ):
        assert '<html lang="da">' in page
        assert 'class="skipnav" href="#main-content"' in page
        assert '<main id="main-content"' in page and "<header" in page and "<footer" in page
        assert 'href="/tilgaengelighed"' in page
        assert not re.search(r"<script(?![^>]*\bsrc=)", page)
        assert "style=" not in page


def test_security_headers(client):
    response = client.get("/log-ind")
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "no-referrer"


def test_accessibility_statement_is_public(client):
    response = client.get("/tilgaengelighed")
    assert response.status_code == 200
    assert "Tilgængelighedserklæring" in text(response)
    assert "WCAG 2.1" in text(response)


def test_app_works_unstyled_without_vendor_assets(monkeypatch, tmp_path, fake_portal, caplog):
    import borgersag.web as web

    monkeypatch.setattr(web, "static_dir", lambda: tmp_path)
    app = web.create_app(portal=fake_portal)
    assert "Det Fælles Designsystem is missing" in caplog.text
    page = text(app.test_client().get("/log-ind"))
    assert "Log ind med MitID" in page
    assert "dkfds" not in page


def test_create_app_uses_the_portals_config(fake_portal):
    from borgersag.web import create_app

    app = create_app(portal=fake_portal)
    assert app.extensions["borgersag"] is fake_portal
    assert "Testkommune" in text(app.test_client().get("/log-ind"))
