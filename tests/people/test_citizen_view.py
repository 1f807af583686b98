"""Mine sager's rules without Flask: which cases a citizen sees, how they look, the config."""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from pathlib import Path

import pytest

from borgersag.domain.keys import BFE, CPR, Matrikel
from borgersag.domain.model import (
    Case,
    Caseworker,
    Document,
    DocumentStatus,
    DocumentType,
    Event,
    Overview,
    Party,
    PartyRole,
    Progress,
    ProgressStep,
    Provenance,
    Sensitivity,
    SourceResult,
    SourceStatus,
)
from borgersag.domain.relations import Expansion, RelationRole, Share
from borgersag.lookup.documents import owning_case_id
from borgersag.people.citizen_policy import (
    CITIZEN_SETTINGS,
    CitizenPolicy,
    validate_citizen_settings,
)
from borgersag.people.citizen_view import Access, CitizenCase, citizen_view, progress_text
from borgersag.sdk.errors import ConfigError

ROOT = Path(__file__).resolve().parents[2]
AT = dt.datetime(2026, 11, 1, 9, 30, tzinfo=dt.UTC)
KAREN = CPR.parse("0103854321")
OLE = CPR.parse("1502701235")
PETER = CPR.parse("2207802468")
PARCEL = Matrikel.of(2000351, "12a")
ESTATE = BFE.parse("100123456")
RENTED = Matrikel.of(2000351, "99")
HALF = {"role": RelationRole.CO_OWNER, "share": Share(1, 2)}
OWNERSHIP = (
    Expansion(PARCEL, "medejer (1/2) af matrikel 2000351-12a (BFE 100123456)", "ejer", **HALF),
    Expansion(ESTATE, "medejer (1/2) af ejendom BFE 100123456, Møllevej 4", "ejer", **HALF),
    Expansion(RENTED, "lejer af matrikel 2000351-99", "boligregister", role=RelationRole.TENANT),
)


def prov(source: str = "sbsys", *, stale: bool = False) -> Provenance:
    return Provenance(source, AT, stale)


def doc(doc_id: str, title: str, **kwargs) -> Document:
    values = dict(type=DocumentType.BREV_UDGAAENDE, date=dt.date(2024, 5, 1), source="sbsys")
    return Document(doc_id, title, **{**values, **kwargs})


def case(case_id: str = "sbsys/1", **kwargs) -> Case:
    """A case where Karen is the primary party, unless ``parties`` says otherwise."""
    source = case_id.split("/")[0]
    values = dict(
        sagsnummer=f"N-{case_id}",
        title=f"Sag {case_id}",
        provenance=prov(source),
        progress=Progress.OPLYST,
        progress_history=(
            ProgressStep(Progress.OPSTAAET, dt.date(2024, 3, 4), "Modtaget"),
            ProgressStep(Progress.OPLYST, dt.date(2024, 4, 2), "Oplysninger indhentet"),
        ),
        kle="27.24.00",
        area="Socialområdet",
        parties=(Party(KAREN, PartyRole.PRIMARY, "Karen Holm Jensen", "Møllevej 4"),),
        opened=dt.date(2024, 3, 4),
    )
    return Case(id=case_id, **{**values, **kwargs})


def building(case_id: str = "byggesag/BYG-1", **kwargs) -> Case:
    """A building case on Karen's co-owned parcel, with no CPR party."""
    values = dict(kle="02.34.03", area="Byggeri", parties=(), subjects=(PARCEL, ESTATE))
    return case(case_id, **{**values, **kwargs})


def overview(*cases: Case, subject=KAREN, sources=(), expansions=OWNERSHIP) -> Overview:
    results = sources or (
        SourceResult("sbsys", "SBSYS (ESDH)", SourceStatus.OK),
        SourceResult("byggesag", "Byggesager", SourceStatus.OK),
        SourceResult("ejer", "Ejerfortegnelsen", SourceStatus.OK),
    )
    return Overview(subject, tuple(cases), tuple(results), AT, tuple(expansions))


DEFAULTS = CitizenPolicy()


def view_ids(*cases: Case, policy=DEFAULTS, **kwargs) -> list[str]:
    return [c.id for c in citizen_view(overview(*cases, **kwargs), KAREN, policy).cases]


