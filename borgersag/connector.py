"""The connector contract: a small base class that every back end implements.

A connector declares

* ``type_name`` — the name config uses (``type = "sbsys"``) and its entry-point name;
* ``key_kinds`` — the key kinds it can search cases by;
* ``relation_kinds`` — the key kinds it can *expand* (e.g. CPR → parcels owned), if any;
* ``settings_schema`` — the settings an instance needs, validated at start-up;

and overrides :meth:`Connector.search` (and, when it is a relation source,
:meth:`Connector.relations`). Everything else has a working default.

Connectors make HTTP calls only through ``self.http``, the session the engine gives them
(timeouts, connection pool, request id, auth, classified errors).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

import requests

from .errors import NotFound
from .http import SourceSession
from .keys import Key, KeyKind
from .model import Case, Provenance, Relation
from .settings import REQUIRED, Setting, validate_table

__all__ = ["REQUIRED", "Connector", "DocumentContent", "Setting"]


@dataclass(frozen=True, slots=True)
class DocumentContent:
    """A document's bytes as fetched from its source."""

    filename: str
    media_type: str
    content: bytes


class Connector:
    """Base class for connectors. Subclass it, declare the class attributes, override
    :meth:`search`.

    One instance exists per configured source (``[sources.<name>]``); two SBSYS
    installations are two instances of one type. Instances are shared between threads,
    so keep per-request state in local variables.
    """

    type_name: ClassVar[str] = ""
    title: ClassVar[str] = ""
    key_kinds: ClassVar[frozenset[KeyKind]] = frozenset()
    relation_kinds: ClassVar[frozenset[KeyKind]] = frozenset()
    settings_schema: ClassVar[tuple[Setting, ...]] = (
        Setting("base_url", str, "Root URL of the system's API, ending in /."),
    )

    def __init__(self, name: str, settings: Mapping[str, Any], http: SourceSession):
        """``settings`` must already be validated (see :meth:`validate_settings`)."""
        self.name = name
        self.settings = dict(settings)
        self.http = http
        self.display_name: str = self.title or name  # the registry sets the configured title

    # -- declared behaviour -------------------------------------------------------------

    @classmethod
    def validate_settings(
        cls, raw: Mapping[str, Any], file: str = "<config>", prefix: str = ""
    ) -> dict[str, Any]:
        """Validate ``raw`` against :attr:`settings_schema`; unknown keys are errors.

        Override only to add checks that span several settings; call ``super()`` first.
        """
        return validate_table(cls.settings_schema, raw, file, prefix)

    @classmethod
    def secret_settings(cls) -> frozenset[str]:
        """Names of settings that must never be shown."""
        return frozenset(s.name for s in cls.settings_schema if s.secret)

    @classmethod
    def make_auth(cls, settings: Mapping[str, Any]) -> requests.auth.AuthBase | None:
        """Build the HTTP auth for an instance from its validated settings.

        The default is no auth. Override to return one of the helpers in
        :mod:`borgersag.http` (API key, OAuth2 password grant or client credentials).
        """
        return None

    def serves(self, kind: KeyKind) -> bool:
        """Whether this source can search cases by ``kind``."""
        return kind in self.key_kinds

    def expands(self, kind: KeyKind) -> bool:
        """Whether this source can turn a key of ``kind`` into related keys."""
        return kind in self.relation_kinds

    # -- override points ----------------------------------------------------------------

    def search(self, key: Key) -> list[Case]:
        """Return the cases this source holds for ``key`` (of a kind in :attr:`key_kinds`).

        Override in every case source. Return ``[]`` when there are none; raise a
        classified error (:mod:`borgersag.errors`) when the source cannot answer.
        """
        raise NotImplementedError(f"{type(self).__name__} does not implement search()")

    def relations(self, key: Key) -> list[Relation]:
        """Return keys related to ``key``, each with a reason a person understands.

        Override in relation sources (declare :attr:`relation_kinds`). The default says
        there are none.
        """
        return []

    def get_case(self, native_id: str) -> Case:
        """Return one case with its documents and full history.

        The default searches nothing and raises :class:`NotFound`; override when the
        system has a case endpoint richer than its search results.
        """
        raise NotFound(f"{self.display_name} kan ikke slå en enkelt sag op.")

    def get_document(self, case_native_id: str, document_id: str) -> DocumentContent:
        """Return a document's content. Override when the system serves files."""
        raise NotFound(f"{self.display_name} kan ikke hente dokumenter.")

    def health(self) -> str:
        """Check that the source answers; return a short human text or raise.

        The default makes a GET to ``base_url``; override with a cheaper or more
        meaningful call where the API has one.
        """
        self.http.get("")
        return "svarer"

    # -- helpers for subclasses ---------------------------------------------------------

    def case_id(self, native_id: str | int) -> str:
        """The namespaced id of a case from this source: ``"<source>/<native id>"``."""
        return f"{self.name}/{native_id}"

    def provenance(self) -> Provenance:
        """Provenance stamped now, for records built in this call."""
        return Provenance(self.name, dt.datetime.now(dt.UTC))
