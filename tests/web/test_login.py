"""OpenID Connect login against a fake provider: the happy path and every hostile token.

Each hostile row must be refused with a clear page, leave the person signed out, and log
one line that names the reason without any personal data or token.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import time
import urllib.parse

import pytest
import responses

from borgersag.runtime import logmask

from support.actions import csrf_token
from support.fake_portal import CITIZEN_ISSUER, STAFF_ISSUER, FakePortal
from support.oidc_fake import FakeProvider, authorization_params, b64url, finish, public_pem, start

CPR = "0103854321"
OTHER_CPR = "0909091234"


@pytest.fixture(autouse=True)
def unmasked_logs():
    """The log mask (borgersag.runtime.logmask) would hide a leak; these tests prove there is
    none."""
    with logmask.suspended():
        yield


@pytest.fixture
def mitid():
    return FakeProvider(issuer=CITIZEN_ISSUER, client_id="borgersag")


@pytest.fixture
def staff_idp():
    return FakeProvider(issuer=STAFF_ISSUER, client_id="borgersag-staff", kid="staff-1")


@pytest.fixture
def rsps(mitid, staff_idp):
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mitid.install(mock)
        staff_idp.install(mock)
        yield mock


@pytest.fixture
def web(rsps):
    """A fresh app (fresh provider caches) and client."""
    from borgersag.web import create_app

    portal = FakePortal()
    app = create_app(portal.config, portal=portal)
    app.config["TESTING"] = True
    return app.test_client()


def citizen_claims(provider, nonce, **extra):
    claims = {"nin": CPR, "name": "Karen Nielsen", "mitid_loa": "SUBSTANTIAL"}
    claims.update(extra)
    return provider.claims(nonce, **claims)


def signed_in(client) -> bool:
    return client.get("/mine-sager").status_code == 200


# --- the happy paths ----------------------------------------------------------------------


def test_citizen_logs_in_with_pkce_and_lands_on_mine_sager(web, mitid):
    params = start(web)
    assert params["code_challenge_method"] == "S256"
    assert params["response_type"] == "code"
    assert params["client_id"] == "borgersag"
    assert "nin" in params["scope"].split()  # the signicat profile's scopes
    assert len(params["state"]) >= 32 and len(params["nonce"]) >= 32

    response = finish(web, mitid, params, mitid.sign(citizen_claims(mitid, params["nonce"])))

    assert response.status_code == 303
    # first a page saying the cases are being fetched, which goes on to Mine sager at once
    assert response.location.endswith("/mine-sager/henter")
    assert mitid.pkce_failures == 0 and mitid.token_calls == 1
    loading = web.get(response.location).get_data(as_text=True)
    assert '<meta http-equiv="refresh" content="0;url=/mine-sager">' in loading
    assert 'role="status"' in loading and "Henter dine sager" in loading
    page = web.get("/mine-sager")
    assert page.status_code == 200
    assert "Karen Nielsen" in page.get_data(as_text=True)


def test_login_rotates_the_session_id(web, mitid):
    params = start(web)
    before = web.get_cookie("borgersag_session").value
    finish(web, mitid, params, mitid.sign(citizen_claims(mitid, params["nonce"])))
    after = web.get_cookie("borgersag_session").value
    assert before != after


def test_cpr_only_from_userinfo_is_used_when_sub_matches(web, mitid):
    mitid.userinfo_claims = {"sub": "c0ffee-0001", "nin": CPR, "mitid_loa": "SUBSTANTIAL"}
    params = start(web)
    token = mitid.sign(mitid.claims(params["nonce"], name="Karen Nielsen"))
    response = finish(web, mitid, params, token)
    assert response.status_code == 303
    assert mitid.userinfo_calls == 1
    assert signed_in(web)


def test_caseworker_logs_in_and_gets_roles_from_claims(web, staff_idp):
    params = start(web, "medarbejder")
    claims = staff_idp.claims(
        params["nonce"],
        name="Mette Kjær",
        medarbejdernummer="MK4821",
        organisationsenhed="Jobcenter",
        roles=["sagsbehandler", "ukendt-rolle"],
    )
    response = finish(web, staff_idp, params, staff_idp.sign(claims))
    assert response.status_code == 303
    assert response.location.endswith("/")
    page = web.get("/").get_data(as_text=True)
    assert "Mette Kjær" in page and "sagsbehandler" in page
    assert "ukendt-rolle" not in page
    # A caseworker is not a citizen.
    assert web.get("/mine-sager").status_code == 403


def test_caseworker_without_a_known_role_is_refused(web, staff_idp):
    params = start(web, "medarbejder")
    claims = staff_idp.claims(
        params["nonce"], name="Ny Medarbejder", medarbejdernummer="NM1", roles=[]
    )
    response = finish(web, staff_idp, params, staff_idp.sign(claims))
    assert response.status_code == 403
    assert "ingen rolle" in response.get_data(as_text=True)
    assert web.get("/", follow_redirects=False).status_code == 303


def test_logout_ends_the_session_and_goes_to_the_providers_logout(web, mitid):
    params = start(web)
    finish(web, mitid, params, mitid.sign(citizen_claims(mitid, params["nonce"])))
    old_cookie = web.get_cookie("borgersag_session").value
    response = web.post("/log-ud", data={"csrf_token": csrf_token(web)})
    assert response.status_code == 303
    target = urllib.parse.urlsplit(response.location)
    assert f"{target.scheme}://{target.netloc}{target.path}" == f"{CITIZEN_ISSUER}/logout"
    query = authorization_params(response.location)
    assert query["post_logout_redirect_uri"].endswith("/logget-ud")
    assert "id_token_hint" not in query  # the ID token holds the CPR number
    assert not signed_in(web)
    # The old session id is dead even if someone kept the cookie.
    web.set_cookie("borgersag_session", old_cookie)
    assert not signed_in(web)


def test_logout_form_may_post_to_the_provider_under_the_csp(web, mitid):
    params = start(web)
    finish(web, mitid, params, mitid.sign(citizen_claims(mitid, params["nonce"])))
    csp = web.get("/mine-sager").headers["Content-Security-Policy"]
    form_action = next(d for d in csp.split("; ") if d.startswith("form-action"))
    assert form_action.split()[1] == "'self'"
    assert CITIZEN_ISSUER in form_action.split()


# --- hostile tokens -----------------------------------------------------------------------


def _none_alg(provider, claims):
    header = b64url(json.dumps({"alg": "none", "kid": provider.kid}))
    return f"{header}.{b64url(json.dumps(claims))}."


def _hs256_with_public_key(provider, claims):
    header = b64url(json.dumps({"alg": "HS256", "kid": provider.kid, "typ": "JWT"}))
    body = b64url(json.dumps(claims))
    mac = hmac.new(public_pem("provider"), f"{header}.{body}".encode(), hashlib.sha256)
    return f"{header}.{body}.{b64url(mac.digest())}"


def _tampered(provider, claims):
    header, _body, signature = provider.sign(claims).split(".")
    forged = b64url(json.dumps({**claims, "nin": OTHER_CPR}))
    return f"{header}.{forged}.{signature}"


HOSTILE = {
    "alg none": (lambda p, c: _none_alg(p, c), "algorithm", 400),
    "HS256 signed with the public key": (_hs256_with_public_key, "algorithm", 400),
    "wrong issuer": (lambda p, c: p.sign({**c, "iss": "https://evil.test"}), "issuer", 400),
    "wrong audience": (lambda p, c: p.sign({**c, "aud": "someone-else"}), "audience", 400),
    "azp of another client": (
        lambda p, c: p.sign({**c, "aud": ["borgersag", "x"], "azp": "x"}),
        "audience",
        400,
    ),
    "expired": (
        lambda p, c: p.sign({**c, "iat": int(time.time()) - 900, "exp": int(time.time()) - 300}),
        "expired",
        400,
    ),
    "issued in the future": (
        lambda p, c: p.sign({**c, "iat": int(time.time()) + 3600}),
        "iat",
        400,
    ),
    "nonce mismatch": (lambda p, c: p.sign({**c, "nonce": "not-the-one"}), "nonce", 400),
    "unknown kid": (lambda p, c: p.sign(c, key="attacker", kid="attacker-1"), "unknown_key", 400),
    "known kid, other key": (lambda p, c: p.sign(c, key="attacker"), "signature", 400),
    "tampered payload": (_tampered, "signature", 400),
    "LoA Low": (lambda p, c: p.sign({**c, "mitid_loa": "LOW"}), "assurance", 403),
    "missing CPR claim": (
        lambda p, c: p.sign({k: v for k, v in c.items() if k != "nin"}),
        "missing_cpr",
        403,
    ),
}


@pytest.mark.parametrize("row", HOSTILE, ids=list(HOSTILE))
def test_hostile_token_is_refused(row, web, mitid, caplog):
    build, code, status = HOSTILE[row]
    caplog.set_level(logging.DEBUG)
    if row == "missing CPR claim":
        mitid.userinfo_claims = {"sub": "c0ffee-0001"}  # userinfo has none either
    params = start(web)
    token = build(mitid, citizen_claims(mitid, params["nonce"]))

    response = finish(web, mitid, params, token)

    assert response.status_code == status
    page = response.get_data(as_text=True)
    assert "<h1>" in page and ("Login kunne ikke gennemføres" in page or "Du kan ikke" in page)
    assert CPR not in page and OTHER_CPR not in page
    assert not signed_in(web)
    refusals = [r for r in caplog.records if r.getMessage().startswith("login refused:")]
    assert len(refusals) == 1 and refusals[0].getMessage().startswith(f"login refused: {code} ")
    for record in caplog.records:
        text = record.getMessage()
        assert CPR not in text and OTHER_CPR not in text and token not in text


def test_loa_low_page_explains_how_to_get_substantial(web, mitid):
    params = start(web)
    token = mitid.sign(citizen_claims(mitid, params["nonce"], mitid_loa="LOW"))
    page = finish(web, mitid, params, token).get_data(as_text=True)
    assert "sikringsniveau lav" in page and "mindst sikringsniveau betydelig" in page


def test_state_mismatch_is_refused_without_calling_the_provider(web, mitid, caplog):
    caplog.set_level(logging.WARNING)
    params = start(web)
    token = mitid.sign(citizen_claims(mitid, params["nonce"]))
    response = finish(web, mitid, params, token, state="forged-state")
    assert response.status_code == 400
    assert mitid.token_calls == 0
    assert "login refused: state" in caplog.text
    assert not signed_in(web)


def test_replayed_callback_and_replayed_code_are_refused(web, mitid):
    params = start(web)
    token = mitid.sign(citizen_claims(mitid, params["nonce"]))
    code = mitid.issue_code(token, params["code_challenge"])
    callback = f"/log-ind/svar?code={code}&state={params['state']}"
    assert web.get(callback).status_code == 303

    # The same callback again (e.g. from history): its state was used up.
    with web.session_transaction() as session:
        session.clear()
    assert web.get(callback).status_code == 400

    # The old code injected into a new login: the provider refuses a used code.
    fresh = start(web)
    injected = f"/log-ind/svar?code={code}&state={fresh['state']}"
    response = web.get(injected)
    assert response.status_code == 400
    assert "afviste koden" in response.get_data(as_text=True)
    assert not signed_in(web)


def test_code_from_another_browser_fails_pkce(web, mitid):
    """A code stolen from someone else's login carries their challenge, not ours."""
    params = start(web)
    victim = start(web.application.test_client())
    token = mitid.sign(citizen_claims(mitid, params["nonce"]))
    code = mitid.issue_code(token, victim["code_challenge"])
    response = web.get(f"/log-ind/svar?code={code}&state={params['state']}")
    assert response.status_code == 400
    assert mitid.pkce_failures == 1
    assert not signed_in(web)


