"""What the use cases (:mod:`borgersag.lookup.usecases`) need from outside, as small ports.

Plain Python, no Flask. Every channel — the caseworker pages, the JSON API, the citizen
pages, a test — builds one :class:`Context` per request from its own adapters: the
portal, an audit recorder that commits or raises, a store for overviews, a quota that is
charged before every fan-out, the signed-in user and the few settings the use cases
read (:class:`LookupSettings`, the one place they are read from config).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from borgersag.domain.keys import Key
from borgersag.domain.model import Case, Overview
from borgersag.people.citizen_policy import CitizenPolicy
from borgersag.people.identity import User
from borgersag.people.sections import CITIZEN

if TYPE_CHECKING:
    from borgersag.lookup.engine import LookupProgress
    from borgersag.sdk.connector import DocumentContent

__all__ = [
    "COMPLETE",
    "FAILED",
    "PENDING",
    "Context",
    "LookupSettings",
    "OverviewKeeper",
    "Quota",
    "QuotaExceeded",
    "Recorder",
    "Sources",
    "StoredOverview",
]


class Sources(Protocol):
    """The portal: every source at once, or one case or document from its source."""

    def lookup(
        self, key: Key, on_progress: Callable[[LookupProgress], None] | None = None
    ) -> Overview:
        """Ask every source about ``key`` (a fan-out); ``on_progress`` hears of each
        source as its answer is final (:class:`~borgersag.lookup.engine.LookupProgress`)."""
        ...

    def get_case(self, case_id: str, *, also_known_as: Sequence[str] = ()) -> Case:
        """One case (all its joined views) from its source(s)."""
        ...

    def get_document(self, case_id: str, document_id: str) -> DocumentContent:
        """A document's content from the source holding it."""
        ...


class Recorder(Protocol):
    """Appends one audit event and returns once it is committed; raises if it is not.

    The use cases call it before they keep or return anything, so a raise means nothing
    is kept or shown (the web layer's recorder raises an HTTP 503).
    """

    def __call__(
        self,
        kind: str,
        *,
        user: User | None = None,
        subject: Key | None = None,
        purpose: str | None = None,
        sources: Iterable[tuple[str, str]] = (),
        case_ids: Iterable[str] = (),
        detail: str = "",
        persons: Iterable[Key] = (),
    ) -> None:
        """Record one event for ``user``; ``persons`` are those whose data was shown
        besides ``subject`` (the recorder adds a CPR subject itself)."""
        ...


PENDING, COMPLETE, FAILED = "pending", "complete", "failed"
"""The states of a kept lookup: still asking sources, done, or ended without an answer."""


@dataclass(frozen=True, slots=True)
class StoredOverview:
    """What a lookup left under its token: the overview, how many cases were hidden from
    the user who made it, and the purpose they gave (``None``: none asked or chosen).

    A lookup whose first answers are shown at once is kept ``state`` :data:`PENDING`
    while sources answer: ``overview`` then holds the sources that have answered and
    their cases, ``waiting`` the (name, title) of those still asked, ``started`` its
    start (``time.time()``); the final overview replaces it as :data:`COMPLETE`.
    """

    overview: Overview
    hidden_count: int = 0
    purpose: str | None = None
    state: str = COMPLETE
    waiting: tuple[tuple[str, str], ...] = ()
    started: float | None = None

    @property
    def pending(self) -> bool:
        """Whether sources are still being asked."""
        return self.state == PENDING


class OverviewKeeper(Protocol):
    """Keeps overviews under opaque tokens, each readable only by the user who made it."""

    def put(
        self, owner: str, overview: Overview, *, hidden_count: int = 0, purpose: str | None = None
    ) -> str:
        """Keep ``overview`` for ``owner``; return the new token."""
        ...

    def entry(self, token: str, owner: str) -> StoredOverview | None:
        """What is kept under ``token`` for ``owner``, or ``None`` (unknown, expired)."""
        ...

    def put_entry(self, owner: str, stored: StoredOverview, *, token: str | None = None) -> str:
        """Keep ``stored`` for ``owner`` under ``token`` (replacing what is there) or a
        new token; return the token."""
        ...


class QuotaExceeded(Exception):
    """Over a rate limit: the request must wait ``retry_after`` seconds.

    ``policy`` names the limit (``"lookups"``, ``"login"``); no personal data.
    """

    def __init__(self, policy: str, retry_after: int = 60) -> None:
        super().__init__(policy)
        self.policy = policy
        self.retry_after = retry_after


class Quota(Protocol):
    """Counts fan-outs per user; raises :class:`QuotaExceeded` when one is too many."""

    def charge(self, user: User) -> None:
        """Count one fan-out for ``user``, or raise :class:`QuotaExceeded` (nothing counted
        is asked of the sources then)."""
        ...


@dataclass(frozen=True, slots=True)
class LookupSettings:
    """The configuration the use cases read, read once (:meth:`from_config`)."""

    purposes: tuple[str, ...] = ()
    purpose_required: bool = False
    citizen: CitizenPolicy = field(default_factory=CitizenPolicy)
    page_deadline_seconds: float = 4.0  # a case page, sources included
    document_deadline_seconds: float = 20.0  # a document download, sources included

    @classmethod
    def from_config(cls, config: Any) -> LookupSettings:
        """From a :class:`~borgersag.config.loader.Config` (``[portal]``, ``[citizen]``)."""
        return cls(
            purposes=tuple(config.portal.purposes),
            purpose_required=config.portal.purpose_required,
            citizen=config.section(CITIZEN),
            page_deadline_seconds=config.portal.deadline_seconds,
            document_deadline_seconds=config.portal.document_deadline_seconds,
        )


@dataclass(frozen=True, slots=True)
class Context:
    """Everything one request's use case works with, passed in explicitly."""

    user: User
    portal: Sources
    record: Recorder
    overviews: OverviewKeeper
    quota: Quota
    settings: LookupSettings = field(default_factory=LookupSettings)
