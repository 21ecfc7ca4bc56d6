"""Registration emails written by the worker at delivery, and the gathered hand-over."""

from __future__ import annotations

import time

from sqlalchemy import select

from learnhub.extensions import db
from learnhub.notifications import delivery, handover
from learnhub.notifications.models import DevMailboxMessage, OutboxMessage
from learnhub.registration.models import Registration
from tests import factories as f


def test_the_worker_writes_the_confirmation_from_the_row_when_it_delivers_it(client):
    programme = f.make_programme(title="Climate-ready streets")
    client.post(f"/programmes/{programme.slug}/register", data=f.registration_form())
    row = db.session.scalar(select(OutboxMessage))
    assert (row.text_body, row.html_body, row.ics) == ("", "", None)
    assert [o.status for o in delivery.drain()] == ["sent"]
    db.session.expire_all()
    row = db.session.get(OutboxMessage, row.id)
    assert row.render_args is None
    assert "You are registered for Climate-ready streets" in row.text_body
    assert "Climate-ready streets" in row.html_body and "BEGIN:VCALENDAR" in row.ics
    raw = db.session.scalar(select(DevMailboxMessage.raw))
    assert "text/calendar" in raw and row.subject == "You are registered: Climate-ready streets"


def test_an_email_whose_registration_is_gone_is_skipped_with_a_reason(client):
    programme = f.make_programme()
    client.post(f"/programmes/{programme.slug}/register", data=f.registration_form())
    f.begin_write_transaction()
    db.session.delete(db.session.scalar(select(Registration)))
    db.session.commit()
    (outcome,) = delivery.drain()
    assert outcome.status == "skipped"
    assert "registration is gone" in outcome.reason
    assert db.session.scalar(select(DevMailboxMessage)) is None


def test_commits_close_together_are_handed_to_the_broker_together(app, monkeypatch):
    handed: list[list[int]] = []
    monkeypatch.setattr(handover, "dispatch", lambda ids: handed.append(list(ids)))
    monkeypatch.setitem(app.config, "OUTBOX_DISPATCH", "celery")
    with app.app_context():
        handover.hand_over([1])
        handover.hand_over([2, 3])
    deadline = time.monotonic() + 5
    while not handed and time.monotonic() < deadline:
        time.sleep(0.02)
    time.sleep(handover.LINGER_SECONDS)
    assert handed == [[1, 2, 3]], "one hand-over for both commits, after them"


def test_a_steady_stream_of_commits_is_handed_over_at_most_once_per_interval(app, monkeypatch):
    """Under load the broker gets one message per interval, not one per linger; the first
    commit after a quiet spell still goes after the linger alone, and no id is left behind."""
    interval = 0.4
    handed: list[tuple[float, list[int]]] = []
    monkeypatch.setattr(handover, "MIN_SECONDS_BETWEEN_HAND_OVERS", interval)
    monkeypatch.setattr(
        handover, "dispatch", lambda ids: handed.append((time.monotonic(), list(ids)))
    )
    monkeypatch.setitem(app.config, "OUTBOX_DISPATCH", "celery")
    started = time.monotonic()
    with app.app_context():
        for outbox_id in range(60):  # one commit every 20 ms for 1.2 s
            handover.hand_over([outbox_id])
            time.sleep(0.02)
    deadline = time.monotonic() + 5
    while sum(len(ids) for _, ids in handed) < 60 and time.monotonic() < deadline:
        time.sleep(0.02)
    assert sorted(i for _, ids in handed for i in ids) == list(range(60))
    assert handed[0][0] - started < interval, "the first commit waits for the linger only"
    gaps = [later - earlier for (earlier, _), (later, _) in zip(handed, handed[1:], strict=False)]
    assert gaps and min(gaps) >= interval * 0.95, gaps
    assert len(handed) <= 1 + 1.2 / interval + 1


def test_nothing_is_handed_over_when_dispatch_is_off(app, monkeypatch):
    handed: list = []
    monkeypatch.setattr(handover, "dispatch", handed.append)
    with app.app_context():
        handover.hand_over([1])
    time.sleep(2 * handover.LINGER_SECONDS)
    assert handed == [] and "outbox_hand_over" not in app.extensions


