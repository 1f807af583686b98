"""The use cases without Flask: key policy per channel, quota before fan-out, audit before
anything is kept, one detail path and one download path for caseworkers and citizens."""

from __future__ import annotations

import dataclasses
import itertools

import pytest

from borgersag.domain.keys import CPR, KeyKind, Medarbejder
from borgersag.lookup import cases, documents, usecases
from borgersag.lookup.cases import Expired, NotShown
from borgersag.lookup.channels import CHANNELS, Channel, Rejected, Whose, kinds_for, own_key
from borgersag.lookup.documents import DocumentGone, DocumentUnavailable, safe_media_type
from borgersag.lookup.engine import LookupProgress
from borgersag.lookup.ports import Context, LookupSettings, QuotaExceeded
from borgersag.people.permissions import Permission
from borgersag.sdk.connector import DocumentContent
from borgersag.sdk.errors import NotFound, RetriableError

from support.actions import caseworker_user, citizen_user
from support.fake_portal import TYPICAL_CPR, FakePortal, sample_overview

COLLEAGUE = "JH1177"  # the second test caseworker's number; the first is MK4821


class Journal(list):
    """What happened, in order, across every fake collaborator."""


@dataclasses.dataclass
class Recorder:
    journal: Journal
    fail: bool = False
    events: list = dataclasses.field(default_factory=list)

    persons: list = dataclasses.field(default_factory=list)

    def __call__(self, kind, *, user=None, subject=None, purpose=None, sources=(), case_ids=(),
                 detail="", persons=()):  # fmt: skip
        if self.fail:
            raise RuntimeError("audit down")
        self.events.append((kind, subject, purpose, tuple(case_ids), detail))
        self.persons.append(tuple(persons))
        self.journal.append(f"record {kind}")


@dataclasses.dataclass
class Keeper:
    journal: Journal
    kept: dict = dataclasses.field(default_factory=dict)
    counter: itertools.count = dataclasses.field(default_factory=itertools.count)

    def put_entry(self, owner, stored, *, token=None):
        token = token or f"token-{next(self.counter)}"
        self.kept[token] = (owner, stored)
        self.journal.append("keep")
        return token

    def entry(self, token, owner):
        found = self.kept.get(token)
        return found[1] if found and found[0] == owner else None


@dataclasses.dataclass
class Quota:
    journal: Journal
    allowed: int = 100
    charged: list = dataclasses.field(default_factory=list)

    def charge(self, user):
        if len(self.charged) >= self.allowed:
            raise QuotaExceeded("lookups")
        self.charged.append(user.id)
        self.journal.append("charge")


class JournalPortal(FakePortal):
    journal: Journal | None = None

    def lookup(self, key, on_progress=None):
        self.journal.append("fan-out")
        return super().lookup(key, on_progress)


def make(user=None, *, fail_audit=False, allowed=100, **settings):
    journal = Journal()
    portal = JournalPortal()
    portal.journal = journal
    ctx = Context(
        user=user or caseworker_user(0),
        portal=portal,
        record=Recorder(journal, fail=fail_audit),
        overviews=Keeper(journal),
        quota=Quota(journal, allowed=allowed),
        settings=LookupSettings(**settings),
    )
    return ctx, journal


def with_permission(user, permission):
    return dataclasses.replace(user, permissions=user.permissions | {permission})


# -- lookup → restrict → audit → keep --------------------------------------------------------


def test_a_lookup_charges_fans_out_records_and_keeps_in_that_order():
    ctx, journal = make()
    kept = usecases.look_up(ctx, Channel.FORM, "cpr", TYPICAL_CPR, "")
    assert journal == ["charge", "fan-out", "record lookup", "keep"]
    assert ctx.overviews.entry(kept.token, ctx.user.id) == kept.entry
    assert ctx.record.events[0][0] == "lookup"


def test_no_audit_record_means_nothing_is_kept():
    ctx, journal = make(fail_audit=True)
    with pytest.raises(RuntimeError, match="audit down"):
        usecases.look_up(ctx, Channel.API, "cpr", TYPICAL_CPR, None)
    assert ctx.overviews.kept == {}
    assert "keep" not in journal


