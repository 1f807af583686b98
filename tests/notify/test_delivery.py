"""From a caseworker's change in a sandbox back end to the citizen's e-mail, SMS and
Digital Post: exactly once each, never twice after a worker died mid-send, retried and
then kept as failed when a channel stays down."""

from __future__ import annotations

import datetime as dt
import threading
import time

import pytest

from borgersag.notify.senders import DeliveryError, build_senders

from support.index_helpers import set_status
from support.notify_helpers import EMAIL, PHONE, Setup, inbox


def test_one_change_one_message_per_channel(setup, own_sandbox):
    m = own_sandbox.municipality
    cpr = m.demo.typical
    subscriber_id = setup.subscribed(cpr)
    setup.news(subscriber_id, setup.open_case(cpr))

    done = setup.deliverer().run()

    assert (done.planned, done.sent, done.failed) == (3, 3, 0)
    (mail,) = inbox(own_sandbox, "smtp")
    (sms,) = inbox(own_sandbox, "nemsms")
    (post,) = inbox(own_sandbox, "digitalpost")
    assert mail["to"] == EMAIL and sms["recipient"] == PHONE and post["cpr"] == cpr
    assert "https://sager.sandby.example/mine-sager" in mail["text"]
    assert {r.state for r in setup.index.outbox(subscriber_id)} == {"sent"}
    assert [h.state for h in setup.store.history(subscriber_id)] == ["sent"] * 3

    again = setup.deliverer().run()  # nothing new: nothing sent
    assert (again.planned, again.sent) == (0, 0)
    assert len(inbox(own_sandbox, "smtp")) == len(inbox(own_sandbox, "nemsms")) == 1


def test_texts_name_no_cpr_no_person_no_case(setup, own_sandbox):
    m = own_sandbox.municipality
    cpr = m.demo.typical
    subscriber_id = setup.subscribed(cpr)
    case = setup.open_case(cpr)
    status = setup.news(subscriber_id, case)
    setup.deliverer().run()

    citizen = m.citizen(cpr)
    texts = [inbox(own_sandbox, "smtp")[0]["text"], inbox(own_sandbox, "smtp")[0]["subject"]]
    texts += [inbox(own_sandbox, "nemsms")[0]["text"], inbox(own_sandbox, "digitalpost")[0]["text"]]
    for text in texts:
        assert cpr not in text and cpr[:6] not in text
        assert citizen.first_name not in text and citizen.last_name not in text
        assert case.title not in text and case.nummer not in text and status not in text
    assert len(inbox(own_sandbox, "nemsms")[0]["text"]) <= 160
    assert inbox(own_sandbox, "nemsms")[0]["text"] == (
        "Der er nyt i en af dine sager hos Sandby Kommune."
        " Log ind på sager.sandby.example for at se det."
    )


def test_a_worker_dying_after_sending_sends_nothing_twice(setup, own_sandbox):
    cpr = own_sandbox.municipality.demo.typical
    subscriber_id = setup.subscribed(cpr, channels=("email", "sms", "digital_post"))
    setup.news(subscriber_id, setup.open_case(cpr))

    class DiesAfterSending:
        """Delivers, then the process is gone before the message is marked sent."""

        def __init__(self, sender):
            self.channel = sender.channel
            self.sender = sender

        def send(self, message):
            self.sender.send(message)
            raise SystemExit("killed")

    dying = {c: DiesAfterSending(s) for c, s in build_senders(setup.settings).items()}
    with pytest.raises(SystemExit):
        setup.deliverer(dying).run()
    assert [h.state for h in setup.store.history(subscriber_id)].count("sending") == 1

    # the next worker, once the message counts as lost, sends it again with its id
    setup.settings = type(setup.settings)(**{**_fields(setup.settings), "lost_after_seconds": 0})
    setup.deliverer().run()

    assert {h.state for h in setup.store.history(subscriber_id)} == {"sent"}
    assert len(inbox(own_sandbox, "smtp")) == 1
    assert len(inbox(own_sandbox, "nemsms")) == 1
    assert len(inbox(own_sandbox, "digitalpost")) == 1


