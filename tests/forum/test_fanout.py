"""Telling a new post's readers behind the commit (forum/fanout.py): the request's cost does
not grow with the followers, every reader is told exactly once (a worker dying mid-batch
included), and nothing is told of a post that is not public when the worker gets to it."""

from __future__ import annotations

import pytest
from sqlalchemy import func, insert, select
from sqlalchemy.exc import IntegrityError

from forum import eventlog, fanout, hooks, services
from forum.extensions import db
from forum.hooks import PostDecision
from forum.models import (
    Event,
    FanoutJob,
    Follow,
    Notification,
    PostState,
    User,
    utcnow,
)
from mail.models import MailItem


@pytest.fixture
def app_config() -> dict:
    """The tests drive the worker themselves (``fanout.drain`` / ``run_batch``)."""
    return {"FANOUT_DRAIN_WHEN_TESTING": False}


def add_followers(topic, n: int, start: int = 0) -> list[int]:
    """``n`` accounts following ``topic`` (written directly: the accounts are scenery)."""
    now = utcnow()
    ids = []
    for i in range(start, start + n):
        user = User(
            email=f"follower{i}@example.dk",
            display_name=f"Følger {i}",
            password_hash="!",
            email_verified_at=now,
        )
        db.session.add(user)
        db.session.flush()
        ids.append(user.id)
    if ids:
        db.session.execute(insert(Follow), [{"user_id": u, "topic_id": topic.id} for u in ids])
    db.session.commit()
    return ids


def told(post) -> list[tuple[int, str]]:
    return sorted(
        db.session.execute(
            select(Notification.user_id, Notification.kind).where(Notification.post_id == post.id)
        ).all()
    )


def notification_events(post) -> list[int]:
    return sorted(
        ev.subject_id
        for ev in db.session.scalars(select(Event).where(Event.kind == "notification"))
        if ev.payload.get("post_id") == post.id
    )


def open_jobs() -> int:
    return db.session.scalar(
        select(func.count(FanoutJob.event_id)).where(FanoutJob.done_at.is_(None))
    )


def test_the_request_costs_the_same_whatever_the_followers(
    make_topic, make_user, make_post, count_queries
):
    counts = {}
    for followers in (0, 40):
        topic = make_topic()
        parent = make_post(topic)
        fanout.drain()
        add_followers(topic, followers, start=1000 * len(counts))
        author = make_user()
        services.create_post(author, topic, "Et svar.", parent_id=parent.id)  # warm-up
        db.session.commit()
        fanout.drain()
        with count_queries() as n:
            post = services.create_post(author, topic, "Et svar mere.", parent_id=parent.id)
            db.session.commit()
        counts[followers] = n()
        assert told(post) == []  # nothing yet: the worker has not run
        assert open_jobs() == 1
        fanout.drain()
        # the parent's author and every follower (the topic's opener among them), not the author
        assert len(told(post)) == followers + 2
    assert counts[0] == counts[40]


def test_the_worker_tells_the_parent_author_and_followers_once_with_mail_and_events(
    app, make_topic, make_user, make_post
):
    topic = make_topic()
    parent_author, author = make_user(), make_user()
    parent = make_post(topic, author=parent_author)
    followers = add_followers(topic, 7)
    fanout.drain()
    post = make_post(topic, author=author, parent=parent)
    app.config["FANOUT_BATCH_SIZE"] = 3
    batches = []
    while (batch := fanout.run_batch()) is not None:
        batches.append(batch)
    assert [b.told for b in batches] == [3, 3, 3]  # the reply first, then followers by id
    expected = sorted(
        [(parent_author.id, "reply"), (topic.author_id, "followed_topic")]
        + [(uid, "followed_topic") for uid in followers]
    )
    assert told(post) == expected
    assert notification_events(post) == sorted(uid for uid, _ in expected)
    items = db.session.execute(
        select(MailItem.user_id, MailItem.source).where(MailItem.post_id == post.id)
    ).all()
    assert sorted(items) == expected
    job = db.session.get(FanoutJob, batches[0].event_id)
    assert job.done_at is not None and job.told == 9 and job.skipped is None
    assert fanout.drain() == 0


