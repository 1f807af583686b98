"""The sandbox municipality: generated data, the three services over HTTP, fault knobs."""

from __future__ import annotations

import logging
import threading
import time

import pytest
import requests
from stdnum.dk import cpr as stdnum_cpr

from borgersag.domain.keys import KeyKind, parse_key
from borgersag.sandbox import catalog
from borgersag.sandbox.data import NOW
from borgersag.sandbox.esdh import CREDENTIALS
from borgersag.sandbox.faults import FaultError, Faults, FaultSettings, parse_fault_settings
from borgersag.sandbox.generator import generate
from borgersag.sandbox.runner import SERVICES, start_sandbox
from borgersag.sandbox.section import (
    NO_LATENCY,
    SERVICE_NAMES,
    ServiceSettings,
    validate_sandbox_settings,
)
from borgersag.sdk.errors import ConfigError

API_KEY = {"X-Api-Key": "sandbox-key"}
TIMEOUT = 5


def get(url, **kwargs):
    return requests.get(url, timeout=kwargs.pop("timeout", TIMEOUT), **kwargs)


def post(url, **kwargs):
    return requests.post(url, timeout=kwargs.pop("timeout", TIMEOUT), **kwargs)


def put(url, **kwargs):
    return requests.put(url, timeout=TIMEOUT, **kwargs)


def delete(url, **kwargs):
    return requests.delete(url, timeout=TIMEOUT, **kwargs)


@pytest.fixture(scope="module")
def town():
    return generate(2026)


# -- generated data -----------------------------------------------------------------------


def test_same_seed_same_municipality_other_seed_other(town):
    assert generate(2026) == town
    assert generate(7).citizens != town.citizens


def test_generation_is_fast():
    started = time.perf_counter()
    generate(99)
    assert time.perf_counter() - started < 2.0  # well under 1 s normally; shared CI is noisy


def test_citizens_have_valid_cpr_numbers_matching_gender_and_name(town):
    assert len(town.citizens) >= 200
    assert len({c.cpr for c in town.citizens}) == len(town.citizens)
    for citizen in town.citizens:
        key = parse_key(KeyKind.CPR, citizen.cpr_dashed)
        assert key.value == citizen.cpr
        assert stdnum_cpr.get_birth_date(citizen.cpr) == citizen.birth_date
        assert citizen.birth_date < NOW
        male = int(citizen.cpr[-1]) % 2 == 1
        assert (citizen.gender == "M") == male
        names = catalog.MALE_NAMES if male else catalog.FEMALE_NAMES
        assert citizen.first_name.split()[0] in names
        assert citizen.address.postnummer in {d.postnummer for d in catalog.DISTRICTS}


def test_a_few_citizens_are_protected(town):
    protected = [c for c in town.citizens if c.protected]
    assert 1 <= len(protected) <= len(town.citizens) // 10


def test_caseworkers_belong_to_units_with_kle_groups(town):
    assert len(town.employees) >= 25
    assert len({e.medarbejdernummer for e in town.employees}) == len(town.employees)
    assert len({e.logon_id for e in town.employees}) == len(town.employees)
    for employee in town.employees:
        assert employee.medarbejdernummer.startswith("M")
        assert employee.kle_groups


def test_cases_are_realistic(town):
    levels = {c.sensitivity for c in town.cases}
    assert levels == {0, 1, 2, 3}
    assert sum(c.sensitivity == 3 for c in town.cases) < len(town.cases) * 0.02
    for case in town.cases:
        assert case.nummer.startswith(case.kle + "-" + case.facet + "-")
        assert case.history[0].name == "Opstået"
        dates = [s.date for s in case.history]
        assert dates == sorted(dates) and dates[-1] <= NOW
        assert 2 <= len(case.documents) <= 6
        assert all(case.opened <= d.date <= NOW for d in case.documents)
        if case.deadline:
            assert case.closed is None
        employee = town.employee(case.caseworker)
        assert employee.unit == case.unit
    documents = [d for c in town.cases for d in c.documents]
    assert {d.art for d in documents} >= {"Brev indgående", "Brev udgående", "Internt notat"}
    assert any(d.status == "Under udarbejdelse" for d in documents)
    assert any(not d.party_may_see for d in documents)


