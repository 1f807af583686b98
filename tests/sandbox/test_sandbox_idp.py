"""The sandbox identity providers over real HTTP: discovery, the code flow with PKCE and
nonce, signed ID tokens with the demo people's claims, and the PKCE refusals."""

from __future__ import annotations

import re
import secrets
import urllib.parse

import pytest
import requests
from jose import jwt

from borgersag.sandbox.generator import generate
from borgersag.sandbox.idp import PkceGuard, pkce_challenge
from borgersag.sandbox.idp_people import demo_citizens, demo_staff

TIMEOUT = 5
CLIENT_ID = "borgersag-test"
CLIENT_SECRET = "sandbox-secret"
REDIRECT_URI = "http://127.0.0.1:8700/log-ind/callback"


@pytest.fixture(scope="module")
def town():
    return generate(2026)


def discovery(sandbox, service):
    url = sandbox.url(service) + ".well-known/openid-configuration"
    response = requests.get(url, timeout=TIMEOUT)
    assert response.status_code == 200
    return response.json()


def authorization_params(**overrides):
    """Parameters of an authorization request and the PKCE verifier behind them."""
    verifier = secrets.token_urlsafe(64)
    params = {
        "response_type": "code",
        "client_id": CLIENT_ID,
        "redirect_uri": REDIRECT_URI,
        "scope": "openid profile nin mitid-extra",
        "state": secrets.token_urlsafe(16),
        "nonce": secrets.token_urlsafe(16),
        "code_challenge": pkce_challenge(verifier),
        "code_challenge_method": "S256",
    }
    params.update(overrides)
    return {k: v for k, v in params.items() if v is not None}, verifier


