"""Rate limits, declared once: logins per client address, fan-outs per signed-in user.

A lookup joins a person's data from every system, so someone who looks people up faster
than anyone reads is either a script or a leak in progress; a login endpoint hammered
from one address is an attack. :data:`POLICIES` declares the limits (per minute, from
``[limits]``), and :func:`charge` is the one way either is counted:

* **Fan-outs** — every request that asks every source (the lookup form, the JSON API,
  Mit skrivebord, Mine sager and its case and document pages) — are charged by the use
  cases themselves before they ask anyone (:func:`borgersag.lookup.usecases.fan_out`,
  through :class:`LookupQuota`). No list of endpoints to keep up to date: a new page
  that fans out is limited because it can only fan out through a use case, and
  ``tests/web/test_limits.py`` checks every route the app has.
* **Logins** — starting a login and its callback — are charged per client address by
  the :func:`limited` decorator on those two routes.

The counters live in the `limits` package's storage: memory (one process) or Redis
(``storage_url``), so that several workers and machines count together. A request over
a limit gets a Danish page (or JSON under /api/) with ``Retry-After``; the limit itself
is logged without personal data.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from flask import Flask, current_app, g, request
from limits import RateLimitItemPerMinute
from limits.storage import storage_from_string
from limits.strategies import MovingWindowRateLimiter

from borgersag.lookup.ports import QuotaExceeded
from borgersag.people.identity import User
from borgersag.web.errors import error_response

if TYPE_CHECKING:
    from borgersag.web.sections import LimitSettings

__all__ = [
    "LOGIN",
    "LOOKUPS",
    "POLICIES",
    "LookupQuota",
    "RatePolicy",
    "charge",
    "init_app",
    "limited",
]

log = logging.getLogger(__name__)


RETRY_AFTER_SECONDS = 60  # a moving one-minute window frees a place within a minute


@dataclass(frozen=True, slots=True)
class RatePolicy:
    """One limit: its name (in counters and logs), the ``[limits]`` setting holding the
    number per minute, and the Danish text shown when it is reached."""

    name: str
    setting: str
    text: str


LOGIN = RatePolicy(
    "login",
    "login_per_minute",
    "Du har prøvet for mange gange på kort tid. Vent et minut, og prøv så igen.",
)
LOOKUPS = RatePolicy(
    "lookups",
    "lookups_per_minute",
    "Du har lavet mange opslag på kort tid. Vent et minut, og prøv så igen.",
)


@dataclass
class Counters:
    """The moving-window counters every policy charges; ``enabled = False`` stops counting
    (tests). Counted where the storage is, so Redis counts for every instance together."""

    window: MovingWindowRateLimiter
    enabled: bool = True


POLICIES: Mapping[str, RatePolicy] = {policy.name: policy for policy in (LOGIN, LOOKUPS)}
"""Every rate limit the app has."""


def charge(policy: RatePolicy, identity: str) -> None:
    """Count one request against ``policy`` for ``identity`` (``…addr:…`` or ``user:…``).

    Raises :class:`~borgersag.lookup.ports.QuotaExceeded` when it is one too many; a limit
    of 0, or a limiter switched off (``enabled = False``), counts nothing.
    """
    per_minute = getattr(current_app.extensions["borgersag.limits"], policy.setting)
    counters: Counters = current_app.extensions["borgersag.limiter"]
    if not per_minute or not counters.enabled:
        return
    if not counters.window.hit(RateLimitItemPerMinute(per_minute), policy.name, identity):
        log.warning(
            "rate limit reached on %s (%s per minute) [request %s]",
            policy.name,
            per_minute,
            g.get("request_id"),
        )
        raise QuotaExceeded(policy.name, RETRY_AFTER_SECONDS)


class LookupQuota:
    """The use cases' :class:`~borgersag.lookup.ports.Quota`: :data:`LOOKUPS` per user."""

    def charge(self, user: User) -> None:
        """Count one fan-out for ``user``."""
        charge(LOOKUPS, f"user:{user.id}")


def _client_address() -> str:
    return request.remote_addr or "-"


def limited(policy: RatePolicy) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """A route charged against ``policy`` per client address before it runs (logins).

    Each route so marked counts on its own, as before: starting a login and completing
    it are two routes, so ``login_per_minute`` logins fit in a minute. The wrapped view
    carries ``rate_limit = policy``, so a test can read which routes are limited this way.
    """

    def decorator(view: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            charge(policy, f"{request.endpoint}:addr:{_client_address()}")
            return view(*args, **kwargs)

        wrapped.rate_limit = policy  # type: ignore[attr-defined]
        return wrapped

    return decorator


def _too_many(exc: QuotaExceeded) -> Any:
    policy = POLICIES.get(exc.policy, LOOKUPS)
    body, code = error_response(429, "For mange forsøg", policy.text)
    return body, code, {"Retry-After": str(exc.retry_after)}


def init_app(app: Flask, settings: LimitSettings) -> None:
    """Open the counters' storage and answer a limit reached with the Danish 429."""
    storage = storage_from_string(settings.storage_url)
    app.extensions["borgersag.limiter"] = Counters(MovingWindowRateLimiter(storage))
    app.extensions["borgersag.limits"] = settings
    app.register_error_handler(QuotaExceeded, _too_many)