def test_building_cases_join_the_esdh_on_the_permit_number(town):
    journalised = [b for b in town.building_cases if b.esdh_case_id]
    assert 0.25 < len(journalised) / len(town.building_cases) < 0.75
    for building in journalised:
        esdh = town.case(building.esdh_case_id)
        assert esdh.nummer == building.esdh_nummer
        assert ("Byggesag", building.sagsnummer) in esdh.external_refs
        assert esdh.kle.startswith("02.34.")
        assert esdh.parcels == (
            (building.bfe, building.parcel.ejerlavskode, building.parcel.matrikelnummer),
        )
        assert building.parcel in town.property(building.bfe).parcels


def test_ownership_register(town):
    adults = [c for c in town.citizens if c.age >= 18]
    owners = {o.cpr for o in town.ownerships}
    assert 0.3 < len(owners) / len(adults) < 0.6
    coowned = [p for p in town.properties if len(town.owners_of(p.bfe)) == 2]
    assert coowned
    assert all(o.share == (1, 2) for p in coowned for o in town.owners_of(p.bfe))
    assert all(1 <= len(p.parcels) <= 2 for p in town.properties)


def test_some_properties_changed_hands(town):
    """The register's history: a previous owner's ownership ended the day the current
    owners' began; they are none of the named identities, and no longer an owner."""
    ended = [o for o in town.ownerships if o.until is not None]
    assert 5 <= len(ended) <= len(town.properties) // 2
    named = set(town.demo.as_dict().values())
    for sold in ended:
        current = town.owners_of(sold.bfe)
        assert current and {o.since for o in current} == {sold.until}
        assert sold.since < sold.until and sold.cpr not in named
        assert sold not in town.ownerships_of(sold.cpr)
        assert sold in town.ownerships_of(sold.cpr, history=True)
        assert sold in town.owners_of(sold.bfe, history=True)
        # Building cases there are the buyers': all began on or after the sale.
        assert all(b.received >= sold.until for b in town.building_cases_on_property(sold.bfe))


def test_demo_identities_fit_their_descriptions(town):
    demo = town.demo
    typical = town.cases_for(demo.typical)
    assert len({c.area for c in typical if c.area != "Byggeri"}) >= 2
    owned = town.ownerships_of(demo.typical)
    buildings = [b for o in owned for b in town.building_cases_on_property(o.bfe)]
    assert any(b.esdh_case_id in {c.id for c in typical} for b in buildings)

    partner_shares = {
        o.cpr: o.share for o in town.owners_of(town.ownerships_of(demo.coowner)[0].bfe)
    }
    assert partner_shares == {demo.coowner: (1, 2), demo.coowner_partner: (1, 2)}

    assert town.citizen(demo.protected).protected
    assert len(town.cases_for(demo.heavy)) >= 500
    assert town.cases_for(demo.nothing) == [] and town.ownerships_of(demo.nothing) == []
    assert town.citizen(demo.nothing) is not None

    busiest = max(len(town.cases_handled_by(e.medarbejdernummer)) for e in town.employees)
    assert len(town.cases_handled_by(demo.caseworker)) == busiest >= 50


def test_hostile_citizen_has_markup_and_comes_after_everyone_else(town):
    """Markup in title, status comment, document and building titles (tests/test_escaping.py);
    built last from its own random numbers, so nobody else's records moved."""
    hostile = town.demo.hostile
    assert town.citizens[-1].cpr == hostile
    cases = town.cases_for(hostile)
    assert [c.id for c in cases] == [c.id for c in town.cases[-len(cases) :]]
    own = next(c for c in cases if not c.external_refs)
    assert "<script>" in own.title and "<img " in own.status.comment
    assert any('"><b>fed</b>' in d.title for d in own.documents if d.status == "Endeligt")
    (ownership,) = town.ownerships_of(hostile)
    (building,) = town.building_cases_on_property(ownership.bfe)
    # after it only the demo caseworker's housing adaptations (their own RNG as well)
    later = town.building_cases[town.building_cases.index(building) + 1 :]
    assert all(b.caseworker == town.demo.caseworker for b in later)
    assert "<img " in building.title and town.case(building.esdh_case_id) in cases


# -- the ESDH over HTTP -------------------------------------------------------------------


