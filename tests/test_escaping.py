"""Text from the back ends is always escaped: markup a source sends stays text.

The sandbox's ``hostile`` citizen has an ESDH case whose title, status comment and
document titles carry ``<script>``, ``<img onerror>`` and an attribute breakout
(``"><b>fed</b>``), and a building case on their property with markup in its title. A
caseworker and the citizen open every page about them: in HTML the markup must arrive
escaped (the page shows it as text, no element comes of it); in the JSON API it is
plain string data, served as ``application/json`` with ``nosniff``.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest
from markupsafe import escape

from borgersag.sandbox.gen.demo import (
    HOSTILE_BREAKOUT,
    HOSTILE_BUILDING_TITLE,
    HOSTILE_CASE_TITLE,
    HOSTILE_DOCUMENTS,
    HOSTILE_IMG,
    HOSTILE_SCRIPT,
    HOSTILE_STATUS_COMMENT,
)

from support.actions import citizen_user, csrf_token, login_as_caseworker, sign_in

# What the markup looks like when it is NOT escaped, and when it is (markupsafe's forms).
RAW = ("<script>alert", "<img src=x", "<b>fed", '"><b>')
ESCAPED = {
    HOSTILE_SCRIPT: "&lt;script&gt;alert(&#34;sag&#34;)&lt;/script&gt;",
    HOSTILE_IMG: "&lt;img src=x onerror=alert(1)&gt;",
    HOSTILE_BREAKOUT: "&#34;&gt;&lt;b&gt;fed&lt;/b&gt;",
}
VISIBLE_DOCUMENT = next(
    title for title, _art, status, _ in HOSTILE_DOCUMENTS if status == "Endeligt"
)


@pytest.fixture
def hostile(sandbox):
    """The CPR number of the citizen whose back-end texts carry markup."""
    return sandbox.municipality.demo.hostile


class _Page(HTMLParser):
    """The elements and text of a page, as a browser's parser would see them."""

    def __init__(self, html: str):
        super().__init__(convert_charrefs=True)
        self.elements: list[tuple[str, dict[str, str | None]]] = []
        self.scripts: list[tuple[str | None, str]] = []  # (src, inline body)
        self.injected_bold: list[str] = []
        self.text: list[str] = []
        self._open: str | None = None
        self.feed(html)
        self.close()

    def handle_starttag(self, tag, attrs):
        self.elements.append((tag, dict(attrs)))
        self._open = tag
        if tag == "script":
            self.scripts.append((dict(attrs).get("src"), ""))

    def handle_endtag(self, tag):
        self._open = None

    def handle_data(self, data):
        if self._open == "script":
            src, body = self.scripts[-1]
            self.scripts[-1] = (src, body + data)
        elif self._open == "b" and "fed" in data:
            self.injected_bold.append(data)
        self.text.append(data)

    @property
    def plain_text(self) -> str:
        """The page's text with entities decoded: what a reader sees."""
        return "".join(self.text)


def assert_markup_is_text(where: str, html: str) -> _Page:
    """No element, attribute or script on the page came from the back end's markup."""
    for raw in RAW:
        assert raw not in html, f"unescaped back-end markup {raw!r} in {where}"
    page = _Page(html)
    for src, body in page.scripts:
        assert src is None or src.startswith("/static/"), f"a foreign script in {where}: {src!r}"
        assert "alert(" not in body, f"an injected script in {where}: {body[:60]!r}"
    for tag, attrs in page.elements:
        handlers = [name for name in attrs if name.startswith("on")]
        assert not handlers, f"<{tag}> with event handler {handlers} in {where}"
        assert not (tag == "img" and attrs.get("src") == "x"), f"an injected <img> in {where}"
    assert not page.injected_bold, f"an injected <b> element in {where}"
    return page


def assert_shown_escaped(where: str, html: str, page: _Page, *texts: str) -> None:
    """Each back-end text is on the page as text, and in the HTML in its escaped form."""
    for text in texts:
        assert text in page.plain_text, f"{text!r} not shown as text in {where}"
    for markup, escaped in ESCAPED.items():
        if any(markup in text for text in texts):
            assert escaped in html, f"{escaped!r} not in {where}"


def case_links(html: str, pattern: str) -> list[str]:
    return sorted({link.replace("&amp;", "&") for link in re.findall(pattern, html)})


def get_ok(client, path: str) -> str:
    response = client.get(path)
    assert response.status_code == 200, (path, response.status_code)
    assert response.mimetype == "text/html", path
    return response.get_data(as_text=True)


def assert_download(client, path: str) -> None:
    """A document (whose text names the markup title) is a download, never a page."""
    response = client.get(path)
    assert response.status_code == 200, path
    assert response.mimetype != "text/html", path
    assert response.headers["Content-Disposition"].startswith("attachment"), path
    assert response.headers["X-Content-Type-Options"] == "nosniff", path