def test_over_the_quota_nobody_is_asked():
    ctx, journal = make(allowed=1)
    usecases.look_up(ctx, Channel.FORM, "cpr", TYPICAL_CPR, "")
    with pytest.raises(QuotaExceeded):
        usecases.look_up(ctx, Channel.FORM, "cpr", TYPICAL_CPR, "")
    assert journal.count("fan-out") == 1 and journal.count("keep") == 1


@pytest.mark.parametrize("run", [usecases.desk, usecases.my_cases])
def test_desk_and_mine_sager_fan_out_only_through_the_quota(run):
    user = caseworker_user(0) if run is usecases.desk else citizen_user(TYPICAL_CPR)
    ctx, journal = make(user, allowed=0)
    with pytest.raises(QuotaExceeded):
        run(ctx)
    assert "fan-out" not in journal


def test_bad_input_names_every_field_at_fault_and_asks_nobody():
    ctx, journal = make(purposes=("Sagsbehandling",), purpose_required=True)
    with pytest.raises(Rejected) as caught:
        usecases.look_up(ctx, Channel.FORM, "cpr", "310299-1234", "")
    assert caught.value.status == 400
    assert set(caught.value.errors) == {"value", "purpose"}
    assert "31. februar" in caught.value.errors["value"]
    assert "310299" not in " ".join(caught.value.errors.values())
    assert journal == []


def test_a_stored_overview_is_restricted_again_by_the_current_rights():
    ctx, _ = make()
    kept = usecases.look_up(ctx, Channel.FORM, "cpr", TYPICAL_CPR, "")
    narrowed = dataclasses.replace(
        ctx.user, restrictions=dataclasses.replace(ctx.user.restrictions, kle_prefixes=("02",))
    )
    later = dataclasses.replace(ctx, user=narrowed)
    entry = usecases.stored_overview(later, kept.token)
    assert {c.id for c in entry.overview.cases} == {"sbsys/1002"}
    assert entry.hidden_count == 2
    assert usecases.stored_overview(dataclasses.replace(ctx, user=caseworker_user(1)),
                                    kept.token) is None  # fmt: skip


# -- key kinds per channel and role -----------------------------------------------------------


@pytest.mark.parametrize("channel", [Channel.FORM, Channel.API])
def test_a_colleagues_medarbejdernummer_is_refused_clearly_and_recorded(channel):
    ctx, journal = make()
    with pytest.raises(Rejected) as caught:
        usecases.look_up(ctx, channel, "medarbejder", COLLEAGUE, "")
    refusal = caught.value
    assert refusal.status == 403 and refusal.field == "value"
    assert "eget medarbejdernummer" in refusal.message and COLLEAGUE not in refusal.message
    assert journal == ["record refused"]  # neither charged nor asked
    kind, subject, _purpose, _ids, detail = ctx.record.events[0]
    assert kind == "refused" and subject == Medarbejder.parse(COLLEAGUE) and channel in detail


@pytest.mark.parametrize("channel", [Channel.FORM, Channel.API])
def test_a_caseworker_may_look_up_their_own_number_as_their_sign_in_spells_it(channel):
    ctx, _ = make()
    kept = usecases.look_up(ctx, channel, "medarbejder", " mk4821 ", "")
    assert ctx.portal.lookups == [Medarbejder.parse("MK4821")]
    assert kept.entry.overview.subject == Medarbejder.parse("MK4821")


def test_a_role_with_se_kollegers_sager_may_look_up_a_colleague():
    ctx, _ = make(with_permission(caseworker_user(0), Permission.SE_KOLLEGERS_SAGER))
    usecases.look_up(ctx, Channel.API, "medarbejder", COLLEAGUE, "")
    assert ctx.portal.lookups == [Medarbejder.parse(COLLEAGUE)]


def test_a_kind_the_channel_does_not_take_is_a_400_naming_the_kinds():
    ctx, _ = make()
    with pytest.raises(Rejected) as caught:
        usecases.look_up(ctx, Channel.API, "telefon", "12345678", None)
    assert caught.value.status == 400 and caught.value.field == "kind"
    assert "cpr, cvr, matrikel, bfe, medarbejder" in caught.value.message