def only(*cases: Case, policy=DEFAULTS, **kwargs) -> CitizenCase:
    shown = citizen_view(overview(*cases, **kwargs), KAREN, policy).cases
    assert len(shown) == 1, [c.id for c in shown]
    return shown[0]


# -- which cases ----------------------------------------------------------------------------


def test_primary_party_sees_own_case():
    shown = only(case())
    assert shown.access is Access.PARTY
    assert shown.reason == "Du er part i sagen."


def test_secondary_party_only_does_not_see_the_case():
    parties = (
        Party(OLE, PartyRole.PRIMARY, "Ole Bjerre Hansen"),
        Party(KAREN, PartyRole.SECONDARY, "Karen Holm Jensen"),
    )
    assert view_ids(case(parties=parties)) == []


def test_party_is_matched_by_cpr_value_not_name():
    impostor = (Party(OLE, PartyRole.PRIMARY, "Karen Holm Jensen"),)
    assert view_ids(case(parties=impostor)) == []


def test_owner_sees_building_case_on_owned_parcel_with_friendly_reason():
    shown = only(building())
    assert shown.access is Access.OWNER
    assert shown.reason == "Byggesag på din ejendom (matrikel 2000351-12a)."
    assert shown.properties == (PARCEL, ESTATE)


def test_owner_sees_building_case_found_by_bfe_only():
    shown = only(building(subjects=(ESTATE,)))
    assert shown.reason == "Byggesag på din ejendom (BFE-nummer 100123456)."


def test_co_owner_sees_building_case_where_the_other_owner_applied():
    applied = (Party(PETER, PartyRole.PRIMARY, "Peter Holm", "Møllevej 4"),)
    assert view_ids(building(parties=applied)) == ["byggesag/BYG-1"]


def test_building_case_without_kle_counts_by_area():
    assert view_ids(building(kle=None, area="Byggeri")) == ["byggesag/BYG-1"]
    assert view_ids(building(kle=None, area="Beskæftigelse")) == []


def test_other_persons_personal_matter_on_owned_parcel_is_not_shown():
    tenant = case(
        "sbsys/7",
        kle="27.37.00",
        parties=(Party(OLE, PartyRole.PRIMARY, "Ole Bjerre Hansen"),),
        subjects=(PARCEL,),
    )
    assert view_ids(tenant) == []


def test_parcel_reached_by_a_relation_other_than_ownership_does_not_count():
    assert view_ids(building(subjects=(RENTED,))) == []


def test_building_case_on_a_parcel_the_citizen_does_not_own_is_not_shown():
    assert view_ids(building(subjects=(Matrikel.of(2000351, "13b"),))) == []


def test_overview_of_another_person_shows_nothing():
    # Ole's overview: his property's building case, and even a case where Karen is party.
    oles = overview(building(), case(), subject=OLE)
    assert citizen_view(oles, KAREN, CitizenPolicy()).cases == ()
    assert citizen_view(oles, OLE, CitizenPolicy()).case("byggesag/BYG-1") is not None


# -- how they look --------------------------------------------------------------------------


def sensitive_case(**kwargs) -> Case:
    return case(
        title="Merudgifter – diagnose ADHD",
        public_title="Merudgifter til voksne",
        sensitivity=Sensitivity.FOELSOMME_PERSONOPLYSNINGER,
        caseworker=Caseworker("MK4821", "Mette Kjær"),
        unit="Socialområdet, Voksne",
        parties=(
            Party(KAREN, PartyRole.PRIMARY, "Karen Holm Jensen", "Møllevej 4"),
            Party(OLE, PartyRole.SECONDARY, "Ole Bjerre Hansen", "Skovvej 9"),
        ),
        documents=(
            doc("d1", "Afgørelse"),
            doc("d2", "Udkast til afgørelse", status=DocumentStatus.UNDER_UDARBEJDELSE),
            doc("d3", "Lægens vurdering", party_may_see=False),
            doc("d4", "Internt notat", type=DocumentType.INTERNT_NOTAT),
            doc("d5", "Ansøgning", status=DocumentStatus.MODTAGET),
        ),
        events=(
            Event(dt.date(2024, 4, 20), "Telefonnotat: borger ringede", "note", "sbsys"),
            Event(dt.date(2024, 4, 21), "Udkast til afgørelse gemt", "document", "sbsys"),
            Event(dt.date(2024, 5, 1), "Frist for lægeerklæring", "deadline", "sbsys"),
            Event(dt.date(2024, 5, 2), "Partshøring sendt", "status", "sbsys"),
        ),
        deep_link="https://sbsys.example/sag/1",
        related=("sbsys/99",),
        **kwargs,
    )