@pytest.mark.parametrize(
    "injected",
    [
        HOSTILE_SCRIPT,
        HOSTILE_IMG,
        f'<a title="{HOSTILE_BREAKOUT}">x</a>',
        "<script >alert(1)</script>",
        '<img src="y" onerror="alert(1)">',
        "<b class=x>fed</b>",
        '<script src="https://evil.example/x.js"></script>',
    ],
)
def test_the_check_catches_markup_that_became_elements(injected):
    """The checks below fail on a page where back-end markup was not escaped."""
    page = f"<!doctype html><title>t</title><p>Sag: {injected}</p>"
    with pytest.raises(AssertionError):
        assert_markup_is_text("a hand-made page", page)
    assert_markup_is_text("the same page escaped", page.replace(injected, escape(injected)))


def test_the_hostile_citizen_carries_markup(sandbox, hostile):
    """The premise: the sandbox really sends markup for this citizen."""
    town = sandbox.municipality
    (case,) = [c for c in town.cases_for(hostile) if not c.external_refs]
    assert case.title == HOSTILE_CASE_TITLE
    assert case.status.comment == HOSTILE_STATUS_COMMENT
    assert VISIBLE_DOCUMENT in {d.title for d in case.documents}
    buildings = [
        b for o in town.ownerships_of(hostile) for b in town.building_cases_on_property(o.bfe)
    ]
    assert buildings and all(b.title.startswith(HOSTILE_BUILDING_TITLE) for b in buildings)


def test_caseworker_pages_show_back_end_markup_as_text(live_app, hostile):
    client = live_app.test_client()
    login_as_caseworker(client)
    response = client.post(
        "/", data={"kind": "cpr", "value": hostile, "csrf_token": csrf_token(client)}
    )
    assert response.status_code == 303
    overview = get_ok(client, response.location)
    page = assert_markup_is_text("the overview", overview)
    assert_shown_escaped("the overview", overview, page, HOSTILE_CASE_TITLE, HOSTILE_BUILDING_TITLE)

    links = case_links(overview, r'href="(/oversigt/[^"]+/sag/[^"]+)"')
    assert len(links) >= 2, "an ESDH case and a building case"
    shown = ""
    for link in links:
        html = get_ok(client, link)
        page = assert_markup_is_text(f"the case page {link}", html)
        shown += page.plain_text
        if HOSTILE_CASE_TITLE in page.plain_text:
            assert_shown_escaped(
                link, html, page, HOSTILE_CASE_TITLE, HOSTILE_STATUS_COMMENT, VISIBLE_DOCUMENT
            )
            title = re.search(r"<title>(.*?)</title>", html, re.S)[1]
            assert ESCAPED[HOSTILE_SCRIPT] in title, "the browser title escapes it too"
        for document in case_links(html, r'href="(/oversigt/[^"]+/dokument/[^"]+)"'):
            assert_download(client, document)
    for text in (HOSTILE_CASE_TITLE, HOSTILE_STATUS_COMMENT, HOSTILE_BUILDING_TITLE):
        assert text in shown
    for title, *_ in HOSTILE_DOCUMENTS:
        assert title in shown, f"document title {title!r} on a case page"


def test_api_returns_back_end_markup_as_json_strings(live_app, hostile):
    client = live_app.test_client()
    login_as_caseworker(client)
    created = client.post("/api/v1/overviews", json={"kind": "cpr", "value": hostile})
    assert created.status_code == 201
    fetched = client.get(created.headers["Location"])
    assert fetched.status_code == 200
    for response in (created, fetched):
        assert response.mimetype == "application/json"
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        overview = response.get_json()["overview"]
        titles = [case["title"] for case in overview["cases"]]
        assert HOSTILE_CASE_TITLE in titles, "exactly the string the source sent"
        assert any(HOSTILE_BUILDING_TITLE in title for title in titles)
        statuses = [case.get("status_text") or "" for case in overview["cases"]]
        assert any(HOSTILE_STATUS_COMMENT in status for status in statuses)


def test_citizen_pages_show_back_end_markup_as_text(live_app, hostile):
    client = live_app.test_client()
    sign_in(client, citizen_user(hostile))
    overview = get_ok(client, "/mine-sager")
    page = assert_markup_is_text("Mine sager", overview)
    assert_shown_escaped("Mine sager", overview, page, HOSTILE_CASE_TITLE, HOSTILE_BUILDING_TITLE)

    links = case_links(overview, r'href="(/mine-sager/sag/[^"]+)"')
    assert len(links) >= 2, "their own case and the building case on their property"
    shown = ""
    for link in links:
        html = get_ok(client, link)
        page = assert_markup_is_text(f"the citizen's case page {link}", html)
        shown += page.plain_text
        if HOSTILE_CASE_TITLE in page.plain_text:
            assert_shown_escaped(
                link, html, page, HOSTILE_CASE_TITLE, HOSTILE_STATUS_COMMENT, VISIBLE_DOCUMENT
            )
        for document in case_links(html, r'href="(/mine-sager/[^"]+/dokument/[^"]+)"'):
            assert_download(client, document)
    for text in (HOSTILE_CASE_TITLE, HOSTILE_STATUS_COMMENT, HOSTILE_BUILDING_TITLE):
        assert text in shown
    assert VISIBLE_DOCUMENT in shown