def test_a_worker_dying_mid_batch_neither_loses_nor_repeats(
    app, make_topic, make_user, make_post, monkeypatch
):
    topic = make_topic()
    followers = add_followers(topic, 10)
    post = make_post(topic)
    app.config["FANOUT_BATCH_SIZE"] = 4
    assert fanout.run_batch().told == 4  # the first batch commits

    real = eventlog.record_many
    calls = []

    def dies(specs):
        calls.append(len(specs))
        real(specs)  # the notifications and their events are written ...
        raise RuntimeError("worker killed")  # ... and the process dies before the commit

    monkeypatch.setattr(eventlog, "record_many", dies)
    with pytest.raises(RuntimeError):
        fanout.run_batch()
    monkeypatch.setattr(eventlog, "record_many", real)
    assert calls == [4]
    assert len(told(post)) == 4  # the dead batch left nothing behind
    assert fanout.drain() == 7  # the next worker takes over where the last commit left off
    expected = sorted([topic.author_id, *followers])
    assert [uid for uid, _ in told(post)] == expected
    assert notification_events(post) == expected
    mail_users = db.session.scalars(select(MailItem.user_id).where(MailItem.post_id == post.id))
    assert sorted(mail_users) == expected
    assert fanout.drain() == 0 and open_jobs() == 0


def test_a_second_worker_with_a_stale_job_is_refused(app, make_topic, make_post):
    """Two workers holding the same job: the one that commits second writes nothing."""
    from sqlalchemy.orm import Session
    from sqlalchemy.orm.exc import StaleDataError

    topic = make_topic()
    add_followers(topic, 3)
    post = make_post(topic)
    with Session(db.engine, expire_on_commit=False) as other:
        stale = other.get(FanoutJob, open_job_id())
        assert stale.recipient_after == -1
        other.commit()  # the second worker's read is over; it keeps the job as it was
        fanout.drain()  # the first worker does the whole job
        stale.recipient_after = 99  # the second one's batch, computed from the old state
        with pytest.raises(StaleDataError):
            other.commit()
    assert len(told(post)) == 4


def open_job_id() -> int:
    return db.session.scalar(select(FanoutJob.event_id).where(FanoutJob.done_at.is_(None)))


def test_one_post_notification_per_reader_is_enforced_by_the_database(make_topic, make_post):
    topic = make_topic()
    post = make_post(topic)
    fanout.drain()
    db.session.add(
        Notification(
            user_id=topic.author_id, kind="followed_topic", topic_id=topic.id, post_id=post.id
        )
    )
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()


def test_a_held_post_tells_its_readers_once_when_approved(app, make_topic, make_user, make_post):
    topic = make_topic()
    parent_author, author, moderator = make_user(), make_user(), make_user("moderator")
    parent = make_post(topic, author=parent_author)
    followers = add_followers(topic, 3)
    fanout.drain()
    hooks.register_post_policy(app, lambda post, action: PostDecision(PostState.PENDING, "test"))
    post = services.create_post(author, topic, "Venter på en moderator.", parent_id=parent.id)
    db.session.commit()
    assert post.state == PostState.PENDING
    assert fanout.drain() == 0 and told(post) == []

    services.publish_post(post, moderator.id)  # approved
    db.session.commit()
    assert fanout.drain() == 5
    expected = sorted(
        [(parent_author.id, "reply"), (topic.author_id, "followed_topic")]
        + [(uid, "followed_topic") for uid in followers]
    )
    assert told(post) == expected

    # Edited back into the queue and approved again: a second job, nobody told twice.
    services.edit_post(author, post, "Rettet tekst, der skal godkendes igen.")
    db.session.commit()
    assert post.state == PostState.PENDING
    services.publish_post(post, moderator.id)
    db.session.commit()
    assert fanout.drain() == 0
    assert told(post) == expected
    assert len(notification_events(post)) == 5


def test_a_post_hidden_before_the_worker_comes_tells_nobody(app, make_topic, make_post):
    from forum.states import transition

    topic = make_topic()
    add_followers(topic, 3)
    post = make_post(topic)
    transition(post, PostState.HIDDEN)  # a moderator was quicker than the worker
    db.session.commit()
    assert fanout.drain() == 0
    assert told(post) == []
    job = db.session.scalar(select(FanoutJob).where(FanoutJob.post_id == post.id))
    assert job.done_at is not None and job.skipped == "hidden"


def test_under_tests_the_commit_drains_by_default(make_topic, make_post, app):
    app.config["FANOUT_DRAIN_WHEN_TESTING"] = True
    topic = make_topic()
    add_followers(topic, 2)
    post = make_post(topic)
    assert len(told(post)) == 3 and open_jobs() == 0


def test_commands_run_the_worker_once_and_show_the_backlog(runner, make_topic, make_post):
    topic = make_topic()
    add_followers(topic, 2)
    make_post(topic)
    out = runner.invoke(args=["fanout", "status"]).output
    assert "Open jobs: 1" in out
    result = runner.invoke(args=["fanout", "worker", "--once"])
    assert result.exit_code == 0, result.output
    assert "Told 3 readers." in result.output
    out = runner.invoke(args=["fanout", "status"]).output
    assert "Open jobs: 0" in out and "3 readers told" in out
    seams = runner.invoke(args=["seams"]).output
    assert "forum.fanout" in seams and "forum.fanout_wake" in seams
