"""The portal in a real browser: headless Chromium through Playwright, against the sandbox.

A caseworker's path, clicked as a person would: sign in, look a citizen up, read the
overview and a case, see a hanging system named, get a form error next to the field; every
page is checked at 1280 and 390 px for any axe violation and for sideways scrolling on a
phone (``ScreenCheck``). One server and one browser serve
the whole module.

Skips when Chromium is missing, unless ``BORGERSAG_REQUIRE_BROWSER=1`` (CI sets it): then
a missing browser is an error. Screenshots of every step go to a pytest temp directory
(its path is printed; run with ``-s`` to see it).
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import time
from pathlib import Path

import pytest

REQUIRE_BROWSER = os.environ.get("BORGERSAG_REQUIRE_BROWSER") == "1"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def _find_chromium() -> str | None:
    for candidate in ("/usr/bin/chromium", shutil.which("chromium")):
        if candidate and Path(candidate).is_file() and os.access(candidate, os.X_OK):
            return candidate
    return None


def _unavailable(why: str) -> None:
    if REQUIRE_BROWSER:
        pytest.fail(
            f"browser tests are required (BORGERSAG_REQUIRE_BROWSER=1) but {why}",
            pytrace=False,
        )
    pytest.skip(why, allow_module_level=True)


CHROMIUM = _find_chromium()
if CHROMIUM is None:
    _unavailable(
        "Chromium is not installed (no /usr/bin/chromium and no `chromium` on PATH;"
        " `apt-get install chromium`)"
    )
try:
    from axe_playwright_python.sync_playwright import Axe
    from playwright.sync_api import Page, expect, sync_playwright
except ImportError as exc:
    _unavailable(f"Playwright is not installed ({exc}; `scripts/setup --dev`)")

from borgersag.config.loader import Config  # noqa: E402
from borgersag.web import create_app  # noqa: E402

from support.serve_app import serve  # noqa: E402

pytestmark = [pytest.mark.browser, pytest.mark.slow]

DEADLINE_SECONDS = 2.0
TIMEOUT_MS = 15_000  # Playwright's wait for anything; generous for a loaded machine
expect.set_options(timeout=TIMEOUT_MS)  # assertions too (their own default is 5 s)


# --- fixtures -------------------------------------------------------------------------------


def _portal_config(sandbox, **sessions) -> Config:
    return Config.from_mapping(
        {
            "sandbox": {},
            "portal": {
                "deadline_seconds": DEADLINE_SECONDS,
                "source_timeout_seconds": 1.5,
                "cache_ttl_seconds": 0,
            },
            "auth": sandbox.auth_config(),
            "sessions": {"backend": "memory", **sessions},
            "sources": sandbox.source_config(),
        }
    )


@contextlib.contextmanager
def _serve(config: Config):
    app = create_app(config)
    try:
        with serve(app) as url:
            yield url.rstrip("/")
    finally:
        app.extensions["borgersag"].close()


@pytest.fixture(scope="module")
def live_server(sandbox):
    """The portal against the session sandbox, served on a free loopback port."""
    with _serve(_portal_config(sandbox)) as url:
        yield url


@pytest.fixture(scope="module")
def short_session_server(sandbox):
    """The same portal with a 6-second idle limit and the warning 4.5 s before it."""
    with _serve(_portal_config(sandbox, idle_minutes=0.1, warning_minutes=0.075)) as url:
        yield url


@pytest.fixture(scope="module")
def browser():
    """One headless Chromium for the module."""
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture(scope="module")
def shots(tmp_path_factory):
    """``shots(page, "name")`` saves a full-page screenshot of the step."""
    directory = tmp_path_factory.mktemp("browser-screenshots")
    print(f"\nbrowser screenshots: {directory}")

    def save(page: Page, name: str) -> Path:
        path = directory / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return save


@pytest.fixture
def page(new_page):
    """A fresh browser context (no cookies) and page; see ``new_page``."""
    return new_page()


@pytest.fixture
def signed_in(new_page, caseworker_session):
    """A fresh page already signed in as the first demo caseworker, on the lookup page."""
    tab = new_page(storage_state=caseworker_session)
    tab.goto("/")
    expect(tab.get_by_role("heading", level=1, name="Nyt opslag")).to_be_visible()
    return tab


@pytest.fixture(scope="module")
def caseworker_session(browser, live_server):
    """The cookies of one sign-in through the form, reused by ``signed_in`` (saves time)."""
    context = browser.new_context(base_url=live_server)
    context.set_default_timeout(TIMEOUT_MS)
    try:
        sign_in(context.new_page())
        return context.storage_state()
    finally:
        context.close()


@pytest.fixture
def new_page(browser, live_server):
    """``new_page(**context_options)``: a page in a fresh browser context.

    When the test ends, fails on a script error, a CSP violation or a sub-resource
    (CSS, JS, icon) that did not load. Pages answered with 4xx on purpose (the form
    error) and Chromium's own /favicon.ico request do not count.
    """
    contexts = []
    console: list[tuple[str, str]] = []
    problems: list[str] = []
    error_pages: set[str] = {"/favicon.ico"}

    def on_console(message) -> None:
        if message.type == "error":
            console.append((message.text, message.location.get("url", "")))

    def on_response(response) -> None:
        if response.status < 400:
            return
        if response.request.resource_type == "document":
            error_pages.add(response.url)
        else:
            problems.append(f"{response.status} {response.url}")

    def make(**options) -> Page:
        context = browser.new_context(base_url=live_server, locale="da-DK", **options)
        contexts.append(context)
        context.set_default_timeout(TIMEOUT_MS)
        tab = context.new_page()
        tab.on("console", on_console)
        tab.on("pageerror", lambda error: problems.append(f"script error: {error}"))
        tab.on("response", on_response)
        return tab

    try:
        yield make
    finally:
        for context in contexts:
            context.close()
    problems += [
        f"console: {text} ({url})"
        for text, url in console
        if not any(url.endswith(page) for page in error_pages)
    ]
    assert not problems, "the browser reported problems:\n" + "\n".join(problems)


@pytest.fixture(scope="module")
def demo(sandbox):
    """The sandbox municipality's named demo identities."""
    return sandbox.municipality.demo


# --- steps, as a caseworker does them -------------------------------------------------------