def test_channels_are_for_their_own_audience():
    citizen, _ = make(citizen_user(TYPICAL_CPR))
    with pytest.raises(Rejected) as caught:
        usecases.look_up(citizen, Channel.API, "cpr", TYPICAL_CPR, None)
    assert caught.value.status == 403
    caseworker, journal = make()
    with pytest.raises(Rejected):
        usecases.my_cases(caseworker)
    assert journal == []


def test_the_declaration_form_and_api_alike_and_own_only_kinds_have_an_own_key():
    assert kinds_for(Channel.FORM) == kinds_for(Channel.API)
    assert kinds_for(Channel.DESK) == (KeyKind.MEDARBEJDER,)
    assert kinds_for(Channel.CITIZEN) == (KeyKind.CPR,)
    people = {KeyKind.MEDARBEJDER: caseworker_user(0), KeyKind.CPR: citizen_user(TYPICAL_CPR)}
    for policy in CHANNELS.values():
        for rule in policy.kinds:
            if rule.whose is Whose.OWN:
                assert own_key(people[rule.kind], rule.kind) is not None


def test_mit_skrivebord_needs_a_usable_number_in_the_sign_in():
    ctx, journal = make(dataclasses.replace(caseworker_user(0), medarbejdernummer=""))
    with pytest.raises(Rejected) as caught:
        usecases.desk(ctx)
    assert caught.value.status == 400 and "medarbejdernummer" in caught.value.title
    assert journal == []


# -- case detail: one path for both ------------------------------------------------------------


def test_caseworker_and_citizen_case_pages_read_details_through_one_function(monkeypatch):
    calls = []
    real = cases.fetch_detail

    def spy(ctx, summary):
        calls.append(summary.id)
        return real(ctx, summary)

    monkeypatch.setattr(cases, "fetch_detail", spy)
    worker, _ = make()
    kept = usecases.look_up(worker, Channel.FORM, "cpr", TYPICAL_CPR, "")
    shown = cases.caseworker_case(worker, kept.token, "sbsys/1002")
    citizen, _ = make(citizen_user(TYPICAL_CPR))
    mine = cases.citizen_case(citizen, "sbsys/1002")
    assert calls == ["sbsys/1002", "sbsys/1002"]
    # The source's single view lost the overview's reason; the merge keeps it for both.
    assert shown.case.reason == "ejer af matrikel 2000351-12a" and shown.problem is None
    assert mine.problem is None and "byggesag" in mine.case.sources


@pytest.mark.parametrize(
    ("error", "problem"),
    [
        (NotFound("x"), "kan ikke vise flere detaljer"),
        (RetriableError("x"), "svarede ikke"),
        (ValueError("connector bug"), "på grund af en fejl"),
    ],
)
def test_a_failing_source_leaves_the_overviews_copy_and_says_why(error, problem):
    worker, _ = make()
    kept = usecases.look_up(worker, Channel.FORM, "cpr", TYPICAL_CPR, "")
    worker.portal.detail_error = error
    shown = cases.caseworker_case(worker, kept.token, "sbsys/1001")
    assert problem in shown.problem
    assert worker.record.events[-1][0] == "case_view"
    citizen, _ = make(citizen_user(TYPICAL_CPR))
    citizen.portal.detail_error = error
    assert "kunne ikke hente alle" in cases.citizen_case(citizen, "sbsys/1002").problem


def test_citizen_paths_refuse_other_peoples_cases_without_asking_the_source():
    ctx, _ = make(citizen_user("0202900000", "Ole Olsen"))
    # Ole's lookup answers with Karen's cases: she is their primary party; Ole owns nothing.
    karens = sample_overview(CPR.parse(TYPICAL_CPR))
    ctx.portal.overview_for = lambda key: dataclasses.replace(karens, subject=key, expansions=())
    with pytest.raises(NotShown):
        cases.citizen_case(ctx, "sbsys/1001")
    with pytest.raises(NotShown):
        cases.citizen_document(ctx, "sbsys/1002", "b7")
    assert ctx.portal.case_requests == [] and ctx.portal.document_requests == []
    assert [e[0] for e in ctx.record.events] == ["refused", "refused"]