def test_a_channel_that_stays_down_is_retried_then_failed_and_shown(setup, own_sandbox):
    cpr = own_sandbox.municipality.demo.typical
    subscriber_id = setup.subscribed(cpr)
    setup.news(subscriber_id, setup.open_case(cpr))
    own_sandbox.faults("nemsms").update(fail="500")
    try:
        first = setup.deliverer().run()
        assert (first.sent, first.retried) == (2, 1)  # e-mail and Digital Post went
        second = setup.deliverer().run()
        assert second.retried == 1
        third = setup.deliverer().run()  # retries = 2: the third failure is the last
        assert third.failed == 1
    finally:
        own_sandbox.faults("nemsms").reset()
    assert setup.deliverer().run().sent == 0  # a failed message is not tried again
    (failed,) = setup.store.unseen_failures(subscriber_id, setup.settings.default_channels)
    assert (failed.channel, failed.attempts) == ("sms", 3)
    assert "500" in (failed.last_error or "") or "NemSMS" in (failed.last_error or "")
    assert [f.id for f in setup.store.failed()] == [failed.id]  # the operators see it
    assert inbox(own_sandbox, "nemsms") == []
    assert {r.state for r in setup.index.outbox(subscriber_id)} == {"sent"}
    setup.store.failures_seen(subscriber_id, setup.settings.default_channels)
    assert setup.store.unseen_failures(subscriber_id, setup.settings.default_channels) == []


def test_an_unsubscribed_citizen_and_one_without_channels_get_nothing(setup, own_sandbox):
    m = own_sandbox.municipality
    cpr = m.demo.typical
    subscriber_id = setup.subscribed(cpr, channels=())
    setup.news(subscriber_id, setup.open_case(cpr))
    other = next(
        c.cpr
        for c in m.citizens
        if c.cpr != cpr and any(k.status.progress != "afsluttet" for k in m.cases_for(c.cpr))
    )
    other_id = setup.subscribed(other)
    setup.news(other_id, setup.open_case(other))
    setup.index.unsubscribe(other)  # their queued news and contact details go with them
    assert not setup.store.contact(other_id, ()).chosen

    assert setup.deliverer().run().sent == 0
    assert {r.state for r in setup.index.outbox(subscriber_id)} == {"skipped"}
    assert inbox(own_sandbox, "smtp") == inbox(own_sandbox, "digitalpost") == []


def test_nothing_is_sent_of_a_case_the_citizen_policy_hides(own_sandbox, audit_url):
    m = own_sandbox.municipality
    cpr = m.demo.typical
    probe = Setup(own_sandbox, audit_url)
    case = probe.open_case(cpr)
    probe.close()
    others = sorted({c.kle[:2] for c in m.cases_for(cpr)} - {case.kle[:2]})
    hiding = Setup(own_sandbox, audit_url, citizen={"kle_subjects": others or ["99"]})
    try:
        subscriber_id = hiding.subscribed(cpr)
        assert all(f.sagsnummer != case.nummer for f in hiding.index.facts(subscriber_id).values())
        set_status(own_sandbox, f"sbsys/{case.id}", "Afgjort", date="2026-12-07")
        hiding.refresher.refresh(subscriber_id)
        assert hiding.deliverer().run().planned == 0
        assert inbox(own_sandbox, "smtp") == inbox(own_sandbox, "nemsms") == []
        assert inbox(own_sandbox, "digitalpost") == []
    finally:
        hiding.close()


def test_news_of_one_case_waits_out_the_throttle(setup, own_sandbox):
    cpr = own_sandbox.municipality.demo.typical
    subscriber_id = setup.subscribed(cpr, channels=("email",))
    case = setup.open_case(cpr)
    setup.news(subscriber_id, case)
    setup.settings = type(setup.settings)(**{**_fields(setup.settings), "per_case_minutes": 15})
    assert setup.deliverer().run().sent == 1
    setup.news(subscriber_id, case)
    assert setup.deliverer().run().sent == 0  # 15 minutes have not passed
    assert [r.state for r in setup.index.outbox(subscriber_id)] == ["sent", "queued"]
    assert len(inbox(own_sandbox, "smtp")) == 1


