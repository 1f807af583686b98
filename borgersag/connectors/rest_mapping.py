"""How the ``rest`` connector reads an answer: records, fields, status, history.

:class:`Mapper` turns the JSON a ``rest`` source answers into canonical
:class:`~borgersag.domain.model.Case` records by the paths of its ``items`` and ``fields`` and
its ``status_map``. A path that does not fit the answer is a
:class:`~borgersag.sdk.errors.FatalError` naming the source, the concrete place (e.g.
``sager[3].status.navn``) and the setting — never the value found there.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

from borgersag import (
    BFE,
    CPR,
    Case,
    Caseworker,
    Connector,
    FatalError,
    InvalidKey,
    Key,
    KeyKind,
    Matrikel,
    Party,
    PartyRole,
    Progress,
    ProgressStep,
)
from borgersag.connectors.rest_paths import MISSING, WILD, Path, PathError, describe
from borgersag.connectors.rest_settings import Plan, status_key

__all__ = ["Mapper"]

# A status text is shown in an error so it can be added to status_map; should a wrong
# path point "status" at a CPR number, the number is not shown.
_CPR_LIKE = re.compile(r"\d{6}[- ]?\d{4}")


class Mapper:
    """Reads one source's answers into cases, as its checked settings (``plan``) say."""

    def __init__(self, connector: Connector, plan: Plan, settings: Mapping[str, Any]):
        self.connector = connector
        self.plan = plan
        self.settings = settings

    def fail(self, where: str, problem: str, setting: str, page: int = 1) -> FatalError:
        """The error for an answer that does not fit ``setting`` at ``where``."""
        side = f"side {page}, " if page > 1 else ""
        return self.connector.reader.fail(where, f"{problem} ({side}indstillingen {setting})")

    def resolve(
        self, path: Path, data: Any, where: str, setting: str, page: int = 1, *, optional=False
    ) -> Any:
        """The one value at ``path``; ``None`` when absent and ``optional``."""
        try:
            value = path.get(data, where)
        except PathError as exc:
            raise self.fail(exc.where, exc.problem, setting, page) from None
        if value is MISSING:
            if optional:
                return None
            try:  # walk again, strictly, to name the exact step that is missing
                path.each(data, where)
            except PathError as exc:
                raise self.fail(exc.where, exc.problem, setting, page) from None
            raise self.fail(_at(where, path), "mangler", setting, page)
        return value

    def records(self, answer: Any, page: int) -> list[tuple[dict, str]]:
        """The records ``items`` selects, each with its place (``sager[3]``)."""
        try:
            found = self.plan.items.each(answer)
        except PathError as exc:
            raise self.fail(exc.where, exc.problem, "items", page) from None
        return found  # a record that is not an object is one unreadable record (case())

    def case(self, record: Any, where: str, key: Key | None, page: int = 1) -> Case:
        """One record as a canonical case; ``key`` is the key searched by, if any."""
        if not isinstance(record, dict):
            raise self.fail(where, f"skulle være et objekt, men er {describe(record)}", "items")
        r = _Record(self, record, where, page)
        native = r.text("id", required=True, numbers=True)
        sagsnummer = r.text("sagsnummer", numbers=True) or native
        status = r.text("status", required=True, numbers=True)
        progress = self._progress(status, r.at("status"))
        opened = r.date("opened")
        history = self._history(r, opened, progress, status)
        if opened is None and "history" in self.plan.fields and history:
            opened = history[0].date
        name, number = r.text("caseworker_name"), r.text("caseworker_number", numbers=True)
        values = {"id": native, "sagsnummer": sagsnummer}
        plan = self.plan
        return Case(
            id=self.connector.case_id(native),
            sagsnummer=sagsnummer,
            title=r.text("title", required=True),
            provenance=self.connector.provenance(),
            progress=progress,
            progress_history=history,
            status_text=status,
            kle=r.text("kle"),
            area=self.settings["area"] or None,
            parties=r.party(),
            subjects=r.subjects(key),
            caseworker=Caseworker(number, name) if name or number else None,
            unit=r.text("unit"),
            opened=opened,
            decided=next((s.date for s in history if s.progress is Progress.AFGJORT), None),
            closed=r.date("closed") if progress is Progress.AFSLUTTET else None,
            deadline=r.date("deadline"),
            join_keys=frozenset({plan.join_key.render(values)}) if plan.join_key else frozenset(),
            deep_link=plan.deep_link.render(values, lambda v: quote(v, safe=""))
            if plan.deep_link
            else None,
        )

    def _history(
        self, r: _Record, opened: dt.date | None, progress: Progress, status: str
    ) -> tuple[ProgressStep, ...]:
        """The mapped history; without one, "opened" and the current status's date."""
        if "history" in self.plan.fields:
            steps = []
            for entry, at in r.each("history"):
                e = _Record(self, entry, at, r.page)
                text = e.text("history_status", required=True, numbers=True)
                date = e.date("history_date", required=True)
                steps.append(ProgressStep(self._progress(text, e.at("history_status")), date, text))
            return tuple(steps)
        changed = r.date("status_date")
        steps = []
        if opened and (progress is not Progress.OPSTAAET or changed is None):
            steps.append(ProgressStep(Progress.OPSTAAET, opened))
        if changed:
            steps.append(ProgressStep(progress, changed, status))
        return tuple(steps)

    def _progress(self, text: str, where: str) -> Progress:
        found = self.plan.status_map.get(status_key(text))
        if found is not None:
            return found
        if self.plan.status_default is not None:
            return self.plan.status_default
        shown = _CPR_LIKE.sub("xxxxxx-xxxx", " ".join(text.split()))[:60]
        source = self.connector
        raise FatalError(
            f"{source.display_name} bruger sagsstatussen '{shown}' ({where}), som ikke står"
            f" i status_map; tilføj den under [sources.{source.name}.status_map] eller sæt"
            " status_default."
        )


