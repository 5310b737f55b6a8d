"""The demo data: ``seed_demo`` builds Holbæk's forum through the services."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import aliased

from forum import services
from forum.demo import ADMIN_PASSWORD, DEMO_PASSWORD, demo_size, seed_demo
from forum.demo_content import BIG_TOPIC_TITLE, TOPICS
from forum.extensions import db
from forum.models import (
    Area,
    Committee,
    Post,
    PostState,
    Role,
    Support,
    Topic,
    TopicStatus,
    User,
    utcnow,
)


def _count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model)) or 0


def test_seed_demo_builds_the_demo_municipality(app):
    ticks: list[int] = []
    accounts = seed_demo(ticks.append, big_posts=40)

    assert sum(ticks) == demo_size(big_posts=40)
    assert _count(Committee) == 7
    assert _count(Area) == 12
    assert _count(Topic) == len(TOPICS) == 12

    big = db.session.scalar(select(Topic).where(Topic.title == BIG_TOPIC_TITLE))
    assert big is not None and big.committee.slug == "boern-og-skole"
    big_posts = db.session.scalar(select(func.count(Post.id)).where(Post.topic_id == big.id))
    assert big_posts >= 40
    assert big.post_count == big_posts
    assert db.session.scalar(select(func.max(Post.depth)).where(Post.topic_id == big.id)) >= 4

    # Every post is public, and replies come after the posts they answer.
    assert (
        db.session.scalar(select(func.count(Post.id)).where(Post.state != PostState.PUBLISHED)) == 0
    )
    parent = aliased(Post)
    assert (
        db.session.scalar(
            select(func.count(Post.id))
            .join(parent, Post.parent_id == parent.id)
            .where(Post.created_at <= parent.created_at)
        )
        == 0
    )
    assert (
        db.session.scalar(
            select(func.count(Support.post_id))
            .join(Post, Post.id == Support.post_id)
            .where(Support.user_id == Post.author_id)
        )
        == 0
    )
    assert _count(Support) > 0

    # One consultation still running, one whose deadline passed (closed).
    now = utcnow()
    topics = list(db.session.scalars(select(Topic)))
    assert any(t.status == TopicStatus.OPEN and t.deadline and t.deadline > now for t in topics)
    assert any(t.status == TopicStatus.CLOSED and t.deadline and t.deadline < now for t in topics)

    moderators = list(db.session.scalars(select(User).where(User.role == Role.MODERATOR)))
    scoped = [m for m in moderators if m.moderated_areas]
    assert len(scoped) == 1
    assert {a.slug for a in scoped[0].moderated_areas} == {"toelloese", "jyderup"}
    assert any(not m.moderated_areas for m in moderators)

    # A municipal employee (Role.STAFF): staff's work without moderating.
    from forum import permissions

    [employee] = db.session.scalars(select(User).where(User.role == Role.STAFF))
    assert employee.email == "medarbejder@holbaek.example"
    assert permissions.is_staff(employee) and not permissions.is_moderator(employee)
    assert ("staff (administration)", employee.display_name, employee.email, DEMO_PASSWORD) in (
        accounts
    )

    politicians = list(db.session.scalars(select(User).where(User.role == Role.POLITICIAN)))
    assert len(politicians) >= 8
    for politician in politicians:
        assert politician.party
        assert politician.committees

    assert len(accounts) == _count(User)
    for label, name, email, password in accounts:
        assert password == (ADMIN_PASSWORD if label == "admin" else DEMO_PASSWORD)
        user = services.authenticate(email, password)
        assert user is not None, email
        assert user.display_name == name