def test_a_hand_over_costs_one_broker_message_or_two_for_a_large_one(app_factory, monkeypatch):
    app = app_factory(OUTBOX_DISPATCH="celery", CELERY_BROKER_URL="memory://")
    celery = app.extensions["celery"]
    celery.conf.broker_url = "memory://"
    sent: list[tuple[str, list]] = []
    monkeypatch.setattr(
        celery, "send_task", lambda name, args=None, **_kw: sent.append((name, args))
    )
    with app.app_context():
        handover.dispatch([7])
        assert sent == [("notifications.deliver", [7])]
        sent.clear()
        handover.dispatch(list(range(1, 60)))
        assert sent == [("notifications.drain", None)]
        sent.clear()
        handover.dispatch(list(range(1, 200)))
        assert sent == [("notifications.drain", None)] * 2


def test_the_embedded_broker_queue_declared_by_another_process_meanwhile_is_used(
    app_factory, tmp_path, monkeypatch, caplog
):
    """Two web processes handing over their first rows together: the one whose declaration
    loses the race uses the queue row the other wrote (it used to fail, leaving its rows to
    the sweep), and the broker's file is in WAL mode."""
    import sqlite3

    from kombu.transport import sqlalchemy as kombu_sql
    from sqlalchemy.exc import IntegrityError

    broker_file = tmp_path / "broker.sqlite"
    app = app_factory(OUTBOX_DISPATCH="celery", CELERY_BROKER_URL=f"sqla+sqlite:///{broker_file}")
    app.extensions["celery"].conf.broker_url = f"sqla+sqlite:///{broker_file}"
    original = kombu_sql.Channel._get_or_create
    raced: list[str] = []

    def declared_meanwhile(channel, queue):
        if not raced:
            raced.append(queue)
            channel.session  # noqa: B018  (creates the broker's tables)
            with sqlite3.connect(broker_file) as other:
                other.execute("INSERT INTO kombu_queue (name) VALUES (?)", (queue,))
            raise IntegrityError(
                "INSERT INTO kombu_queue", {}, Exception("UNIQUE constraint failed")
            )
        return original(channel, queue)

    monkeypatch.setattr(kombu_sql.Channel, "_get_or_create", declared_meanwhile)
    monkeypatch.setattr(handover, "_DECLARED", set())
    with app.app_context(), caplog.at_level("WARNING"):
        handover.dispatch([42])
    assert raced == ["celery"]
    assert "could not hand" not in caplog.text
    with sqlite3.connect(broker_file) as broker:
        assert broker.execute("SELECT count(*) FROM kombu_queue").fetchone() == (1,)
        assert broker.execute("SELECT count(*) FROM kombu_message").fetchone() == (1,)
        assert broker.execute("PRAGMA journal_mode").fetchone() == ("wal",)


def test_the_embedded_broker_tables_created_by_another_process_meanwhile_are_used(
    app_factory, tmp_path, monkeypatch, caplog
):
    """The other way the first hand-overs of two processes race: both create kombu's tables
    (`table kombu_message already exists`)."""
    import sqlite3

    from kombu.transport import sqlalchemy as kombu_sql
    from sqlalchemy.exc import OperationalError

    broker_file = tmp_path / "broker.sqlite"
    app = app_factory(OUTBOX_DISPATCH="celery", CELERY_BROKER_URL=f"sqla+sqlite:///{broker_file}")
    app.extensions["celery"].conf.broker_url = f"sqla+sqlite:///{broker_file}"
    create_all = kombu_sql.metadata.create_all
    raced: list[bool] = []

    def created_meanwhile(engine, *args, **kwargs):
        create_all(engine, *args, **kwargs)  # the other process's tables
        if len(raced) < 2:  # it was creating them at the same moment, twice over
            raced.append(True)
            raise OperationalError("CREATE TABLE kombu_message", {}, Exception("exists"))

    monkeypatch.setattr(kombu_sql.metadata, "create_all", created_meanwhile)
    monkeypatch.setattr(handover, "_DECLARED", set())
    with app.app_context(), caplog.at_level("WARNING"):
        handover.dispatch([42])
    assert raced == [True, True]
    assert "could not hand" not in caplog.text
    with sqlite3.connect(broker_file) as broker:
        assert broker.execute("SELECT count(*) FROM kombu_message").fetchone() == (1,)