class _Record:
    """One case (or history entry) of an answer, read through the ``fields`` paths."""

    def __init__(self, mapper: Mapper, data: Any, where: str, page: int = 1):
        self.mapper = mapper
        self.data = data
        self.where = where
        self.page = page
        self.fields = mapper.plan.fields

    def at(self, name: str) -> str:
        """The concrete place of a field, e.g. ``sager[3].status.navn``."""
        return _at(self.where, self.fields[name])

    def value(self, name: str, *, required: bool = False) -> Any:
        """The field's value; ``None`` when optional and absent, unmapped or null."""
        path = self.fields.get(name)
        if path is None:
            return None
        return self.mapper.resolve(
            path, self.data, self.where, f"fields.{name}", self.page, optional=not required
        )

    def fail(self, name: str, problem: str) -> FatalError:
        """The error for a field whose value is not what the mapping expects."""
        return self.mapper.fail(self.at(name), problem, f"fields.{name}", self.page)

    def text(self, name: str, *, required: bool = False, numbers: bool = False) -> str | None:
        """A text field (a whole number is accepted as text where ``numbers``)."""
        value = self.value(name, required=required)
        if value is None:
            return None
        if numbers and isinstance(value, int) and not isinstance(value, bool):
            return str(value)
        if not isinstance(value, str):
            return self._wrong(name, value, "en tekst")
        if required and not value.strip():
            raise self.fail(name, "er tom")
        return value

    def number(self, name: str) -> int | None:
        """A whole number, written as a number or as digits."""
        value = self.value(name)
        if isinstance(value, str) and value.strip().isdigit() and value.strip().isascii():
            return int(value)
        if value is None or (isinstance(value, int) and not isinstance(value, bool)):
            return value
        return self._wrong(name, value, "et heltal")

    def date(self, name: str, *, required: bool = False) -> dt.date | None:
        """A date in ``date_format`` (``iso``: a date or an ISO date-time)."""
        value = self.text(name, required=required)
        if value is None or (not required and not value.strip()):
            return None
        fmt = self.mapper.settings["date_format"]
        try:
            if fmt != "iso":
                return dt.datetime.strptime(value.strip(), fmt).date()
            if len(value) <= 10:
                return dt.date.fromisoformat(value)
            return dt.datetime.fromisoformat(value.replace("Z", "+00:00")).date()
        except ValueError:
            shown = "ÅÅÅÅ-MM-DD" if fmt == "iso" else fmt
            raise self.fail(name, f"er ikke en dato i formatet {shown} (date_format)") from None

    def each(self, name: str) -> list[tuple[Any, str]]:
        """Every element a ``[*]`` field selects; an absent list is none."""
        path = self.fields[name]
        before = path.steps[: path.steps.index(WILD)]
        try:
            if before and Path(path.text, before).get(self.data) is MISSING:
                return []
            return path.each(self.data, self.where)
        except PathError as exc:
            raise self.mapper.fail(exc.where, exc.problem, f"fields.{name}", self.page) from None

    def party(self) -> tuple[Party, ...]:
        """The primary party from ``party_cpr``."""
        text = self.text("party_cpr", numbers=True)
        if text is None or not text.strip():
            return ()
        try:
            return (Party(CPR.parse(text), PartyRole.PRIMARY),)
        except InvalidKey:
            raise self.fail("party_cpr", "er ikke et gyldigt CPR-nummer") from None

    def subjects(self, searched: Key | None) -> tuple[Key, ...]:
        """Parcel and property from the fields, and the parcel or property searched by."""
        keys: list[Key] = []
        try:
            ejerlav, nr = self.number("ejerlav"), self.text("matrikelnummer", numbers=True)
            if ejerlav and nr:
                keys.append(Matrikel.of(ejerlav, nr))
        except InvalidKey:
            raise self.fail("matrikelnummer", "er ikke en gyldig matrikel") from None
        try:
            bfe = self.number("bfe")
            if bfe:
                keys.append(BFE.parse(str(bfe)))
        except InvalidKey:
            raise self.fail("bfe", "er ikke et gyldigt BFE-nummer") from None
        # The API answered for this parcel or property, so the case is about it.
        about_property = searched is not None and searched.kind in (KeyKind.MATRIKEL, KeyKind.BFE)
        if about_property and all(
            (k.kind, k.value) != (searched.kind, searched.value) for k in keys
        ):
            keys.append(searched)
        return tuple(keys)

    def _wrong(self, name: str, value: Any, wanted: str) -> Any:
        raise self.fail(name, f"skulle være {wanted}, men er {describe(value)}")


def _at(where: str, path: Path) -> str:
    text = path.text.removeprefix("$").removeprefix(".")
    if not where:
        return text
    return where + text if text.startswith("[") else f"{where}.{text}"
