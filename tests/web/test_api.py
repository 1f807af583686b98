"""The JSON API's key kinds: the same policy as the form's, answered as JSON errors."""

from __future__ import annotations

import dataclasses

import pytest

from borgersag.domain.keys import Medarbejder
from borgersag.people.permissions import Permission

from support.actions import caseworker_user, sign_in

OWN, COLLEAGUE = "MK4821", "JH1177"


def signed_in(client, *permissions):
    user = caseworker_user(0)
    sign_in(client, dataclasses.replace(user, permissions=user.permissions | set(permissions)))
    return client


def lookup(client, kind, value):
    return client.post("/api/v1/overviews", json={"kind": kind, "value": value})


def test_a_colleagues_mit_skrivebord_cannot_be_pulled_through_the_api(client, fake_portal):
    response = lookup(signed_in(client), "medarbejder", COLLEAGUE)
    assert response.status_code == 403 and response.is_json
    error = response.json["error"]
    assert error["field"] == "value"
    assert "Du kan kun slå dit eget medarbejdernummer op" in error["message"]
    assert COLLEAGUE not in error["message"]
    assert error["request_id"] == response.headers["X-Request-ID"]
    assert fake_portal.lookups == []


@pytest.mark.parametrize("value", [OWN, OWN.lower(), f" {OWN} "])
def test_ones_own_number_is_looked_up(client, fake_portal, value):
    response = lookup(signed_in(client), "medarbejder", value)
    assert response.status_code == 201
    assert response.json["overview"]["subject"] == {"kind": "medarbejder", "value": OWN}
    assert fake_portal.lookups == [Medarbejder.parse(OWN)]


def test_a_role_with_se_kollegers_sager_may_look_up_a_colleague(client, fake_portal):
    response = lookup(signed_in(client, Permission.SE_KOLLEGERS_SAGER), "medarbejder", COLLEAGUE)
    assert response.status_code == 201
    assert fake_portal.lookups == [Medarbejder.parse(COLLEAGUE)]


def test_an_unknown_kind_lists_the_kinds_the_api_takes(client):
    response = lookup(signed_in(client), "telefon", "12345678")
    assert response.status_code == 400
    assert response.json["error"]["field"] == "kind"
    assert "cpr, cvr, matrikel, bfe, medarbejder" in response.json["error"]["message"]


def test_a_value_that_is_not_text_is_a_400_on_the_value(client):
    response = lookup(signed_in(client), "cpr", 103854321)
    assert response.status_code == 400 and response.json["error"]["field"] == "value"


def test_the_json_of_kept_overviews_read_again_is_bounded_by_bytes():
    import orjson

    from borgersag.domain.keys import CPR
    from borgersag.web.api import _Written

    from support.fake_portal import sample_overview

    subject = CPR.parse("0101901234")
    small, big = sample_overview(subject), sample_overview(subject, extra_cases=200)
    written = _Written(max_bytes=len(orjson.dumps(_Written()(big, False))) + 10)
    first = written(small, False)
    assert written(small, False) is first  # read again: not written anew
    written(big, False)  # fills the bound: the oldest goes
    assert written(small, False) is not first
    assert written(small, True) is not written(small, False)  # restricted wording differs