def _token(url):
    response = post(url + "connect/token", data={"grant_type": "password", **CREDENTIALS})
    assert response.status_code == 200
    body = response.json()
    assert body["token_type"] == "Bearer" and body["expires_in"] == 3600
    return {"Authorization": "Bearer " + body["access_token"]}


def _search(url, headers, cpr, **extra):
    return post(
        url + "api/sag/search",
        json={"PrimaerPerson": {"CprNummer": f"{cpr[:6]}-{cpr[6:]}"}, **extra},
        headers=headers,
        timeout=5,
    )


@pytest.mark.parametrize(
    ("field", "value"),
    [("password", "wrong"), ("client_secret", "wrong"), ("grant_type", "client_credentials")],
)
def test_esdh_refuses_wrong_credentials(sandbox, field, value):
    form = {"grant_type": "password", **CREDENTIALS, field: value}
    response = post(sandbox.url("esdh") + "connect/token", data=form)
    assert response.status_code == 400
    assert response.json()["error"] in ("invalid_grant", "unsupported_grant_type")


def test_esdh_api_needs_a_token(sandbox):
    cpr = sandbox.municipality.demo.typical
    response = _search(sandbox.url("esdh"), {"Authorization": "Bearer nonsense"}, cpr)
    assert response.status_code == 401
    assert "Bearer" in response.json()["error"]["message"]


@pytest.mark.parametrize(
    ("case_id", "body", "status"),
    [
        (10001, {"status": "Lukket"}, 400),  # not one of the sandbox's statuses
        (10001, {"status": "Afgjort", "date": "31-12-2026"}, 400),
        (10001, ["Afgjort"], 400),
        (99999999, {"status": "Afgjort"}, 404),
    ],
)
def test_esdh_status_knob_refuses_what_it_cannot_do(sandbox, case_id, body, status):
    # only refusals here: a change would show in the session's shared sandbox (the case
    # index's tests change cases in a sandbox of their own)
    response = requests.put(
        f"{sandbox.url('esdh')}_sandbox/cases/{case_id}/status", json=body, timeout=5
    )
    assert response.status_code == status
    assert response.json()["error"]["message"]


def test_esdh_search_is_the_documented_one_and_reads_cases(sandbox):
    url, m = sandbox.url("esdh"), sandbox.municipality
    headers = _token(url)
    first = _search(url, headers, m.demo.heavy, Limit=300).json()
    again = _search(url, headers, m.demo.heavy, Limit=300, Offset=300).json()
    assert set(first) == {"Results"} and len(first["Results"]) == 300
    assert again == first  # an Offset is not in the documented API: ignored, like a real server
    everything = _search(url, headers, m.demo.heavy, Limit=2000).json()["Results"]
    assert len(everything) == len(m.cases_for(m.demo.heavy))
    case = first["Results"][0]
    assert case["PrimaryPart"]["CPRnummer"] == f"{m.demo.heavy[:6]}-{m.demo.heavy[6:]}"
    assert case["Nummer"].startswith(case["Kle"]["Nummer"])
    one = get(f"{url}api/sag/{case['Id']}", headers=headers).json()
    assert one == case
    docs = get(f"{url}api/sag/{case['Id']}/dokumenter", headers=headers).json()
    assert {"DokumentArt", "Status", "PartMaaSe", "FilId", "Foelsomhed"} <= set(docs[0])
    file = get(f"{url}api/fil/{docs[0]['FilId']}", headers=headers)
    assert file.headers["Content-Type"].startswith("text/plain") and file.text
    statuses = get(url + "api/sag/sagStatusList", headers=headers).json()
    assert [s["Navn"] for s in statuses][:3] == ["Opstået", "Opklaring", "Afventer"]


