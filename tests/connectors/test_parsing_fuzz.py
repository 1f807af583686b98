"""Property-based fuzz of every built-in connector's parsing (issue 10, Build item 2).

Each connector's own recorded answers (the ``backend()`` of its ConformanceSuite class)
are mutated by hypothesis — a field set to null, another type, an impossible date,
markup, a huge number; a key removed; a record duplicated or a list emptied — and the
connector is asked through its real HTTP session, with a transport adapter that answers
from the mutated recording instead of a network. Every answer must be *handled*: a
classified :class:`~borgersag.SourceError`, or a list of valid canonical records (a
``Records`` that counts what it could not read). Anything else — a ``KeyError``, a
``TypeError``, an invalid record — is an unhandled case and fails the test. (A record the
source sent twice may come back twice: the engine keeps one case per id.)

The run is deterministic (``derandomize``). The full run totals :data:`TOTAL_CASES`
examples across the connectors and is marked ``slow`` (about a minute on one core); every
fast run does a tenth of it. The summary lines in the terminal give the counts per
connector.
"""

from __future__ import annotations

import contextlib
import copy
import io
import json
import re
from collections import Counter
from typing import Any
from unittest import mock
from urllib.parse import urlsplit, urlunsplit

import connectors.test_byggesag as byggesag_tests
import connectors.test_cpr_register as cpr_register_tests
import connectors.test_ejerfortegnelse as ejerfortegnelse_tests
import connectors.test_momentum as momentum_tests
import connectors.test_os2mo as os2mo_tests
import connectors.test_rest as rest_tests
import connectors.test_sbsys as sbsys_tests
import connectors.test_zgw as zgw_tests
import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from borgersag import Records, SourceError
from borgersag.testing import backend as fake
from borgersag.testing.outcome import probes_of, record_problems

SUITES = {
    "sbsys": sbsys_tests.TestSbsysConformance,
    "byggesag": byggesag_tests.TestByggesagConformance,
    "momentum": momentum_tests.TestMomentumConformance,
    "ejerfortegnelse": ejerfortegnelse_tests.TestEjerfortegnelseConformance,
    "os2mo": os2mo_tests.TestOs2moConformance,
    "rest": rest_tests.TestRestConformance,
    "zgw": zgw_tests.TestZgwConformance,
    "cpr_register": cpr_register_tests.TestCprRegisterConformance,
}
CASES = {
    "sbsys": 2400,
    "byggesag": 1800,
    "momentum": 1800,
    "ejerfortegnelse": 1200,
    "os2mo": 800,
    "rest": 2000,
    "zgw": 1800,
    "cpr_register": 600,
}
TOTAL_CASES = sum(CASES.values())
COUNTS: dict[str, Counter] = {}

HOSTILE_TEXT = [
    "",
    " ",
    "2024-02-30",
    "2024-13-01",
    "0000-00-00",
    "2024-02-30T25:61:00",
    "31.02.2024",
    "<script>alert(1)</script>",
    "<b>Fed</b> titel & mere",
    "Ukendt status 🛈",
    "Opklaring",
    "Afsluttet",
    "311299-9999",  # CPR-shaped, not the person searched for
    "null",
    "NaN",
    "x" * 300,
    "../../etc/passwd",
]
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**63), max_value=2**63),
    st.floats(allow_nan=False, allow_infinity=False),
    st.sampled_from(HOSTILE_TEXT),
    st.text(max_size=12),
)
VALUES = st.one_of(
    SCALARS,
    st.lists(SCALARS, max_size=3),
    st.dictionaries(st.sampled_from(["id", "Id", "navn", "Navn", "x"]), SCALARS, max_size=2),
)


def _paths(value: Any, path: tuple = ()) -> list[tuple]:
    """Every place in ``value`` (the root included)."""
    found = [path]
    if isinstance(value, dict):
        for key, child in value.items():
            found += _paths(child, (*path, key))
    elif isinstance(value, list):
        for i, child in enumerate(value[:3]):
            found += _paths(child, (*path, i))
    return found


def _parent(value: Any, path: tuple) -> Any:
    for step in path[:-1]:
        value = value[step]
    return value


@st.composite
def mutated(draw, value: Any) -> Any:
    """``value`` changed in one to four places."""
    result = copy.deepcopy(value)
    for _ in range(draw(st.integers(min_value=1, max_value=4))):
        paths = [p for p in _paths(result) if p]
        if not paths:
            return draw(VALUES)
        path = draw(st.sampled_from(paths))
        parent, step = _parent(result, path), path[-1]
        node = parent[step]
        action = draw(st.sampled_from(["replace", "replace", "remove", "duplicate", "empty"]))
        if action == "remove" and isinstance(parent, dict):
            del parent[step]
        elif action == "duplicate" and isinstance(node, list) and node:
            node.extend(copy.deepcopy(node[:1]) * draw(st.integers(min_value=1, max_value=3)))
        elif action == "empty" and isinstance(node, list | dict):
            node.clear()
        else:
            parent[step] = draw(VALUES)
    return result


