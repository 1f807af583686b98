"""The login hook of the case index: a citizen's real login subscribes them (when the
municipality says so) and enqueues their refresh by the index's id, never by CPR number;
a login goes on when the index is unreachable."""

from __future__ import annotations

import pytest

from borgersag.config.loader import Config
from borgersag.web import create_app

from support.actions import sandbox_login


def index_app(sandbox, tmp_path, **index):
    config = Config.from_mapping(
        {
            "sandbox": {},
            "portal": {"deadline_seconds": 3.0},
            "auth": sandbox.auth_config(),
            "sessions": {"backend": "memory"},
            "sources": sandbox.source_config(),
            "index": {
                "enabled": True,
                "url": f"sqlite:///{tmp_path / 'index.sqlite3'}",
                **index,
            },
            "worker": {"queue": f"sqlite:///{tmp_path / 'queue.sqlite3'}"},
        }
    )
    app = create_app(config)
    app.config["TESTING"] = True
    return app


def queued(app):
    """The jobs waiting in the app's queue (its own huey knows their names)."""
    return app.extensions["borgersag.index"].huey.pending()


def test_a_citizen_s_login_subscribes_and_enqueues_a_refresh_by_id(sandbox, tmp_path):
    app = index_app(sandbox, tmp_path, subscribe_on_login=True)
    with app.test_client() as client:
        assert sandbox_login(client, sandbox, "borger", "typical").status_code == 303
    store = app.extensions["borgersag.index"].runtime().refresher.store
    (subscriber_id,) = store.subscriber_ids()
    assert store.subscriber(subscriber_id).cpr == sandbox.municipality.demo.typical
    (task,) = queued(app)
    assert task.name.endswith("index.refresh") and task.args == (subscriber_id, "efter login")
    raw = b"".join(p.read_bytes() for p in tmp_path.glob("queue.sqlite3*"))
    assert sandbox.municipality.demo.typical.encode() not in raw


def test_without_subscribe_on_login_a_citizen_is_not_subscribed(sandbox, tmp_path):
    app = index_app(sandbox, tmp_path)
    with app.test_client() as client:
        sandbox_login(client, sandbox, "borger", "typical")
    assert app.extensions["borgersag.index"].runtime().refresher.store.subscriber_ids() == []
    assert queued(app) == []


def test_a_login_goes_on_when_the_index_is_unreachable(sandbox, tmp_path, caplog):
    app = index_app(sandbox, tmp_path, subscribe_on_login=True)
    (tmp_path / "index.sqlite3").mkdir()  # not a database file: the index cannot open
    with app.test_client() as client:
        response = sandbox_login(client, sandbox, "borger", "typical")
        assert response.status_code == 303
        assert client.get(response.location).status_code == 200
    assert "the case index could not be told" in caplog.text


@pytest.mark.parametrize("person", ["caseworker"])
def test_a_caseworker_s_login_subscribes_nobody(sandbox, tmp_path, person):
    app = index_app(sandbox, tmp_path, subscribe_on_login=True)
    with app.test_client() as client:
        sandbox_login(client, sandbox, "medarbejder", person)
    assert app.extensions["borgersag.index"].runtime().refresher.store.subscriber_ids() == []


def test_hvem_har_set_shows_a_refresh_as_the_municipality_s_own_service(sandbox, tmp_path):
    app = index_app(sandbox, tmp_path, subscribe_on_login=True)
    with app.test_client() as client:
        sandbox_login(client, sandbox, "borger", "typical")
        refresher = app.extensions["borgersag.index"].runtime().refresher
        (subscriber_id,) = refresher.store.subscriber_ids()
        refresher.refresh(subscriber_id)  # what the worker does with the queued job

        page = client.get("/mine-sager/hvem-har-set").get_data(as_text=True)

    assert "Kommunens eget system" in page
    assert "Tjekkede dine sager for nyt (automatisk)" in page
    assert "En medarbejder" not in page  # never shown as a person


NEWS = "Nyt siden dit sidste besøg</span>"


def _visit_seen_at(app, moment):
    """Move the citizen's latest showing of Mine sager to ``moment`` (time passing)."""
    from sqlalchemy import update

    from borgersag.index.schema import visit

    store = app.extensions["borgersag.index"].runtime().refresher.store
    with store.engine.begin() as conn:
        conn.execute(update(visit).values(seen_at=moment))


def test_mine_sager_marks_what_changed_since_the_last_visit_without_a_subscription(
    sandbox, tmp_path
):
    import datetime as dt

    app = index_app(sandbox, tmp_path)
    with app.test_client() as client:
        sandbox_login(client, sandbox, "borger", "typical")
        first = client.get("/mine-sager").get_data(as_text=True)
        assert "siden dit sidste besøg" not in first  # no visit before: nothing is "new"

        _visit_seen_at(app, dt.datetime(2001, 1, 2, 12, tzinfo=dt.UTC))
        sandbox_login(client, sandbox, "borger", "typical")
        again = client.get("/mine-sager").get_data(as_text=True)
        assert "ændret siden dit sidste besøg 02.01.2001 kl. 13.00" in again
        assert again.count(NEWS) >= 1

        # a second page view in the same visit counts from the same earlier visit
        assert client.get("/mine-sager").get_data(as_text=True).count(NEWS) == again.count(NEWS)

        sandbox_login(client, sandbox, "borger", "typical")  # back right after: nothing new
        later = client.get("/mine-sager").get_data(as_text=True)
    assert "Intet nyt i dine sager siden dit sidste besøg" in later
    assert NEWS not in later
    raw = (tmp_path / "index.sqlite3").read_bytes()
    assert sandbox.municipality.demo.typical.encode() not in raw  # the visit is keyed by hash


def test_a_subscriber_s_case_is_marked_when_the_index_found_a_change_after_the_visit(
    sandbox, tmp_path
):
    from borgersag.index.changes import Change

    app = index_app(sandbox, tmp_path, subscribe_on_login=True)
    refresher = app.extensions["borgersag.index"].runtime().refresher
    with app.test_client() as client:
        sandbox_login(client, sandbox, "borger", "typical")
        (subscriber_id,) = refresher.store.subscriber_ids()
        refresher.refresh(subscriber_id)
        client.get("/mine-sager")
        sandbox_login(client, sandbox, "borger", "typical")
        assert NEWS not in client.get("/mine-sager").get_data(as_text=True)

        facts = [f for f in refresher.store.facts(subscriber_id).values() if len(f.systems) == 1]
        changed = facts[0]
        refresher.store.apply(
            subscriber_id,
            [changed],
            {},
            lambda old, new: [Change(new.case_id, "status", {"progress": "x"})],
        )
        page = client.get("/mine-sager?side=1&q=" + changed.sagsnummer).get_data(as_text=True)
    assert "1 sag er ændret siden dit sidste besøg" in page
    link = page.index(f'/mine-sager/sag/{changed.case_id}"')
    assert NEWS in page[link : page.index("</h3>", link)]
