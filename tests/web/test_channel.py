"""Downloads leave the app one way, for caseworkers and citizens: a safe attachment."""

from __future__ import annotations

import pytest

from borgersag.sdk.connector import DocumentContent
from borgersag.web import channel

from support.actions import caseworker_user, citizen_user, csrf_token, sign_in
from support.fake_portal import TYPICAL_CPR

EVIL = DocumentContent("../../evil.html", "text/html", b"<html><script>alert(1)</script></html>")
SVG = DocumentContent("C:\\temp\\kort.svg", "image/svg+xml", b"<svg onload='alert(1)'/>")


def download(app, who: str):
    """Fetch a document as ``who`` through their own pages."""
    client = app.test_client()
    if who == "caseworker":
        sign_in(client, caseworker_user(0))
        form = {"kind": "cpr", "value": TYPICAL_CPR, "csrf_token": csrf_token(client)}
        overview = client.post("/", data=form).headers["Location"]
        return client.get(f"{overview}/sag/sbsys/1002/dokument/b7")
    sign_in(client, citizen_user(TYPICAL_CPR))
    return client.get("/mine-sager/sag/sbsys/1002/dokument/b7")


@pytest.mark.parametrize("who", ["caseworker", "citizen"])
def test_a_hostile_name_and_html_type_come_back_as_a_safe_attachment(app, fake_portal, who):
    fake_portal.get_document = lambda case_id, document_id: EVIL
    response = download(app, who)
    assert response.status_code == 200
    assert response.mimetype == "application/octet-stream"
    disposition = response.headers["Content-Disposition"]
    assert disposition == "attachment; filename=evil.html"
    assert ".." not in disposition and "/" not in disposition
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Content-Security-Policy"] == "default-src 'none'; sandbox"
    assert response.data == EVIL.content  # the bytes are the source's, only the labels change


@pytest.mark.parametrize("who", ["caseworker", "citizen"])
def test_svg_from_a_windows_path_is_not_an_image_we_serve(app, fake_portal, who):
    fake_portal.get_document = lambda case_id, document_id: SVG
    response = download(app, who)
    assert response.mimetype == "application/octet-stream"
    assert response.headers["Content-Disposition"] == "attachment; filename=kort.svg"


def test_both_channels_send_through_one_function(app, monkeypatch):
    sent = []
    real = channel.send_download

    def spy(found):
        sent.append(found.filename)
        return real(found)

    from borgersag.web import caseworker, citizen

    assert caseworker.send_download is citizen.send_download is real
    monkeypatch.setattr(caseworker, "send_download", spy)
    monkeypatch.setattr(citizen, "send_download", spy)
    assert download(app, "caseworker").status_code == 200
    assert download(app, "citizen").status_code == 200
    assert sent == ["b7-ansøgning æ.pdf", "b7-ansøgning æ.pdf"]


def test_a_pdf_keeps_its_type(app):
    response = download(app, "caseworker")
    assert response.mimetype == "application/pdf"
    assert response.headers["Content-Disposition"].startswith("attachment;")