class _Recorded:
    """Answers every ``requests`` call (the source's session and its token fetch alike)
    from a connector's recorded backend, with one body mutated; no network."""

    def __init__(self, registered: list):
        self.registered = registered
        self.bodies: dict[int, Any] = {}  # index of a registered response -> JSON answered

    @contextlib.contextmanager
    def installed(self):
        """While active, ``HTTPAdapter.send`` answers from the recording."""
        recorded = self

        def send(adapter, request, **kwargs):
            return recorded.send(request)

        with mock.patch.object(requests.adapters.HTTPAdapter, "send", send):
            yield self

    def send(self, request) -> requests.Response:
        for index, registered in enumerate(self.registered):
            if self._matches(registered, request):
                return self._answer(request, registered, self.bodies[index])
        raise requests.ConnectionError(f"nothing recorded for {request.method} {request.url}")

    @staticmethod
    def _matches(registered, request) -> bool:
        if registered.method != request.method:
            return False
        url = registered.url
        if isinstance(url, re.Pattern):
            if not url.match(request.url):
                return False
        else:
            parts = urlsplit(request.url)
            bare = urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))
            if urlsplit(url).query or bare != url:
                return False
        return all(matcher(request)[0] for matcher in registered.match)

    @staticmethod
    def _answer(request, registered, value) -> requests.Response:
        response = requests.Response()
        response.status_code = registered.status or 200
        response.headers["Content-Type"] = "application/json"
        # a stream, as from a socket: the session reads bodies piece by piece
        response.raw = io.BytesIO(json.dumps(value).encode())
        response.url = request.url
        response.request = request
        response.encoding = "utf-8"
        return response


def _recording(suite) -> tuple[list, dict[int, Any]]:
    """The registered responses of ``suite.backend()`` and their static JSON bodies."""
    with fake.strict_mock() as mock:
        suite.backend(mock, suite.base_url)
        registered = list(mock.registered())
    bodies = {}
    for index, response in enumerate(registered):
        ok, value = fake.recorded_json(response)
        assert ok, f"{type(suite).__name__}: every recorded answer must be static JSON"
        bodies[index] = value
    return registered, bodies


def _ask(suite, probe) -> Any:
    connector = suite._build(suite.valid_settings())
    key = suite._samples()[0][probe.kind]
    return getattr(connector, probe.op)(key)  # search, relations or person


def _fuzz(name: str, cases: int):
    suite = SUITES[name]()
    probes = probes_of(suite.connector)
    registered, bodies = _recording(suite)
    recorded = _Recorded(registered)
    cprs = suite._cprs()
    counts = COUNTS.setdefault(name, Counter())

    @settings(
        max_examples=cases,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(data=st.data())
    def check(data):
        probe = data.draw(st.sampled_from(probes), label="probe")
        index = data.draw(st.sampled_from(sorted(bodies)), label="endpoint")
        recorded.bodies = {**bodies, index: data.draw(mutated(bodies[index]), label="body")}
        counts["cases"] += 1
        try:
            with recorded.installed():
                value = _ask(suite, probe)
        except SourceError:
            counts["source error"] += 1
            return
        except Exception as exc:
            counts["unhandled"] += 1
            raise AssertionError(f"{probe.op}() raised {type(exc).__name__}: {exc}") from exc
        problems = [
            p
            for p in record_problems(probe, value, "answer", source="konformitet", cprs=cprs)
            if "occurs twice" not in p  # a record the source sent twice: the engine keeps one
        ]
        if problems:
            counts["unhandled"] += 1
            raise AssertionError("; ".join(problems))
        counts["records"] += 1
        if isinstance(value, Records) and (value.problems or value.truncated):
            counts["with unreadable records" if value.problems else "truncated"] += 1

    return check


def _report(name: str, capsys) -> None:
    """One line of counts in the terminal, for the closing note of a run."""
    counts = COUNTS.pop(name)
    shown = ", ".join(f"{k} {v}" for k, v in sorted(counts.items()) if k != "cases")
    with capsys.disabled():
        print(f"\nfuzz {name}: {counts['cases']} cases ({shown})", end="")
    assert counts["unhandled"] == 0


@pytest.mark.parametrize("name", sorted(SUITES))
def test_mutated_answers_are_handled(name, capsys):
    """A tenth of the full run, in every fast test run."""
    _fuzz(name, CASES[name] // 10)()
    _report(name, capsys)


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(SUITES))
def test_ten_thousand_mutated_answers_are_handled(name, capsys):
    """The full run: :data:`CASES` per connector, over 10,000 in all (about a minute)."""
    _fuzz(name, CASES[name])()
    _report(name, capsys)


def test_the_fuzz_covers_every_list_mapping_connector_and_ten_thousand_cases():
    from borgersag.lookup.registry import connector_types

    assert TOTAL_CASES >= 10_000
    assert set(connector_types()) == set(SUITES)