def test_esdh_hostile_mode_serves_what_real_systems_send_on_a_bad_day(fault_sandbox):
    url, m = fault_sandbox.url("esdh"), fault_sandbox.municipality
    headers = _token(url)
    honest = _search(url, headers, m.demo.typical, Limit=2000).json()["Results"]
    fault_sandbox.faults("esdh").update(hostile=True)
    results = _search(url, headers, m.demo.typical, Limit=2000).json()["Results"]
    assert len(results) == 2000 > len(honest)  # thousands of cases: the limit is reached
    assert any(r["Nummer"] is None for r in results)
    assert any("-02-30" in r["Opstaaet"] for r in results)
    statuses = {r["SagsStatus"]["Navn"] for r in results}
    assert statuses - {name for name, _, _ in catalog.ESDH_STATUSES}  # names nobody mapped
    assert any("<script>" in r["SagsTitel"] or "<b>" in r["SagsTitel"] for r in results)
    assert any(r["Fagomraade"] is None for r in results)
    again = _search(url, headers, m.demo.typical, Limit=2000).json()["Results"]
    assert again == results  # the same surprises every time
    types = {
        get(f"{url}api/sag/{r['Id']}/dokumenter", headers=headers).headers["Content-Type"]
        for r in honest
    }
    assert any(t.startswith("text/html") for t in types)  # JSON sent as something else
    fault_sandbox.faults("esdh").reset()
    assert _search(url, headers, m.demo.typical, Limit=2000).json()["Results"] == honest


@pytest.mark.parametrize(
    "body",
    [
        {"PrimaerPerson": {"CprNummer": "0101011234"}},
        {"PrimaerPerson": {"CprNummer": "010101-1234"}, "Limit": 5000},
        {"PrimaerPerson": {"CprNummer": "010101-1234"}, "Limit": 0},
        {"Limit": 10},
    ],
)
def test_esdh_rejects_bad_searches_with_json(sandbox, body):
    url = sandbox.url("esdh")
    response = post(url + "api/sag/search", json=body, headers=_token(url))
    assert response.status_code == 400
    assert response.json()["error"]["message"]


def test_unknown_paths_are_json_errors(sandbox):
    for service in ("esdh", "ejerfortegnelse", "byggesag"):
        response = get(sandbox.url(service) + "nope", headers=API_KEY)
        assert response.status_code in (401, 404)
        assert response.headers["Content-Type"] == "application/json"


def test_no_cpr_number_reaches_the_access_log(sandbox, caplog):
    url, cpr = sandbox.url("esdh"), sandbox.municipality.demo.typical
    with caplog.at_level(logging.DEBUG):
        _search(url, _token(url), cpr)
        post(
            sandbox.url("ejerfortegnelse") + "ejerfortegnelse/v1/ejerskaber/soeg",
            json={"cpr": cpr},
            headers=API_KEY,
        )
    assert cpr[:6] not in caplog.text


# -- ownership register and permit system over HTTP ---------------------------------------


def test_ownership_register_over_http(sandbox):
    url, m = sandbox.url("ejerfortegnelse"), sandbox.municipality
    path = url + "ejerfortegnelse/v1/ejerskaber/soeg"
    assert post(path, json={"cpr": m.demo.coowner}).status_code == 401
    body = post(path, json={"cpr": m.demo.coowner}, headers=API_KEY).json()
    (ownership,) = body["ejerskaber"]
    assert ownership["ejerandel"] == {"taeller": 1, "naevner": 2}
    assert ownership["ejendom"]["jordstykker"][0]["ejerlavskode"] > 0
    owners = get(
        f"{url}ejerfortegnelse/v1/ejendomme/{ownership['bfeNummer']}/ejere", headers=API_KEY
    ).json()["ejere"]
    assert len(owners) == 2
    assert all(o["cprMaskeret"].endswith("-xxxx") for o in owners)
    none = post(path, json={"cpr": m.demo.nothing}, headers=API_KEY).json()
    assert none == {"ejerskaber": []}
    assert post(path, json={"cpr": "12"}, headers=API_KEY).status_code == 400


def test_permit_system_over_http(sandbox):
    url, m = sandbox.url("byggesag"), sandbox.municipality
    building = next(b for b in m.building_cases if b.esdh_nummer)
    by_bfe = get(url + "api/v1/byggesager", params={"bfe": building.bfe}, headers=API_KEY)
    assert building.sagsnummer in {s["sagsnummer"] for s in by_bfe.json()["sager"]}
    by_parcel = get(
        url + "api/v1/byggesager",
        params={
            "ejerlav": building.parcel.ejerlavskode,
            "matrikel": building.parcel.matrikelnummer,
        },
        headers=API_KEY,
    ).json()
    assert building.sagsnummer in {s["sagsnummer"] for s in by_parcel["sager"]}
    detail = get(f"{url}api/v1/byggesager/{building.sagsnummer}", headers=API_KEY).json()
    assert detail["esdhReference"]["sagsnummer"] == building.esdh_nummer
    assert detail["sagsbehandler"]["initialer"] and detail["dokumenter"]
    assert detail["statushistorik"][0]["status"] == "Modtaget"
    too_big = get(
        url + "api/v1/byggesager", params={"bfe": 1, "antal_pr_side": 1000}, headers=API_KEY
    )
    assert too_big.status_code == 400


