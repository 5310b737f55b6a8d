"""Retention: the purge removes unused unconfirmed accounts and old sent mails; client
addresses are never written to the database; every column naming a person is classified."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import JSON, String, Text, select

from forum import services as forum_services
from forum.extensions import db
from forum.models import User, utcnow
from mail.models import MailMessage, MessageKind, MessageStatus
from privacy import services


def test_the_purge_removes_old_unconfirmed_unused_accounts_only(
    app, make_user, make_topic, make_post
):
    old = utcnow() - timedelta(days=31)
    stale = make_user(email="glemt@example.dk")
    confirmed = make_user(email="bekraeftet@example.dk")
    writer = make_user(email="skribent@example.dk")
    recent = make_user(email="ny@example.dk")
    supporter = make_user(email="enig@example.dk")
    post = make_post(make_topic(), author=writer)
    forum_services.toggle_support(supporter, post)
    for user in (stale, confirmed, writer, supporter):
        user.created_at = old
    confirmed.email_verified_at = old
    db.session.commit()
    done = services.purge()
    db.session.commit()
    assert done["unverified"] == 1
    left = set(db.session.scalars(select(User.email)))
    assert "glemt@example.dk" not in left
    assert {"bekraeftet@example.dk", "skribent@example.dk", "enig@example.dk", recent.email} <= left


def test_the_purge_drops_sent_mails_past_their_retention(app, make_user):
    user = make_user()
    now = utcnow()
    for key, sent in (("gammel", now - timedelta(days=91)), ("frisk", now - timedelta(days=5))):
        db.session.add(
            MailMessage(
                key=key,
                kind=MessageKind.VERIFY_EMAIL,
                user_id=user.id,
                status=MessageStatus.SENT,
                sent_at=sent,
            )
        )
    db.session.commit()
    assert services.purge()["mails"] == 1
    db.session.commit()
    assert list(db.session.scalars(select(MailMessage.key))) == ["frisk"]


def test_the_purge_command_says_what_it_did(app, runner, make_user):
    user = make_user()
    user.created_at = utcnow() - timedelta(days=400)
    db.session.commit()
    result = runner.invoke(args=["privacy", "purge"])
    assert result.exit_code == 0, result.output
    assert "removed 1 unconfirmed account(s)" in result.output
    assert db.session.scalar(select(User)) is None


def test_no_client_address_is_written_to_any_table(app, client, make_user, login):
    user = make_user()
    client.post("/login", data={"email": user.email, "password": "forkert"})
    client.post(
        "/registrer",
        data={
            "email": "ip@example.dk",
            "display_name": "Ip Test",
            "password": "correct-horse-battery",
            "confirm": "correct-horse-battery",
            "accept": "y",
        },
        environ_base={"REMOTE_ADDR": "203.0.113.77"},
    )
    login(user)
    client.get("/moderation", environ_base={"REMOTE_ADDR": "203.0.113.77"})  # audited refusal
    assert db.session.scalar(select(User).where(User.email == "ip@example.dk")) is not None
    for table in db.metadata.sorted_tables:
        columns = [c for c in table.columns if isinstance(c.type, String | Text | JSON)]
        for row in db.session.execute(select(*columns)) if columns else ():
            for value in row:
                assert "203.0.113.77" not in str(value), table.name
                assert "127.0.0.1" not in str(value), table.name


def test_the_policy_states_the_longest_rate_limit_window():
    assert services.ip_retention_hours({"RATELIMIT_X": "5 per minute;20 per hour"}) == 1
    assert services.ip_retention_hours({"RATELIMIT_X": "10 per hour;30 per day"}) == 24
    assert services.ip_retention_hours({"RATELIMIT_X": "1 per 2 days"}) == 48


def test_every_column_that_names_a_person_is_classified(app):
    """A new table pointing at users must say whether it is the person's own data (export,
    deletion) or someone acting on others' data."""
    for table in db.metadata.sorted_tables:
        for column in table.columns:
            if any(fk.column.table.name == "users" for fk in column.foreign_keys):
                owned = services.OWNED.get(table.name) == column.name
                other = column.name in services.NOT_OWNED.get(table.name, set())
                assert owned or other, f"{table.name}.{column.name}"