def test_public_title_replaces_exempt_title():
    shown = only(sensitive_case())
    assert shown.title == "Merudgifter til voksne"
    assert "ADHD" not in repr(shown)


def test_real_title_when_there_is_no_public_title():
    assert only(case(title="Boligstøtte")).title == "Boligstøtte"


def test_only_final_documents_the_party_may_see():
    assert [d.id for d in only(sensitive_case()).documents] == ["d1"]


def test_no_documents_when_the_municipality_hides_them():
    assert only(sensitive_case(), policy=CitizenPolicy(show_documents=False)).documents == ()


def test_notes_and_document_events_are_left_out_of_the_timeline():
    titles = [e.title for e in only(sensitive_case()).timeline()]
    assert titles == [
        "Modtaget",
        "Oplysninger indhentet",
        "Frist for lægeerklæring",
        "Partshøring sendt",
    ]


def test_caseworker_only_when_the_municipality_shows_names():
    assert only(sensitive_case()).caseworker_name is None
    named = only(sensitive_case(), policy=CitizenPolicy(show_caseworker_names=True))
    assert named.caseworker_name == "Mette Kjær"
    assert "MK4821" not in repr(named)


def test_unit_unless_hidden():
    assert only(sensitive_case()).unit == "Socialområdet, Voksne"
    assert only(sensitive_case(), policy=CitizenPolicy(show_unit=False)).unit is None


def test_nothing_only_a_caseworker_should_see_survives():
    shown = only(sensitive_case())
    text = repr(shown)
    for secret in ("Ole Bjerre Hansen", OLE.value, "Skovvej 9", "sbsys.example", "sbsys/99"):
        assert secret not in text
    fields = {f.name for f in dataclasses.fields(CitizenCase)}
    assert not fields & {"parties", "sensitivity", "deep_link", "related", "join_keys"}


def test_progress_text():
    assert progress_text(Progress.OPLYST) == "Trin 2 af 4: Under behandling"
    assert only(case(progress=Progress.AFSLUTTET)).progress_text == "Trin 4 af 4: Afsluttet"


def test_open_cases_first_by_latest_activity_then_closed():
    def on(day: int) -> tuple[ProgressStep, ...]:
        return (ProgressStep(Progress.OPSTAAET, dt.date(2024, 1, day)),)

    cases = [
        case("sbsys/old-open", progress_history=on(1), opened=dt.date(2024, 1, 1)),
        case("sbsys/closed", progress=Progress.AFSLUTTET, progress_history=on(20)),
        case("sbsys/new-open", progress_history=on(10), opened=dt.date(2024, 1, 10)),
        case("sbsys/closed-early", progress=Progress.AFSLUTTET, progress_history=on(5)),
    ]
    view = citizen_view(overview(*cases), KAREN, CitizenPolicy())
    assert [c.id for c in view.cases] == [
        "sbsys/new-open",
        "sbsys/old-open",
        "sbsys/closed",
        "sbsys/closed-early",
    ]
    assert [c.id for c in view.open_cases] == ["sbsys/new-open", "sbsys/old-open"]


# -- the municipality's choices ------------------------------------------------------------


@pytest.mark.parametrize(
    ("prefixes", "kle", "shown"),
    [
        (("27",), "27.24.00", True),
        (("27.24",), "27.24.00", True),
        (("27.24.00",), "27.24.00", True),
        (("27.35",), "27.24.00", False),
        (("02", "27.24"), "27.24.00", True),
        (("2",), "27.24.00", False),  # a prefix matches whole groups, not digits
        (("27",), None, False),  # a case without KLE cannot be checked
    ],
)
def test_kle_filter(prefixes, kle, shown):
    policy = CitizenPolicy(kle_subjects=prefixes)
    assert bool(view_ids(case(kle=kle), policy=policy)) is shown


