"""Engine: fan-out under a deadline, key expansion, honest status per source, join."""

import logging
import threading
import time

import pytest

from borgersag.domain.keys import KeyKind, parse_key
from borgersag.domain.model import SourceStatus
from borgersag.lookup.cache import ResultCache
from borgersag.lookup.engine import Engine

from support.fakes import FakeOwnership, FakeRegister, FakeSource

CPR = parse_key("cpr", "0102031234")
OTHER = parse_key("cpr", "0203041234")


def status_of(overview, name):
    return next(r for r in overview.sources if r.source == name)


@pytest.fixture
def engines():
    made = []

    def make(sources, **kwargs):
        engine = Engine({s.name: s for s in sources}, **kwargs)
        made.append((engine, sources))
        return engine

    yield make
    for engine, sources in made:
        for s in sources:
            if hasattr(s, "release"):
                s.release.set()
        engine.close()


def test_every_source_gets_one_honest_status(engines):
    sources = [
        FakeSource("esdh", cases={CPR.value: ["Boligstøtte", "Kontanthjælp"]}),
        FakeSource("jobcenter", cases={}),
        FakeSource("broken", fail="fatal"),
        FakeSource("permits", kinds=(KeyKind.MATRIKEL,)),
    ]
    overview = engines(sources).overview(CPR)
    assert [r.source for r in overview.sources] == ["esdh", "jobcenter", "broken", "permits"]
    assert status_of(overview, "esdh").status is SourceStatus.OK
    assert status_of(overview, "esdh").case_count == 2
    assert status_of(overview, "jobcenter").status is SourceStatus.EMPTY
    broken = status_of(overview, "broken")
    assert broken.status is SourceStatus.FAILED
    assert "ikke er gyldig JSON" in broken.message
    assert status_of(overview, "permits").status is SourceStatus.NOT_APPLICABLE
    assert len(overview.cases) == 2
    assert not overview.complete


def test_hung_source_does_not_hold_the_overview_past_the_deadline(engines):
    hung = FakeSource("hung", fail="hang")
    fast = FakeSource("fast", cases={CPR.value: ["Boligstøtte"]})
    engine = engines([hung, fast], deadline=0.3)
    started = time.monotonic()
    overview = engine.overview(CPR)
    elapsed = time.monotonic() - started
    assert elapsed < 2.0  # generous: the point is "not 30 s", not a timing target
    assert status_of(overview, "hung").status is SourceStatus.TIMEOUT
    assert "frist på 0,3 s" in status_of(overview, "hung").message  # the limit that passed
    assert [c.title for c in overview.cases] == ["Boligstøtte"]


def test_sources_are_asked_in_parallel(engines):
    sources = [FakeSource(f"s{i}", cases={CPR.value: [f"Sag {i}"]}, delay=0.2) for i in range(5)]
    started = time.monotonic()
    overview = engines(sources, deadline=5).overview(CPR)
    assert time.monotonic() - started < 0.2 * 5 * 0.8  # well under the sum of delays
    assert len(overview.cases) == 5


def test_cpr_expands_to_owned_parcels_with_the_reason(engines):
    owner = FakeOwnership("ejer", {CPR.value: ["2000351-12a"]})
    esdh = FakeSource("esdh", cases={CPR.value: ["Boligstøtte"]})
    permits = FakeSource(
        "byg", kinds=(KeyKind.MATRIKEL,), cases={"2000351-12a": ["Byggesag carport"]}
    )
    overview = engines([owner, esdh, permits]).overview(CPR)
    assert [(e.key.value, e.reason, e.via) for e in overview.expansions] == [
        ("2000351-12a", "ejer af matrikel 2000351-12a", "ejer")
    ]
    building = next(c for c in overview.cases if c.source == "byg")
    assert building.reason == "ejer af matrikel 2000351-12a"
    assert status_of(overview, "ejer").status is SourceStatus.OK
    assert status_of(overview, "ejer").relation_count == 1
    assert status_of(overview, "byg").status is SourceStatus.OK


def test_expansion_is_one_hop_only(engines):
    owner = FakeOwnership("ejer", {CPR.value: ["2000351-12a"]})
    owner.relation_kinds = frozenset({KeyKind.CPR, KeyKind.MATRIKEL})
    owner.parcels["2000351-12a"] = ["2000351-99"]
    permits = FakeSource("byg", kinds=(KeyKind.MATRIKEL,), cases={"2000351-99": ["Byg"]})
    overview = engines([owner, permits]).overview(CPR)
    assert [e.key.value for e in overview.expansions] == ["2000351-12a"]
    assert overview.cases == ()


