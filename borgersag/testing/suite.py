"""The connector conformance suite: what every connector must do, checked without a network.

A connector's test module opts in by subclassing :class:`ConformanceSuite` with its
connector, settings, a sample key per key kind and a recorded backend; the package
docstring of :mod:`borgersag.testing` has the whole example and docs/connectors.md says
what each check does.

Every check builds the connector as the engine does
(:func:`borgersag.lookup.registry.build_connector`)
as the instance ``konformitet`` titled ``Konformitetskilde``, and runs it against the
author's backend with strict ``responses`` and the socket guard on.
"""

from __future__ import annotations

import traceback
from collections.abc import Callable, Iterable, Mapping
from typing import Any, ClassVar

import pytest
import responses

from borgersag import (
    REQUIRED,
    ConfigError,
    Connector,
    InvalidKey,
    Key,
    KeyKind,
    RetriableError,
    SourceError,
    parse_key,
)
from borgersag.lookup.registry import build_connector
from borgersag.testing import backend as fake
from borgersag.testing import faults
from borgersag.testing.contract import config_error_problems, contract_problems, wrong_value
from borgersag.testing.network import UnrecordedNetworkAccess, no_network
from borgersag.testing.outcome import (
    Outcome,
    Probe,
    error_problems,
    fail,
    probes_of,
    record_problems,
    traffic_problems,
)
from borgersag.testing.records import cpr_texts

__all__ = ["ConformanceSuite", "Probe"]

INSTANCE = "konformitet"
TITLE = "Konformitetskilde"
FILE = "konformitet.toml"
PREFIX = f"sources.{INSTANCE}."
UNKNOWN_SETTING = "ukendt_indstilling"
MAX_SHAPE_PROBLEMS = 12


