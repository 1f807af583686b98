"""What one call of a connector did, and the problems the suite sees in it."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import pytest

from borgersag import Connector, KeyKind, SourceError
from borgersag.testing import backend as fake
from borgersag.testing.network import UnrecordedNetworkAccess
from borgersag.testing.records import case_problems, person_problems, relation_problems

__all__ = [
    "Outcome",
    "Probe",
    "error_problems",
    "fail",
    "probes_of",
    "record_problems",
    "traffic_problems",
]

MAX_LISTED = 12


@dataclass(frozen=True)
class Probe:
    """One thing the suite asks: ``search``, ``relations`` or ``person`` with a key of
    ``kind``."""

    op: str
    kind: KeyKind

    @property
    def id(self) -> str:
        """The test id suffix, e.g. ``search-cpr``."""
        return f"{self.op}-{self.kind.value}"


def probes_of(cls: Any) -> list[Probe]:
    """Every operation and key kind the connector class declares."""
    if not (isinstance(cls, type) and issubclass(cls, Connector)):
        return []
    probes = [Probe("search", kind) for kind in sorted(cls.key_kinds)]
    probes += [Probe("relations", kind) for kind in sorted(cls.relation_kinds)]
    return probes + [Probe("person", kind) for kind in sorted(cls.person_kinds)]


@dataclass
class Outcome:
    """What one call of the connector did against one backend."""

    value: Any = None
    error: BaseException | None = None
    trace: str = ""
    calls: list[Any] = field(default_factory=list)
    unrecorded: list[str] = field(default_factory=list)
    counts: dict[fake.Endpoint, int] = field(default_factory=dict)

    def raised(self) -> str:
        """The exception, as a person reads it."""
        return f"{type(self.error).__name__}: {self.error}"


def traffic_problems(outcome: Outcome) -> list[str]:
    """Requests nothing was recorded for, and other network access."""
    return [f"unrecorded network access: {what}" for what in outcome.unrecorded]


def record_problems(
    probe: Probe, value: Any, context: str, *, source: str, cprs: set[str]
) -> list[str]:
    """Problems with an answer: a list of valid cases (unique ids), relations or (at most
    one) person."""
    if not isinstance(value, list):
        return [f"{context}: {probe.op}() returned a {type(value).__name__}, not a list"]
    problems, ids = [], set()
    for i, record in enumerate(value):
        if probe.op == "search":
            found = case_problems(record, source=source, cprs=cprs)
            record_id = getattr(record, "id", None)
            if record_id in ids:
                found.append(f"id {record_id!r} occurs twice in one answer")
            ids.add(record_id)
        elif probe.op == "person":
            found = person_problems(record, cprs=cprs)
            if i:
                found.append("a person register answers about one person: at most one Person")
        else:
            found = relation_problems(record, cprs=cprs)
        problems += [f"{context}: record {i}: {problem}" for problem in found]
    return problems


def error_problems(
    outcome: Outcome,
    probe: Probe,
    where: str,
    expected: tuple[type[SourceError], ...],
    *,
    names: Iterable[str],
    cprs: set[str],
    target: fake.Endpoint | None = None,
) -> list[str]:
    """Problems unless the call raised one of ``expected`` with a message that names the
    source (one of ``names``) and holds no CPR number, asking ``target`` at most twice."""
    wanted = " or ".join(e.__name__ for e in expected)
    problems = traffic_problems(outcome)
    error = outcome.error
    if error is None:
        value = outcome.value
        shown = f"{len(value)} records" if isinstance(value, list) else "a value"
        problems.append(
            f"{where}: {probe.op}() returned {shown} instead of raising {wanted} (a"
            " failed source must never look like 'no cases')"
        )
    elif isinstance(error, fake.TooManyRequests):
        problems.append(f"{where}: {error}")
    elif isinstance(error, UnrecordedNetworkAccess):
        pass  # listed by traffic_problems
    elif not isinstance(error, expected):
        problems.append(f"{where}: raised {outcome.raised()}, expected {wanted}\n{outcome.trace}")
    else:
        message, names = str(error), tuple(names)
        if not any(name in message for name in names):
            problems.append(
                f"{where}: the {type(error).__name__} message {message!r} does not name the"
                f" source (its title, here {names[0]!r}, is self.display_name)"
            )
        if any(cpr in message for cpr in cprs):
            problems.append(f"{where}: the error message contains a CPR number")
    if target is not None and outcome.counts.get(target, 0) > 2:
        problems.append(
            f"{where}: asked {outcome.counts[target]} times; retries belong to the engine"
        )
    return problems


def fail(problems: list[str]) -> None:
    """Fail the check listing each distinct problem once; only the first traceback shows."""
    if not problems:
        return
    distinct, traced = list(dict.fromkeys(problems)), False
    shown = []
    for problem in distinct[:MAX_LISTED]:
        head, sep, _ = problem.partition("\nTraceback")
        shown.append(problem if sep and not traced else head.rstrip())
        traced = traced or bool(sep)
    more = len(distinct) - len(shown)
    text = "\n".join(f"- {p}" for p in shown) + (f"\n… and {more} more" if more else "")
    pytest.fail(f"{len(distinct)} conformance problem(s):\n{text}", pytrace=False)
