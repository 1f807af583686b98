"""The sandbox's channels to citizens are as strict as the real ones: NemSMS refuses a
text over 160 characters and numbers that are not Danish, Digital Post a CPR number it
does not know; each delivers a message sent twice once; their fault knobs work, on the
SMTP conversation too."""

from __future__ import annotations

import smtplib
from email.message import EmailMessage

import pytest
import requests

from borgersag.sandbox.service import API_KEY


@pytest.fixture(scope="module")
def channels():
    from borgersag.sandbox.runner import start_sandbox
    from borgersag.sandbox.section import NO_LATENCY

    with start_sandbox(NO_LATENCY) as running:
        yield running


def _sms(sandbox, **body):
    sms = {"messageId": "abcdef123456", "recipient": "+4522334455", "text": "Der er nyt.", **body}
    return requests.post(
        sandbox.url("nemsms") + "sms", json=sms, headers={"X-Api-Key": API_KEY}, timeout=5
    )


def test_nemsms_is_strict_and_deduplicates(channels):
    assert _sms(channels, text="x" * 161).status_code == 422
    assert _sms(channels, recipient="+4612345678").status_code == 422
    assert _sms(channels, messageId="../x").status_code == 422
    no_key = requests.post(channels.url("nemsms") + "sms", json={}, timeout=5)
    assert no_key.status_code == 401
    first, again = _sms(channels, messageId="once-only-1"), _sms(channels, messageId="once-only-1")
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["status"] == "duplicate"
    got = requests.get(channels.url("nemsms") + "_sandbox/messages", timeout=5).json()
    assert [m["messageId"] for m in got["messages"]] == ["once-only-1"]


def _memo(sandbox, cpr):
    body = {
        "messageHeader": {
            "messageUUID": "memo-uuid-0001",
            "label": "Nyt",
            "recipient": {"recipientID": cpr, "idType": "CPR"},
        },
        "messageBody": {"mainDocument": {"file": [{"content": "Tnl0"}]}},
    }
    return requests.post(
        sandbox.url("digitalpost") + "memo", json=body, headers={"X-Api-Key": API_KEY}, timeout=5
    )


def test_digital_post_wants_a_known_cpr_number(channels):
    assert _memo(channels, "0101010000").status_code == 422
    cpr = channels.municipality.demo.typical
    assert _memo(channels, cpr).status_code == 201
    assert _memo(channels, cpr).json()["status"] == "duplicate"


def _mail(message_id: str) -> EmailMessage:
    mail = EmailMessage()
    mail["From"], mail["To"], mail["Subject"] = "a@example.org", "b@example.org", "Nyt"
    mail["Message-ID"] = message_id
    mail.set_content("Der er nyt.")
    return mail


def test_the_smtp_catcher_keeps_one_of_each_and_obeys_its_faults(channels):
    with smtplib.SMTP("127.0.0.1", channels.smtp_port, timeout=5) as smtp:
        smtp.send_message(_mail("<m1@test>"))
        smtp.send_message(_mail("<m1@test>"))
    page = requests.get(channels.url("smtp"), timeout=5)
    assert page.status_code == 200 and page.text.count("b@example.org") == 1
    channels.faults("smtp").update(fail="500")
    try:
        with (
            pytest.raises(smtplib.SMTPDataError) as refused,
            smtplib.SMTP("127.0.0.1", channels.smtp_port, timeout=5) as smtp,
        ):
            smtp.send_message(_mail("<m2@test>"))
        assert refused.value.smtp_code == 451
        channels.faults("smtp").update(fail=None, hang=True)
        with (
            pytest.raises(smtplib.SMTPServerDisconnected, match="timed out"),
            smtplib.SMTP("127.0.0.1", channels.smtp_port, timeout=0.5) as smtp,
        ):
            smtp.send_message(_mail("<m3@test>"))
    finally:
        channels.faults("smtp").reset()
    got = requests.get(channels.url("smtp") + "_sandbox/messages", timeout=5).json()
    assert [m["message_id"] for m in got["messages"]] == ["<m1@test>"]