def test_failed_relation_source_is_reported_and_direct_cases_still_shown(engines):
    owner = FakeOwnership("ejer", {}, fail=True)
    esdh = FakeSource("esdh", cases={CPR.value: ["Boligstøtte"]})
    overview = engines([owner, esdh]).overview(CPR)
    assert status_of(overview, "ejer").status is SourceStatus.FAILED
    assert len(overview.cases) == 1


def test_same_matter_in_two_systems_is_shown_once_with_both_sources(engines):
    owner = FakeOwnership("ejer", {CPR.value: ["2000351-12a"]})
    esdh = FakeSource(
        "esdh",
        cases={CPR.value: ["Byggesag journal"]},
        join_keys={"Byggesag journal": ["byggesag:BYG-1"]},
    )
    permits = FakeSource(
        "byg",
        kinds=(KeyKind.MATRIKEL,),
        cases={"2000351-12a": ["Byggesag carport"]},
        join_keys={"Byggesag carport": ["byggesag:BYG-1"]},
    )
    overview = engines([owner, esdh, permits]).overview(CPR)
    assert len(overview.cases) == 1
    joined = overview.cases[0]
    assert {p.source for p in joined.all_sources} == {"esdh", "byg"}
    assert len(joined.also_known_as) == 1


def test_retriable_error_is_retried_once(engines):
    flaky = FakeSource("flaky", fail="retriable")
    overview = engines([flaky]).overview(CPR)
    assert flaky.calls == 2
    assert status_of(overview, "flaky").status is SourceStatus.FAILED
    assert "503" in status_of(overview, "flaky").message


def test_connector_bug_becomes_a_failed_source_not_a_crash(engines, caplog):
    overview = engines([FakeSource("buggy", fail="bug")]).overview(CPR)
    assert status_of(overview, "buggy").status is SourceStatus.FAILED
    assert "uventet fejl" in status_of(overview, "buggy").message


def test_cached_answer_is_reused_within_ttl(engines):
    esdh = FakeSource("esdh", cases={CPR.value: ["Boligstøtte"]})
    engine = engines([esdh], cache=ResultCache(ttl=60))
    engine.overview(CPR)
    engine.overview(CPR)
    assert esdh.calls == 1
    engine.overview(OTHER)
    assert esdh.calls == 2


def test_stale_answer_is_shown_marked_when_source_fails(engines):
    now = [1000.0]
    esdh = FakeSource("esdh", cases={CPR.value: ["Boligstøtte"]})
    engine = engines([esdh], cache=ResultCache(ttl=60, stale_max_age=3600, clock=lambda: now[0]))
    engine.overview(CPR)
    now[0] += 600
    esdh.fail = "fatal"
    overview = engine.overview(CPR)
    result = status_of(overview, "esdh")
    assert result.status is SourceStatus.STALE
    assert result.age_seconds == 600
    assert result.message == "esdh sendte et svar, der ikke er gyldig JSON."  # why, not when
    assert overview.cases[0].provenance.stale


def test_disabled_source_is_not_asked(engines):
    esdh = FakeSource("esdh", cases={CPR.value: ["Boligstøtte"]})
    overview = engines([esdh], disabled={"esdh"}).overview(CPR)
    assert esdh.calls == 0
    assert status_of(overview, "esdh").status is SourceStatus.DISABLED


def test_a_disabled_source_that_would_not_have_been_asked_is_not_applicable(engines):
    # switched off, but it searches by matrikel only: nothing is missing from a CPR lookup
    byg = FakeSource("byg", kinds=(KeyKind.MATRIKEL,))
    overview = engines([byg], disabled={"byg"}).overview(CPR)
    assert status_of(overview, "byg").status is SourceStatus.NOT_APPLICABLE
    assert overview.complete


