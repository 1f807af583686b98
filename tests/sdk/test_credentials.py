"""Auth towards sources: API key, OAuth2 token caching and renewal, client certificates."""

from __future__ import annotations

from urllib.parse import parse_qs

import pytest
import requests
import responses

from borgersag import (
    OAUTH2_CLIENT_CREDENTIALS_SETTINGS,
    ConfigError,
    Connector,
    ForbiddenError,
    OAuth2ClientCredentials,
    SourceSession,
    api_key_auth,
    client_certificate_settings,
    oauth2_client_credentials_auth,
    oauth2_password_auth,
)
from borgersag.lookup.registry import build_connector
from borgersag.sdk import credentials as auth_module
from borgersag.testing import make_client_certificate

TOKEN_URL = "https://login.example/token"
API = "https://api.example/"


def session_with(auth) -> SourceSession:
    return SourceSession(API, source="Kilde", auth=auth)


def form(call) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(call.request.body).items()}


class Clock:
    """A stand-in for time.monotonic that the test moves."""

    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


@pytest.fixture
def clock(monkeypatch):
    clock = Clock()
    monkeypatch.setattr(auth_module.time, "monotonic", clock)
    return clock


def test_api_key_in_the_configured_header():
    with responses.RequestsMock() as mock:
        call = mock.get(API + "x", json={})
        session_with(api_key_auth({"api_key": "k3y", "api_key_header": "X-Key"})).get_json("x")
    assert call.calls[0].request.headers["X-Key"] == "k3y"


def test_client_credentials_token_is_cached_until_it_expires(clock):
    auth = OAuth2ClientCredentials(TOKEN_URL, "id", "secret", "sager.read", source="Kilde")
    with responses.RequestsMock() as mock:
        token = mock.post(TOKEN_URL, json={"access_token": "t1", "expires_in": 300})
        data = mock.get(API + "x", json={})
        session = session_with(auth)
        session.get_json("x")
        clock.now += 200
        session.get_json("x")
        assert len(token.calls) == 1
        assert form(token.calls[0]) == {
            "grant_type": "client_credentials",
            "client_id": "id",
            "client_secret": "secret",
            "scope": "sager.read",
        }
        clock.now += 80  # within 30 s of expiry: renewed before it runs out
        mock.replace(responses.POST, TOKEN_URL, json={"access_token": "t2", "expires_in": 300})
        session.get_json("x")
    assert [c.request.headers["Authorization"] for c in data.calls] == [
        "Bearer t1",
        "Bearer t1",
        "Bearer t2",
    ]


def test_a_401_renews_the_token_once_and_retries(clock):
    auth = oauth2_password_auth(
        {
            "token_url": TOKEN_URL,
            "client_id": "id",
            "client_secret": "s",
            "username": "u",
            "password": "p",
        },
        "Kilde",
    )
    with responses.RequestsMock() as mock:
        mock.post(TOKEN_URL, json={"access_token": "revoked", "expires_in": 3600})
        mock.post(TOKEN_URL, json={"access_token": "fresh", "expires_in": 3600})
        mock.get(API + "x", status=401)
        data = mock.get(API + "x", json={"ok": True})
        assert session_with(auth).get_json("x") == {"ok": True}
        assert form(mock.calls[0])["grant_type"] == "password"
    assert data.calls[0].request.headers["Authorization"] == "Bearer fresh"


def test_a_token_renewed_by_another_request_is_not_fetched_again(clock):
    auth = OAuth2ClientCredentials(TOKEN_URL, "id", "s", source="Kilde")
    with responses.RequestsMock() as mock:
        token = mock.post(TOKEN_URL, json={"access_token": "t1", "expires_in": 3600})
        assert auth.token() == "t1"
        mock.replace(responses.POST, TOKEN_URL, json={"access_token": "t2", "expires_in": 3600})
        assert auth.token(renew=True, failed="t1") == "t2"
        assert auth.token(renew=True, failed="t1") == "t2"  # t1 was already replaced
        assert len(mock.calls) == 2
    assert len(token.calls) == 1


def test_a_refused_login_names_the_source():
    auth = OAuth2ClientCredentials(TOKEN_URL, "id", "wrong", source="Sagssystemet")
    with responses.RequestsMock() as mock:
        mock.post(TOKEN_URL, status=401, json={"error": "invalid_client"})
        with pytest.raises(ForbiddenError) as info:
            session_with(auth).get_json("x")
    assert info.value.message.startswith("Sagssystemet: login blev afvist")


# -- client certificates ----------------------------------------------------------------