def test_an_expired_token_and_a_case_outside_the_overview():
    ctx, _ = make()
    with pytest.raises(Expired):
        cases.caseworker_case(ctx, "nope", "sbsys/1001")
    kept = usecases.look_up(ctx, Channel.FORM, "cpr", TYPICAL_CPR, "")
    with pytest.raises(NotShown):
        cases.caseworker_document(ctx, kept.token, "sbsys/424242", "d1")
    assert ctx.portal.document_requests == []
    refused = [e for e in ctx.record.events if e[0] == "refused"]
    assert [(e[3], e[4]) for e in refused] == [
        (("sbsys/1001",), "oversigt udløbet eller ukendt (sag)"),
        (("sbsys/424242",), "dokument ikke i opslaget"),
    ]


# -- documents: one path, made safe ------------------------------------------------------------

EVIL = DocumentContent("../../evil.html", "text/html; charset=utf-8", b"<script>alert(1)</script>")


@pytest.mark.parametrize("who", ["caseworker", "citizen"])
def test_an_evil_name_and_type_come_back_safe_for_both(monkeypatch, who):
    calls = []
    real = documents.fetch_document

    def spy(ctx, document, **kwargs):
        calls.append(document.id)
        return real(ctx, document, **kwargs)

    monkeypatch.setattr(cases, "fetch_document", spy)
    if who == "caseworker":
        ctx, journal = make()
        kept = usecases.look_up(ctx, Channel.FORM, "cpr", TYPICAL_CPR, "")
        ctx.portal.get_document = lambda case_id, doc_id: EVIL
        download, doc_id = cases.caseworker_document(ctx, kept.token, "sbsys/1001", "d1"), "d1"
    else:
        ctx, journal = make(citizen_user(TYPICAL_CPR))
        ctx.portal.get_document = lambda case_id, doc_id: EVIL
        download, doc_id = cases.citizen_document(ctx, "sbsys/1002", "b7"), "b7"
    assert calls == [doc_id]
    assert download.filename == "evil.html"
    assert download.media_type == "application/octet-stream"
    assert journal[-1] == "record document"


def test_a_document_gone_or_unavailable_is_not_recorded_as_handed_over():
    ctx, _ = make()
    kept = usecases.look_up(ctx, Channel.FORM, "cpr", TYPICAL_CPR, "")
    for error, raised in (
        (NotFound("x"), DocumentGone),
        (RetriableError("x"), DocumentUnavailable),
    ):
        ctx.portal.document_error = error
        with pytest.raises(raised):
            cases.caseworker_document(ctx, kept.token, "sbsys/1001", "d1")
    assert [e[0] for e in ctx.record.events] == ["lookup"]