def test_from_date_filter():
    policy = CitizenPolicy(from_date=dt.date(2024, 3, 4))
    assert view_ids(case(opened=dt.date(2024, 3, 4)), policy=policy) == ["sbsys/1"]
    assert view_ids(case(opened=dt.date(2024, 3, 3), progress_history=()), policy=policy) == []


def test_from_date_uses_first_step_when_opening_date_is_unknown():
    policy = CitizenPolicy(from_date=dt.date(2024, 3, 4))
    assert view_ids(case(opened=None), policy=policy) == ["sbsys/1"]
    assert view_ids(case(opened=None, progress_history=()), policy=policy) == []


def test_source_filter_on_single_source_case():
    assert view_ids(case("zaken/Z-1"), policy=CitizenPolicy(sources=("sbsys",))) == []
    assert view_ids(case("sbsys/1"), policy=CitizenPolicy(sources=("sbsys",))) == ["sbsys/1"]


def test_joined_case_shown_when_any_source_allowed_without_the_others_data():
    joined = building(
        "sbsys/2",
        sources=(prov("sbsys"), prov("byggesag")),
        also_known_as=("byggesag/BYG-1",),
        documents=(doc("s1", "Journaliseret brev"), doc("b1", "Tilladelse", source="byggesag")),
        events=(Event(dt.date(2024, 6, 1), "Tilladelse meddelt", "status", "byggesag"),),
    )
    policy = CitizenPolicy(sources=("sbsys", "ejer"))
    shown = only(joined, policy=policy)
    assert shown.sources == ("sbsys",)
    assert [d.id for d in shown.documents] == ["s1"]
    assert shown.events == ()
    assert view_ids(joined, policy=CitizenPolicy(sources=("zaken", "ejer"))) == []


def test_ownership_register_must_be_an_allowed_source_for_building_cases():
    assert view_ids(building(), policy=CitizenPolicy(sources=("byggesag",))) == []
    allowed = CitizenPolicy(sources=("byggesag", "ejer"))
    assert view_ids(building(), policy=allowed) == ["byggesag/BYG-1"]


# -- sources that did not answer ------------------------------------------------------------


def test_unavailable_sources_by_title_without_technical_detail():
    sources = (
        SourceResult("sbsys", "SBSYS (ESDH)", SourceStatus.OK),
        SourceResult("momentum", "Momentum", SourceStatus.FAILED, "HTTP 500 fra 10.0.0.7"),
        SourceResult("zaken", "Open Zaak", SourceStatus.TIMEOUT),
        SourceResult("arkiv", "Arkiv", SourceStatus.STALE, age_seconds=60),
        SourceResult("cvr", "CVR-arkiv", SourceStatus.NOT_APPLICABLE),
        SourceResult("gammel", "Gammelt system", SourceStatus.DISABLED),
    )
    view = citizen_view(overview(case(), sources=sources), KAREN, CitizenPolicy())
    # a system switched off is missing as much as one that failed
    assert view.unavailable == ("Momentum", "Open Zaak", "Gammelt system")
    assert view.unavailable_count == 3
    assert [r.source for r in view.shortfalls] == ["momentum", "zaken", "arkiv", "gammel"]
    limited = CitizenPolicy(sources=("sbsys", "zaken"))
    limited_view = citizen_view(overview(sources=sources), KAREN, limited)
    assert limited_view.unavailable == ("Open Zaak",)
    assert [r.source for r in limited_view.shortfalls] == ["zaken"]


def test_sources_that_answered_without_everything_are_named_for_the_citizen():
    sources = (
        SourceResult("sbsys", "SBSYS (ESDH)", SourceStatus.OK, case_count=3, unreadable=1),
        SourceResult("byg", "Byggesager", SourceStatus.OK, case_count=9, truncated=True),
        SourceResult("momentum", "Momentum", SourceStatus.OK, case_count=1),
    )
    view = citizen_view(overview(case(), sources=sources), KAREN, CitizenPolicy())
    assert view.partial == ("SBSYS (ESDH)", "Byggesager") and view.unavailable == ()
    limited = CitizenPolicy(sources=("byg",))
    assert citizen_view(overview(case(), sources=sources), KAREN, limited).partial == (
        "Byggesager",
    )


def test_stale_case_is_marked():
    assert only(case(provenance=prov(stale=True))).stale is True
    assert only(case()).stale is False