def test_permit_system_pages(sandbox):
    url, m = sandbox.url("byggesag"), sandbox.municipality
    bfe = max(m.properties, key=lambda p: len(m.building_cases_on_property(p.bfe))).bfe
    total = len(m.building_cases_on_property(bfe))
    seen = []
    for side in range(1, total + 1):
        params = {"bfe": bfe, "side": side, "antal_pr_side": 1}
        body = get(url + "api/v1/byggesager", params=params, headers=API_KEY).json()
        assert body["antal"] == total
        seen += [s["sagsnummer"] for s in body["sager"]]
    assert len(set(seen)) == total


# -- fault knobs --------------------------------------------------------------------------


def test_latency_is_measurable(fault_sandbox):
    url = fault_sandbox.url("byggesag")
    fault_sandbox.faults("byggesag").update(latency_ms=300)
    started = time.perf_counter()
    assert get(url + "health").status_code == 200
    assert time.perf_counter() - started >= 0.3


def test_fail_500_and_garbage(fault_sandbox):
    url = fault_sandbox.url("esdh")
    fault_sandbox.faults("esdh").update(fail="500")
    response = post(url + "connect/token", data={"grant_type": "password", **CREDENTIALS})
    assert response.status_code == 500 and response.json()["error"]["message"]
    fault_sandbox.faults("esdh").update(fail="garbage")
    response = get(url + "health")
    assert response.status_code == 200
    with pytest.raises(ValueError):
        response.json()


def test_fail_rate_zero_never_fails(fault_sandbox):
    fault_sandbox.faults("byggesag").update(fail="500", fail_rate=0.0)
    url = fault_sandbox.url("byggesag")
    assert all(get(url + "health").status_code == 200 for _ in range(5))


def test_hang_is_released_by_reset(fault_sandbox):
    url = fault_sandbox.url("ejerfortegnelse")
    fault_sandbox.faults("ejerfortegnelse").update(hang=True)
    result = {}
    worker = threading.Thread(target=lambda: result.update(r=get(url + "health")))
    worker.start()
    worker.join(0.3)
    assert worker.is_alive()
    # The knob endpoint itself never hangs.
    assert get(url + "_sandbox/faults", timeout=2).json()["hang"] is True
    fault_sandbox.reset_faults()
    worker.join(3)
    assert not worker.is_alive() and result["r"].status_code == 200


def test_hang_is_released_by_stop():
    sandbox = start_sandbox({"services": {**NO_LATENCY["services"], "byggesag": {"hang": True}}})
    result = {}
    url = sandbox.url("byggesag") + "health"
    worker = threading.Thread(target=lambda: result.update(r=get(url, timeout=5)))
    worker.start()
    worker.join(0.2)
    assert worker.is_alive()
    started = time.perf_counter()
    sandbox.stop()
    worker.join(3)
    assert time.perf_counter() - started < 3
    assert result["r"].status_code == 503


def test_knobs_over_http(fault_sandbox):
    url = fault_sandbox.url("esdh") + "_sandbox/faults"
    assert get(url).json() == {
        "latency_ms": 0,
        "hang": False,
        "fail": None,
        "fail_rate": 1.0,
        "hostile": False,
    }
    assert put(url, json={"latency_ms": 5, "fail": "garbage"}).json()["fail"] == "garbage"
    assert fault_sandbox.faults("esdh").settings.latency_ms == 5
    bad = put(url, json={"fail": "sometimes"})
    assert bad.status_code == 400
    assert bad.json()["error"]["field"] == "fail"
    assert put(url, data="nope").status_code == 400
    assert delete(url).json()["fail"] is None


