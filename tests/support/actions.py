"""Action helpers: test users, signing a test client in, a real sandbox login, form tokens."""

from __future__ import annotations

TEST_CASEWORKERS = (
    ("cw-1", "Mette Kjær", "MK4821", "Jobcenter, Ydelser", ("sagsbehandler",)),
    ("cw-2", "Jonas Bach Holm", "JH1177", "Byggeri og Miljø", ("sagsbehandler", "administrator")),
    ("cw-3", "Dorte Vestergaard", "DV3050", "Databeskyttelse", ("databeskyttelsesraadgiver",)),
)


def caseworker_user(index: int = 0):
    """One of the test caseworkers as a :class:`borgersag.people.identity.User`
    (0: a caseworker, 1: also an administrator, 2: the data-protection officer)."""
    from borgersag.people.identity import Audience, User, default_roles

    user_id, name, number, unit, roles = TEST_CASEWORKERS[index]
    catalogue = default_roles()
    return User(
        kind=Audience.CASEWORKER,
        id=user_id,
        name=name,
        medarbejdernummer=number,
        unit=unit,
        roles=roles,
        permissions=frozenset().union(*(catalogue[r].permissions for r in roles)),
    )


def citizen_user(cpr: str, name: str = "Karen Nielsen", **extra):
    """A citizen signed in with MitID."""
    from borgersag.domain.keys import KeyKind, parse_key
    from borgersag.people.identity import Audience, User

    return User(
        kind=Audience.CITIZEN,
        id=f"citizen-{name.split()[0].lower()}",
        name=name,
        cpr=parse_key(KeyKind.CPR, cpr),
        assurance="substantial",
        **extra,
    )


def sign_in(client, user) -> None:
    """Put ``user`` in ``client``'s session the way a finished login does (tests only)."""
    with client.session_transaction() as session:
        session.clear()
        session["user"] = user.to_session()
        session["_login"] = user.kind.value


def sandbox_login(client, sandbox, audience: str, person: str):
    """Log ``client`` in for real through a sandbox identity provider.

    ``audience`` is "borger" or "medarbejder"; ``person`` a key of
    :func:`borgersag.sandbox.idp_people.demo_citizens` / ``demo_staff`` (e.g. "typical",
    "caseworker"). Returns the portal's response to the callback.
    """
    import requests

    from borgersag.sandbox.idp_people import demo_citizens, demo_staff

    people = demo_citizens if audience == "borger" else demo_staff
    chosen = next(p for p in people(sandbox.municipality) if p.key == person)
    started = client.get(f"/log-ind/{audience}")
    assert started.status_code == 303, started.status_code
    answer = requests.post(
        started.location, data={"sub": chosen.sub}, allow_redirects=False, timeout=10
    )
    assert answer.status_code == 302, answer.status_code
    callback = answer.headers["Location"]
    assert "/log-ind/svar?" in callback
    return client.get(callback[callback.index("/log-ind/svar") :])


def csrf_token(client) -> str:
    """The form token of ``client``'s session, read from a page as a browser would."""
    import re

    page = client.get("/tilgaengelighed").get_data(as_text=True)
    found = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert found, "a signed-in page carries the logout form with its token"
    return found[1]


def login_as_caseworker(client, caseworker_index: int = 0):
    """Sign ``client`` in as one of the test caseworkers; returns the User."""
    user = caseworker_user(caseworker_index)
    sign_in(client, user)
    return user


def completeness_notice(page: str) -> str:
    """The text of ``page``'s completeness notice (borgersag/web/completeness.py), its
    markup removed; empty when the page has none."""
    import re

    found = re.search(
        r'<div class="alert alert-warning completeness-notice"[^>]*>(.*?)</div>\s*</div>',
        page,
        re.S,
    )
    if not found:
        return ""
    return " ".join(re.sub(r"<[^>]+>", " ", found[1]).split())


def seen_by_rows(client, page: int = 1) -> list[tuple[str, str, str, str]]:
    """The rows of ``client``'s (a signed-in citizen's) "Hvem har set mine oplysninger"
    page, newest first, as (when, who, what, purpose) text as the page shows it."""
    import re

    response = client.get(f"/mine-sager/hvem-har-set?side={page}")
    assert response.status_code == 200, response.status_code
    return re.findall(
        r"<tr>\s*<td[^>]*>(.*?)</td>\s*<td[^>]*>(.*?)</td>\s*<td[^>]*>(.*?)</td>\s*<td[^>]*>(.*?)</td>",
        response.get_data(as_text=True),
        re.S,
    )
