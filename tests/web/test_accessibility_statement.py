"""The accessibility statement: the facts WAS-Tool asks for, from the ``[accessibility]`` table."""

import datetime as dt

import pytest

from borgersag.sdk.errors import ConfigError
from borgersag.web import create_app
from borgersag.web.accessibility import validate_accessibility

from support.fake_portal import FakePortal, make_config

FACTS = {
    "statement_url": "https://www.was.digst.dk/borgersag-sandkasse-dk",
    "status": "delvist",
    "prepared": "2026-11-30",
    "reviewed": dt.date.today().isoformat(),
    "method": "tredjepart",
    "contact_email": "tilgaengelighed@kommune.example",
    "contact_phone": "+45 70 00 00 00",
}


def page_for(table: dict | None) -> str:
    tables = {} if table is None else {"accessibility": table}
    portal = FakePortal(config=make_config(tables=tables))
    client = create_app(portal.config, portal=portal).test_client()
    response = client.get("/tilgaengelighed")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_the_statement_shows_status_dates_method_and_contacts():
    page = page_for(FACTS)
    assert "<strong>delvist i overensstemmelse</strong> med WCAG 2.1 AA" in page
    assert "<dd>30.11.2026</dd>" in page
    assert "en vurdering foretaget af en uafhængig tredjepart" in page
    assert 'href="mailto:tilgaengelighed@kommune.example"' in page
    assert 'href="tel:+4570000000"' in page
    assert 'href="https://www.was.digst.dk/"' in page  # where to complain
    assert "ikke gennemgået inden for det seneste år" not in page


def test_the_footer_links_to_the_official_statement_when_configured():
    page = page_for(FACTS)
    assert f'<li><a href="{FACTS["statement_url"]}">Tilgængelighedserklæring</a></li>' in page
    plain = page_for({})
    assert '<li><a href="/tilgaengelighed">Tilgængelighedserklæring</a></li>' in plain


def test_a_statement_not_reviewed_for_a_year_says_it_may_be_out_of_date():
    old = dict(FACTS, prepared="2024-01-10", reviewed="2024-06-01")
    assert "ikke gennemgået inden for det seneste år" in page_for(old)


def test_without_facts_the_page_says_what_is_missing():
    page = page_for(None)
    assert "Ikke oplyst" in page
    assert "ikke gennemgået inden for det seneste år" in page
    assert "Kontakt kommunens borgerservice" in page


@pytest.mark.parametrize(
    ("change", "key", "wanted"),
    [
        ({"status": "næsten"}, "accessibility.status", "one of fuldt, delvist, ikke"),
        ({"method": "gæt"}, "accessibility.method", "one of selvevaluering, tredjepart"),
        ({"statement_url": "http://was.digst.dk/x"}, "accessibility.statement_url", "https://"),
        ({"prepared": "30-11-2026"}, "accessibility.prepared", "a date like"),
        ({"reviewed": "2026-01-01"}, "accessibility.reviewed", "on or after 'prepared'"),
        ({"contact_mail": "x@y"}, "accessibility.contact_mail", "unknown setting"),
    ],
)
def test_a_bad_setting_is_named(change, key, wanted):
    with pytest.raises(ConfigError) as caught:
        validate_accessibility(dict(FACTS, **change), "portal.toml")
    assert key in str(caught.value) and wanted in str(caught.value)


def test_the_overdue_rule_is_one_year():
    facts = validate_accessibility(
        dict(FACTS, prepared="2026-01-02", reviewed="2026-01-15"), "portal.toml"
    )
    assert not facts.overdue(today=dt.date(2027, 1, 10))
    assert facts.overdue(today=dt.date(2027, 2, 1))