def authorize(sandbox, service, sub, **overrides):
    """Sign in as ``sub``: returns (code, params, verifier); checks the redirect."""
    params, verifier = authorization_params(**overrides)
    endpoint = discovery(sandbox, service)["authorization_endpoint"]
    response = requests.post(
        endpoint, params=params, data={"sub": sub}, allow_redirects=False, timeout=TIMEOUT
    )
    assert response.status_code == 302, response.text
    location = urllib.parse.urlsplit(response.headers["Location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == REDIRECT_URI
    query = urllib.parse.parse_qs(location.query)
    assert query["state"] == [params["state"]]
    return query["code"][0], params, verifier


def exchange(sandbox, service, code, verifier):
    endpoint = discovery(sandbox, service)["token_endpoint"]
    data = {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT_URI}
    if verifier is not None:
        data["code_verifier"] = verifier
    return requests.post(endpoint, data=data, auth=(CLIENT_ID, CLIENT_SECRET), timeout=TIMEOUT)


def sign_in(sandbox, service, sub):
    """The whole flow; returns the verified ID token claims and the nonce sent."""
    code, params, verifier = authorize(sandbox, service, sub)
    response = exchange(sandbox, service, code, verifier)
    assert response.status_code == 200, response.text
    document = discovery(sandbox, service)
    jwks = requests.get(document["jwks_uri"], timeout=TIMEOUT).json()
    claims = jwt.decode(
        response.json()["id_token"],
        jwks,
        algorithms=["RS256"],
        audience=CLIENT_ID,
        issuer=sandbox.issuer(service),
        options={"verify_at_hash": False},
    )
    return claims, params["nonce"]


def person(people, key):
    return next(p for p in people if p.key == key)


# --- discovery ---------------------------------------------------------------------------


@pytest.mark.parametrize("service", ["mitid", "medarbejderlogin"])
def test_discovery_names_the_issuer_and_endpoints(sandbox, service):
    document = discovery(sandbox, service)
    issuer = sandbox.issuer(service)
    assert document["issuer"] == issuer
    assert not issuer.endswith("/")
    for name in ("authorization_endpoint", "token_endpoint", "jwks_uri", "userinfo_endpoint"):
        assert document[name].startswith(issuer + "/")
    assert document["id_token_signing_alg_values_supported"] == ["RS256"]


def test_the_two_providers_sign_with_different_keys(sandbox):
    kids = {
        service: requests.get(discovery(sandbox, service)["jwks_uri"], timeout=TIMEOUT).json()
        for service in ("mitid", "medarbejderlogin")
    }
    assert kids["mitid"] != kids["medarbejderlogin"]


def test_issuer_is_only_for_identity_providers(sandbox):
    with pytest.raises(KeyError, match="identity provider"):
        sandbox.issuer("esdh")


def test_source_config_lists_the_case_sources_and_registers_not_the_providers(sandbox):
    assert set(sandbox.source_config()) == {
        "sbsys",
        "ejerfortegnelse",
        "byggesag",
        "zgw",
        "momentum",
        "os2mo",
        "cpr",
    }


# --- the login page ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("service", "title", "people"),
    [
        ("mitid", "MitID (sandkasse)", demo_citizens),
        ("medarbejderlogin", "Kommunens login", demo_staff),
    ],
)
def test_login_page_lists_the_demo_people_in_danish_without_external_urls(
    sandbox, service, title, people
):
    params, _ = authorization_params()
    endpoint = discovery(sandbox, service)["authorization_endpoint"]
    response = requests.get(endpoint, params=params, timeout=TIMEOUT)
    assert response.status_code == 200
    page = response.text
    assert '<html lang="da">' in page
    assert title in page and "opdigtede" in page
    for demo in people(sandbox.municipality):
        assert demo.name in page and demo.label in page
        assert f'value="{demo.sub}"' in page
    assert 'name="action" value="deny"' in page and "Afbryd" in page
    assert "https://cdn" not in page
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", page)
    css = re.search(r'href="([^"]+\.css)"', page).group(1)
    assert requests.get(sandbox.url(service) + css.lstrip("/"), timeout=TIMEOUT).ok


def test_cancel_sends_access_denied_back(sandbox):
    params, _ = authorization_params()
    endpoint = discovery(sandbox, "mitid")["authorization_endpoint"]
    response = requests.post(
        endpoint, params=params, data={"action": "deny"}, allow_redirects=False, timeout=TIMEOUT
    )
    assert response.status_code == 302
    query = urllib.parse.parse_qs(urllib.parse.urlsplit(response.headers["Location"]).query)
    assert query["error"] == ["access_denied"] and "code" not in query


@pytest.mark.parametrize("service", ["mitid", "medarbejderlogin"])
def test_logout_works_offline_in_danish(sandbox, service):
    endpoint = discovery(sandbox, service)["end_session_endpoint"]
    back = "http://127.0.0.1:8700/logget-ud"
    page = requests.get(
        endpoint, params={"post_logout_redirect_uri": back, "state": "s1"}, timeout=TIMEOUT
    )
    assert page.status_code == 200
    assert "Log ud" in page.text and "https://cdn" not in page.text
    action = re.search(r'<form method="post" action="([^"]+)"', page.text).group(1)
    confirm = requests.post(
        sandbox.url(service) + action.lstrip("/"),
        data={"redirect_uri": back + "?state=s1"},
        allow_redirects=False,
        timeout=TIMEOUT,
    )
    assert confirm.status_code == 302 and confirm.headers["Location"] == back + "?state=s1"
    done = requests.post(sandbox.url(service) + action.lstrip("/"), timeout=TIMEOUT)
    assert done.status_code == 200 and "logget ud" in done.text


def test_the_mocks_test_client_and_unknown_pages_are_not_served(sandbox):
    for path in ("oidc/login", "no-such-page"):
        response = requests.get(sandbox.url("mitid") + path, timeout=TIMEOUT)
        assert response.status_code == 404
        assert "Ikke fundet" in response.text and "Traceback" not in response.text


# --- the code flow -----------------------------------------------------------------------


def test_citizen_signs_in_with_pkce_and_nonce(sandbox):
    typical = person(demo_citizens(sandbox.municipality), "typical")
    claims, nonce = sign_in(sandbox, "mitid", typical.sub)
    assert claims["sub"] == typical.sub
    assert claims["nin"] == sandbox.municipality.demo.typical
    assert claims["mitid_loa"] == "SUBSTANTIAL"
    assert claims["mitid_name_and_address_protection"] == "false"
    assert claims["nonce"] == nonce
    assert claims["name"] == sandbox.municipality.citizen(claims["nin"]).name


def test_low_assurance_and_protected_citizens(sandbox):
    citizens = demo_citizens(sandbox.municipality)
    low, _ = sign_in(sandbox, "mitid", person(citizens, "coowner_partner").sub)
    assert low["mitid_loa"] == "LOW"
    protected, _ = sign_in(sandbox, "mitid", person(citizens, "protected").sub)
    assert protected["mitid_name_and_address_protection"] == "true"
    heavy, _ = sign_in(sandbox, "mitid", person(citizens, "heavy").sub)
    assert heavy["mitid_loa"] == "HIGH"


def test_staff_signs_in_with_roles_and_restrictions(sandbox):
    staff = demo_staff(sandbox.municipality)
    first, _ = sign_in(sandbox, "medarbejderlogin", staff[0].sub)
    assert first["medarbejdernummer"] == sandbox.municipality.demo.caseworker
    assert first["roles"] == ["sagsbehandler"]
    assert first["kle_emner"] == [] and first["max_foelsomhed"] == "vip"
    admin, _ = sign_in(sandbox, "medarbejderlogin", person(staff, "administrator").sub)
    assert admin["roles"] == ["sagsbehandler", "administrator"]
    restricted, _ = sign_in(sandbox, "medarbejderlogin", person(staff, "restricted").sub)
    assert restricted["kle_emner"] == ["27"]
    assert restricted["max_foelsomhed"] == "fortrolige_personoplysninger"
    assert restricted["organisationsenhed"] == "Socialafdelingen"
    no_role, _ = sign_in(sandbox, "medarbejderlogin", person(staff, "no_role").sub)
    assert no_role["roles"] == []


def test_userinfo_answers_with_the_same_claims(sandbox):
    typical = person(demo_citizens(sandbox.municipality), "typical")
    code, _, verifier = authorize(sandbox, "mitid", typical.sub)
    token = exchange(sandbox, "mitid", code, verifier).json()["access_token"]
    userinfo = requests.get(
        discovery(sandbox, "mitid")["userinfo_endpoint"],
        headers={"Authorization": f"Bearer {token}"},
        timeout=TIMEOUT,
    ).json()
    assert userinfo["sub"] == typical.sub and userinfo["nin"] == typical.claims["nin"]


# --- PKCE and nonce refusals -------------------------------------------------------------


@pytest.mark.parametrize("verifier", [None, "x" * 43, secrets.token_urlsafe(64), "short"], ids=str)
def test_a_wrong_or_missing_verifier_is_invalid_grant_and_spends_the_code(sandbox, verifier):
    typical = person(demo_citizens(sandbox.municipality), "typical")
    code, _, right = authorize(sandbox, "mitid", typical.sub)
    response = exchange(sandbox, "mitid", code, verifier)
    assert response.status_code == 400
    assert response.json() == {
        "error": "invalid_grant",
        "error_description": "PKCE verification failed",
    }
    # The code is used up: the right verifier no longer helps.
    assert exchange(sandbox, "mitid", code, right).status_code == 400


def test_a_code_works_once(sandbox):
    typical = person(demo_citizens(sandbox.municipality), "typical")
    code, _, verifier = authorize(sandbox, "mitid", typical.sub)
    assert exchange(sandbox, "mitid", code, verifier).status_code == 200
    again = exchange(sandbox, "mitid", code, verifier)
    assert again.status_code == 400 and again.json()["error"] == "invalid_grant"


@pytest.mark.parametrize(
    "overrides",
    [
        {"code_challenge": None},
        {"code_challenge_method": None},
        {"code_challenge_method": "plain"},
        {"code_challenge": "too-short"},
    ],
    ids=["no-challenge", "no-method", "plain", "malformed"],
)
@pytest.mark.parametrize("method", ["GET", "POST"])
def test_authorization_without_s256_challenge_is_refused(sandbox, overrides, method):
    params, _ = authorization_params(**overrides)
    endpoint = discovery(sandbox, "mitid")["authorization_endpoint"]
    sub = demo_citizens(sandbox.municipality)[0].sub
    response = requests.request(
        method,
        endpoint,
        params=params,
        data={"sub": sub} if method == "POST" else None,
        allow_redirects=False,
        timeout=TIMEOUT,
    )
    assert response.status_code == 400
    assert "code_challenge" in response.text and "https://cdn" not in response.text


def test_authorization_without_nonce_is_refused(sandbox):
    params, _ = authorization_params(nonce=None)
    endpoint = discovery(sandbox, "mitid")["authorization_endpoint"]
    response = requests.get(endpoint, params=params, allow_redirects=False, timeout=TIMEOUT)
    assert response.status_code in (302, 400)
    if response.status_code == 302:
        assert "error=" in response.headers["Location"]
        assert "code=" not in response.headers["Location"]


def test_pkce_guard_forgets_old_codes():
    now = [0.0]
    guard = PkceGuard(max_age=600, clock=lambda: now[0], reject_page=lambda text: text)
    verifier = secrets.token_urlsafe(48)
    guard.remember("a", pkce_challenge(verifier))
    now[0] = 601
    assert not guard.verify("a", verifier)
    guard.remember("b", pkce_challenge(verifier))
    assert guard.verify("b", verifier)
    assert not guard.verify("b", verifier)


# --- the demo people ---------------------------------------------------------------------


def test_no_sub_is_or_contains_a_cpr_or_medarbejdernummer(town):
    people = demo_citizens(town) + demo_staff(town)
    cprs = {c.cpr for c in town.citizens}
    numbers = {e.medarbejdernummer for e in town.employees}
    for demo in people:
        assert demo.sub not in cprs and demo.sub not in numbers
        assert not any(cpr in demo.sub for cpr in cprs)
        assert not any(number in demo.sub for number in numbers)
    assert len({demo.sub for demo in people}) == len(people)


def test_demo_people_are_stable_and_complete(town):
    assert demo_citizens(town) == demo_citizens(generate(2026))
    citizens = {p.key: p for p in demo_citizens(town)}
    assert set(citizens) == {
        "typical",
        "coowner",
        "coowner_partner",
        "protected",
        "heavy",
        "nothing",
    }
    assert {p.claims["mitid_loa"] for p in citizens.values()} == {"LOW", "SUBSTANTIAL", "HIGH"}
    for key, demo in citizens.items():
        assert demo.claims["nin"] == getattr(town.demo, key)
        assert re.fullmatch(r"\d{10}", demo.claims["nin"])
    staff = demo_staff(town)
    assert staff[0].claims["medarbejdernummer"] == town.demo.caseworker
    assert staff[-1].key == "no_role"
    units = [p.claims["organisationsenhed"] for p in staff]
    assert len(units) == len(set(units)) == 7
    assert person(staff, "dpo").claims["roles"] == ["databeskyttelsesraadgiver"]
    levels = {"ikke_fortrolig", "fortrolige_personoplysninger", "foelsomme_personoplysninger"}
    assert {p.claims["max_foelsomhed"] for p in staff} <= levels | {"vip"}


def test_faults_apply_to_the_identity_providers(fault_sandbox):
    fault_sandbox.faults("mitid").update(fail="500")
    url = fault_sandbox.url("mitid")
    assert (
        requests.get(url + ".well-known/openid-configuration", timeout=TIMEOUT).status_code == 500
    )
    knobs = requests.get(url + "_sandbox/faults", timeout=TIMEOUT).json()
    assert knobs["fail"] == "500"
    fault_sandbox.reset_faults()
    assert requests.get(url + "health", timeout=TIMEOUT).json()["service"] == "mitid"
