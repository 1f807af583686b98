"""The lookup form's key kinds: a medarbejdernummer is the caseworker's own, unless a role
says they may look up colleagues (the policy is borgersag.lookup.channels.CHANNELS)."""

from __future__ import annotations

import dataclasses

from borgersag.domain.keys import Medarbejder
from borgersag.people.permissions import Permission

from support.actions import caseworker_user, csrf_token, sign_in

OWN, COLLEAGUE = "MK4821", "JH1177"


def post(client, kind: str, value: str):
    return client.post("/", data={"kind": kind, "value": value, "csrf_token": csrf_token(client)})


def signed_in(client, *permissions):
    user = caseworker_user(0)
    sign_in(client, dataclasses.replace(user, permissions=user.permissions | set(permissions)))
    return client


def test_the_form_offers_the_medarbejdernummer_with_a_hint_on_whose(client):
    page = signed_in(client).get("/").get_data(as_text=True)
    assert 'id="kind-medarbejder"' in page
    assert "Dit eget: MK4821 (en kollegas kræver" in page


def test_the_hint_says_a_colleagues_number_works_when_the_role_allows_it(client):
    page = signed_in(client, Permission.SE_KOLLEGERS_SAGER).get("/").get_data(as_text=True)
    assert "Dit eget: MK4821 eller en kollegas" in page


def test_a_colleagues_number_is_refused_next_to_the_field(client, fake_portal):
    response = post(signed_in(client), "medarbejder", COLLEAGUE)
    assert response.status_code == 403
    page = response.get_data(as_text=True)
    assert "Du kan kun slå dit eget medarbejdernummer op" in page
    assert 'id="value-error"' in page and "Dine egne sager finder du under Mit skrivebord" in page
    assert fake_portal.lookups == []


def test_ones_own_number_is_looked_up(client, fake_portal):
    response = post(signed_in(client), "medarbejder", OWN.lower())
    assert response.status_code == 303
    assert fake_portal.lookups == [Medarbejder.parse(OWN)]
    assert client.get(response.headers["Location"]).status_code == 200


def test_a_role_that_may_see_colleagues_cases_may_look_them_up(client, fake_portal):
    response = post(signed_in(client, Permission.SE_KOLLEGERS_SAGER), "medarbejder", COLLEAGUE)
    assert response.status_code == 303
    assert fake_portal.lookups == [Medarbejder.parse(COLLEAGUE)]


def test_an_unknown_kind_is_still_the_forms_own_message(client, fake_portal):
    response = post(signed_in(client), "telefon", "12345678")
    assert response.status_code == 400
    assert "Vælg, hvad du vil søge på." in response.get_data(as_text=True)
    assert fake_portal.lookups == []
