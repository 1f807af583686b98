"""``[case_kinds.<name>]``: what the municipality publishes about a kind of case.

A Danish municipality must publish its *sagsbehandlingsfrister* — how long it expects to
take per kind of case — and every decision that goes against a citizen comes with a
*klagevejledning*. Neither is in the case systems, so the municipality says them here,
per kind of case, matched on KLE prefix (the longest wins) or area name:

.. code-block:: toml

    [case_kinds.byggetilladelse]
    title = "byggetilladelser"
    kle = ["02.34"]
    processing_weeks = 8
    published_url = "https://www.kommune.dk/sagsbehandlingsfrister"
    appeal_text = "Du kan klage over afgørelsen til Byggeklageenheden inden 4 uger."
    appeal_url = "https://www.kommune.dk/klage-byggesag"

    [case_kinds.jobcenterforloeb]
    title = "forløb i jobcentret"
    areas = ["Beskæftigelse"]
    sources = ["momentum"]          # only the employment system's courses
    steps = "forloeb"               # Modtaget / I gang / Afsluttet: no decision to wait for

``steps`` chooses how the citizen's pages show the case's progress
(:mod:`borgersag.people.steps`): the four steps towards a decision by default, or a
course of meetings. Without the table nothing is said about processing times, and a
refusal gets the general appeal text (:data:`DEFAULT_APPEAL_TEXT`). Whether a decision
is a refusal is read from the words the systems use (:func:`decision_outcome`): a system
that says "Afslag", "Ikke visiteret" or "Delvist bevilget" has decided against the
citizen, wholly or in part.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from borgersag.config.section import Section, SectionContext
from borgersag.sdk.errors import ConfigError
from borgersag.sdk.settings import Setting, validate_table

__all__ = [
    "CASE_KINDS",
    "DEFAULT_APPEAL_TEXT",
    "STEP_MODELS",
    "CaseKind",
    "CaseKinds",
    "build_case_kinds",
    "decision_outcome",
]

CASE_KIND_SETTINGS: tuple[Setting, ...] = (
    Setting(
        "title",
        str,
        "The kind of case in the plural, as the page names it, e.g. 'byggetilladelser'.",
    ),
    Setting(
        "kle", list, "KLE prefixes of the kind, e.g. ['02.34']; the longest match wins.", default=[]
    ),
    Setting(
        "areas", list, "Area names (fagområder) of the kind, when KLE does not tell it.", default=[]
    ),
    Setting(
        "processing_weeks",
        int,
        "The published processing time in weeks (sagsbehandlingsfrist); 0: none published.",
        default=0,
    ),
    Setting(
        "processing_text",
        str,
        "The processing time in the municipality's own words, instead of the weeks,"
        " e.g. '8 uger for enfamiliehuse, 12 uger for erhverv'.",
        default="",
    ),
    Setting(
        "published_url",
        str,
        "Where the municipality publishes its processing times (https).",
        default="",
    ),
    Setting(
        "appeal_text",
        str,
        "How to complain about a decision of this kind (klagevejledning in short); empty:"
        " the general text.",
        default="",
    ),
    Setting("appeal_url", str, "A page with the full appeal guidance (https).", default=""),
    Setting(
        "sources",
        list,
        "Names of [sources.<name>] the kind is limited to (e.g. the employment system);"
        " empty: cases from any source.",
        default=[],
    ),
    Setting(
        "steps",
        str,
        "How the citizen sees the case's progress: 'afgoerelse' (Modtaget, Under behandling,"
        " Afgjort, Afsluttet) or 'forloeb' (a course of meetings: Modtaget, I gang, Afsluttet).",
        default="afgoerelse",
    ),
)

STEP_MODELS = ("afgoerelse", "forloeb")
"""The step models a kind of case may have (:mod:`borgersag.people.steps`)."""

DEFAULT_APPEAL_TEXT = (
    "Er du uenig i afgørelsen, kan du klage. Hvordan du klager, til hvem og inden hvornår, står"
    " i klagevejledningen sidst i afgørelsen. Ofte er fristen 4 uger fra du fik afgørelsen."
)

_NAME_RE = re.compile(r"^[a-z0-9_-]{1,40}$")
_KLE_PREFIX = re.compile(r"^\d{2}(?:\.\d{2}){0,2}$")

# How systems word a decision against the citizen; matched on whole words, lowercase.
_REFUSAL = re.compile(
    r"\b(afslag|afslået|afvist|ikke visiteret|ikke bevilget|ikke godkendt|ikke imødekommet"
    r"|nægtet|frakendt)\b"
)
_PARTIAL = re.compile(
    r"\b(delvist bevilget|delvist imødekommet|delvis bevilling|delvist godkendt)\b"
)


@dataclass(frozen=True, slots=True)
class CaseKind:
    """One ``[case_kinds.<name>]`` table."""

    name: str
    title: str
    kle: tuple[str, ...] = ()
    areas: tuple[str, ...] = ()
    processing_weeks: int = 0
    processing_text: str = ""
    published_url: str = ""
    appeal_text: str = ""
    appeal_url: str = ""
    sources: tuple[str, ...] = ()
    steps: str = "afgoerelse"

    def takes(self, sources: Iterable[str]) -> bool:
        """Whether a case from ``sources`` may be of this kind (:attr:`sources`)."""
        return not self.sources or bool(set(self.sources) & set(sources))

    @property
    def processing_time(self) -> str:
        """The published processing time in words, or ``""`` when none is published."""
        if self.processing_text:
            return self.processing_text
        if self.processing_weeks:
            return f"{self.processing_weeks} {'uge' if self.processing_weeks == 1 else 'uger'}"
        return ""


@dataclass(frozen=True, slots=True)
class CaseKinds:
    """Every configured kind, and which one a case is."""

    kinds: tuple[CaseKind, ...] = ()

    def of(self, kle: str | None, area: str | None, sources: Iterable[str] = ()) -> CaseKind | None:
        """The kind of a case with ``kle`` and ``area`` from ``sources``: the longest KLE
        prefix that matches, else the first kind naming the area; ``None`` when none
        fits. A kind limited to some sources fits only their cases."""
        sources = tuple(sources)
        best: tuple[int, CaseKind] | None = None
        for kind in (k for k in self.kinds if k.takes(sources)):
            for prefix in kind.kle:
                fits = kle is not None and (kle == prefix or kle.startswith(prefix + "."))
                if fits and (best is None or len(prefix) > best[0]):
                    best = (len(prefix), kind)
        if best is not None:
            return best[1]
        wanted = (area or "").casefold()
        return next(
            (
                k
                for k in self.kinds
                if k.takes(sources) and wanted and wanted in (a.casefold() for a in k.areas)
            ),
            None,
        )

    def steps(self, kle: str | None, area: str | None, sources: Iterable[str] = ()) -> str:
        """The step model of such a case (``afgoerelse`` when no kind fits)."""
        kind = self.of(kle, area, sources)
        return kind.steps if kind else STEP_MODELS[0]

    def appeal(
        self, kle: str | None, area: str | None, sources: Iterable[str] = ()
    ) -> tuple[str, str]:
        """The appeal text and link for a decision on such a case."""
        kind = self.of(kle, area, sources)
        if kind is None:
            return DEFAULT_APPEAL_TEXT, ""
        return kind.appeal_text or DEFAULT_APPEAL_TEXT, kind.appeal_url


def decision_outcome(texts: Iterable[str | None]) -> str:
    """``"refusal"``, ``"partial"`` or ``""`` from the words a system used about its
    decision (status texts, result), e.g. ``"Ikke visiteret – kan bruge egen tandlæge"``
    is a refusal. A partial grant is looked for first: "delvist bevilget" is not a refusal."""
    words = " ".join(t for t in texts if t).casefold()
    if _PARTIAL.search(words):
        return "partial"
    if _REFUSAL.search(words):
        return "refusal"
    return ""


def _https(file: str, key: str, url: str) -> None:
    if url and (urlsplit(url).scheme != "https" or not urlsplit(url).netloc):
        raise ConfigError(file, key, "an https:// address")


def build_case_kinds(raw: Any, file: str, source_names: Iterable[str] | None = None) -> CaseKinds:
    """Validate ``[case_kinds.<name>]`` tables (``None``: no kinds configured);
    ``source_names``: the configured sources a kind's ``sources`` must name."""
    if raw is None:
        return CaseKinds()
    if not isinstance(raw, Mapping):
        raise ConfigError(
            file, "case_kinds", "a table of named kinds, e.g. [case_kinds.byggetilladelse]"
        )
    kinds = []
    for name, table in raw.items():
        prefix = f"case_kinds.{name}."
        if not _NAME_RE.match(name):
            raise ConfigError(
                file, f"case_kinds.{name}", "a name of lowercase letters, digits, - or _"
            )
        kind = validate_table(CASE_KIND_SETTINGS, table, file, prefix)
        if not kind["title"].strip():
            raise ConfigError(
                file, prefix + "title", "a name for the kind, e.g. 'byggetilladelser'"
            )
        bad = [p for p in kind["kle"] if not isinstance(p, str) or not _KLE_PREFIX.match(p)]
        if bad:
            raise ConfigError(file, prefix + "kle", "KLE prefixes like '02' or '02.34'")
        if not all(isinstance(a, str) and a.strip() for a in kind["areas"]):
            raise ConfigError(file, prefix + "areas", "area names (text)")
        if not kind["kle"] and not kind["areas"]:
            raise ConfigError(file, prefix + "kle", "KLE prefixes or areas to know the kind by")
        if not 0 <= kind["processing_weeks"] <= 520:
            raise ConfigError(file, prefix + "processing_weeks", "a number of weeks from 0 to 520")
        if kind["steps"] not in STEP_MODELS:
            raise ConfigError(file, prefix + "steps", " or ".join(f"'{m}'" for m in STEP_MODELS))
        known = None if source_names is None else set(source_names)
        if not all(isinstance(n, str) and (known is None or n in known) for n in kind["sources"]):
            raise ConfigError(file, prefix + "sources", "names of [sources.<name>] tables")
        _https(file, prefix + "published_url", kind["published_url"])
        _https(file, prefix + "appeal_url", kind["appeal_url"])
        kinds.append(
            CaseKind(
                name=name,
                title=kind["title"].strip(),
                kle=tuple(kind["kle"]),
                areas=tuple(a.strip() for a in kind["areas"]),
                processing_weeks=kind["processing_weeks"],
                processing_text=kind["processing_text"].strip(),
                published_url=kind["published_url"],
                appeal_text=kind["appeal_text"].strip(),
                appeal_url=kind["appeal_url"],
                sources=tuple(kind["sources"]),
                steps=kind["steps"],
            )
        )
    return CaseKinds(tuple(kinds))


def _build(raw: Any, context: SectionContext) -> CaseKinds:
    return build_case_kinds(raw, context.file, context.source_names)


CASE_KINDS: Section[CaseKinds] = Section(
    "case_kinds", _build, subtables={"<name>": CASE_KIND_SETTINGS}
)
