"""The English switch (borgersag/web/language.py) and the message catalogues.

A citizen presses "English" in the header and Mine sager, a case page and "Hvem har set"
come in English with ``<html lang="en">``; "Dansk" takes them back. The switch only ever
sends the visitor to a path on this site. Every msgid the translated pages use has an
English translation, and the committed .mo says what the .po says.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

from borgersag.web.language import TRANSLATIONS

from support.actions import caseworker_user, citizen_user, csrf_token, sign_in
from support.fake_portal import TYPICAL_CPR

ROOT = Path(__file__).resolve().parents[2]
PO = TRANSLATIONS / "en" / "LC_MESSAGES" / "messages.po"
MO = TRANSLATIONS / "en" / "LC_MESSAGES" / "messages.mo"


def look_up_by_caseworker(app) -> None:
    """A caseworker looks the citizen up, so "Hvem har set" has a row."""
    staff = app.test_client()
    sign_in(staff, caseworker_user())
    answer = staff.post(
        "/",
        data={"kind": "cpr", "value": TYPICAL_CPR, "purpose": "Kontrol og opfølgning",
              "csrf_token": csrf_token(staff)},
    )  # fmt: skip
    assert answer.status_code == 303, answer.status_code


def _citizen(app):
    client = app.test_client()
    sign_in(client, citizen_user(TYPICAL_CPR))
    return client


def _switch(client, language: str, back: str = "/mine-sager"):
    return client.post(
        "/sprog", data={"sprog": language, "tilbage": back, "csrf_token": csrf_token(client)}
    )


def _lang(page: str) -> str:
    found = re.search(r'<html lang="([a-z]+)">', page)
    assert found, "every page names its language"
    return found[1]


def _first_case_link(page: str) -> str:
    found = re.search(r'href="(/mine-sager/sag/[^"]+)"', page)
    assert found, "the citizen has a case to open"
    return found[1]


def test_danish_is_the_default_and_the_header_offers_english(audited):
    app, _portal, _log = audited
    page = _citizen(app).get("/mine-sager").get_data(as_text=True)
    assert _lang(page) == "da"
    assert "<h1>Mine sager</h1>" in page
    assert 'name="sprog" value="en"' in page
    assert 'lang="en">English</button>' in page


def test_the_switch_shows_the_citizen_pages_in_english_and_back(audited):
    app, _portal, _log = audited
    look_up_by_caseworker(app)
    client = _citizen(app)
    answer = _switch(client, "en")
    assert answer.status_code == 303
    assert answer.headers["Location"] == "/mine-sager"

    mine = client.get("/mine-sager").get_data(as_text=True)
    assert _lang(mine) == "en"
    assert "<h1>My cases</h1>" in mine
    assert "Step " in mine and " of 4: " in mine
    assert "Log out" in mine
    assert "Who has seen your details?" in mine
    assert "Mine sager viser" not in mine
    assert 'lang="da">Dansk</button>' in mine

    case = client.get(_first_case_link(mine)).get_data(as_text=True)
    assert _lang(case) == "en"
    assert "<h2>About the case</h2>" in case
    assert "Case number" in case
    assert "Back to My cases" in case
    assert "Sagsnummer" not in case

    seen = client.get("/mine-sager/hvem-har-set").get_data(as_text=True)
    assert _lang(seen) == "en"
    assert "Looked you up" in seen  # the row of the look-up made above
    assert "<h1>Who has seen my details</h1>" in seen
    assert "Hvem har set mine oplysninger" not in seen

    assert _switch(client, "da").status_code == 303
    back = client.get("/mine-sager").get_data(as_text=True)
    assert _lang(back) == "da"
    assert "<h1>Mine sager</h1>" in back
    assert "Trin " in back and " af 4: " in back


def test_dates_stay_danish_in_english(audited):
    app, _portal, _log = audited
    client = _citizen(app)
    _switch(client, "en")
    page = client.get("/mine-sager").get_data(as_text=True)
    assert re.search(r"<dd>\d{2}\.\d{2}\.\d{4}</dd>", page)


def test_the_choice_outlives_a_login(audited):
    # The login page has the switch too; signing in must not drop the choice.
    from borgersag.web.language import SESSION_KEY

    app, _portal, _log = audited
    client = app.test_client()
    login_page = client.get("/log-ind").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', login_page)[1]
    client.post("/sprog", data={"sprog": "en", "tilbage": "/log-ind", "csrf_token": token})
    assert "<h1>Log in</h1>" in client.get("/log-ind").get_data(as_text=True)
    with client.session_transaction() as session:
        assert session[SESSION_KEY] == "en"


@pytest.mark.parametrize(
    "target",
    [
        "https://evil.example/",
        "//evil.example/mine-sager",
        "/\\evil.example",
        "\\\\evil.example",
        "http:/evil.example",
        "mine-sager",
        "/mine-sager\r\nSet-Cookie: x=1",
        "",
    ],
)
def test_an_unsafe_return_address_is_refused(audited, target):
    app, _portal, _log = audited
    client = _citizen(app)
    answer = _switch(client, "en", back=target)
    assert answer.status_code == 303
    assert answer.headers["Location"] == "/"


def test_a_same_site_path_with_a_query_is_kept(audited):
    app, _portal, _log = audited
    client = _citizen(app)
    answer = _switch(client, "en", back="/mine-sager?side=2&q=byg")
    assert answer.headers["Location"] == "/mine-sager?side=2&q=byg"


def test_an_unknown_language_changes_nothing(audited):
    app, _portal, _log = audited
    client = _citizen(app)
    _switch(client, "de")
    assert _lang(client.get("/mine-sager").get_data(as_text=True)) == "da"


def test_the_switch_needs_the_form_token(audited):
    app, _portal, _log = audited
    client = _citizen(app)
    answer = client.post("/sprog", data={"sprog": "en", "tilbage": "/mine-sager"})
    assert answer.status_code == 400
    assert _lang(client.get("/mine-sager").get_data(as_text=True)) == "da"


def _msgids_in_use() -> set[str]:
    """Every msgid the code and templates use, found the way `pybabel extract` finds them."""
    method_map = [("borgersag/**.py", "python"), ("templates/**.html", "jinja2")]
    keywords = {**DEFAULT_KEYWORDS, "_l": None, "lazy_gettext": None, "N_": None}
    found = extract_from_dir(ROOT, method_map, keywords=keywords)
    return {message for _file, _line, message, _comments, _context in found}


def _forms(text: str | tuple[str, ...] | list[str]) -> tuple[str, ...]:
    """A message's forms: one, or singular and plural."""
    return (text,) if isinstance(text, str) else tuple(text)


