"""Claims → users: roles from claims or the catalogue, and restrictions that never widen."""

from __future__ import annotations

import pytest

from borgersag.domain.model import Sensitivity
from borgersag.people.claims import (
    CASEWORKER_PROFILES,
    IdentityRefused,
    assurance_level,
    caseworker_from_claims,
    narrower,
)
from borgersag.people.identity import Restrictions, Role

S = Sensitivity
PROFILE = CASEWORKER_PROFILES["standard"]
SOCIAL_ONLY = Restrictions(("27",), (), S.FORTROLIGE_PERSONOPLYSNINGER)
CATALOGUE = {
    "sagsbehandler": Role("sagsbehandler", "Sagsbehandler", frozenset({"opslag"})),
    "socialraadgiver": Role(
        "socialraadgiver", "Socialrådgiver", frozenset({"opslag"}), restrictions=SOCIAL_ONLY
    ),
}


def user_with(**claims):
    base = {"sub": "s-1", "name": "Birgit", "medarbejdernummer": "M1"}
    return caseworker_from_claims(
        {**base, **claims}, PROFILE, issuer="https://login.test", catalogue=CATALOGUE
    )


@pytest.mark.parametrize(
    "claims",
    [
        {"kle_emner": []},  # present but empty
        {"kle_emner": ""},
        {"enheder": []},
        {"max_foelsomhed": "vip"},  # only another dimension
        {"kle_emner": ["27", "32"], "max_foelsomhed": "vip"},  # wider than the role
    ],
)
def test_claims_never_widen_the_roles_restrictions(claims):
    user = user_with(roles=["socialraadgiver"], **claims)
    assert user.restrictions.kle_prefixes == ("27",)
    assert user.restrictions.max_sensitivity == S.FORTROLIGE_PERSONOPLYSNINGER


def test_claims_may_narrow_the_roles_restrictions():
    user = user_with(
        roles=["socialraadgiver"], kle_emner=["27.24"], max_foelsomhed="ikke_fortrolig"
    )
    assert user.restrictions == Restrictions(("27.24",), (), S.IKKE_FORTROLIG)


def test_claims_alone_restrict_a_role_without_restrictions():
    user = user_with(roles=["sagsbehandler"], kle_emner=["02"], enheder=["Byggeri og Miljø"])
    assert user.restrictions.kle_prefixes == ("02",)
    assert user.restrictions.units == ("Byggeri og Miljø",)


@pytest.mark.parametrize(
    ("a", "b", "kle"),
    [
        (("27",), ("27.24", "32"), ("27.24",)),
        (("27.24",), ("27",), ("27.24",)),
        ((), ("02",), ("02",)),
        (("27",), ("32",), ("-",)),  # nothing in common: nothing is shown
    ],
)
def test_narrower_kle(a, b, kle):
    assert narrower(Restrictions(a), Restrictions(b)).kle_prefixes == kle


def test_no_known_role_is_refused():
    with pytest.raises(IdentityRefused) as refused:
        user_with(roles=["chef"])
    assert refused.value.code == "no_role"


@pytest.mark.parametrize(
    ("value", "level"),
    [
        ("https://data.gov.dk/concept/core/nsis/loa/Substantial", "substantial"),
        ("https://data.gov.dk/concept/core/nsis/Substantial", "substantial"),
        ("SUBSTANTIAL", "substantial"),
        ("urn:grn:authn:dk:mitid:high", "high"),
        ("Low", "low"),
        ("medium", None),
        ("", None),
        (None, None),
    ],
)
def test_assurance_levels_in_every_brokers_form(value, level):
    assert assurance_level(value) == level
