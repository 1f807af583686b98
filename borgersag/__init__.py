"""borgersag: one joined case overview from a municipality's many systems.

**This is the connector author's API.** A connector imports what it needs from
``borgersag`` itself — ``from borgersag import Connector, Case, FatalError, …`` — and
from :mod:`borgersag.testing` for its tests. The names in ``__all__`` below are kept
stable; everything else (the engine, the web layer, module paths such as
``borgersag.sdk.http``) may move. docs/connectors.md describes each name and when to use it.

* the base class: :class:`Connector`, :class:`DocumentContent`;
* settings: :class:`Setting`, :data:`REQUIRED`, :func:`check_url`, :func:`check_range`;
* keys: :class:`Key`, :class:`KeyKind`, :func:`parse_key`, :class:`InvalidKey` and the
  key classes :class:`CPR`, :class:`CVR`, :class:`Matrikel`, :class:`BFE`,
  :class:`Medarbejder`;
* the canonical model a connector returns: :class:`Case`, :class:`Relation` (with its
  :class:`RelationRole` and an owner's :class:`Share`), :class:`Person` (a person
  register's answer), :class:`Document`,
  :class:`Event`, :class:`Party`, :class:`Caseworker`, :class:`ProgressStep`,
  :class:`Provenance` and the enums :class:`Progress`, :class:`Sensitivity`,
  :class:`PartyRole`, :class:`DocumentType`, :class:`DocumentStatus`;
* classified errors: :class:`SourceError`, :class:`RetriableError`,
  :class:`SourceTimeout`, :class:`FatalError`, :class:`DataError` (what
  :meth:`Reader.fail` raises), :class:`ForbiddenError`, :class:`NotFound`,
  :class:`ConfigError`;
* HTTP: :class:`SourceSession` (what ``self.http`` is) and the auth helpers — API key,
  OAuth2 client credentials, OAuth2 password grant, client certificate;
* defensive JSON reading: :class:`Reader`, and :class:`Records` (what ``Reader.each``
  returns: the records it could read plus an :class:`Unreadable` per record it could
  not, and whether the answer may be truncated);
* paging and parallel calls: :class:`Page`, :func:`pages_by_link`,
  :func:`pages_by_number`, :func:`pages_by_offset`, :class:`TooManyPages`,
  :func:`run_parallel`.
"""

from borgersag.domain.keys import (
    BFE,
    CPR,
    CVR,
    InvalidKey,
    Key,
    KeyKind,
    Matrikel,
    Medarbejder,
    parse_key,
)
from borgersag.domain.model import (
    Case,
    Caseworker,
    Document,
    DocumentStatus,
    DocumentType,
    Event,
    Party,
    PartyRole,
    Progress,
    ProgressStep,
    Provenance,
    Sensitivity,
)
from borgersag.domain.person import Person
from borgersag.domain.relations import Relation, RelationRole, Share
from borgersag.sdk.connector import Connector, DocumentContent
from borgersag.sdk.credentials import (
    API_KEY_SETTINGS,
    OAUTH2_CLIENT_CREDENTIALS_SETTINGS,
    OAUTH2_PASSWORD_SETTINGS,
    ApiKeyAuth,
    OAuth2ClientCredentials,
    OAuth2PasswordGrant,
    api_key_auth,
    check_client_certificate,
    client_certificate_settings,
    oauth2_client_credentials_auth,
    oauth2_password_auth,
)
from borgersag.sdk.errors import (
    ConfigError,
    DataError,
    FatalError,
    ForbiddenError,
    NotFound,
    RetriableError,
    SourceError,
    SourceTimeout,
)
from borgersag.sdk.http import SourceSession
from borgersag.sdk.paging import Page, TooManyPages, pages_by_link, pages_by_number, pages_by_offset
from borgersag.sdk.parallel import run_parallel
from borgersag.sdk.reader import Reader, check_range, check_url, parse_status_map
from borgersag.sdk.records import Records, Unreadable
from borgersag.sdk.settings import REQUIRED, Setting

__version__ = "0.1.0"

__all__ = [
    "API_KEY_SETTINGS",
    "BFE",
    "CPR",
    "CVR",
    "OAUTH2_CLIENT_CREDENTIALS_SETTINGS",
    "OAUTH2_PASSWORD_SETTINGS",
    "REQUIRED",
    "ApiKeyAuth",
    "Case",
    "Caseworker",
    "ConfigError",
    "Connector",
    "DataError",
    "Document",
    "DocumentContent",
    "DocumentStatus",
    "DocumentType",
    "Event",
    "FatalError",
    "ForbiddenError",
    "InvalidKey",
    "Key",
    "KeyKind",
    "Matrikel",
    "Medarbejder",
    "NotFound",
    "OAuth2ClientCredentials",
    "OAuth2PasswordGrant",
    "Page",
    "Party",
    "PartyRole",
    "Person",
    "Progress",
    "ProgressStep",
    "Provenance",
    "Reader",
    "Records",
    "Relation",
    "RelationRole",
    "RetriableError",
    "Sensitivity",
    "Setting",
    "Share",
    "SourceError",
    "SourceSession",
    "SourceTimeout",
    "TooManyPages",
    "Unreadable",
    "api_key_auth",
    "check_client_certificate",
    "check_range",
    "check_url",
    "client_certificate_settings",
    "oauth2_client_credentials_auth",
    "oauth2_password_auth",
    "pages_by_link",
    "pages_by_number",
    "pages_by_offset",
    "parse_key",
    "parse_status_map",
    "run_parallel",
]