@pytest.mark.parametrize(
    ("given", "sent"),
    [
        ("application/pdf", "application/pdf"),
        ("Application/PDF; name=x.pdf", "application/pdf"),
        ("image/png", "image/png"),
        ("text/plain; charset=iso-8859-1", "text/plain"),
        ("application/vnd.openxmlformats-officedocument.wordprocessingml.document",
         "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
        ("text/html", "application/octet-stream"),
        ("application/xhtml+xml", "application/octet-stream"),
        ("image/svg+xml", "application/octet-stream"),
        ("text/xml", "application/octet-stream"),
        ("application/xml", "application/octet-stream"),
        ("application/javascript", "application/octet-stream"),
        ("text/x-javascript", "application/octet-stream"),
        ("text/css", "application/octet-stream"),
        ("multipart/x-mixed-replace; boundary=x", "application/octet-stream"),
        ("application/x-shockwave-flash", "application/octet-stream"),
        ("", "application/octet-stream"),
        (None, "application/octet-stream"),
        ("pdf", "application/octet-stream"),
        ("text/plain\r\nX-Evil: 1", "application/octet-stream"),
    ],
)  # fmt: skip
def test_safe_media_type(given, sent):
    assert safe_media_type(given) == sent


# -- a lookup whose first answers are shown at once -------------------------------------------


class ProgressPortal(JournalPortal):
    """Tells of the first source's answer before returning the whole overview."""

    def lookup(self, key, on_progress=None):
        self.journal.append("fan-out")
        whole = self.overview_for(key)
        first = whole.sources[0].source
        early = dataclasses.replace(
            whole,
            sources=whole.sources[:1],
            cases=tuple(c for c in whole.cases if c.source == first),
        )
        waiting = tuple((r.source, r.title) for r in whole.sources[1:])
        if on_progress:
            on_progress(LookupProgress(early, waiting))
        return whole


class CoveredKeeper(Keeper):
    """Fails the test if it is asked to keep a case no committed audit row covers."""

    recorder: Recorder | None = None

    def put_entry(self, owner, stored, *, token=None):
        covered = {cid for event in self.recorder.events for cid in event[3]}
        assert {c.id for c in stored.overview.cases} <= covered
        return super().put_entry(owner, stored, token=token)


def make_pending(user=None, **kwargs):
    ctx, journal = make(user, **kwargs)
    portal = ProgressPortal()
    portal.journal = journal
    keeper = CoveredKeeper(journal)
    keeper.recorder = ctx.record
    jobs = []
    ctx = dataclasses.replace(ctx, portal=portal, overviews=keeper)
    start = lambda: usecases.start_look_up(  # noqa: E731
        ctx, Channel.FORM, "cpr", TYPICAL_CPR, "", in_background=jobs.append
    )
    return ctx, journal, start, jobs


def test_a_pending_lookup_is_recorded_before_its_token_exists_and_fills_in():
    ctx, journal, start, jobs = make_pending()
    token = start()
    assert journal == ["charge", "record lookup", "keep"]  # nobody asked yet
    assert ctx.record.events[0][4] == usecases.STARTED_DETAIL
    first = usecases.stored_overview(ctx, token)
    assert first.pending and first.overview.cases == () and first.overview.sources == ()

    seen = []
    ctx.overviews.journal.append = lambda step: seen.append(
        (step, ctx.overviews.kept.get(token, (None, None))[1])
    )
    jobs.pop()()  # the background fan-out
    steps = [step for step, _ in seen]
    assert steps == ["fan-out", "record lookup", "keep", "record lookup", "keep"]
    partial = ctx.record.events[1]
    assert partial[4] == usecases.PARTIAL_DETAIL and partial[3]  # the cases it shows
    final = usecases.stored_overview(ctx, token)
    assert final.state == "complete" and not final.pending and final.waiting == ()
    assert ctx.record.events[-1][4] == ""  # the final row is a lookup's usual row
    assert set(ctx.record.events[-1][3]) == {c.id for c in final.overview.cases}


def test_a_pending_update_shows_only_what_the_user_may_see():
    user = caseworker_user(0)
    narrowed = dataclasses.replace(
        user, restrictions=dataclasses.replace(user.restrictions, kle_prefixes=("02",))
    )
    ctx, _journal, start, jobs = make_pending(narrowed)
    token = start()
    captured = []
    real = ctx.overviews.put_entry
    ctx.overviews.put_entry = lambda owner, stored, token=None: (
        captured.append(stored),
        real(owner, stored, token=token),
    )[1]
    jobs.pop()()
    partial = captured[0]
    assert partial.pending
    assert all(c.id == "sbsys/1002" for c in partial.overview.cases)
    assert usecases.stored_overview(ctx, token).hidden_count == 2


def test_a_pending_lookup_whose_end_cannot_be_recorded_shows_nothing():
    ctx, _journal, start, jobs = make_pending()
    token = start()
    ctx.record.fail = True  # the audit database goes away during the fan-out
    jobs.pop()()
    entry = usecases.stored_overview(ctx, token)
    assert entry.state == "failed" and entry.overview.cases == ()


def test_a_pending_lookup_refuses_like_the_blocking_one_and_asks_nobody():
    ctx, journal, _start, jobs = make_pending(purposes=("Sagsbehandling",), purpose_required=True)
    with pytest.raises(Rejected):
        usecases.start_look_up(ctx, Channel.FORM, "cpr", TYPICAL_CPR, "", in_background=jobs.append)
    assert journal == [] and jobs == []


def test_a_pending_lookup_left_by_a_lost_worker_ends_as_failed(monkeypatch):
    ctx, _journal, start, _jobs = make_pending()
    token = start()  # ... and the worker never runs the job
    later = usecases.time.time() + ctx.settings.page_deadline_seconds + usecases.ABANDONED_AFTER + 1
    monkeypatch.setattr(usecases.time, "time", lambda: later)
    assert usecases.stored_overview(ctx, token).state == "failed"