def test_concurrent_lookups_of_one_key_ask_the_source_once(engines):
    esdh = FakeSource("esdh", cases={CPR.value: ["Boligstøtte"]}, delay=0.2)
    engine = engines([esdh], cache=ResultCache(ttl=60))
    threads = [threading.Thread(target=engine.overview, args=(CPR,)) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert esdh.calls == 1


def test_engine_logs_no_cpr(engines, caplog):
    caplog.set_level(logging.DEBUG)
    engines([FakeSource("esdh", fail="fatal"), FakeSource("ok")]).overview(CPR)
    assert caplog.records
    assert CPR.value not in caplog.text and CPR.format() not in caplog.text


def test_answer_from_cache_says_so(engines):
    now = [0.0]
    esdh = FakeSource("esdh", cases={CPR.value: ["Boligstøtte"]})
    engine = engines([esdh], cache=ResultCache(ttl=60, clock=lambda: now[0]))
    assert status_of(engine.overview(CPR), "esdh").message == ""
    now[0] = 30
    cached = status_of(engine.overview(CPR), "esdh")
    assert cached.status is SourceStatus.OK
    assert cached.age_seconds == 30 and cached.latency_ms is None  # not asked just now
    assert cached.message == ""  # the web layer words the age


def test_case_found_through_two_keys_counts_once(engines):
    owner = FakeOwnership("ejer", {CPR.value: ["2000351-12a", "2000351-12b"]})
    permits = FakeSource("byg", kinds=(KeyKind.MATRIKEL,))
    permits.search = lambda key: [permits.make_case(0, "Carport")]  # same case for both keys
    overview = engines([owner, permits]).overview(CPR)
    assert status_of(overview, "byg").case_count == 1
    assert len(overview.cases) == 1


def test_not_applicable_names_the_kinds_it_searches_on(engines):
    overview = engines([FakeSource("esdh")]).overview(parse_key("cvr", "13585628"))
    result = status_of(overview, "esdh")
    assert result.status is SourceStatus.NOT_APPLICABLE
    assert result.message == "Søger på CPR-nummer."  # what it does search on


def test_a_sources_caveat_goes_with_each_of_its_answers(engines):
    class Hiding(FakeSource):
        def caveat(self):
            return "Sager over klientens fortrolighedsniveau er usynlige herfra."

    class Broken(FakeSource):
        def caveat(self):
            raise RuntimeError("bug in a third-party connector")

    sources = [
        Hiding("zgw", cases={CPR.value: ["Beboerlicens"]}),
        Hiding("zgw2", cases={}),
        Broken("other", cases={CPR.value: ["Sag"]}),
    ]
    overview = engines(sources).overview(CPR)
    assert "usynlige" in status_of(overview, "zgw").message
    assert status_of(overview, "zgw2").status is SourceStatus.EMPTY
    assert "usynlige" in status_of(overview, "zgw2").message  # "none" may not mean none
    assert status_of(overview, "other").status is SourceStatus.OK
    assert status_of(overview, "other").message == ""


def test_unreadable_records_and_truncation_reach_the_source_result(engines):
    partly = FakeSource("esdh", cases={CPR.value: ["Boligstøtte", "Kontanthjælp"]}, unreadable=1)
    capped = FakeSource("permits", cases={CPR.value: ["Byggesag"]}, truncated=True)
    whole = FakeSource("jobs", cases={CPR.value: ["Sygedagpenge"]})
    overview = engines([partly, capped, whole]).overview(CPR)
    esdh, permits = status_of(overview, "esdh"), status_of(overview, "permits")
    assert (esdh.status, esdh.case_count, esdh.unreadable) == (SourceStatus.OK, 2, 1)
    assert not esdh.truncated and permits.truncated and permits.at_least == 1
    assert not status_of(overview, "jobs").partial
    assert len(overview.cases) == 4  # every readable case is shown
    assert [r.source for r in overview.partial] == ["esdh", "permits"]
    assert not overview.complete and not overview.unavailable


def test_only_unreadable_records_is_not_no_cases(engines):
    overview = engines([FakeSource("esdh", unreadable=2)]).overview(CPR)
    result = status_of(overview, "esdh")
    assert result.status is SourceStatus.OK and result.unreadable == 2
    assert not overview.complete


def test_a_cached_answer_keeps_what_it_could_not_read(engines):
    source = FakeSource("esdh", cases={CPR.value: ["Boligstøtte"]}, unreadable=1, truncated=True)
    engine = engines([source], cache=ResultCache(ttl=60))
    engine.overview(CPR)
    again = status_of(engine.overview(CPR), "esdh")
    assert source.calls == 1 and again.age_seconds is not None
    assert again.unreadable == 1 and again.truncated


# -- progress: each source's answer as it is settled ------------------------------------


def test_progress_reports_each_source_as_it_answers_with_its_cases_so_far(engines):
    fast = FakeSource("fast", cases={CPR.value: ["Boligstøtte"]})
    slow = FakeSource("slow", cases={CPR.value: ["Kontanthjælp"]}, delay=0.4)
    seen = []
    overview = engines([fast, slow], deadline=5).overview(CPR, on_progress=seen.append)
    assert seen[0].overview.sources == ()  # when the calls are sent: nobody has answered
    assert {name for name, _title in seen[0].waiting} == {"fast", "slow"}
    first = next(p for p in seen if p.overview.sources)
    assert [r.source for r in first.overview.sources] == ["fast"]
    assert first.overview.sources[0].status is SourceStatus.OK
    assert [c.title for c in first.overview.cases] == ["Boligstøtte"]
    assert first.waiting == (("slow", "Fake"),)
    # the final answer is the return value, with both
    assert sorted(c.title for c in overview.cases) == ["Boligstøtte", "Kontanthjælp"]


def test_a_search_source_is_not_settled_while_a_relation_may_still_send_it_a_search(engines):
    class SlowOwnership(FakeOwnership):
        def relations(self, key):
            time.sleep(0.3)
            return super().relations(key)

    owner = SlowOwnership("ejer", {CPR.value: ["2000351-12a"]})
    permits = FakeSource("byg", kinds=(KeyKind.MATRIKEL,), cases={"2000351-12a": ["Byg"]})
    esdh = FakeSource("esdh", cases={CPR.value: ["Boligstøtte"]})
    seen = []
    engines([owner, permits, esdh], deadline=5).overview(CPR, on_progress=seen.append)
    for progress in seen:
        settled = {r.source for r in progress.overview.sources}
        if "ejer" not in settled:
            # until the owners are known, the permit system may yet be asked (and esdh
            # too: a relation could name a CPR number)
            assert settled == set()
    # the permit system appears with the case found through the parcel, never as "not asked"
    byg = [r for p in seen for r in p.overview.sources if r.source == "byg"]
    assert all(r.status is not SourceStatus.NOT_APPLICABLE for r in byg)


def test_a_timed_out_source_is_only_in_the_final_answer(engines):
    hung = FakeSource("hung", fail="hang")
    fast = FakeSource("fast", cases={CPR.value: ["Boligstøtte"]})
    seen = []
    overview = engines([hung, fast], deadline=0.4).overview(CPR, on_progress=seen.append)
    assert all("hung" in dict(p.waiting) for p in seen)
    assert status_of(overview, "hung").status is SourceStatus.TIMEOUT


def test_a_failing_progress_listener_costs_the_lookup_nothing(engines, caplog):
    calls = []

    def listener(progress):
        calls.append(progress)
        raise RuntimeError("the store is down")

    sources = [
        FakeSource(f"s{i}", cases={CPR.value: [f"Sag {i}"]}, delay=0.05 * i) for i in range(3)
    ]
    with caplog.at_level(logging.ERROR):
        overview = engines(sources, deadline=5).overview(CPR, on_progress=listener)
    assert len(overview.cases) == 3
    assert len(calls) == 1  # not called again after it failed
    assert "progress listener failed" in caplog.text


def test_progress_is_told_once_per_change(engines):
    class SlowOwnership(FakeOwnership):
        def relations(self, key):
            time.sleep(0.3)
            return super().relations(key)

    # esdh answers first but is not settled while the owners may still name a CPR number
    owner = SlowOwnership("ejer", {CPR.value: ["2000351-12a"]})
    esdh = FakeSource("esdh", cases={CPR.value: ["Boligstøtte"]})
    permits = FakeSource("byg", kinds=(KeyKind.MATRIKEL,), cases={"2000351-12a": ["Byg"]})
    seen = []
    engines([owner, esdh, permits], deadline=5).overview(CPR, on_progress=seen.append)
    settled = [frozenset(r.source for r in p.overview.sources) for p in seen]
    assert len(settled) == len(set(settled))  # each report says something new


def test_a_person_register_is_asked_about_the_subject_and_its_answer_kept(engines):
    register = FakeRegister("cpr", {CPR.value: ("Karen Holm Jensen", "Møllevej 4", True)})
    esdh = FakeSource("esdh", cases={CPR.value: ["Boligstøtte"]})
    ejer = FakeOwnership("ejer", {CPR.value: ["2000351-12a"]})
    byg = FakeSource("byg", kinds=(KeyKind.MATRIKEL,), cases={"2000351-12a": ["Byggesag"]})
    overview = engines([register, esdh, ejer, byg]).overview(CPR)
    [person] = overview.persons
    assert (person.name, person.address, person.protected) == (
        "Karen Holm Jensen",
        "Møllevej 4",
        True,
    )
    assert person.source == "cpr"  # set by the engine
    assert register.asked == [CPR]  # the subject only, never an expanded key
    result = status_of(overview, "cpr")
    assert (result.status, result.person_count, result.case_count) == (SourceStatus.OK, 1, 0)
    assert result.person_register and not status_of(overview, "esdh").person_register
    assert status_of(overview, "ejer").relation_source and not result.relation_source
    assert len(overview.cases) == 2 and overview.complete


def test_a_register_that_does_not_know_the_key_or_fails_is_told_apart(engines):
    unknown = engines([FakeRegister("cpr", {})]).overview(CPR)
    assert unknown.persons == () and status_of(unknown, "cpr").status is SourceStatus.EMPTY
    down = engines([FakeRegister("cpr", {}, fail=True)]).overview(CPR)
    assert status_of(down, "cpr").status is SourceStatus.FAILED
    assert [r.source for r in down.shortfalls] == ["cpr"]
    # a property lookup does not ask a person register at all
    parcel = parse_key("matrikel", "2000351-12a")
    assert (
        status_of(engines([FakeRegister("cpr", {})]).overview(parcel), "cpr").status
        is SourceStatus.NOT_APPLICABLE
    )
