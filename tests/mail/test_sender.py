"""The sender against a real SMTP server: retries with back-off, exactly-once marking, the file
outbox, the commands and the embedded thread (senders killed mid-way: test_crashes.py)."""

from __future__ import annotations

import logging
import time
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from forum.extensions import db
from forum.models import utcnow
from mail import sender, services
from mail.models import MailMessage, MessageKind, MessageStatus

from .conftest import text_part


@pytest.fixture
def queued(make_user):
    """Queue ``n`` password-reset mails (an account mail: no preferences involved)."""

    def queue(n: int = 1) -> list[int]:
        ids = []
        for _ in range(n):
            user = make_user()
            ids.append(
                services.queue_message(user, MessageKind.PASSWORD_RESET, to_addr=user.email).id
            )
        db.session.commit()
        return ids

    return queue


def status(msg_id: int) -> MailMessage:
    db.session.expire_all()
    return db.session.get(MailMessage, msg_id)


def test_a_server_that_refuses_then_accepts_gets_the_mail_once(smtp, queued, send):
    [mid] = queued()
    smtp.handler.refuse = 2  # 451 twice
    assert send() == [] and status(mid).status == MessageStatus.QUEUED
    assert send() == [] and status(mid).attempts == 2
    [mail] = send()
    assert send() == []
    msg = status(mid)
    assert msg.status == MessageStatus.SENT and msg.attempts == 3 and msg.sent_at
    assert "/konto/nulstil/" in text_part(mail)


def test_retries_back_off(app, smtp, queued, send):
    app.config["MAIL_RETRY_BASE_SECONDS"] = 60
    [mid] = queued()
    smtp.handler.refuse = 2
    t0 = utcnow()
    send(now=t0)
    assert status(mid).due_at >= t0 + timedelta(seconds=60)
    assert send(now=t0 + timedelta(seconds=30)) == []  # not yet due
    send(now=t0 + timedelta(seconds=61))  # refused again: now 120 s
    assert status(mid).due_at >= t0 + timedelta(seconds=61 + 120)
    assert send(now=t0 + timedelta(seconds=150)) == []
    assert len(send(now=t0 + timedelta(seconds=200))) == 1


def test_a_server_that_is_down_then_up(smtp, queued, send):
    ids = queued(3)
    smtp.stop()
    assert send() == []
    assert all(status(i).status == MessageStatus.QUEUED for i in ids)
    assert "cannot connect" in status(ids[0]).last_error
    smtp.start()
    assert len(send()) == 3
    assert send() == []
    assert sorted(to for _f, [to] in smtp.envelopes()) == sorted(status(i).to_addr for i in ids)


def test_a_permanent_refusal_is_not_retried(smtp, queued, send):
    [mid] = queued()
    smtp.handler.rcpt_reply = "550 5.1.1 No such mailbox"
    send()
    smtp.handler.rcpt_reply = None
    assert send() == []
    msg = status(mid)
    assert msg.status == MessageStatus.FAILED and msg.attempts == 1
    assert "550" in msg.last_error


def test_too_many_attempts_fail(app, smtp, queued, send):
    app.config["MAIL_MAX_ATTEMPTS"] = 3
    [mid] = queued()
    smtp.handler.refuse = 10
    for _ in range(5):
        send()
    assert status(mid).status == MessageStatus.FAILED and status(mid).attempts == 3


def test_a_connection_lost_during_data_is_sent_again_not_lost(smtp, queued, send):
    [mid] = queued()
    smtp.handler.drop = 1  # the connection breaks before the server took the mail
    assert send() == []
    msg = status(mid)
    assert msg.status == MessageStatus.QUEUED and msg.last_error.startswith("resent")
    [mail] = send()
    msg = status(mid)
    assert msg.status == MessageStatus.SENT and msg.attempts == 2
    assert msg.last_error.startswith("resent")  # it may have arrived twice: the row says so
    assert mail["To"] == msg.to_addr and send() == []


