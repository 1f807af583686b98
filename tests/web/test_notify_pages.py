"""The citizen's notification settings under Mine sager, a failed delivery told on the
next visit, and the operators' view and pause switch."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import insert

from borgersag.config.loader import Config
from borgersag.index.schema import notification
from borgersag.notify.senders import DeliveryError
from borgersag.notify.service import read_pauses
from borgersag.notify.store import NotifyStore
from borgersag.web import create_app

from support.actions import caseworker_user, citizen_user, csrf_token, sign_in
from support.notify_helpers import notify_tables


@pytest.fixture
def app(sandbox, tmp_path):
    config = Config.from_mapping(
        {
            "sandbox": {},
            "portal": {"deadline_seconds": 3.0},
            "auth": sandbox.auth_config(),
            "sessions": {"backend": "sqlite", "path": str(tmp_path / "sessions.sqlite3")},
            "sources": sandbox.source_config(),
            "index": {"enabled": True, "url": f"sqlite:///{tmp_path / 'index.sqlite3'}"},
            "worker": {"queue": f"sqlite:///{tmp_path / 'queue.sqlite3'}"},
            "notify": notify_tables(sandbox),
        }
    )
    made = create_app(config)
    made.config["TESTING"] = True
    yield made
    made.extensions["borgersag"].close()


def _store(app) -> NotifyStore:
    return NotifyStore(app.extensions["borgersag.index"].runtime().refresher.store)


def _citizen(app, sandbox):
    client = app.test_client()
    sign_in(client, citizen_user(sandbox.municipality.demo.typical))
    return client


def test_wrong_addresses_are_named_at_their_fields_and_nothing_is_kept(app, sandbox):
    client = _citizen(app, sandbox)
    page = client.get("/mine-sager/indstillinger").get_data(as_text=True)
    assert "E-mail" in page and "SMS" in page and "Digital Post" in page
    answer = client.post(
        "/mine-sager/indstillinger",
        data={"email": "ja", "sms": "ja", "phone": "", "csrf_token": csrf_token(client)}
        | {"email": "ikke en adresse"},
    )
    text = answer.get_data(as_text=True)
    assert answer.status_code == 400
    assert 'id="email-error"' in text and "gyldig e-mailadresse" in text
    assert 'id="phone-error"' in text and "mobilnummer" in text
    assert _store(app).index.subscriber_ids() == []


def test_saving_subscribes_seals_the_addresses_and_is_audited(app, sandbox, tmp_path):
    client = _citizen(app, sandbox)
    answer = client.post(
        "/mine-sager/indstillinger",
        data={
            "email": "karen@example.org",
            "sms": "ja",
            "phone": "22 33 44 55",
            "digital_post": "ja",
            "csrf_token": csrf_token(client),
        },
    )
    assert answer.status_code == 303
    store = _store(app)
    (subscriber_id,) = store.index.subscriber_ids()
    contact = store.contact(subscriber_id, ())
    assert (contact.channels, contact.email, contact.phone) == (
        ("sms", "digital_post"),
        "karen@example.org",
        "+4522334455",
    )
    raw = b"".join(p.read_bytes() for p in tmp_path.glob("index.sqlite3*"))
    assert b"karen@example.org" not in raw and b"22334455" not in raw
    (event,) = [
        r.event
        for r in app.extensions["borgersag.audit"].recent(20)
        if r.event.kind == "notify_settings"
    ]
    assert event.detail == "kanaler: sms, digital_post" and "karen" not in str(event)
    page = client.get(answer.location).get_data(as_text=True)
    assert "Dine valg er gemt" in page and 'value="karen@example.org"' in page


def test_a_failed_delivery_is_told_on_the_next_visit_to_mine_sager_once(app, sandbox):
    store = _store(app)
    subscriber_id = store.index.subscribe(sandbox.municipality.demo.typical)
    store.save_contact(subscriber_id, ("sms",), None, "+4522334455")
    now = dt.datetime.now(dt.UTC)
    with store.engine.begin() as conn:
        conn.execute(
            insert(notification).values(
                dedup_key="x" * 64,
                subscriber_id=subscriber_id,
                case_id="sbsys/1",
                kind="status",
                detail="{}",
                state="queued",
                attempts=0,
                created_at=now,
                updated_at=now,
            )
        )

    class Refusing:
        channel = "sms"

        def send(self, message):
            raise DeliveryError("NemSMS refused the number", retriable=False)

    from borgersag.notify.delivery import Deliverer

    settings = app.extensions["borgersag.notify"]
    assert Deliverer(store, settings, {"sms": Refusing()}).run().failed == 1

    client = _citizen(app, sandbox)
    first = client.get("/mine-sager").get_data(as_text=True)
    assert "En besked til dig kunne ikke sendes" in first and "SMS" in first
    assert "En besked til dig kunne ikke sendes" not in client.get("/mine-sager").get_data(
        as_text=True
    )
    history = client.get("/mine-sager/indstillinger").get_data(as_text=True)
    assert "Kunne ikke sendes" in history and "22334455" not in history.split("<h2>")[-1]
    admin = app.test_client()
    sign_in(admin, caseworker_user(1))
    drift = admin.get("/drift").get_data(as_text=True)
    assert "Beskeder, der ikke kunne sendes" in drift and "NemSMS refused the number" in drift


def test_operators_pause_and_resume_notifications_audited(app):
    client = app.test_client()
    sign_in(client, caseworker_user(1))
    assert "Beskeder til borgerne" in client.get("/drift").get_data(as_text=True)
    state = app.extensions["borgersag.state"]
    refused = client.post(
        "/drift/beskeder",
        data={"handling": "pause", "kilde": "*", "aarsag": "", "csrf_token": csrf_token(client)},
    )
    assert refused.status_code == 303 and read_pauses(state) == {}  # a reason is required
    client.post(
        "/drift/beskeder",
        data={
            "handling": "pause",
            "kilde": "sbsys",
            "aarsag": "Forkerte statusser fra SBSYS",
            "csrf_token": csrf_token(client),
        },
    )
    assert read_pauses(state)["sbsys"]["reason"] == "Forkerte statusser fra SBSYS"
    assert "På pause" in client.get("/drift").get_data(as_text=True)
    client.post(
        "/drift/beskeder",
        data={"handling": "genoptag", "kilde": "sbsys", "csrf_token": csrf_token(client)},
    )
    assert read_pauses(state) == {}
    kinds = [
        (r.event.detail, r.event.actor_id)
        for r in app.extensions["borgersag.audit"].recent(20)
        if r.event.kind == "notify_pause"
    ]
    assert sorted(kinds) == [
        ("genoptaget (sbsys)", "JH1177"),
        ("pause (sbsys): Forkerte statusser fra SBSYS", "JH1177"),
    ]
    assert (
        client.post(
            "/drift/beskeder",
            data={"handling": "pause", "kilde": "nope", "csrf_token": csrf_token(client)},
        ).status_code
        == 404
    )
    citizen = app.test_client()
    sign_in(citizen, citizen_user("0101010101"))
    assert citizen.post(
        "/drift/beskeder", data={"csrf_token": csrf_token(citizen)}
    ).status_code in (
        302,
        303,
        403,
    )