def test_userinfo_about_another_person_is_refused(web, mitid):
    mitid.userinfo_claims = {"sub": "someone-else", "nin": OTHER_CPR, "mitid_loa": "SUBSTANTIAL"}
    params = start(web)
    response = finish(web, mitid, params, mitid.sign(mitid.claims(params["nonce"])))
    assert response.status_code == 400
    assert not signed_in(web)


def test_unknown_kid_refetches_the_jwks_at_most_once_a_minute(web, mitid):
    for _ in range(3):
        params = start(web)
        token = mitid.sign(citizen_claims(mitid, params["nonce"]), key="attacker", kid="x")
        assert finish(web, mitid, params, token).status_code == 400
    assert mitid.jwks_calls == 1


def test_cancel_at_the_provider_says_so(web):
    params = start(web)
    response = web.get(f"/log-ind/svar?error=access_denied&state={params['state']}")
    assert response.status_code == 200
    assert "Login blev afbrudt" in response.get_data(as_text=True)


def test_provider_down_gives_a_clear_page_not_a_500(web, rsps):
    rsps.replace(
        responses.GET,
        f"{CITIZEN_ISSUER}/.well-known/openid-configuration",
        body="<html>maintenance</html>",
        status=503,
    )
    response = web.get("/log-ind/borger")
    assert response.status_code == 503
    assert "login-udbyderen svarede ikke" in response.get_data(as_text=True)


def test_unknown_audience_is_404(web):
    assert web.get("/log-ind/hacker").status_code == 404


def test_slow_login_must_start_over(web, mitid, monkeypatch):
    params = start(web)
    token = mitid.sign(citizen_claims(mitid, params["nonce"]))
    provider = web.application.extensions["borgersag.logins"]
    later = time.time() + 11 * 60
    for login in provider.values():
        monkeypatch.setattr(login.provider, "clock", lambda: later)
    response = finish(web, mitid, params, token)
    assert response.status_code == 400
    assert "for lang tid" in response.get_data(as_text=True)