def sign_in(page: Page) -> str:
    """Open the portal, get sent to the login page, log in through the sandbox's municipal
    identity provider as the first demo caseworker; returns the name."""
    page.goto("/")
    expect(page).to_have_url(re.compile(r"/log-ind$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Log ind")
    page.get_by_role("link", name="Log ind med kommunens login").click()
    first = page.locator("button.idp-person").first
    name = first.locator(".idp-person-name").inner_text().strip()
    first.click()
    expect(page.get_by_role("heading", level=1, name="Nyt opslag")).to_be_visible()
    return name


def citizen_sign_in(page: Page, label: str) -> str:
    """Log in with the sandbox MitID as the demo citizen whose label contains ``label``."""
    page.goto("/log-ind")
    page.get_by_role("link", name="Log ind med MitID").click()
    person = page.locator("button.idp-person").filter(has_text=label).first
    name = person.locator(".idp-person-name").inner_text().strip()
    person.click()
    return name


def look_up_cpr(page: Page, cpr: str) -> None:
    """On the lookup page: choose CPR-nummer, type ``cpr``, submit."""
    page.get_by_label("CPR-nummer").check()
    page.get_by_label("Nummer eller matrikel").fill(cpr)
    page.get_by_role("button", name="Slå op").click()


def dashed(cpr: str) -> str:
    return f"{cpr[:6]}-{cpr[6:]}"


def source_row(page: Page, title: str):
    """The source panel's row for the source called ``title``."""
    return page.locator("table.source-panel tbody tr").filter(
        has=page.get_by_role("rowheader", name=title, exact=True)
    )


def axe_violations(page: Page) -> list[dict]:
    """Every axe-core violation on the page as it is now, whatever its impact."""
    return Axe().run(page).response["violations"]


def describe(violations: list[dict]) -> str:
    lines = []
    for v in violations:
        targets = [", ".join(map(str, node.get("target", []))) for node in v.get("nodes", [])]
        lines.append(f"- {v['id']} ({v.get('impact')}): {v.get('help')} at {targets[:5]}")
    return "\n".join(lines)


# --- tests ----------------------------------------------------------------------------------


def test_sign_in_from_the_front_page(page, shots):
    page.goto("/")
    expect(page).to_have_url(re.compile(r"/log-ind$"))
    expect(page.get_by_text("test-identitetsudbydere")).to_be_visible()
    shots(page, "01-sign-in")
    name = sign_in(page)
    expect(page).to_have_url(re.compile(r"/$"))
    expect(page.get_by_text(f"Logget ind som {name}")).to_be_visible()
    expect(page.get_by_role("button", name="Log ud")).to_be_visible()
    expect(page.get_by_label("CPR-nummer")).to_be_visible()
    shots(page, "02-lookup")


def test_lookup_shows_every_source_and_the_joined_overview(signed_in, sandbox, demo, shots):
    page = signed_in
    look_up_cpr(page, dashed(demo.typical))
    expect(page).to_have_url(re.compile(r"/oversigt/[A-Za-z0-9_-]{16,}$"))
    assert demo.typical not in page.url
    assert dashed(demo.typical) not in page.url
    assert demo.typical[6:] not in page.title()  # the title lands in the browser's history
    expect(page.get_by_role("heading", level=1)).to_contain_text(
        f"Sagsoverblik for CPR-nummer {demo.typical[:6]}-xxxx"
    )
    shots(page, "03-overview")

    # Each source by its title, with a status that says it answered.
    for title in sandbox_titles(sandbox):
        expect(source_row(page, title)).to_contain_text("Svarede")
    expect(page.get_by_text("Oversigten er ikke komplet")).to_have_count(0)

    # The key expansion, and a building case found through the property the citizen owns.
    expect(page.get_by_role("heading", name="Også søgt på")).to_be_visible()
    building = page.locator("table.case-table tbody tr").filter(has_text="Fundet via: ejer af")
    expect(building.first).to_be_visible()
    assert building.count() >= 2

    # One building case is journalised in the ESDH too: one row, both systems named.
    titles = sandbox_titles(sandbox)
    joined = building.filter(has_text=f"{titles[0]} + {titles[2]}").or_(
        building.filter(has_text=f"{titles[2]} + {titles[0]}")
    )
    expect(joined).to_have_count(1)


def test_case_page_shows_timeline_and_documents(signed_in, sandbox, demo, shots):
    page = signed_in
    look_up_cpr(page, dashed(demo.typical))
    titles = sandbox_titles(sandbox)
    rows = page.locator("table.case-table tbody tr")
    joined = rows.filter(has_text=f"{titles[0]} + {titles[2]}").or_(
        rows.filter(has_text=f"{titles[2]} + {titles[0]}")
    )
    link = joined.get_by_role("link").first
    case_title = link.inner_text().strip()
    link.click()

    expect(page).to_have_url(re.compile(r"/oversigt/[A-Za-z0-9_-]+/sag/"))
    expect(page.get_by_role("heading", level=1)).to_have_text(case_title)
    expect(page.get_by_text("Viser oplysningerne fra oversigten")).to_have_count(0)
    expect(page.get_by_text("samme sag i flere systemer")).to_be_visible()
    expect(page.get_by_role("heading", name="Tidslinje")).to_be_visible()
    expect(page.locator("ol.timeline li").first).to_be_visible()
    expect(page.get_by_role("heading", name="Dokumenter")).to_be_visible()
    documents = page.get_by_role("region", name="Dokumenter").get_by_role("link")
    expect(documents.first).to_be_visible()
    # The application both systems hold is listed once, with both systems named.
    application = (
        page.get_by_role("region", name="Dokumenter")
        .locator("tbody tr")
        .filter(has_text="Ansøgning om byggetilladelse")
    )
    expect(application).to_have_count(1)
    expect(application.locator("td").last).to_contain_text(" og ")
    shots(page, "04-case")

    # On paper: the case and a note that it holds personal data, no buttons or user bar.
    page.emulate_media(media="print")
    try:
        expect(page.locator(".userbar")).to_be_hidden()
        for form in page.locator("form").all():
            expect(form).to_be_hidden()
        expect(page.get_by_text("Siden indeholder personoplysninger")).to_be_visible()
        expect(page.get_by_role("heading", name="Tidslinje")).to_be_visible()
        shots(page, "04b-case-print")
    finally:
        page.emulate_media(media="screen")
    expect(page.get_by_text("Siden indeholder personoplysninger")).to_be_hidden()

    # The breadcrumb leads back to the overview, which still works.
    page.get_by_role("navigation", name="Brødkrumme").get_by_role("link", name="Oversigt").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Sagsoverblik")


def test_hanging_esdh_is_named_and_the_page_still_comes(signed_in, sandbox, demo, shots):
    page = signed_in
    esdh_title = sandbox_titles(sandbox)[0]
    faults = sandbox.faults("esdh")
    try:
        faults.update(hang=True)
        started = time.monotonic()
        look_up_cpr(page, dashed(demo.typical))
        expect(page.get_by_role("heading", level=1)).to_contain_text("Sagsoverblik")
        # the page comes at once and fills in; the hang must last until the end
        expect(page.locator("#overview-live")).to_contain_text(
            "Oversigten er færdig, men ikke komplet", timeout=TIMEOUT_MS
        )
        elapsed = time.monotonic() - started
    finally:
        faults.reset()
    assert elapsed < 10, f"the overview took {elapsed:.1f} s with a hanging ESDH"
    shots(page, "05-esdh-hangs")

    warning = page.get_by_role("alert").filter(has_text="Oversigten er ikke komplet")
    expect(warning).to_contain_text(f"Sagerne fra {esdh_title} mangler: systemet svarede ikke")
    expect(source_row(page, esdh_title)).to_contain_text("Svarede ikke i tide")
    expect(source_row(page, esdh_title)).to_contain_text("Sagerne herfra mangler")
    # The other systems still answered, and their cases are shown.
    for title in sandbox_titles(sandbox)[1:]:
        expect(source_row(page, title)).to_contain_text("Svarede")
    expect(page.locator("table.case-table tbody tr").first).to_be_visible()


def test_impossible_date_is_an_error_next_to_the_field(signed_in, shots):
    page = signed_in
    look_up_cpr(page, "310290-1234")
    expect(page).to_have_url(re.compile(r"/$"))
    field = page.get_by_label("Nummer eller matrikel")
    expect(field).to_have_attribute("aria-invalid", "true")
    expect(field).to_have_value("310290-1234")
    message = page.locator("#value-error")
    expect(message).to_be_visible()
    expect(message).to_contain_text("31. februar")
    # The message is tied to the field, sits just above it, and the summary links to it.
    expect(field).to_have_attribute("aria-describedby", "value-error")
    field_box, message_box = field.bounding_box(), message.bounding_box()
    assert field_box and message_box
    assert 0 <= field_box["y"] - (message_box["y"] + message_box["height"]) < 40
    summary = page.get_by_role("alert").filter(has_text="Der er en fejl i formularen")
    expect(summary.get_by_role("link")).to_contain_text("31. februar")
    expect(page).to_have_title(re.compile(r"^Fejl: "))
    shots(page, "06-bad-cpr")
    summary.get_by_role("link").click()
    expect(field).to_be_focused()


def sandbox_titles(sandbox) -> list[str]:
    """Source titles in the order ESDH, ownership register, permit system."""
    config = sandbox.source_config()
    return [config[name]["title"] for name in ("sbsys", "ejerfortegnelse", "byggesag")]


# --- citizens and the login itself ----------------------------------------------------------


def assert_axe_clean(page: Page, name: str) -> None:
    """No axe violation on the page as it is now, whatever its impact."""
    found = axe_violations(page)
    assert not found, f"axe on {name}:\n{describe(found)}"


assert_no_serious = assert_axe_clean  # the older name, for branches still using it


def test_citizen_follows_own_cases_after_mitid_login(page, sandbox, shots):
    name = citizen_sign_in(page, "Typisk borger")
    expect(page).to_have_url(re.compile(r"/mine-sager$"))
    expect(page.get_by_role("heading", level=1, name="Mine sager")).to_be_visible()
    expect(page.get_by_text(f"Logget ind som {name}")).to_be_visible()
    shots(page, "10-mine-sager")
    assert_axe_clean(page, "Mine sager")
    # The CPR number is nowhere on the page or in its address.
    cpr = sandbox.municipality.demo.typical
    assert cpr not in page.content() and cpr[:6] not in page.url

    page.locator("a[href^='/mine-sager/sag/']").first.click()
    expect(page.get_by_role("heading", name="Sagens forløb")).to_be_visible()
    expect(page.get_by_role("link", name="Mine sager").first).to_be_visible()
    shots(page, "11-citizen-case")
    assert_axe_clean(page, "a citizen's case")


def test_a_citizen_reads_mine_sager_in_english_and_back(page, shots):
    page.set_viewport_size({"width": 390, "height": 844})  # the switch is there on a phone
    citizen_sign_in(page, "Typisk borger")
    expect(page.get_by_role("heading", level=1, name="Mine sager")).to_be_visible()
    page.get_by_role("button", name="English").click()
    expect(page).to_have_url(re.compile(r"/mine-sager$"))
    expect(page.get_by_role("heading", level=1, name="My cases")).to_be_visible()
    assert page.locator("html").get_attribute("lang") == "en"
    expect(page.get_by_role("button", name="Log out")).to_be_visible()
    for width, height in ((390, 844), (1280, 720)):
        page.set_viewport_size({"width": width, "height": height})
        shots(page, f"12-my-cases-english-{width}")
        assert page.evaluate("document.documentElement.scrollWidth") <= width, width
        assert_axe_clean(page, f"My cases in English at {width} px")
    page.get_by_role("button", name="Dansk").click()
    expect(page.get_by_role("heading", level=1, name="Mine sager")).to_be_visible()
    assert page.locator("html").get_attribute("lang") == "da"


def test_low_assurance_citizen_is_refused_with_an_explanation(page, shots):
    citizen_sign_in(page, "afvises")
    expect(page.get_by_role("heading", level=1)).to_have_text("Du kan ikke logge ind")
    expect(page.get_by_text("mindst sikringsniveau betydelig")).to_be_visible()
    shots(page, "12-loa-low")
    assert_axe_clean(page, "the LoA-low refusal")
    page.goto("/mine-sager")
    expect(page).to_have_url(re.compile(r"/log-ind$"))


def test_employee_without_a_role_is_refused(page):
    page.goto("/log-ind")
    page.get_by_role("link", name="Log ind med kommunens login").click()
    page.locator("button.idp-person").filter(has_text="ingen rolle").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Du kan ikke logge ind")
    expect(page.get_by_text("ingen rolle i borgersag")).to_be_visible()


def test_logout_ends_the_session_at_the_provider_too(page, shots):
    # a sign-in of its own: logging out ends the session the other tests share
    sign_in(page)
    page.get_by_role("button", name="Log ud").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Log ud")  # the provider's page
    page.get_by_role("button", name="Log ud").click()
    expect(page).to_have_url(re.compile(r"/log-ind\?logget_ud=1$"))
    expect(page.get_by_text("Du er logget ud.")).to_be_visible()
    page.goto("/")
    expect(page).to_have_url(re.compile(r"/log-ind$"))


def test_idle_session_warns_can_be_extended_and_then_ends(browser, short_session_server, shots):
    context = browser.new_context(base_url=short_session_server, locale="da-DK")
    context.set_default_timeout(TIMEOUT_MS)
    try:
        page = context.new_page()
        citizen_sign_in(page, "Typisk borger")
        expect(page.get_by_role("heading", level=1, name="Mine sager")).to_be_visible()

        dialog = page.get_by_role("alertdialog")
        expect(dialog).to_be_visible()  # 1.5 s after the page loaded
        expect(dialog).to_contain_text("Du bliver snart logget ud")
        expect(dialog).to_be_focused()
        shots(page, "13-idle-warning")
        assert_axe_clean(page, "the idle warning")
        dialog.get_by_role("button", name="Forbliv logget ind").click()
        expect(dialog).to_be_hidden()

        # No more activity: the warning comes back and the session ends.
        expect(page).to_have_url(re.compile(r"/log-ind\?udloebet=1$"), timeout=20_000)
        expect(page.get_by_text("Du er blevet logget ud")).to_be_visible()
        page.goto("/mine-sager")
        expect(page).to_have_url(re.compile(r"/log-ind"))
    finally:
        context.close()


# --- the first answers at once ---------------------------------------------------------------

SLOW_MS = 2000  # the permit system, slowest by far


@pytest.fixture(scope="module")
def patient_server(sandbox):
    """The portal with a deadline that a 2-second source fits in, for watching a lookup
    fill in."""
    config = Config.from_mapping(
        {
            "sandbox": {},
            "portal": {
                "deadline_seconds": 6.0,
                "source_timeout_seconds": 5.0,
                "cache_ttl_seconds": 0,
            },
            "auth": sandbox.auth_config(),
            "sessions": {"backend": "memory"},
            "sources": sandbox.source_config(),
        }
    )
    with _serve(config) as url:
        yield url


def test_first_answers_are_shown_before_the_slowest_source_and_the_end_announced(
    browser, patient_server, sandbox, demo, shots
):
    context = browser.new_context(base_url=patient_server, locale="da-DK")
    context.set_default_timeout(TIMEOUT_MS)
    problems: list[str] = []
    faults = sandbox.faults("byggesag")
    try:
        page = context.new_page()
        page.on("pageerror", lambda error: problems.append(f"script error: {error}"))
        page.on(
            "console",
            lambda m: problems.append(f"console: {m.text}") if m.type == "error" else None,
        )
        sign_in(page)
        esdh, _owners, permits = sandbox_titles(sandbox)
        faults.update(latency_ms=SLOW_MS)
        started = time.monotonic()
        look_up_cpr(page, dashed(demo.typical))

        # The page is there at once, and the ESDH's cases arrive while the permit
        # system is still being asked.
        expect(page.get_by_role("heading", level=1)).to_contain_text("Sagsoverblik")
        expect(source_row(page, esdh)).to_contain_text("Svarede")
        expect(page.locator("table.case-table tbody tr").first).to_be_visible()
        expect(source_row(page, permits)).to_contain_text("Venter på svar")
        seen_after = time.monotonic() - started
        assert seen_after < SLOW_MS / 1000, f"the first cases came after {seen_after:.1f} s"
        live = page.locator("#overview-live")
        expect(live).to_have_attribute("aria-live", "polite")
        expect(live).to_contain_text("systemer har svaret")
        shots(page, "20-pending-1280")
        assert_axe_clean(page, "a pending overview")
        page.set_viewport_size({"width": 390, "height": 844})
        top = shots(page, "21-pending-390")
        page.screenshot(path=str(top.with_name("21-pending-390-top.png")))
        page.set_viewport_size({"width": 1280, "height": 720})

        # The end: every source in, and said so in the live region.
        expect(live).to_contain_text("Oversigten er færdig", timeout=20_000)
        expect(source_row(page, permits)).to_contain_text("Svarede")
        expect(page.get_by_text("Venter på svar")).to_have_count(0)
        building = page.locator("table.case-table tbody tr").filter(has_text="Fundet via: ejer af")
        expect(building.first).to_be_visible()
        shots(page, "22-complete-1280")
        assert_axe_clean(page, "a completed overview")
        page.set_viewport_size({"width": 390, "height": 844})
        top = shots(page, "23-complete-390")
        page.screenshot(path=str(top.with_name("23-complete-390-top.png")))

        # The address still opens the whole overview, as a page without the script sees it.
        page.reload()
        expect(source_row(page, permits)).to_contain_text("Svarede")
    finally:
        faults.reset()
        context.close()
    assert not problems, "\n".join(problems)


# --- the data-protection officer ------------------------------------------------------------


def test_the_officer_searches_the_log_and_prints_a_persons_log(new_page, sandbox, demo, shots):
    # A sign-in of its own: the shared one may already be logged out by the logout test.
    worker = new_page()
    sign_in(worker)
    look_up_cpr(worker, dashed(demo.typical))  # a caseworker's lookup to be found
    expect(worker.get_by_role("heading", level=1)).to_contain_text("Sagsoverblik")

    page = new_page()
    page.goto("/log-ind")
    page.get_by_role("link", name="Log ind med kommunens login").click()
    page.locator("button.idp-person").filter(has_text="Databeskyttelsesrådgiver").click()
    expect(page.get_by_role("heading", level=1, name="Søg i loggen over opslag")).to_be_visible()
    expect(page.get_by_role("link", name="Nyt opslag")).to_have_count(0)
    assert_axe_clean(page, "the officer's search form")
    page.get_by_label("CPR-nummer (frivilligt)").fill(dashed(demo.typical))
    page.get_by_label("Formål med søgningen (frivilligt)").select_option("Kontrol af opslag")
    page.get_by_role("button", name="Søg i loggen").click()

    expect(
        page.get_by_role("heading", level=1, name="Søgning i loggen over opslag")
    ).to_be_visible()
    rows = page.locator("table.dpo-table tbody tr")
    expect(rows.filter(has_text=f"Medarbejder {demo.caseworker}").first).to_be_visible()
    assert demo.typical not in page.url and demo.typical not in page.content()
    assert_axe_clean(page, "the officer's results")
    shots(page, "30-dpo-results-1280")
    page.set_viewport_size({"width": 390, "height": 844})
    shots(page, "31-dpo-results-390")
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"the results are {overflow} px wider than a 390 px screen"

    page.get_by_role("link", name="Borgerens log til udskrift").click()
    expect(
        page.get_by_role("heading", level=1, name="Udtræk af loggen over opslag")
    ).to_be_visible()
    printed = page.locator("table.dpo-table tbody tr")
    expect(printed.filter(has_text="Slog dig op").first).to_be_visible()
    expect(printed.first).to_contain_text("Søgte i loggen over opslag")  # the search above
    page.set_viewport_size({"width": 1280, "height": 720})
    page.emulate_media(media="print")
    expect(page.locator("header.header")).to_be_hidden()
    expect(page.get_by_text("Udskriv siden med browserens")).to_be_hidden()
    shots(page, "32-dpo-print")


# --- honest completeness (issue 13, item 2) -------------------------------------------------


@pytest.fixture(scope="module")
def remembering_server(sandbox):
    """The portal with the permit system switched off in config and answers fresh for one
    second, kept for an hour: a source that fails after a first lookup is shown stale."""
    sources = sandbox.source_config()
    sources["byggesag"] = {**sources["byggesag"], "enabled": False}
    config = Config.from_mapping(
        {
            "sandbox": {},
            "portal": {
                "deadline_seconds": DEADLINE_SECONDS,
                "source_timeout_seconds": 1.5,
                "cache_ttl_seconds": 1,
                "stale_max_age_seconds": 3600,
            },
            "auth": sandbox.auth_config(),
            "sessions": {"backend": "memory"},
            "sources": sources,
        }
    )
    with _serve(config) as url:
        yield url


def both_widths(page: Page, shots, name: str) -> None:
    """Screenshots at 1280 and 390 px (the latter also of the first screen), axe on both."""
    shots(page, f"{name}-1280")
    assert_axe_clean(page, f"{name} at 1280 px")
    page.set_viewport_size({"width": 390, "height": 844})
    top = shots(page, f"{name}-390")
    page.screenshot(path=str(top.with_name(f"{name}-390-top.png")))
    assert_axe_clean(page, f"{name} at 390 px")
    page.set_viewport_size({"width": 1280, "height": 720})


def test_completeness_notice_for_a_switched_off_and_a_stale_source(
    browser, remembering_server, sandbox, demo, shots
):
    esdh, _owners, permits = sandbox_titles(sandbox)
    context = browser.new_context(base_url=remembering_server, locale="da-DK")
    context.set_default_timeout(TIMEOUT_MS)
    faults = sandbox.faults("esdh")
    try:
        page = context.new_page()
        sign_in(page)
        look_up_cpr(page, dashed(demo.typical))  # fills the cache with a fresh answer
        expect(page.locator("#overview-live")).to_contain_text("Oversigten er færdig")
        notice = page.locator(".completeness-notice")
        expect(notice).to_contain_text(f"Sagerne fra {permits} mangler: systemet er slået fra.")
        expect(notice).not_to_contain_text(esdh)

        time.sleep(1.2)  # the ESDH's answer is no longer fresh, and now the ESDH fails
        faults.update(fail="500")
        page.goto("/")
        look_up_cpr(page, dashed(demo.typical))
        expect(page.locator("#overview-live")).to_contain_text(
            "Oversigten er færdig, men ikke komplet"
        )
        notice = page.locator(".completeness-notice")
        expect(notice).to_contain_text("Oversigten er ikke komplet")
        expect(notice).to_contain_text(f"Sagerne fra {esdh} vises fra et gemt svar")
        expect(notice).to_contain_text(f"Sagerne fra {permits} mangler: systemet er slået fra.")
        expect(notice).to_contain_text("Der kan være flere sager end dem, du ser.")
        # above the cases, and the ESDH's rows say they are an old copy
        assert notice.bounding_box()["y"] < page.locator("#sager").bounding_box()["y"]
        marked = page.locator("table.case-table tbody tr").filter(has_text="Gemt svar")
        expect(marked.first).to_be_visible()
        both_widths(page, shots, "50-stale-and-off")

        citizen = browser.new_context(base_url=remembering_server, locale="da-DK")
        citizen.set_default_timeout(TIMEOUT_MS)
        try:
            mine = citizen.new_page()
            citizen_sign_in(mine, "Typisk borger")
            expect(mine.get_by_role("heading", level=1, name="Mine sager")).to_be_visible()
            notice = mine.locator(".completeness-notice")
            expect(notice).to_contain_text("Nogle af dine sager kan mangle lige nu")
            expect(notice).to_contain_text("Vi kunne ikke hente sager fra alle kommunens systemer")
            expect(notice).to_contain_text("som de så ud ved et tidligere opslag")
            expect(notice).not_to_contain_text("sandkasse")  # no system names for citizens
            expect(mine.get_by_text("Vist fra et tidligere opslag").first).to_be_visible()
            both_widths(mine, shots, "51-citizen-stale-and-off")
        finally:
            citizen.close()
    finally:
        faults.reset()
        context.close()


# --- narrowing many cases ---------------------------------------------------------------------

MAX_HEAVY_PAGE_PX = 15_000


def page_height(page: Page) -> int:
    return page.evaluate("document.documentElement.scrollHeight")


def no_sideways_scroll(page: Page) -> bool:
    return page.evaluate(
        "document.documentElement.scrollWidth <= document.documentElement.clientWidth"
    )


def test_the_heavy_citizen_pages_searches_and_filters_mine_sager(page, sandbox, demo, shots):
    citizen_sign_in(page, "Borger med")
    expect(page.get_by_role("heading", level=1, name="Mine sager")).to_be_visible()
    cases = page.locator(".citizen-case")
    expect(cases).to_have_count(10)
    summary = page.locator(".narrowing-summary")
    expect(summary).to_contain_text(re.compile(r"Viser 1–10 af \d{3} sager"))
    height = page_height(page)
    print(f"\nthe heavy citizen's Mine sager at 1280 px: {height} px high")
    assert height < MAX_HEAVY_PAGE_PX
    both_widths(page, shots, "40-heavy-citizen")
    page.set_viewport_size({"width": 390, "height": 844})
    print(f"… at 390 px: {page_height(page)} px high")
    assert no_sideways_scroll(page)
    page.set_viewport_size({"width": 1280, "height": 720})

    page.get_by_role("link", name="Næste side").click()
    expect(summary).to_contain_text("Viser 11–20 af")
    number = page.locator(".citizen-case-facts dd").first.inner_text().strip()
    page.get_by_label("Søg", exact=True).fill(number)
    page.get_by_role("button", name="Vis sager").click()
    expect(cases).to_have_count(1)
    expect(cases.first).to_contain_text(number)
    shots(page, "41-heavy-citizen-searched")

    page.get_by_role("link", name="Nulstil").click()
    page.get_by_label("Vis", exact=True).select_option("afsluttede")
    page.get_by_role("button", name="Vis sager").click()
    expect(page.get_by_role("heading", name=re.compile("^Afsluttede sager"))).to_be_visible()
    expect(page.get_by_role("heading", name=re.compile("^Igangværende sager"))).to_have_count(0)
    filters = page.locator("form.narrowing")
    expect(filters).not_to_contain_text("SBSYS")  # no system names for citizens
    expect(filters.locator("select[name=system]")).to_have_count(0)

    # a CPR number in the search field is not sent: it would land in the address
    page.get_by_label("Søg", exact=True).fill(dashed(demo.heavy))
    page.get_by_role("button", name="Vis sager").click()
    expect(page.locator("#narrow-q-error")).to_contain_text("ikke på CPR-nummer")
    assert demo.heavy[:6] not in page.url
    shots(page, "42-heavy-citizen-cpr-refused")
    assert_axe_clean(page, "Mine sager with a refused search")


def test_a_caseworker_narrows_a_big_overview_and_the_desk(signed_in, sandbox, demo, shots):
    page = signed_in
    esdh, _owners, _permits = sandbox_titles(sandbox)
    look_up_cpr(page, dashed(demo.heavy))
    expect(page.locator("#overview-live")).to_contain_text("Oversigten er færdig")
    summary = page.locator(".narrowing-summary")
    expect(summary).to_contain_text(re.compile(r"Viser 1–25 af \d{3} sager"))
    expect(page.locator("table.case-table tbody tr")).to_have_count(25)
    both_widths(page, shots, "43-big-overview")

    page.get_by_label("System", exact=True).select_option(label=esdh)
    page.get_by_label("Sortér efter").select_option("frist")
    page.get_by_role("button", name="Vis sager").click()
    expect(summary).to_contain_text("sorteret efter frist")
    expect(page.locator("details.area-group")).to_have_count(0)  # one sorted list
    assert "sorter=frist" in page.url and demo.heavy[:6] not in page.url
    page.get_by_role("link", name="Side 2", exact=True).click()
    expect(summary).to_contain_text("Viser 26–50 af")
    expect(page.locator("#narrow-system")).to_have_value("sbsys")  # the filter stays
    both_widths(page, shots, "44-big-overview-sorted-page-2")

    page.goto("/mit-skrivebord")
    expect(page.get_by_role("columnheader", name="Part")).to_be_visible()
    expect(page.locator(".desk-party").first).to_contain_text("-xxxx")
    page.get_by_label("Sortér efter").select_option("oprettet")
    page.get_by_role("button", name="Vis sager").click()
    expect(page.locator("#desk-caption")).to_contain_text("sorteret efter oprettet")
    both_widths(page, shots, "45-desk-party-sorted")


def test_a_search_typed_while_the_overview_fills_in_is_kept(
    browser, patient_server, sandbox, demo, shots
):
    context = browser.new_context(base_url=patient_server, locale="da-DK")
    context.set_default_timeout(TIMEOUT_MS)
    faults = sandbox.faults("byggesag")
    try:
        page = context.new_page()
        sign_in(page)
        esdh, _owners, permits = sandbox_titles(sandbox)
        faults.update(latency_ms=SLOW_MS)
        look_up_cpr(page, dashed(demo.typical))
        expect(source_row(page, esdh)).to_contain_text("Svarede")
        expect(source_row(page, permits)).to_contain_text("Venter på svar")
        word = page.locator("table.case-table tbody a").first.inner_text().split()[0]
        search = page.get_by_label("Søg", exact=True)
        search.fill(word)
        # the permit system answers meanwhile; the body is not replaced under the typist
        time.sleep(SLOW_MS / 1000 + 1.0)
        expect(search).to_have_value(word)
        expect(source_row(page, permits)).to_contain_text("Venter på svar")
        page.get_by_role("heading", level=1).click()  # leaves the form: the update comes
        expect(page.locator("#overview-live")).to_contain_text("Oversigten er færdig")
        expect(source_row(page, permits)).to_contain_text("Svarede")
        page.get_by_label("Søg", exact=True).fill(word)
        page.get_by_role("button", name="Vis sager").click()
        expect(page.locator(".narrowing-summary")).to_contain_text("Viser")
        assert "q=" in page.url
        titles = page.locator("table.case-table tbody tr td:first-child a").all_inner_texts()
        assert titles and all(word.casefold() in t.casefold() for t in titles), titles
    finally:
        faults.reset()
        context.close()


# --- who the overview is about (issue 13, item 1) -------------------------------------------

UNKNOWN_CPR = "311299-9995"  # a real date; no system in the sandbox knows the number


def test_person_header_protection_unknown_number_and_owners(new_page, sandbox, demo, shots):
    page = new_page()
    sign_in(page)  # on its own: the shared sign-in may be logged out by an earlier test
    look_up_cpr(page, dashed(demo.protected))
    expect(page.locator("#overview-live")).to_contain_text("Oversigten er færdig")
    person = page.locator(".person-header")
    expect(person).to_contain_text(f"{demo.protected[:6]}-xxxx")
    expect(person).to_contain_text(" år (født ")
    expect(person).to_contain_text("Adressebeskyttet")
    warning = page.get_by_role("alert").filter(has_text="Navne- og adressebeskyttelse")
    expect(warning).to_be_visible()
    assert warning.bounding_box()["y"] < page.locator("#kilder").bounding_box()["y"]
    both_widths(page, shots, "40-protected-person")

    page.goto("/")
    look_up_cpr(page, UNKNOWN_CPR)
    expect(page.locator("#overview-live")).to_contain_text("Oversigten er færdig")
    expect(page.locator(".unknown-subject")).to_contain_text(
        f"Ingen af kommunens systemer kender CPR-nummer {UNKNOWN_CPR[:6]}-xxxx"
    )
    expect(page.locator(".person-header")).to_have_count(0)
    both_widths(page, shots, "41-unknown-number")

    owned = [o for o in sandbox.municipality.ownerships if o.cpr == demo.coowner]
    page.goto("/")
    page.get_by_label("BFE-nummer").check()
    page.get_by_label("Nummer eller matrikel").fill(str(owned[0].bfe))
    page.get_by_role("button", name="Slå op").click()
    estate = page.locator(".property-header")
    expect(estate).to_contain_text(str(sandbox.municipality.property(owned[0].bfe).address))
    expect(estate).to_contain_text(f"{demo.coowner[:6]}-xxxx")
    expect(estate).to_contain_text(f"{demo.coowner_partner[:6]}-xxxx")
    both_widths(page, shots, "42-property-owners")
    owner = estate.locator("li.owner").filter(has_text=f"{demo.coowner[:6]}-xxxx")
    owner.get_by_role("button", name=re.compile("Åbn ejerens oversigt")).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(f"{demo.coowner[:6]}-xxxx")
    assert demo.coowner not in page.url and demo.coowner[:6] not in page.url
    expect(page.locator(".person-header")).to_be_visible()
    both_widths(page, shots, "43-owner-overview")


# --- every screen at both widths (issue 13, item 7) -----------------------------------------

WIDTHS = ((1280, 720), (390, 844))
REFLOW_WIDTH = 320
MAX_PHONE_HEADER_PX = 200  # of 844: the page's own content starts in the first quarter


# JavaScript for a failure's message. NAME(e): an element as tag.class "its text".
_NAME = """const name = (e) =>
  `${e.tagName.toLowerCase()}.${[...e.classList].join(".")} "${e.textContent.trim().slice(0, 40)}"`;
"""

# The innermost elements that reach past the right edge of the screen.
WIDER_THAN_SCREEN = (
    "() => {"
    + _NAME
    + """const past = (e) => e.getBoundingClientRect().right > window.innerWidth + 0.5;
  return [...document.querySelectorAll("body *")]
    .filter((e) => past(e) && ![...e.children].some(past))
    .map((e) => (e.tagName === "BR" ? e.parentElement : e))
    .filter((e, i, all) => all.indexOf(e) === i)
    .slice(0, 5)
    .map(name);
}"""
)

# Boxes that scroll sideways on their own (a wide table in its scroll wrapper): the page
# does not, but what is off to the right is still out of sight.
SCROLLING_BOXES = (
    "() => {"
    + _NAME
    + """return [...document.querySelectorAll("body *")]
    .filter((e) => ["auto", "scroll"].includes(getComputedStyle(e).overflowX))
    .filter((e) => e.scrollWidth > e.clientWidth + 1)
    .map((e) => `${name(e)} (${e.scrollWidth - e.clientWidth} px)`);
}"""
)


class ScreenCheck:
    """Looks at pages at 1280 and 390 px: every axe violation (any impact), and on a phone
    any sideways scroll of the page or of a box in it (a table in its scroll wrapper), is
    collected under the page's name, with screenshots of each width. The scroll is also
    checked at 320 px, the width WCAG 2.1's reflow criterion (1.4.10) names."""

    def __init__(self, shots) -> None:
        self.shots = shots
        self.problems: dict[str, list[str]] = {}
        self.seen: list[str] = []

    def __call__(self, page: Page, name: str) -> None:
        self.seen.append(name)
        found: list[str] = []
        for width, height in WIDTHS:
            page.set_viewport_size({"width": width, "height": height})
            violations = axe_violations(page)
            if violations:
                found.append(f"at {width} px:\n{describe(violations)}")
            if width < 768:
                found += self.sideways(page, width)
                top = self.shots(page, f"70-{name}-{width}")
                page.screenshot(path=str(top.with_name(f"70-{name}-{width}-top.png")))
            else:
                self.shots(page, f"70-{name}-{width}")
        page.set_viewport_size({"width": REFLOW_WIDTH, "height": 640})
        found += self.sideways(page, REFLOW_WIDTH)
        page.set_viewport_size({"width": 1280, "height": 720})
        if found:
            self.problems[name] = found

    @staticmethod
    def sideways(page: Page, width: int) -> list[str]:
        found = []
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        if overflow > 0:
            found.append(
                f"at {width} px the page scrolls {overflow} px sideways;"
                f" too wide: {page.evaluate(WIDER_THAN_SCREEN)}"
            )
        boxed = page.evaluate(SCROLLING_BOXES)
        if boxed:
            found.append(f"at {width} px these scroll sideways in their box: {boxed}")
        return found

    def assert_clean(self) -> None:
        assert self.seen
        assert not self.problems, "pages with problems:\n" + "\n".join(
            f"{name}:\n" + "\n".join(lines) for name, lines in self.problems.items()
        )


@pytest.fixture
def screens(shots):
    return ScreenCheck(shots)


def staff_sign_in(page: Page, label: str) -> None:
    """Log in through the municipal identity provider as the staff member whose label
    contains ``label``."""
    page.goto("/log-ind")
    page.get_by_role("link", name="Log ind med kommunens login").click()
    page.locator("button.idp-person").filter(has_text=label).first.click()


def test_every_caseworker_and_operations_page_at_both_widths(new_page, sandbox, demo, screens):
    page = new_page()
    page.goto("/log-ind")
    screens(page, "sign-in")
    page.get_by_role("link", name="Log ind med kommunens login").click()
    screens(page, "staff-idp")  # the sandbox's own page, but a person sees it too
    page.locator("button.idp-person").filter(has_text="og administrator").first.click()
    expect(page.get_by_role("heading", level=1, name="Nyt opslag")).to_be_visible()
    screens(page, "lookup")

    look_up_cpr(page, "310290-1234")
    expect(page.get_by_role("heading", name="Der er en fejl i formularen")).to_be_visible()
    screens(page, "lookup-error")

    page.goto("/")
    look_up_cpr(page, dashed(demo.typical))
    expect(page.locator("#overview-live")).to_contain_text("Oversigten er færdig")
    screens(page, "overview")
    # on a phone a case row still shows its status, deadline and source without scrolling
    page.set_viewport_size({"width": 390, "height": 844})
    header = page.locator("header.header").bounding_box()["height"]
    print(f"\nthe header, user bar and sandbox banner at 390 px: {header:.0f} of 844 px")
    assert header <= MAX_PHONE_HEADER_PX
    row = page.locator("table.case-table tbody tr").first
    for label in ("Fremdrift", "Frist", "Kilde"):
        cell = row.locator(f"td[data-title='{label}']")
        box = cell.bounding_box()
        assert box and box["x"] >= 0 and box["x"] + box["width"] <= 390, (label, box)
    page.set_viewport_size({"width": 1280, "height": 720})

    titles = sandbox_titles(sandbox)
    rows = page.locator("table.case-table tbody tr")
    joined = rows.filter(has_text=f"{titles[0]} + {titles[2]}").or_(
        rows.filter(has_text=f"{titles[2]} + {titles[0]}")
    )
    joined.get_by_role("link").first.click()
    expect(page.get_by_role("heading", name="Dokumenter")).to_be_visible()
    screens(page, "case")

    page.goto("/mit-skrivebord")
    expect(page.get_by_role("heading", level=1, name="Mit skrivebord")).to_be_visible()
    screens(page, "desk")

    page.goto("/drift")
    expect(page.get_by_role("heading", level=1, name="Drift: kilder")).to_be_visible()
    screens(page, "operations")
    # the kill switches are on screen on a phone, reached without scrolling sideways
    page.set_viewport_size({"width": 390, "height": 844})
    switch = page.get_by_role("link", name=re.compile(r"^Slå .* fra …$")).first
    switch.scroll_into_view_if_needed()
    box = switch.bounding_box()
    assert box and box["x"] >= 0 and box["x"] + box["width"] <= 390, box
    page.set_viewport_size({"width": 1280, "height": 720})
    switch.click()
    expect(page.get_by_role("heading", level=1, name=re.compile("fra for alle"))).to_be_visible()
    screens(page, "operations-confirm")
    page.get_by_role("button", name=re.compile("^Slå .* fra$")).click()  # no reason given
    expect(page.get_by_role("heading", name="Der er en fejl i formularen")).to_be_visible()
    screens(page, "operations-confirm-error")

    page.goto("/tilgaengelighed")
    screens(page, "accessibility")
    page.goto("/side-der-ikke-findes")
    screens(page, "error-404")
    page.goto("/databeskyttelse")  # the administrator is no data-protection officer
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    screens(page, "error-403")
    page.goto("/oversigt/" + "A" * 22)
    screens(page, "overview-expired")
    screens.assert_clean()


def test_every_officer_and_citizen_page_at_both_widths(new_page, demo, screens):
    worker = new_page()
    sign_in(worker)
    look_up_cpr(worker, dashed(demo.typical))  # something for the officer and "Hvem har set"
    expect(worker.get_by_role("heading", level=1)).to_contain_text("Sagsoverblik")

    officer = new_page()
    staff_sign_in(officer, "Databeskyttelsesrådgiver")
    expect(officer.get_by_role("heading", level=1, name="Søg i loggen over opslag")).to_be_visible()
    screens(officer, "dpo-search")
    for _ in range(2):  # the second search finds the first: the officer's own, longer rows
        officer.goto("/databeskyttelse")
        officer.get_by_label("CPR-nummer (frivilligt)").fill(dashed(demo.typical))
        officer.get_by_role("button", name="Søg i loggen").click()
        expect(officer.locator("table.dpo-table tbody tr").first).to_be_visible()
    expect(officer.locator("table.dpo-table tbody tr").first).to_contain_text("Søgte i loggen")
    screens(officer, "dpo-results")
    officer.get_by_role("link", name="Borgerens log til udskrift").click()
    expect(officer.locator("table.dpo-table tbody tr").first).to_be_visible()
    screens(officer, "dpo-print")

    citizen = new_page()
    citizen_sign_in(citizen, "Typisk borger")
    expect(citizen.get_by_role("heading", level=1, name="Mine sager")).to_be_visible()
    screens(citizen, "mine-sager")
    citizen.locator("a[href^='/mine-sager/sag/']").first.click()
    expect(citizen.get_by_role("heading", name="Sagens forløb")).to_be_visible()
    screens(citizen, "citizen-case")
    citizen.goto("/mine-sager/hvem-har-set")
    expect(citizen.locator("table.seen-table tbody tr").first).to_be_visible()
    screens(citizen, "seen-by")
    citizen.goto("/drift")  # a citizen on a staff page
    screens(citizen, "citizen-error-403")

    refused = new_page()
    citizen_sign_in(refused, "afvises")
    expect(refused.get_by_role("heading", level=1)).to_have_text("Du kan ikke logge ind")
    screens(refused, "login-refused")
    screens.assert_clean()


# --- by keyboard only ------------------------------------------------------------------------

# How the focused element shows it has focus: an outline or a shadow on it, or, for a
# DKFDS radio button or check box (the input itself is hidden), on its label's box.
FOCUS_MARK = """() => {
  const el = document.activeElement;
  if (!el || el === document.body) return "nothing has focus";
  const shows = (style) =>
    (style.outlineStyle !== "none" && parseFloat(style.outlineWidth) > 0) ||
    style.boxShadow !== "none";
  if (shows(getComputedStyle(el))) return "";
  if (el.matches("input[type=radio], input[type=checkbox]") && el.labels.length &&
      shows(getComputedStyle(el.labels[0], "::before"))) return "";
  return `no visible focus on ${el.outerHTML.slice(0, 120)}`;
}"""


def tab_to(page: Page, target, limit: int = 80) -> None:
    """Press Tab until ``target`` has focus, failing on a stop without a visible focus mark
    or when ``limit`` presses do not reach it."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        problem = page.evaluate(FOCUS_MARK)
        assert not problem, problem
        if target.evaluate("(el) => el === document.activeElement"):
            return
    raise AssertionError(f"{limit} presses of Tab did not reach {target}")


def follow(page: Page) -> None:
    """Press Enter on the focused link or button, and wait for the page it leads to."""
    with page.expect_navigation():
        page.keyboard.press("Enter")


def test_a_caseworker_and_an_administrator_work_by_keyboard_only(new_page, demo, shots):
    page = new_page(viewport={"width": 390, "height": 844})
    page.goto("/log-ind")
    tab_to(page, page.get_by_role("link", name="Log ind med kommunens login"))
    follow(page)
    tab_to(page, page.locator("button.idp-person").filter(has_text="og administrator").first)
    follow(page)
    expect(page.get_by_role("heading", level=1, name="Nyt opslag")).to_be_visible()

    tab_to(page, page.get_by_label("CPR-nummer"))
    page.keyboard.press("Space")
    tab_to(page, page.get_by_label("Nummer eller matrikel"))
    page.keyboard.type(dashed(demo.typical))
    follow(page)
    expect(page.locator("#overview-live")).to_contain_text("Oversigten er færdig")
    case_link = page.locator("table.case-table tbody a").first
    title = case_link.inner_text().strip()
    tab_to(page, case_link, limit=150)
    follow(page)
    expect(page.get_by_role("heading", level=1)).to_have_text(title)

    tab_to(page, page.get_by_role("link", name="Drift", exact=True))
    follow(page)
    expect(page.get_by_role("heading", level=1, name="Drift: kilder")).to_be_visible()
    row = page.locator("#kilde-os2mo")
    try:
        tab_to(page, row.get_by_role("link", name=re.compile(r"^Slå .* fra …$")))
        follow(page)
        reason = page.get_by_label("Årsag")
        tab_to(page, reason)
        page.keyboard.type("Prøve med tastaturet")
        tab_to(page, page.get_by_role("button", name=re.compile("^Slå .* fra$")))
        follow(page)
        expect(row).to_contain_text("Årsag: Prøve med tastaturet")
        shots(page, "80-keyboard-switched-off-390")
        tab_to(page, row.get_by_role("button", name=re.compile(r"^Slå .* til$")))
        follow(page)
        expect(row.get_by_role("link", name=re.compile(r"^Slå .* fra …$"))).to_be_visible()
    finally:  # whatever happened, the source is on again for the other tests
        page.goto("/drift")
        switch_on = row.get_by_role("button", name=re.compile(r"^Slå .* til$"))
        if switch_on.count():
            switch_on.click()


def test_a_citizen_works_by_keyboard_only(new_page, shots):
    page = new_page(viewport={"width": 390, "height": 844})
    page.goto("/log-ind")
    tab_to(page, page.get_by_role("link", name="Log ind med MitID"))
    follow(page)
    tab_to(page, page.locator("button.idp-person").filter(has_text="Typisk borger").first)
    follow(page)
    expect(page.get_by_role("heading", level=1, name="Mine sager")).to_be_visible()

    case_link = page.locator("a[href^='/mine-sager/sag/']").first
    tab_to(page, case_link)
    follow(page)
    expect(page.get_by_role("heading", name="Sagens forløb")).to_be_visible()
    tab_to(page, page.get_by_role("link", name="Tilbage til Mine sager"))
    follow(page)

    tab_to(page, page.get_by_role("link", name="Se hvem der har set dine oplysninger"))
    follow(page)
    expect(
        page.get_by_role("heading", level=1, name="Hvem har set mine oplysninger")
    ).to_be_visible()
    tab_to(page, page.get_by_role("button", name="Log ud"))
    shots(page, "81-keyboard-seen-by-390")
    follow(page)
    expect(page.get_by_role("heading", level=1)).to_have_text("Log ud")  # the provider's page


def test_the_officer_works_by_keyboard_only(new_page, demo):
    page = new_page(viewport={"width": 390, "height": 844})
    page.goto("/log-ind")
    tab_to(page, page.get_by_role("link", name="Log ind med kommunens login"))
    follow(page)
    tab_to(page, page.locator("button.idp-person").filter(has_text="Databeskyttelsesrådgiver"))
    follow(page)
    expect(page.get_by_role("heading", level=1, name="Søg i loggen over opslag")).to_be_visible()
    tab_to(page, page.get_by_label("CPR-nummer (frivilligt)"))
    page.keyboard.type(dashed(demo.typical))
    tab_to(page, page.get_by_role("button", name="Søg i loggen"))
    follow(page)
    expect(
        page.get_by_role("heading", level=1, name="Søgning i loggen over opslag")
    ).to_be_visible()
    tab_to(page, page.get_by_role("link", name="Borgerens log til udskrift"))
    follow(page)
    expect(
        page.get_by_role("heading", level=1, name="Udtræk af loggen over opslag")
    ).to_be_visible()