def _entries(messages) -> dict[tuple[str, ...], tuple[str, ...]]:
    """msgid forms -> translated forms, for the messages of a catalogue (not fuzzy)."""
    return {_forms(m.id): _forms(m.string) for m in messages if m.id and "fuzzy" not in m.flags}


def test_every_string_in_use_has_an_english_translation():
    with PO.open("rb") as f:
        catalogue = read_po(f)
    translated = _entries(catalogue)
    in_use = {_forms(m) for m in _msgids_in_use()}
    assert in_use, "the pages use the catalogue"
    missing = sorted((str(m) for m in in_use if not all(_forms(translated.get(m, "")))), key=str)
    assert not missing, f"no English for (run the update in DEVELOPERS.md): {missing}"
    # The same placeholders on both sides, or the English page raises or drops a value.
    placeholder = re.compile(r"%\((\w+)\)[sd]")
    for msgid in in_use:
        names = {n for form in msgid for n in placeholder.findall(form)}
        for form in translated[msgid]:
            assert set(placeholder.findall(form)) <= names, msgid
            assert set(placeholder.findall(form)) >= names - {"num"}, msgid


def test_the_committed_mo_matches_the_po():
    with PO.open("rb") as f:
        source = _entries(read_po(f))
    with MO.open("rb") as f:
        compiled = _entries(read_mo(f))
    assert compiled == source, "run: pybabel compile -d borgersag/translations"


def test_the_switch_never_carries_the_search_text_back(audited):
    # The search may hold a CPR number typed by mistake: it is not written into the form.
    app, _portal, _log = audited
    page = _citizen(app).get("/mine-sager?q=0103854321&side=1").get_data(as_text=True)
    form = re.search(r'<form method="post" action="/sprog".*?</form>', page, re.S)[0]
    assert 'name="tilbage" value="/mine-sager?side=1"' in form
    assert "0103854321" not in page