class ConformanceSuite:
    """Subclass as ``Test<Name>Conformance`` and declare:

    * :attr:`connector` — the connector class;
    * :attr:`settings` — valid settings (``base_url`` is replaced by the fake's address);
    * :attr:`sample_keys` — one key per key kind the connector declares, as
      ``{KeyKind.CPR: "010190-1234"}`` or a list of keys;
    * :meth:`backend` — registers the recorded answers on a ``responses`` mock.

    Optional: :attr:`endless_settings` and :attr:`paginates` (the pagination check),
    :attr:`unreadable_settings` (the unreadable-record check),
    :attr:`max_requests`, :attr:`not_found_is_empty`, :attr:`max_shape_mutations`,
    :meth:`endless_backend` and :meth:`valid_settings`.
    """

    connector: ClassVar[type[Connector]]
    settings: ClassVar[Mapping[str, Any]] = {}
    sample_keys: ClassVar[Mapping[KeyKind | str, str | Key] | Iterable[Key]] = {}
    base_url: ClassVar[str] = "https://backend.konformitet.invalid/system/"
    endless_settings: ClassVar[Mapping[str, Any]] = {}
    """Settings merged in for the pagination check, so that one recorded record is a full
    page (e.g. ``{"page_size": 1}``)."""
    paginates: ClassVar[bool] = True
    """Whether the API pages; if so the pagination check insists paging happened."""
    max_requests: ClassVar[int] = 100
    """The most requests one search or relations call may make."""
    not_found_is_empty: ClassVar[bool] = False
    """Whether a 404 may mean "none" (an empty answer) rather than an error."""
    max_shape_mutations: ClassVar[int] = 400
    """The most wrong-shape variants tried per endpoint."""
    unreadable_settings: ClassVar[Mapping[str, Any]] = {}
    """Settings merged in for the unreadable-record check, so that a recorded page with
    one more record is still the last page (e.g. ``{"page_size": 10}``)."""

    # -- what the author supplies ---------------------------------------------------------

    def backend(self, mock: responses.RequestsMock, base_url: str) -> None:
        """Register the recorded happy-path answers for every sample key on ``mock``
        (``mock.get(base_url + "sager", json={...})``). Override this."""
        raise NotImplementedError(
            f"{type(self).__name__} must define backend(self, mock, base_url) registering"
            " the recorded answers of the system on the responses mock"
        )

    def endless_backend(self, mock: responses.RequestsMock, base_url: str) -> None:
        """A backend that always promises another page: :meth:`backend` with every JSON
        body passed through :func:`borgersag.testing.backend.advertise_more_pages`
        (totals huge, "has more" flags true, empty next links pointing back at the same
        endpoint). Override when the API pages another way."""
        self.backend(mock, base_url)
        fake.rewrite_json(mock, fake.advertise_more_pages)

    def valid_settings(self) -> dict[str, Any]:
        """The settings every check starts from: :attr:`settings` with ``base_url`` set
        to the fake's address. Override to compute them (e.g. certificate files)."""
        settings = dict(self.settings)
        if any(s.name == "base_url" for s in self.connector.settings_schema):
            settings["base_url"] = self.base_url
        return settings

    def pytest_generate_tests(self, metafunc: pytest.Metafunc) -> None:
        """The checks that take ``probe`` run once per declared key kind and operation."""
        if "probe" in metafunc.fixturenames:
            probes = probes_of(getattr(self, "connector", None))
            metafunc.parametrize("probe", probes, ids=[p.id for p in probes])

    # -- declaration and settings ----------------------------------------------------------

    def test_declares_the_contract(self) -> None:
        """Type name, key kinds, settings schema, overridden methods, sample keys."""
        cls = getattr(self, "connector", None)
        if not (isinstance(cls, type) and issubclass(cls, Connector)):
            fail(["connector = ... must name a borgersag.Connector subclass"])
        problems = contract_problems(cls)
        samples, problem = self._samples()
        problems += [problem] if problem else []
        for kind in sorted(cls.key_kinds | cls.relation_kinds | cls.person_kinds):
            if kind not in samples:
                problems.append(f"sample_keys has no {kind.value} key, which the connector serves")
        fail(problems)

    def test_accepts_the_valid_settings(self) -> None:
        """The sample settings validate, keep every declared setting, and build a source."""
        raw, problems = self.valid_settings(), []
        try:
            settings = self.connector.validate_settings(raw, FILE, PREFIX)
        except ConfigError as exc:
            settings, problems = {}, [f"the sample settings are rejected: {exc}"]
        if not problems:
            missing = {s.name for s in self.connector.settings_schema} - set(settings)
            problems += [f"validate_settings() dropped {name!r}" for name in sorted(missing)]
            try:
                self._build(raw)
            except ConfigError as exc:
                problems.append(f"building the source fails: {exc}")
        fail(problems)

    def test_rejects_a_missing_required_setting(self) -> None:
        """Each required setting left out → ConfigError naming it."""
        required = [s.name for s in self.connector.settings_schema if s.default is REQUIRED]
        if not required:
            pytest.skip("the connector declares no required setting")
        problems = []
        for name in required:
            raw = {k: v for k, v in self.valid_settings().items() if k != name}
            problems += self._config_error(raw, name, f"without {name!r}")
        fail(problems)

    def test_rejects_an_unknown_setting(self) -> None:
        """A setting the schema does not declare → ConfigError naming it."""
        raw = {**self.valid_settings(), UNKNOWN_SETTING: "x"}
        fail(self._config_error(raw, UNKNOWN_SETTING, "an unknown setting"))

    def test_rejects_a_setting_of_the_wrong_type(self) -> None:
        """Each setting given a value of another type → ConfigError naming it; the error
        for a secret setting does not show the value."""
        problems = []
        for setting in self.connector.settings_schema:
            wrong = wrong_value(setting)
            raw = {**self.valid_settings(), setting.name: wrong}
            found = self._config_error(raw, setting.name, f"{setting.name} = {wrong!r}")
            if not found and setting.secret:
                try:
                    self.connector.validate_settings(raw, FILE, PREFIX)
                except ConfigError as exc:
                    if str(wrong) in str(exc):
                        found.append(f"the error for secret {setting.name!r} shows the value")
            problems += found
        fail(problems)

    # -- answers ---------------------------------------------------------------------------

    def test_answers_with_canonical_records(self, probe: Probe) -> None:
        """The recorded backend gives valid canonical records; no CPR number in a URL."""
        outcome = self._run(probe)
        problems = traffic_problems(outcome)
        if outcome.error is not None:
            if not isinstance(outcome.error, UnrecordedNetworkAccess):
                problems.append(f"{probe.op}() raised {outcome.raised()}\n{outcome.trace}")
            fail(problems)
        problems += self._records(probe, outcome.value, "the recorded answer")
        if isinstance(outcome.value, list) and not outcome.value:
            problems.append(
                f"{probe.op}() returned nothing for the sample {probe.kind.value} key; let"
                " backend() answer with at least one record so the mapping is checked"
            )
        cprs = self._cprs()
        for call in outcome.calls:
            if any(cpr in str(call.request.url) for cpr in cprs):
                problems.append(f"a CPR number is in the URL of a {call.request.method} request")
        fail(problems)

    def test_5xx_timeouts_and_429_are_retriable(self, probe: Probe) -> None:
        """Each endpoint failing with 5xx, 429, a timeout or a refused connection →
        RetriableError (or SourceTimeout), never an empty answer or a raw exception."""
        problems = []
        for target in self._endpoints(probe):
            for label, what in faults.RETRIABLE_FAULTS:
                outcome = self._run(probe, prepare=faults.fault(target, what))
                problems += self._errors(outcome, probe, target, label, (RetriableError,))
        fail(problems)

    def test_4xx_is_fatal_forbidden_or_not_found(self, probe: Probe) -> None:
        """400/409/422 → FatalError; 401/403 → ForbiddenError; 404 → NotFound (or
        FatalError); never retriable, never an empty answer."""
        problems = []
        for target in self._endpoints(probe):
            for status, expected in faults.CLIENT_FAULTS:
                outcome = self._run(probe, prepare=faults.fault(target, status))
                empty_ok = status == 404 and self.not_found_is_empty
                if empty_ok and outcome.error is None and outcome.value == []:
                    problems += traffic_problems(outcome)
                else:
                    label = f"HTTP {status}"
                    problems += self._errors(outcome, probe, target, label, expected)
        fail(problems)

    def test_garbage_is_a_clear_error(self, probe: Probe) -> None:
        """HTML, an empty body, truncated JSON or JSON of another type from any endpoint →
        a SourceError naming the source (never KeyError/TypeError, never [])."""
        problems = []
        for target, recorded in self._recorded(probe).items():
            for label, text, content_type, must_fail in faults.garbage(recorded):
                outcome = self._run(probe, prepare=faults.body(target, text, content_type))
                if must_fail or outcome.error is not None:
                    problems += self._errors(outcome, probe, target, label, (SourceError,))
                else:
                    problems += traffic_problems(outcome)
                    problems += self._records(probe, outcome.value, label)
        fail(problems)

    def test_json_of_the_wrong_shape_is_a_clear_error(self, probe: Probe) -> None:
        """Each field of each recorded JSON body removed, null, or of another type → valid
        records or a SourceError naming the source; never KeyError/TypeError/…"""
        problems = []
        for target, recorded in self._recorded(probe).items():
            if recorded is faults.NOT_JSON:
                continue
            for label, value in fake.shape_mutations(recorded, self.max_shape_mutations):
                outcome = self._run(probe, prepare=faults.json_body(target, value))
                if outcome.error is None:
                    problems += traffic_problems(outcome)
                    problems += self._records(probe, outcome.value, label)
                else:
                    problems += self._errors(outcome, probe, target, label, (SourceError,))
                if len(problems) > MAX_SHAPE_PROBLEMS:
                    break
        fail(problems)

    def test_one_unreadable_record_is_counted_and_the_rest_kept(self, probe: Probe) -> None:
        """A recorded list of records with an unreadable record put among the valid ones
        → every valid record still comes back, and the answer (``Records``) counts the
        unreadable one with its position; never the whole answer lost, never a silent
        drop. Lists that are not the answer's records may fail the call instead."""
        happy = self._run(probe)
        if happy.error is not None or not isinstance(happy.value, list):
            fail(["the happy path must pass first (see the records check)"])
        if not happy.value:
            pytest.skip(f"{probe.op}() answers no records for the sample key")
        if probe.op == "person":
            pytest.skip("an answer about one person has no list of records to keep")
        wanted = [_identity(record) for record in happy.value]
        problems, kept = [], False
        for target, recorded in self._recorded(probe).items():
            found = None if recorded is faults.NOT_JSON else fake.with_unreadable_record(recorded)
            if found is None:
                continue
            where, index, value = found
            label = f"an unreadable record at {where}[{index}]"
            settings = {**self.valid_settings(), **self.unreadable_settings}
            outcome = self._run(probe, prepare=faults.json_body(target, value), settings=settings)
            problems += traffic_problems(outcome)
            if outcome.error is not None:
                problems += self._errors(outcome, probe, target, label, (SourceError,))
                continue
            problems += self._records(probe, outcome.value, label)
            got = [_identity(record) for record in outcome.value]
            lost = [w for w in wanted if w not in got]
            unreadable = getattr(outcome.value, "problems", [])
            if lost and not unreadable:
                problems.append(
                    f"{label}: {len(lost)} valid record(s) left out without a word; map the"
                    " list with self.reader.each(...) so the unreadable one is counted"
                )
            elif not lost and unreadable:
                kept = True
                positions = [u.position for u in unreadable]
                if not any(p.endswith(f"[{index}]") for p in positions):
                    problems.append(
                        f"{label}: the problem is reported at {positions}, not at position"
                        f" [{index}] (name positions from the one Reader.each gives)"
                    )
                cprs = self._cprs()
                if any(cpr in f"{u.field} {u.problem}" for u in unreadable for cpr in cprs):
                    problems.append(f"{label}: a reported problem contains a CPR number")
        if not problems and not kept:
            problems.append(
                "no recorded list of records kept its valid records around an unreadable one:"
                " one bad record must not cost the source's good ones. Map the records with"
                " self.reader.each(items, where, read) and return its Records"
            )
        fail(problems)

    def test_pagination_is_bounded(self, probe: Probe) -> None:
        """Against a backend that always promises another page: at most
        :attr:`max_requests` requests, then records or a SourceError naming the source."""
        settings = {**self.valid_settings(), **self.endless_settings}
        outcome = self._run(probe, settings=settings, endless=True)
        if isinstance(outcome.error, fake.TooManyRequests):
            fail(
                [
                    f"{probe.op}() made more than {self.max_requests} requests against a"
                    " backend that always promises another page. Stop after a bounded number"
                    " of pages (e.g. a max_pages setting) and raise FatalError saying so."
                ]
            )
        if outcome.error is None:
            problems = traffic_problems(outcome)
            problems += self._records(probe, outcome.value, "an endless backend")
        else:
            label = "an endless backend"
            problems = self._errors(outcome, probe, None, label, (SourceError,))
        if self.paginates and not problems and max(outcome.counts.values(), default=0) < 2:
            problems.append(
                "the endless backend was asked only once per endpoint, so paging was not"
                " exercised: set endless_settings (e.g. {'page_size': 1}) so one recorded"
                " record is a full page, override endless_backend(), or declare"
                " paginates = False if the API has no paging"
            )
        fail(problems)

    # -- machinery ---------------------------------------------------------------------------

    def _samples(self) -> tuple[dict[KeyKind, Key], str | None]:
        """The sample keys by kind, and a problem if one does not parse."""
        raw, keys = self.sample_keys, {}
        try:
            if not isinstance(raw, Mapping):
                return {key.kind: key for key in raw}, None
            for kind, value in raw.items():
                kind = KeyKind(kind)
                keys[kind] = value if isinstance(value, Key) else parse_key(kind, value)
        except (InvalidKey, ValueError) as exc:
            return keys, f"a sample key does not parse: {exc}"
        return keys, None

    def _cprs(self) -> set[str]:
        return cpr_texts(self._samples()[0].values())

    def _build(self, raw: Mapping[str, Any]) -> Connector:
        return build_connector(self.connector, INSTANCE, raw, title=TITLE, file=FILE)

    def _config_error(self, raw: Mapping[str, Any], name: str, what: str) -> list[str]:
        return config_error_problems(self.connector, raw, PREFIX + name, what, file=FILE)

    def _run(
        self,
        probe: Probe,
        *,
        prepare: Callable[[responses.RequestsMock], None] | None = None,
        settings: Mapping[str, Any] | None = None,
        endless: bool = False,
    ) -> Outcome:
        """Ask the connector once, against the recorded backend changed by ``prepare``,
        with strict ``responses`` and the socket guard on."""
        key = self._samples()[0].get(probe.kind)
        if key is None:
            fail([f"sample_keys needs a valid {probe.kind.value} key for {probe.op}()"])
        outcome = Outcome()
        with no_network() as guard, fake.strict_mock(self.max_requests) as mock:
            (self.endless_backend if endless else self.backend)(mock, self.base_url)
            if prepare is not None:
                prepare(mock)
            registered = list(mock.registered())
            try:
                connector = self._build(settings or self.valid_settings())
                ask = getattr(connector, probe.op)  # search, relations or person
                outcome.value = ask(key)
            except (UnrecordedNetworkAccess, fake.TooManyRequests) as exc:
                outcome.error = exc
            except Exception as exc:
                outcome.error = exc
                outcome.trace = traceback.format_exc(limit=-3)
            outcome.calls = list(mock.calls)
            outcome.unrecorded = mock.unrecorded() + guard.attempts
            for response in registered:
                target = fake.endpoint(response)
                outcome.counts[target] = outcome.counts.get(target, 0) + response.call_count
        return outcome

    def _endpoints(self, probe: Probe) -> list[fake.Endpoint]:
        """The endpoints the happy path asks, in the order they were registered."""
        outcome = self._run(probe)
        if outcome.error is not None or outcome.unrecorded:
            fail(["the happy path must pass before faults are tried (see the records check)"])
        return [target for target, count in outcome.counts.items() if count]

    def _recorded(self, probe: Probe) -> dict[fake.Endpoint, Any]:
        """Each endpoint the happy path asks, with its recorded JSON body (or NOT_JSON)."""
        wanted = self._endpoints(probe)
        bodies: dict[fake.Endpoint, Any] = {}
        with fake.strict_mock() as mock:
            self.backend(mock, self.base_url)
            for response in mock.registered():
                target = fake.endpoint(response)
                if target in wanted and target not in bodies:
                    ok, value = fake.recorded_json(response)
                    bodies[target] = value if ok else faults.NOT_JSON
        return {target: bodies.get(target, faults.NOT_JSON) for target in wanted}

    def _records(self, probe: Probe, value: Any, context: str) -> list[str]:
        return record_problems(probe, value, context, source=INSTANCE, cprs=self._cprs())

    def _errors(
        self,
        outcome: Outcome,
        probe: Probe,
        target: fake.Endpoint | None,
        label: str,
        expected: tuple[type[SourceError], ...],
    ) -> list[str]:
        where = f"{label} from {target[0]} {target[1]}" if target else label
        names, cprs = (TITLE, INSTANCE), self._cprs()
        return error_problems(
            outcome, probe, where, expected, names=names, cprs=cprs, target=target
        )


def _identity(record: Any) -> Any:
    """What tells records apart: a case's id, a relation's key."""
    return getattr(record, "id", None) or getattr(record, "key", None) or repr(record)
