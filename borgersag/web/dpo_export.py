"""What the data-protection officer's page shows of an audit row, and the art. 15 export.

Plain functions over :class:`~borgersag.audit.AuditRecord`, no Flask: the wording of each
kind of row (for the officer and for the citizen), the officer's table row, and the CSV
a citizen gets in answer to a GDPR art. 15 request.

The CSV is written for Excel as Danish offices open it: UTF-8 with a byte-order mark (or
Excel reads it as ANSI and breaks æ, ø and å), ``;`` between cells (the Danish list
separator) and CRLF line ends. Every cell that a spreadsheet would read as a formula —
one starting with ``=``, ``+``, ``-`` or ``@``, or a tab or carriage return, which some
programs skip before looking — gets a leading apostrophe (:func:`safe_cell`): a purpose or
a unit name is text a person typed somewhere, and must never run as ``=HYPERLINK(…)``.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterable
from typing import Any

from borgersag.audit import AuditEvent, AuditRecord, mask_subject
from borgersag.domain.keys import KeyKind
from borgersag.web.language import N_
from borgersag.web.present import LOCAL_TZ

__all__ = [
    "CITIZEN_KINDS",
    "LOOKUP_OF_OTHERS",
    "OFFICER_KINDS",
    "citizen_rows",
    "citizen_what",
    "export_csv",
    "officer_row",
    "safe_cell",
    "subject_text",
]

OFFICER_KINDS = {
    "lookup": "Opslag",
    "case_view": "Så en sag",
    "document": "Hentede et dokument",
    "login": "Loggede ind",
    "logout": "Loggede ud",
    "refused": "Afvist",
    "audit_search": "Søgte i loggen",
    "audit_export": "Udtræk af loggen",
    "index_refresh": "Sagsindeks opdateret (automatisk)",
}
"""Each kind of row as the officer reads it."""

CITIZEN_KINDS = {
    "lookup": N_("Slog dig op"),
    "case_view": N_("Så en af dine sager"),
    "document": N_("Hentede et dokument"),
    "refused": N_("Blev afvist"),
    "audit_search": N_("Søgte i loggen over opslag"),
    "audit_export": N_("Lavede et udtræk af din log"),
    "index_refresh": N_("Tjekkede dine sager for nyt (automatisk)"),
}
"""Each kind of row as the citizen's export says it (the wording of "Hvem har set")."""

LOOKUP_OF_OTHERS = {
    KeyKind.BFE.value: N_("Slog en ejendom op, hvor du er nævnt"),
    KeyKind.MATRIKEL.value: N_("Slog en ejendom op, hvor du er nævnt"),
    KeyKind.MEDARBEJDER.value: N_("Så din sag i en medarbejders liste over sager"),
    KeyKind.CVR.value: N_("Slog en virksomhed op, hvor du er nævnt"),
    KeyKind.CPR.value: N_("Slog en anden person op, hvor du er nævnt"),
}
"""A lookup that showed the person's data without being a lookup *of* them, by the kind
of key looked up: a property they own or have a case about, a caseworker's desk
("Mit skrivebord") holding their case, a case they share with someone else."""


def citizen_what(event: AuditEvent, person: str = "") -> str:
    """What ``event`` did, as the person ``person`` (``"cpr:…"``) reads it on "Hvem har
    set" and in their export: a lookup of them, or one that only showed their data."""
    kind = event.kind.value
    if kind == "lookup" and person and event.subject and event.subject != person:
        key_kind = event.subject.partition(":")[0]
        if key_kind in LOOKUP_OF_OTHERS:
            return LOOKUP_OF_OTHERS[key_kind]
    return CITIZEN_KINDS.get(kind, OFFICER_KINDS.get(kind, ""))


ACTOR_TYPES = {
    "caseworker": "Medarbejder",
    "citizen": "Borger",
    "anonymous": "Ikke logget ind",
    "system": "Kommunens eget system",
}

_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Any) -> str:
    """``value`` as a CSV cell that no spreadsheet runs as a formula."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA_STARTS) else text


def local_time(moment: dt.datetime | None) -> str:
    """``2026-12-04 15:10:03`` in Danish time: sortable, and what Excel reads as a time."""
    if moment is None:
        return ""
    return moment.astimezone(LOCAL_TZ).strftime("%Y-%m-%d %H:%M:%S")


def subject_text(subject: str) -> str:
    """Whose data a row is about, masked: ``CPR-nummer 010101-xxxx``; ``–`` for none."""
    if not subject:
        return "–"
    kind, _, value = mask_subject(subject).partition(":")
    try:
        return f"{KeyKind(kind).label} {value}"
    except ValueError:
        return "(skjult)"


def officer_row(record: AuditRecord) -> dict[str, Any]:
    """Everything the officer's table shows of one row."""
    event = record.event
    return {
        "seq": record.seq,
        "at": event.at,
        "actor_type": ACTOR_TYPES.get(event.actor_type, event.actor_type),
        "actor_id": event.actor_id,
        "actor_name": event.actor_name,
        "actor_unit": event.actor_unit,
        "kind": OFFICER_KINDS.get(event.kind.value, event.kind.value),
        "detail": event.detail,
        "subject": subject_text(event.subject),
        "purpose": event.purpose,
        "sources": [f"{name}: {outcome}" for name, outcome in event.sources],
        "case_ids": list(event.case_ids),
        "request_id": event.request_id,
    }


STEP_DETAILS = ("opslag startet", "delsvar")
"""``detail`` of the rows a lookup shown as it fills in writes before its final row."""


def citizen_rows(
    records: Iterable[AuditRecord], *, names: bool, person: str = ""
) -> list[dict[str, str]]:
    """The rows of the export for ``person`` (``"cpr:…"``): when, what
    (:func:`citizen_what`), why, which unit, and the employee's name only when ``names``
    (the municipality's ``[audit] show_staff_names``).

    A lookup shown as it filled in is one row, its final one: its steps (``opslag
    startet``, ``delsvar``, same request id) are left out when the final row is there.
    A lookup that ended early keeps its steps, the only trace of it.
    """
    records = list(records)
    finished = {
        r.event.request_id
        for r in records
        if r.event.kind.value == "lookup" and not r.event.detail and r.event.request_id
    }
    rows = []
    for record in records:
        event = record.event
        if event.detail in STEP_DETAILS and event.request_id in finished:
            continue
        row = {
            "at": local_time(event.at),
            "what": citizen_what(event, person),
            "purpose": event.purpose or "Ikke oplyst",
            "unit": event.actor_unit or "En medarbejder i kommunen",
        }
        if names:
            row["employee"] = event.actor_name
        rows.append(row)
    return rows


CSV_HEADERS = {
    "at": "Tidspunkt (dansk tid)",
    "what": "Hvad",
    "purpose": "Formål",
    "unit": "Enhed",
    "employee": "Medarbejder",
}


def export_csv(rows: list[dict[str, str]], *, names: bool) -> bytes:
    """The citizen's export as CSV bytes for Excel (see the module docstring)."""
    columns = [c for c in CSV_HEADERS if names or c != "employee"]
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
    writer.writerow([CSV_HEADERS[c] for c in columns])
    for row in rows:
        writer.writerow([safe_cell(row.get(c, "")) for c in columns])
    return out.getvalue().encode("utf-8-sig")