# -- lookups only find visible things -------------------------------------------------------


def lookup_view():
    joined = building("sbsys/2", also_known_as=("byggesag/BYG-1",), documents=(doc("s1", "Brev"),))
    hidden = case("sbsys/3", parties=(Party(OLE, PartyRole.PRIMARY),), documents=(doc("x", "X"),))
    return citizen_view(overview(sensitive_case(), joined, hidden), KAREN, CitizenPolicy())


def test_case_lookup_by_own_or_joined_id_only_for_visible_cases():
    view = lookup_view()
    assert view.case("sbsys/1").title == "Merudgifter til voksne"
    assert view.case("byggesag/BYG-1").id == "sbsys/2"
    for hidden in ("sbsys/3", "sbsys/4", "", "sbsys", "sbsys/1/", "SBSYS/1", "../sbsys/1"):
        assert view.case(hidden) is None


def test_document_lookup_only_for_visible_documents():
    view = lookup_view()
    assert view.document("sbsys/1", "d1").title == "Afgørelse"
    for case_id, doc_id in [("sbsys/1", "d2"), ("sbsys/1", "d3"), ("sbsys/1", "d4"),
                            ("sbsys/3", "x"), ("sbsys/2", "d1"), ("sbsys/1", "../d1")]:  # fmt: skip
        assert view.document(case_id, doc_id) is None


def test_detail_is_filtered_like_the_list():
    view = lookup_view()
    full = dataclasses.replace(
        sensitive_case(),
        documents=(*sensitive_case().documents, doc("d9", "Ny afgørelse")),
    )
    shown = view.detail(full)
    assert [d.id for d in shown.documents] == ["d1", "d9"]
    assert shown.title == "Merudgifter til voksne"


def test_detail_never_widens_access():
    view = lookup_view()
    assert view.detail(case("sbsys/3", parties=(Party(OLE, PartyRole.PRIMARY),))) is None
    moved = case("sbsys/1", parties=(Party(OLE, PartyRole.PRIMARY),))
    assert view.detail(moved) is None


def test_detail_keeps_the_joined_ids_for_documents():
    view = lookup_view()
    single = building("sbsys/2", documents=(doc("b1", "Tilladelse", source="byggesag"),))
    shown = view.detail(single)
    assert shown.also_known_as == ("byggesag/BYG-1",)
    held_by = owning_case_id((shown.id, *shown.also_known_as), shown.documents[0].source)
    assert held_by == "byggesag/BYG-1"


# -- config ---------------------------------------------------------------------------------


def test_defaults_follow_mit_overblik():
    policy = validate_citizen_settings({}, "citizen.toml")
    assert policy == CitizenPolicy()
    assert policy.show_documents and policy.show_unit and not policy.show_caseworker_names


def test_full_table():
    policy = validate_citizen_settings(
        {
            "kle_subjects": ["02", "27.35", "02.34.02", "02"],
            "sources": ["sbsys", "byggesag"],
            "from_date": "2020-01-01",
            "show_documents": False,
            "show_caseworker_names": True,
            "show_unit": False,
        },
        "citizen.toml",
    )
    assert policy == CitizenPolicy(
        kle_subjects=("02", "27.35", "02.34.02"),
        sources=("sbsys", "byggesag"),
        from_date=dt.date(2020, 1, 1),
        show_documents=False,
        show_caseworker_names=True,
        show_unit=False,
    )


def test_toml_date_is_accepted():
    policy = validate_citizen_settings({"from_date": dt.date(2021, 6, 1)}, "citizen.toml")
    assert policy.from_date == dt.date(2021, 6, 1)


