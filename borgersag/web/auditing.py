"""The web layer's side of the audit log: one call per access, fail closed.

The use cases (through the recorder :mod:`borgersag.web.channel` gives them) and the
login routes call :func:`record` *before* anything with personal data is sent. It returns
once the row is committed, or raises :class:`AuditFailed` — an HTTP 503 whose page says
that nothing is shown because the access could not be recorded. So a database that is
down costs the user a page, never the citizen their record.

What is recorded where:

* ``lookup`` — a caseworker's lookup (form or API, when the overview is made and
  before it is stored) and a citizen opening "Mine sager";
* ``case_view`` and ``document`` — a case page and a document download, by either;
* ``login``, ``logout`` — after a verified login, and at logout;
* ``refused`` — a refused login (the refusal code), a 403, a citizen asking for a
  case or document that is not theirs, and a caseworker opening the address of a case or
  document outside their overview (hidden from them, made up, or under an unknown token).

Each row also records every person whose data it showed (``audit_person``): a CPR
subject, the parties of the cases shown, the owners and other persons an overview names
(:func:`borgersag.lookup.usecases.persons_shown`) — so a property lookup, a case page or
"Mit skrivebord" is on the "Hvem har set" of each of them.

Showing an overview again (reload, the API's GET of the same overview) is not a new
lookup: the data was recorded when the overview was made, for this user only.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

from flask import Flask, current_app, g
from werkzeug.exceptions import HTTPException

from borgersag.audit import (
    AUDIT,
    AuditEvent,
    AuditLog,
    AuditSettings,
    AuditUnavailable,
    subject_key,
)
from borgersag.audit.roles import role_report
from borgersag.config.loader import Config
from borgersag.domain.keys import Key, KeyKind
from borgersag.people.identity import User
from borgersag.sdk.errors import ConfigError

__all__ = ["AuditFailed", "audit_log", "init_app", "record", "require_least_privilege"]

log = logging.getLogger(__name__)

FAILED_TITLE = "Opslaget kunne ikke registreres"
FAILED_TEXT = (
    "Alle opslag i borgernes oplysninger skal registreres, og det lykkedes ikke lige nu."
    " Derfor viser vi ikke oplysningerne. Prøv igen om lidt. Hvis fejlen bliver ved, så"
    " kontakt support og oplys fejl-id'et nedenfor."
)


class AuditFailed(HTTPException):
    """The access could not be recorded, so the data must not be shown (HTTP 503)."""

    code = 503
    description = "audit"


def audit_log() -> AuditLog:
    """The app's :class:`~borgersag.audit.AuditLog`."""
    return current_app.extensions["borgersag.audit"]


def record(
    kind: str,
    *,
    user: User | None = None,
    subject: Key | None = None,
    purpose: str | None = None,
    sources: Iterable[tuple[str, str]] = (),
    case_ids: Iterable[str] = (),
    detail: str = "",
    anonymous: bool = False,
    persons: Iterable[Key] = (),
) -> None:
    """Append one event for this request, committed; raise :class:`AuditFailed` if not.

    ``user`` defaults to the signed-in user (``anonymous=True`` records no actor).
    ``persons`` are those whose data was shown besides the subject; a CPR subject is
    always one of the persons recorded, so the row is on that person's "Hvem har set".
    """
    # The signed-in user, as web.login puts it on ``g`` (read here, not imported, so
    # that login may record and auditing never needs login).
    actor = None if anonymous else (user or g.get("user"))
    event = AuditEvent.for_user(
        kind,
        actor,
        subject=subject_key(subject) if subject is not None else "",
        purpose=purpose or "",
        sources=tuple(sources),
        case_ids=tuple(case_ids),
        request_id=g.get("request_id") or "",
        detail=detail,
        persons=_person_keys(subject, persons),
    )
    try:
        audit_log().record(event)
    except AuditUnavailable as exc:
        log.error("audit record failed (%s); the response is refused: %s", kind, exc)
        raise AuditFailed() from None


def _person_keys(subject: Key | None, persons: Iterable[Key]) -> tuple[str, ...]:
    """The persons of a row as stored: the CPR keys among the subject and ``persons``."""
    keys = (subject, *persons) if subject is not None else tuple(persons)
    return tuple(subject_key(key) for key in keys if key.kind is KeyKind.CPR)


def _failed(_exc: AuditFailed) -> Any:
    from borgersag.web.errors import error_response

    return error_response(503, FAILED_TITLE, FAILED_TEXT)


def require_least_privilege(config: Config, audit: AuditLog | None = None) -> None:
    """Refuse to start when the audit log's PostgreSQL role could switch its guards off.

    A superuser, the tables' owner, a member of the owner's role or a role granted more
    than the portal needs could disable the triggers or rewrite rows, so outside the
    sandbox this raises :class:`ConfigError` naming the role and what to do; in the
    sandbox (a demo on a developer's own database) it is a warning. ``audit`` is the
    app's log; without it one is opened for the check and closed again (``borgersag
    serve`` asks before it starts its workers).
    """
    origin = config.origins.get("audit", config.files[0] if config.files else "<config>")
    if audit is None:
        try:
            try:
                opened = AuditLog.from_settings(
                    config.section(AUDIT), sandbox=config.has_table("sandbox")
                )
            except ConfigError as exc:  # a key file or the witness not named
                raise ConfigError(origin, exc.key, exc.expected) from None
            with opened:
                report = role_report(opened)
        except AuditUnavailable as exc:
            # the workers open it themselves and stop with what is wrong
            log.warning("%s The check of its role is left to the workers.", exc)
            return
    else:
        report = role_report(audit)
    if report is None or report.ok:
        return
    if config.has_table("sandbox"):
        log.warning("%s; allowed in the sandbox only.", report.sentence())
        return
    if audit is not None:
        audit.close()  # the app is not built after all
    raise ConfigError(origin, "audit.url", report.sentence())


def init_app(app: Flask, settings: AuditSettings, *, sandbox: bool = False) -> None:
    """Open the audit log (creating its tables if needed) and handle failures.

    In the ``sandbox`` its key files and witness default to the private state folder;
    elsewhere missing ones stop the start-up with what to set.
    """
    audit = AuditLog.from_settings(settings, sandbox=sandbox)
    audit.create_schema()
    app.extensions["borgersag.audit"] = audit
    app.register_error_handler(AuditFailed, _failed)