class MutualTls(Connector):
    """Client credentials over mutual TLS."""

    type_name = "mtls"
    key_kinds = frozenset()
    settings_schema = (
        *Connector.settings_schema,
        *OAUTH2_CLIENT_CREDENTIALS_SETTINGS,
        *client_certificate_settings(),
    )

    @classmethod
    def make_auth(cls, settings):
        return oauth2_client_credentials_auth(settings, cls.type_name)


def mtls_settings(cert, key=""):
    return {
        "base_url": API,
        "token_url": TOKEN_URL,
        "client_id": "id",
        "client_secret": "s",
        "client_cert": str(cert),
        "client_key": str(key),
    }


def test_the_certificate_goes_on_the_session_and_the_token_request(tmp_path):
    cert, key = make_client_certificate(tmp_path)
    source = build_connector(MutualTls, "mtls", mtls_settings(cert, key), title="MTLS-kilde")
    assert source.http.cert == (str(cert), str(key))
    assert source.http.auth.cert == (str(cert), str(key))
    assert source.http.auth.source == "MTLS-kilde"  # errors name the configured source


def test_one_file_may_hold_certificate_and_key(tmp_path):
    cert, key = make_client_certificate(tmp_path)
    both = tmp_path / "both.pem"
    both.write_bytes(cert.read_bytes() + key.read_bytes())
    source = build_connector(MutualTls, "mtls", mtls_settings(both))
    assert source.http.cert == str(both)


def test_optional_certificate_may_be_left_out():
    settings = {"client_cert": "", "client_key": ""}
    auth_module.check_client_certificate(settings)
    assert auth_module.client_certificate(settings) is None
    assert client_certificate_settings(required=False)[0].default == ""


def encrypted_key(tmp_path, key_path):
    from cryptography.hazmat.primitives import serialization

    key = serialization.load_pem_private_key(key_path.read_bytes(), None)
    path = tmp_path / "encrypted.key"
    path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.BestAvailableEncryption(b"pw"),
        )
    )
    return path


@pytest.mark.parametrize(
    ("change", "key", "says"),
    [
        (lambda t, c, k: {"client_cert": str(t / "missing.crt")}, "client_cert", "does not exist"),
        (lambda t, c, k: {"client_cert": str(t)}, "client_cert", "is not a file"),
        (lambda t, c, k: {"client_cert": str(k)}, "client_cert", "a PEM certificate"),
        (lambda t, c, k: {"client_key": str(t / "no.key")}, "client_key", "does not exist"),
        (lambda t, c, k: {"client_key": str(c)}, "client_key", "a PEM private key"),
        (lambda t, c, k: {"client_key": ""}, "client_key", "holds only the certificate"),
        (
            lambda t, c, k: {"client_key": str(encrypted_key(t, k))},
            "client_key",
            "without a password",
        ),
        (
            lambda t, c, k: {"client_key": str(make_client_certificate(t / "other")[1])},
            "client_key",
            "belongs to another",
        ),
        (lambda t, c, k: {"client_cert": ""}, "client_cert", "non-empty"),
    ],
)
def test_certificate_files_are_checked_at_start_up(tmp_path, change, key, says):
    cert, private = make_client_certificate(tmp_path)
    raw = {**mtls_settings(cert, private), **change(tmp_path, cert, private)}
    with pytest.raises(ConfigError) as info:
        MutualTls.validate_settings(raw, "config/sources.toml", "sources.mtls.")
    assert info.value.key == f"sources.mtls.{key}"
    assert says in info.value.expected


def test_an_unreadable_certificate_is_a_config_error(tmp_path, monkeypatch):
    cert, key = make_client_certificate(tmp_path)

    def refuse(path):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(auth_module.Path, "read_bytes", refuse)
    with pytest.raises(ConfigError) as info:
        MutualTls.validate_settings(mtls_settings(cert, key))
    assert info.value.key == "client_cert" and "cannot be read" in info.value.expected


def test_a_key_without_a_certificate_is_a_config_error(tmp_path):
    settings = {"client_cert": "", "client_key": str(tmp_path / "x.key")}
    with pytest.raises(ConfigError) as info:
        auth_module.check_client_certificate(settings, "f.toml", "sources.x.")
    assert info.value.key == "sources.x.client_key"


def test_the_certificate_reaches_requests(tmp_path):
    """requests is handed the certificate for every call of the source."""
    cert, key = make_client_certificate(tmp_path)
    source = build_connector(MutualTls, "mtls", mtls_settings(cert, key))
    source.http.auth = None
    with responses.RequestsMock() as mock:
        mock.get(API + "x", json={})
        seen = {}
        original = requests.adapters.HTTPAdapter.send

        def send(adapter, request, **kwargs):
            seen["cert"] = kwargs.get("cert")
            return original(adapter, request, **kwargs)

        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(requests.adapters.HTTPAdapter, "send", send)
            source.http.get_json("x")
    assert seen["cert"] == (str(cert), str(key))