def _fields(settings) -> dict:
    return {name: getattr(settings, name) for name in settings.__dataclass_fields__}


class _Counting:
    """A sender that counts what it was asked to send, and fails while ``failing``."""

    def __init__(self, channel: str, failing: bool = False):
        self.channel = channel
        self.failing = failing
        self.sent: list[str] = []

    def send(self, message):
        if self.failing:
            raise DeliveryError("down")
        time.sleep(0.05)  # long enough for another worker to try the same message
        self.sent.append(message.message_id)


def test_retries_wait_twice_as_long_each_time(setup, own_sandbox):
    cpr = own_sandbox.municipality.demo.typical
    subscriber_id = setup.subscribed(cpr, channels=("email",))
    setup.news(subscriber_id, setup.open_case(cpr))
    setup.settings = type(setup.settings)(
        **{**_fields(setup.settings), "retries": 3, "retry_delay_seconds": 60}
    )
    now = [dt.datetime.now(dt.UTC)]
    sender = _Counting("email", failing=True)
    deliverer = setup.deliverer({"email": sender}, clock=lambda: now[0])
    assert deliverer.run().retried == 1  # the first try
    for expected in (60, 120, 240):
        now[0] += dt.timedelta(seconds=expected - 1)
        assert deliverer.deliver().retried + deliverer.deliver().failed == 0  # not yet
        now[0] += dt.timedelta(seconds=1)
        done = deliverer.deliver()
        assert done.retried + done.failed == 1
    assert done.failed == 1  # the fourth failure, after three retries, is the last
    (failed,) = setup.store.history(subscriber_id)
    assert (failed.state, failed.attempts) == ("failed", 4)


def test_two_workers_at_once_send_each_message_once(setup, own_sandbox):
    cpr = own_sandbox.municipality.demo.typical
    subscriber_id = setup.subscribed(cpr, channels=("email", "digital_post"))
    setup.news(subscriber_id, setup.open_case(cpr))
    setup.deliverer().plan()
    senders = {"email": _Counting("email"), "digital_post": _Counting("digital_post")}
    workers = [setup.deliverer(senders) for _ in range(2)]
    threads = [threading.Thread(target=w.deliver) for w in workers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert len(senders["email"].sent) == len(senders["digital_post"].sent) == 1
    assert {h.state for h in setup.store.history(subscriber_id)} == {"sent"}


def test_an_error_echoing_the_address_does_not_keep_it(setup, own_sandbox):
    cpr = own_sandbox.municipality.demo.typical
    subscriber_id = setup.subscribed(cpr, channels=("sms",))
    setup.news(subscriber_id, setup.open_case(cpr))

    class Echoing:
        channel = "sms"

        def send(self, message):
            raise DeliveryError(f"NemSMS: {message.to} is not a customer", retriable=False)

    assert setup.deliverer({"sms": Echoing()}).run().failed == 1
    (failed,) = setup.store.history(subscriber_id)
    assert failed.last_error == "NemSMS: [modtager] is not a customer"


def test_a_recipient_sealed_under_another_key_fails_alone_and_the_others_are_sent(
    setup, own_sandbox
):
    """After a key change, one citizen's sealed number no longer opens: that message is
    kept as failed, and the run goes on and sends the others."""
    from sqlalchemy import update

    from borgersag.index.schema import subscriber

    m = own_sandbox.municipality
    broken = setup.subscribed(m.demo.typical, channels=("digital_post",))
    setup.news(broken, setup.open_case(m.demo.typical))
    fine = setup.subscribed(m.demo.heavy, channels=("digital_post",))
    setup.news(fine, setup.open_case(m.demo.heavy))
    with setup.index.engine.begin() as conn:
        conn.execute(
            update(subscriber).where(subscriber.c.id == broken).values(cpr_sealed="not-a-token")
        )

    done = setup.deliverer().run()

    assert (done.sent, done.failed) == (1, 1)
    assert [post["cpr"] for post in inbox(own_sandbox, "digitalpost")] == [m.demo.heavy]
    assert [h.state for h in setup.store.history(broken)] == ["failed"]
