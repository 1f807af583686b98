"""Checks that records a connector returns are valid canonical records.

:func:`case_problems` and :func:`relation_problems` return a list of human-readable
problems (empty when the record is fine), so a test can show them all at once. The
conformance suite uses them; a connector's own tests may too::

    assert not case_problems(case, source="sbsys")
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterable
from typing import Any

from borgersag import (
    CPR,
    Case,
    Caseworker,
    Document,
    DocumentStatus,
    DocumentType,
    Event,
    Key,
    KeyKind,
    Party,
    PartyRole,
    Person,
    Progress,
    ProgressStep,
    Provenance,
    Relation,
    RelationRole,
    Sensitivity,
    Share,
)

__all__ = ["case_problems", "cpr_texts", "person_problems", "relation_problems"]


def cpr_texts(keys: Iterable[Key]) -> set[str]:
    """The ways a CPR number among ``keys`` could leak: ``0101901234`` and ``010190-1234``."""
    texts = set()
    for key in keys:
        if key.kind is KeyKind.CPR:
            texts.update({key.value, f"{key.value[:6]}-{key.value[6:]}"})
    return texts


def case_problems(case: Any, *, source: str, cprs: Iterable[str] = ()) -> list[str]:
    """What is wrong with ``case`` as a canonical :class:`~borgersag.Case` from the source
    instance ``source``; ``cprs`` are CPR texts that must not appear in its ``repr``."""
    if not isinstance(case, Case):
        return [f"is a {type(case).__name__}, not a borgersag.Case"]
    problems: list[str] = []
    add = problems.append
    if not (isinstance(case.id, str) and case.id.startswith(f"{source}/")):
        add(f"id {case.id!r} does not start with '{source}/' (build it with self.case_id())")
    elif not case.id.split("/", 1)[1]:
        add(f"id {case.id!r} has no native id after the source name")
    _text(add, "sagsnummer", case.sagsnummer)
    _text(add, "title", case.title)
    _optional(add, case, str, "public_title", "status_text", "kle", "facet", "area", "unit")
    _optional(add, case, str, "deep_link", "reason")
    if case.deep_link and not case.deep_link.startswith(("http://", "https://")):
        add(f"deep_link {case.deep_link!r} is not an http(s) URL")
    _provenance(add, case.provenance, source)
    _member(add, "progress", case.progress, Progress)
    _member(add, "sensitivity", case.sensitivity, Sensitivity)
    for name in ("opened", "decided", "closed", "deadline"):
        _date(add, name, getattr(case, name), optional=True)
    _tuple_of(add, "progress_history", case.progress_history, ProgressStep, _step)
    _tuple_of(add, "parties", case.parties, Party, _party)
    _tuple_of(add, "subjects", case.subjects, Key, lambda add, where, key: None)
    _tuple_of(add, "documents", case.documents, Document, _document(source))
    _tuple_of(add, "events", case.events, Event, _event)
    _tuple_of(add, "related", case.related, str, lambda add, where, value: None)
    if case.caseworker is not None and not isinstance(case.caseworker, Caseworker):
        add(f"caseworker is a {type(case.caseworker).__name__}, not a Caseworker")
    if not isinstance(case.join_keys, frozenset) or not all(
        isinstance(k, str) and k for k in case.join_keys
    ):
        add("join_keys is not a frozenset of non-empty strings")
    _no_datetimes(add, case, skip={"opened", "decided", "closed", "deadline"})
    if not problems:
        try:
            case.timeline()
        except Exception as exc:
            add(f"timeline() fails: {type(exc).__name__}: {exc}")
    _no_cpr(add, repr(case), cprs)
    return problems


def relation_problems(relation: Any, *, cprs: Iterable[str] = ()) -> list[str]:
    """What is wrong with ``relation`` as a canonical :class:`~borgersag.Relation`."""
    if not isinstance(relation, Relation):
        return [f"is a {type(relation).__name__}, not a borgersag.Relation"]
    problems: list[str] = []
    add = problems.append
    if not isinstance(relation.key, Key):
        add(f"key is a {type(relation.key).__name__}, not a borgersag.Key (use parse_key)")
    _key_masks(add, "key", relation.key)
    _text(add, "reason", relation.reason)
    _optional(add, relation, str, "address")
    _member(add, "role", relation.role, RelationRole)
    _optional(add, relation, Share, "share")
    _date(add, "since", relation.since, optional=True)
    _date(add, "until", relation.until, optional=True)
    since, until = relation.since, relation.until
    if isinstance(since, dt.date) and isinstance(until, dt.date) and until < since:
        add("until is before since")
    _no_datetimes(add, relation, skip=set())
    _no_cpr(add, repr(relation), cprs)
    return problems


def person_problems(person: Any, *, cprs: Iterable[str] = ()) -> list[str]:
    """What is wrong with ``person`` as a canonical :class:`~borgersag.Person`."""
    if not isinstance(person, Person):
        return [f"is a {type(person).__name__}, not a borgersag.Person"]
    problems: list[str] = []
    add = problems.append
    if not isinstance(person.key, CPR):
        add(f"key is a {type(person.key).__name__}, not a borgersag.CPR (use parse_key)")
    _key_masks(add, "key", person.key)
    _optional(add, person, str, "name")
    _optional(add, person, str, "address")
    if not isinstance(person.protected, bool):
        add(f"protected is {person.protected!r}, expected True or False")
    if person.source is not None:
        add("source is set by the engine; leave it None")
    _no_cpr(add, repr(person), cprs)
    return problems


# -- the pieces ----------------------------------------------------------------------------


def _text(add, name: str, value: Any) -> None:
    if not isinstance(value, str) or not value.strip():
        add(f"{name} is {value!r}, expected a non-empty string")


def _optional(add, record: Any, typ: type, *names: str) -> None:
    for name in names:
        value = getattr(record, name)
        if value is not None and not isinstance(value, typ):
            add(f"{name} is a {type(value).__name__}, expected {typ.__name__} or None")


def _member(add, name: str, value: Any, enum: type) -> None:
    if not isinstance(value, enum):
        add(f"{name} is {value!r}, expected a {enum.__name__}")


def _date(add, name: str, value: Any, *, optional: bool = False) -> None:
    if value is None and optional:
        return
    if isinstance(value, dt.datetime) or not isinstance(value, dt.date):
        add(f"{name} is {value!r}, expected a datetime.date (not a datetime or a string)")


def _provenance(add, provenance: Any, source: str) -> None:
    if not isinstance(provenance, Provenance):
        add("provenance is not a Provenance (build it with self.provenance())")
        return
    if provenance.source != source:
        add(f"provenance.source is {provenance.source!r}, expected the instance name {source!r}")
    at = provenance.fetched_at
    if not isinstance(at, dt.datetime) or at.tzinfo is None:
        add("provenance.fetched_at is not a timezone-aware datetime")
    if provenance.stale:
        add("provenance.stale is set; only the engine's cache marks answers stale")


def _tuple_of(add, name: str, values: Any, typ: type, check) -> None:
    if not isinstance(values, tuple):
        add(f"{name} is a {type(values).__name__}, expected a tuple (records are shared)")
        return
    for i, value in enumerate(values):
        if not isinstance(value, typ):
            add(f"{name}[{i}] is a {type(value).__name__}, expected {typ.__name__}")
        else:
            check(add, f"{name}[{i}]", value)


def _step(add, where: str, step: ProgressStep) -> None:
    _member(add, f"{where}.progress", step.progress, Progress)
    _date(add, f"{where}.date", step.date)


def _party(add, where: str, party: Party) -> None:
    if not isinstance(party.key, Key) or party.key.kind not in (KeyKind.CPR, KeyKind.CVR):
        add(f"{where}.key is not a CPR or CVR key")
    _key_masks(add, f"{where}.key", party.key)
    _member(add, f"{where}.role", party.role, PartyRole)


def _key_masks(add, where: str, key: Any) -> None:
    if isinstance(key, Key) and key.kind is KeyKind.CPR and not isinstance(key, CPR):
        add(f"{where} is a CPR number held in a plain Key, which does not mask it (use parse_key)")


def _document(source: str):
    def check(add, where: str, document: Document) -> None:
        _text(add, f"{where}.id", document.id)
        _text(add, f"{where}.title", document.title)
        _member(add, f"{where}.type", document.type, DocumentType)
        _member(add, f"{where}.status", document.status, DocumentStatus)
        _member(add, f"{where}.sensitivity", document.sensitivity, Sensitivity)
        _date(add, f"{where}.date", document.date, optional=True)
        if document.source not in (None, source):
            add(f"{where}.source is {document.source!r}, expected {source!r}")

    return check


def _event(add, where: str, event: Event) -> None:
    _date(add, f"{where}.date", event.date)
    _text(add, f"{where}.title", event.title)


def _no_datetimes(add, record: Any, *, skip: set[str]) -> None:
    """Dates are dates: a datetime in a date field breaks sorting against real dates."""
    for field in dataclasses.fields(record):
        value = getattr(record, field.name)
        if isinstance(value, dt.datetime) and field.name not in skip:
            add(f"{field.name} is a datetime, expected a datetime.date")


def _no_cpr(add, text: str, cprs: Iterable[str]) -> None:
    if any(cpr in text for cpr in cprs):
        add("repr() shows a CPR number in clear text (keys mask themselves; titles must not)")