@pytest.mark.parametrize(
    ("raw", "field"),
    [
        ({"latency_ms": -1}, "latency_ms"),
        ({"latency_ms": "fast"}, "latency_ms"),
        ({"hang": "yes"}, "hang"),
        ({"fail": 500}, "fail"),
        ({"fail_rate": 1.5}, "fail_rate"),
        ({"slow": True}, "slow"),
        ({"hostile": "yes"}, "hostile"),
    ],
)
def test_fault_settings_are_validated(raw, field):
    with pytest.raises(FaultError) as info:
        parse_fault_settings(raw)
    assert info.value.field == field
    with pytest.raises(FaultError):
        Faults().update(raw)


# -- settings and runner ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "key"),
    [
        ({"services": {"esdh": {"port": 70000}}}, "sandbox.services.esdh.port"),
        ({"services": {"esdh": {"port": "8701"}}}, "sandbox.services.esdh.port"),
        ({"services": {"byggesag": {"fail": "often"}}}, "sandbox.services.byggesag.fail"),
        (
            {"services": {"ejerfortegnelse": {"latency_ms": -5}}},
            "sandbox.services.ejerfortegnelse.latency_ms",
        ),
        ({"services": {"sharepoint": {}}}, "sandbox.services.sharepoint"),
        ({"services": {"esdh": 5}}, "sandbox.services.esdh"),
        ({"seed": "x"}, "sandbox.seed"),
        ({"host": "192.0.2.1"}, "sandbox.host"),
        ({"colour": "blue"}, "sandbox.colour"),
    ],
)
def test_sandbox_settings_errors_name_the_key(raw, key):
    with pytest.raises(ConfigError) as info:
        validate_sandbox_settings(raw, "config/borgersag.toml")
    assert info.value.key == key
    assert str(info.value).startswith(f"config/borgersag.toml: {key}: ")
    assert "\n" not in str(info.value)


def test_sandbox_settings_defaults():
    settings = validate_sandbox_settings({"services": {"esdh": {"port": 8701, "hang": False}}})
    assert settings.seed == 2026 and settings.host == "127.0.0.1"
    assert settings.services["esdh"] == ServiceSettings(
        port=8701, faults=FaultSettings(latency_ms=60, hang=False, fail=None, fail_rate=1.0)
    )
    assert settings.services["byggesag"].port == 0
    # every service answers in tens of milliseconds unless told otherwise
    assert all(20 <= s.faults.latency_ms <= 100 for s in settings.services.values())
    quiet = validate_sandbox_settings(NO_LATENCY)
    assert all(s.faults.latency_ms == 0 for s in quiet.services.values())


def test_the_section_names_every_service_the_runner_starts():
    """sandbox/section.py validates without importing the services, so it keeps its own list."""
    assert tuple(SERVICES) == SERVICE_NAMES


def test_a_busy_port_is_a_config_error(sandbox):
    busy = int(sandbox.url("esdh").rsplit(":", 1)[1].strip("/"))
    with pytest.raises(ConfigError) as info:
        start_sandbox(
            {"services": {**NO_LATENCY["services"], "esdh": {"port": busy}}},
            municipality=sandbox.municipality,
        )
    assert info.value.key == "sandbox.services.esdh.port"


def test_sandbox_starts_fast_and_stops_cleanly(sandbox):
    started = time.perf_counter()
    with start_sandbox(NO_LATENCY, municipality=sandbox.municipality) as other:
        assert time.perf_counter() - started < 1.0
        assert get(other.url("esdh") + "health").json()["service"] == "esdh"
        assert set(other.source_config()) == {
            "sbsys",
            "ejerfortegnelse",
            "byggesag",
            "zgw",
            "momentum",
            "os2mo",
            "cpr",
        }
    with pytest.raises(requests.ConnectionError):
        get(other.url("esdh") + "health", timeout=1)


def test_a_service_counts_the_requests_it_was_asked(sandbox):
    """What a benchmark reads to tell a cache hit from a call to the source."""
    url = sandbox.url("byggesag")
    before = get(url + "_sandbox/requests").json()["requests"]
    get(url + "api/v1/byggesager?bfe=1", headers={"X-Api-Key": "sandbox-key"})
    get(url + "health")  # a load balancer's probe is not the portal asking
    assert get(url + "_sandbox/requests").json()["requests"] == before + 1
