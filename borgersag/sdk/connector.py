"""The connector contract: a small base class that every back end implements.

A connector declares

* ``type_name`` — the name config uses (``type = "sbsys"``) and its entry-point name;
* ``key_kinds`` — the key kinds it can search cases by;
* ``relation_kinds`` — the key kinds it can *expand* (e.g. CPR → parcels owned), if any;
* ``person_kinds`` — the key kinds it can tell person facts about (a person register:
  CPR → name, address, protection), if any;
* ``settings_schema`` — the settings an instance needs, validated at start-up;

and overrides :meth:`Connector.search` (and, when it is a relation source,
:meth:`Connector.relations`; when it is a person register, :meth:`Connector.person`).
Everything else has a working default; each method's docstring says when to override it.

Connectors make HTTP calls only through ``self.http``, the session the engine gives them
(timeouts, connection pool, request id, auth, client certificate, classified errors).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

import requests

from borgersag.domain.keys import Key, KeyKind
from borgersag.domain.model import Case, Provenance
from borgersag.domain.person import Person
from borgersag.domain.relations import Relation
from borgersag.sdk.credentials import Cert, check_client_certificate, client_certificate
from borgersag.sdk.errors import FatalError, NotFound
from borgersag.sdk.http import SourceSession
from borgersag.sdk.reader import Reader, check_url
from borgersag.sdk.settings import REQUIRED, Setting, validate_table

__all__ = ["REQUIRED", "Connector", "DocumentContent", "Setting"]


@dataclass(frozen=True, slots=True)
class DocumentContent:
    """A document's bytes as fetched from its source."""

    filename: str
    media_type: str
    content: bytes