def test_a_lost_claim_is_not_sent(app, smtp, queued, send):
    """A sender whose lease ran out and was taken over must not send the mail too."""
    [mid] = queued()
    token = "slow-sender"
    db.session.execute(
        MailMessage.__table__.update()
        .where(MailMessage.id == mid)
        .values(
            status=MessageStatus.SENDING,
            claimed_by="someone-else",
            claimed_until=utcnow() + timedelta(minutes=5),
            attempts=1,
        )
    )
    db.session.commit()
    transport = _ConnectedTransport(smtp)
    try:
        sender._send_one(mid, transport, token, utcnow(), sender.Report())
    finally:
        transport.close()
    assert smtp.messages() == [] and status(mid).status == MessageStatus.SENDING


class _ConnectedTransport(sender.SMTPTransport):
    def __init__(self, smtp):
        super().__init__(
            {
                "MAIL_SERVER": "127.0.0.1",
                "MAIL_SECURITY": "none",
                "MAIL_PORT": smtp.port,
                "MAIL_TIMEOUT": 5,
            }
        )
        self.open()


def test_each_mail_is_marked_sent_once(smtp, queued, send):
    ids = queued(25)
    assert len(send()) == 25
    assert send() == []
    rows = db.session.scalars(select(MailMessage).where(MailMessage.id.in_(ids))).all()
    assert {m.status for m in rows} == {MessageStatus.SENT} and {m.attempts for m in rows} == {1}
    assert len({m["Message-ID"] for m in smtp.messages()}) == 25


class TestWithoutSMTPServer:
    @pytest.fixture
    def app_config(self, mail_config, tmp_path):
        return {**mail_config, "MAIL_SERVER": None, "MAIL_OUTBOX_DIR": str(tmp_path / "outbox")}

    def test_mails_are_written_to_the_outbox_folder_and_the_log_says_where(
        self, app, client, caplog, monkeypatch
    ):
        # Alembic's fileConfig (tests/forum/test_migrations.py) disables existing loggers.
        monkeypatch.setattr(logging.getLogger("borgerdialog.mail"), "disabled", False)
        client.post(
            "/registrer",
            data={
                "email": "ny@example.dk",
                "display_name": "Ny Bruger",
                "password": "correct-horse-battery",
                "confirm": "correct-horse-battery",
                "accept": "y",
            },
        )
        with caplog.at_level(logging.INFO, logger="borgerdialog.mail"):
            report = sender.run_once()
        assert report.sent == 1
        [eml] = list(Path(app.config["MAIL_OUTBOX_DIR"]).glob("*.eml"))
        assert str(eml) in caplog.text and "ny@example.dk" in caplog.text
        assert b"/konto/bekraeft/" in eml.read_bytes()
        assert sender.run_once().sent == 0


def test_commands(runner, make_user, make_topic, make_post, smtp):
    user = make_user()
    topic = make_topic()
    from forum import services as forum_services

    forum_services.set_follow(user, topic, True)
    db.session.commit()
    make_post(topic, body="Til sammendraget.")
    r = runner.invoke(args=["mail", "digests"])
    assert r.exit_code == 0 and "digest(s) queued" in r.output
    services.queue_message(user, MessageKind.PASSWORD_RESET, to_addr=user.email)
    db.session.commit()
    r = runner.invoke(args=["mail", "send"])
    assert r.exit_code == 0 and "1 sent" in r.output, r.output
    assert len(smtp.messages()) == 1
    r = runner.invoke(args=["mail", "status"])
    assert "sent" in r.output
    r = runner.invoke(args=["mail", "verify", "nobody@example.dk"])
    assert r.exit_code != 0 and "No account" in r.output


class TestEmbeddedThread:
    @pytest.fixture
    def app_config(self, mail_config):
        return {**mail_config, "MAIL_THREAD_WHEN_TESTING": True, "MAIL_POLL_INTERVAL": 30}

    def test_the_thread_sends_soon_after_the_commit(self, app, client, smtp):
        try:
            client.post(
                "/registrer",
                data={
                    "email": "ny@example.dk",
                    "display_name": "Ny",
                    "password": "correct-horse-battery",
                    "confirm": "correct-horse-battery",
                    "accept": "y",
                },
            )
            deadline = time.monotonic() + 10
            while not smtp.messages() and time.monotonic() < deadline:
                time.sleep(0.05)
            [mail] = smtp.messages()  # woken by the commit, well before the 30 s poll
            assert mail["To"] == "ny@example.dk"
        finally:
            sender.stop_threads()