@pytest.mark.parametrize(
    ("raw", "key", "expected"),
    [
        ({"kle_subjects": "02"}, "citizen.kle_subjects", "list"),
        ({"kle_subjects": [2]}, "citizen.kle_subjects", "string"),
        ({"kle_subjects": ["2"]}, "citizen.kle_subjects", "KLE prefixes like '02'"),
        ({"kle_subjects": ["02.3"]}, "citizen.kle_subjects", "got '02.3'"),
        ({"kle_subjects": ["Byggeri"]}, "citizen.kle_subjects", "got 'Byggeri'"),
        ({"kle_subjects": ["02.34.02.01"]}, "citizen.kle_subjects", "KLE prefixes"),
        ({"sources": ["sbsys", 7]}, "citizen.sources", "string"),
        ({"sources": [""]}, "citizen.sources", "non-empty strings; item 1"),
        ({"from_date": "01-01-2020"}, "citizen.from_date", "YYYY-MM-DD"),
        ({"from_date": "20200101"}, "citizen.from_date", "YYYY-MM-DD"),
        ({"from_date": "2024-02-30"}, "citizen.from_date", "a real date"),
        ({"from_date": 2020}, "citizen.from_date", "string"),
        (
            {"from_date": dt.datetime(2020, 1, 1, 8, 0)},
            "citizen.from_date",
            "without a time of day",
        ),
        ({"show_documents": "yes"}, "citizen.show_documents", "true or false"),
        ({"show_names": True}, "citizen.show_names", "unknown setting"),
    ],
)
def test_bad_settings_name_file_key_and_expectation(raw, key, expected):
    with pytest.raises(ConfigError) as caught:
        validate_citizen_settings(raw, "config/citizen.toml")
    assert caught.value.file == "config/citizen.toml"
    assert caught.value.key == key
    assert expected in caught.value.expected
    assert str(caught.value).startswith(f"config/citizen.toml: {key}: ")


def test_not_a_table():
    with pytest.raises(ConfigError, match="citizen"):
        validate_citizen_settings(["02"], "citizen.toml")


def test_unknown_source_name_when_sources_are_known():
    with pytest.raises(ConfigError, match=r"citizen\.sources: .*known: byggesag, sbsys.*'sbsyss'"):
        validate_citizen_settings(
            {"sources": ["sbsyss"]}, "citizen.toml", known_sources={"sbsys", "byggesag"}
        )


CONFIG_TOML = """
[auth.citizen]
issuer = "https://mitid.test"
client_id = "borgersag"

[citizen]
kle_subjects = ["02", "27.35"]
from_date = {from_date}
"""


def test_config_file_gives_the_validated_policy(tmp_path):
    from borgersag.config.loader import load_config
    from borgersag.people.sections import CITIZEN

    (tmp_path / "portal.toml").write_text(CONFIG_TOML.format(from_date="2020-01-01"), "utf-8")
    config = load_config(tmp_path)
    assert config.section(CITIZEN) == CitizenPolicy(
        kle_subjects=("02", "27.35"), from_date=dt.date(2020, 1, 1)
    )
    (tmp_path / "portal.toml").write_text(CONFIG_TOML.format(from_date="'1. januar'"), "utf-8")
    with pytest.raises(ConfigError, match=r"portal\.toml: citizen\.from_date: a date as YYYY"):
        load_config(tmp_path)


def test_every_setting_is_documented_and_every_documented_key_exists():
    text = (ROOT / "docs" / "citizen.md").read_text(encoding="utf-8")
    section = text.split("## Config: `[citizen]`", 1)[1].split("\n## ", 1)[0]
    documented = set(re.findall(r"^\| `([^`]+)` \|", section, flags=re.M))
    assert documented == {s.name for s in CITIZEN_SETTINGS}


# -- a building case from before the citizen bought the property --------------------------


def test_a_previous_owners_building_case_is_not_the_new_owners():
    estate = BFE.parse("100123456")
    bought = dt.date(2024, 2, 26)
    owned = Expansion(
        estate, "ejer af ejendom BFE 100123456", "ejer", since=bought, role=RelationRole.OWNER
    )

    def building(cid: str, opened: dt.date) -> Case:
        return Case(
            id=cid,
            sagsnummer=cid,
            title=f"Byggesag {cid}",
            provenance=Provenance("byggesag", dt.datetime(2026, 1, 1, tzinfo=dt.UTC)),
            kle="02.34.02",
            subjects=(estate,),
            opened=opened,
        )

    overview = Overview(
        KAREN,
        (building("byggesag/old", dt.date(2019, 5, 1)), building("byggesag/new", bought)),
        (),
        dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
        expansions=(owned,),
    )
    view = citizen_view(overview, KAREN, CitizenPolicy())
    assert [c.id for c in view.cases] == ["byggesag/new"]
    assert view.case("byggesag/old") is None