class Connector:
    """Base class for connectors. Subclass it, declare the class attributes, override
    :meth:`search` (case sources) and/or :meth:`relations` (relation sources).

    One instance exists per configured source (``[sources.<name>]``); two SBSYS
    installations are two instances of one type. ``name`` is the instance's config name,
    ``display_name`` the title people see (set by the engine after construction).
    Instances are shared between threads, so keep per-request state in local variables.
    """

    type_name: ClassVar[str] = ""
    title: ClassVar[str] = ""
    key_kinds: ClassVar[frozenset[KeyKind]] = frozenset()
    relation_kinds: ClassVar[frozenset[KeyKind]] = frozenset()
    person_kinds: ClassVar[frozenset[KeyKind]] = frozenset()
    settings_schema: ClassVar[tuple[Setting, ...]] = (
        Setting("base_url", str, "Root URL of the system's API, ending in /."),
    )

    def __init__(self, name: str, settings: Mapping[str, Any], http: SourceSession):
        """``settings`` must already be validated (see :meth:`validate_settings`).

        Override to prepare things derived from settings (parsed tables, compiled
        patterns); call ``super().__init__`` first and keep the signature.
        """
        self.name = name
        self.settings = dict(settings)
        self.http = http
        self.display_name: str = self.title or name  # the registry sets the configured title

    # -- declared behaviour -------------------------------------------------------------

    @classmethod
    def validate_settings(
        cls, raw: Mapping[str, Any], file: str = "<config>", prefix: str = ""
    ) -> dict[str, Any]:
        """Validate ``raw`` against :attr:`settings_schema` and return the settings.

        The default rejects unknown keys, wrong types and missing required settings;
        checks that ``base_url`` and every setting named ``*_url`` is an http(s) URL when
        set; and, when the schema declares ``client_cert``, that the certificate files
        exist and are readable (:func:`borgersag.sdk.credentials.check_client_certificate`). Each
        problem is a :class:`~borgersag.sdk.errors.ConfigError` naming ``prefix + key``.

        Override to add checks of your own (ranges, formats, settings that depend on each
        other); call ``super().validate_settings(raw, file, prefix)`` first.
        """
        settings = validate_table(cls.settings_schema, raw, file, prefix)
        for name, value in settings.items():
            url_like = name == "base_url" or name.endswith("_url")
            if url_like and isinstance(value, str) and value:
                check_url(value, file, prefix + name)
        if any(s.name == "client_cert" for s in cls.settings_schema):
            check_client_certificate(settings, file, prefix)
        return settings

    @classmethod
    def secret_settings(cls) -> frozenset[str]:
        """Names of settings that must never be shown. Declared with ``secret=True``."""
        return frozenset(s.name for s in cls.settings_schema if s.secret)

    @classmethod
    def make_auth(cls, settings: Mapping[str, Any]) -> requests.auth.AuthBase | None:
        """Build the HTTP auth for an instance from its validated settings.

        The default is no auth. Override to return one of the helpers in
        :mod:`borgersag.sdk.credentials`: :func:`~borgersag.sdk.credentials.api_key_auth`,
        :func:`~borgersag.sdk.credentials.oauth2_client_credentials_auth` or
        :func:`~borgersag.sdk.credentials.oauth2_password_auth` (or their classes). A ``KeyError``,
        ``ValueError`` or ``TypeError`` raised here stops start-up as a config error.
        """
        return None

    @classmethod
    def client_certificate(cls, settings: Mapping[str, Any]) -> Cert | None:
        """The client certificate the source's session sends (``requests``' ``cert``).

        The default reads ``client_cert``/``client_key``, the settings of
        :func:`borgersag.sdk.credentials.client_certificate_settings`; ``None`` when they are not
        declared or empty. Override only if the certificate's files come from elsewhere.
        """
        return client_certificate(settings)

    def serves(self, kind: KeyKind) -> bool:
        """Whether this source can search cases by ``kind``."""
        return kind in self.key_kinds

    def expands(self, kind: KeyKind) -> bool:
        """Whether this source can turn a key of ``kind`` into related keys."""
        return kind in self.relation_kinds

    def describes(self, kind: KeyKind) -> bool:
        """Whether this source can tell who the person with a key of ``kind`` is."""
        return kind in self.person_kinds

    # -- override points ----------------------------------------------------------------

    def search(self, key: Key) -> list[Case]:
        """Return the cases this source holds for ``key`` (of a kind in :attr:`key_kinds`).

        Override in every case source. Return ``[]`` only when the source answered that
        there are none; raise a classified error (:mod:`borgersag.sdk.errors`) when it cannot
        answer, and stop paging after a bounded number of requests. Build ids with
        :meth:`case_id` and provenance with :meth:`provenance`. The default raises
        :class:`FatalError` for a kind the source does not declare (the engine never asks
        for one) and ``NotImplementedError`` for a declared kind.
        """
        if not self.serves(key.kind):
            raise FatalError(f"{self.display_name} søger ikke sager på {key.label}.")
        raise NotImplementedError(f"{type(self).__name__} does not implement search()")

    def relations(self, key: Key) -> list[Relation]:
        """Return keys related to ``key``, each with a reason a person understands.

        Override in relation sources (declare :attr:`relation_kinds`); the same rules as
        for :meth:`search` apply. The default says a key of an undeclared kind has no
        relations and raises ``NotImplementedError`` for a declared kind.
        """
        if not self.expands(key.kind):
            return []
        raise NotImplementedError(f"{type(self).__name__} does not implement relations()")

    def person(self, key: Key) -> list[Person]:
        """Return what this source knows of the person ``key`` (a :class:`Person`: name,
        address, name and address protection), as a list of one, or ``[]`` when the
        source answered that it does not know the key.

        Override in person registers (declare :attr:`person_kinds`); the same rules as for
        :meth:`search` apply. A person register answers person facts only, never cases:
        the engine asks it about the subject of a lookup and shows the answer in the
        overview's header. The default says nothing of an undeclared kind and raises
        ``NotImplementedError`` for a declared one.
        """
        if not self.describes(key.kind):
            return []
        raise NotImplementedError(f"{type(self).__name__} does not implement person()")

    def get_case(self, native_id: str) -> Case:
        """Return one case with its documents and full history.

        The default raises :class:`NotFound`; override when the system has a case
        endpoint richer than its search results. ``native_id`` comes from a URL: check
        its format before putting it in a path.
        """
        raise NotFound(f"{self.display_name} kan ikke slå en enkelt sag op.")

    def get_document(self, case_native_id: str, document_id: str) -> DocumentContent:
        """Return a document's content.

        The default raises :class:`NotFound`; override when the system serves files. Both
        ids come from a URL: check their format, and that the document is on the case.
        """
        raise NotFound(f"{self.display_name} kan ikke hente dokumenter.")

    def health(self) -> str:
        """Check that the source answers; return a short human text or raise a classified
        error.

        The default makes a GET to ``base_url`` and accepts any 2xx answer; override with
        a cheap authenticated call where the API has one, so that the operations page
        proves credentials too.
        """
        self.http.call("GET", "")
        return "svarer"

    def caveat(self) -> str | None:
        """A standing note on what this source's answers can leave out, shown with each of
        its answers (e.g. "zaken above the client's maximum confidentiality are invisible
        here"), or ``None``.

        The default is ``None``. Override when the system is known to hide records from
        the portal without saying so, so that an answer is never taken as more complete
        than it is.
        """
        return None

    # -- helpers for subclasses ---------------------------------------------------------

    def case_id(self, native_id: str | int) -> str:
        """The namespaced id of a case from this source: ``"<source>/<native id>"``."""
        return f"{self.name}/{native_id}"

    def provenance(self) -> Provenance:
        """Provenance stamped now, for records built in this call."""
        return Provenance(self.name, dt.datetime.now(dt.UTC))

    @property
    def reader(self) -> Reader:
        """A :class:`~borgersag.sdk.reader.Reader` whose errors name this source."""
        return Reader(self.display_name)
