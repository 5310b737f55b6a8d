"""Outcome services: who may write, what is validated, the timeline, citations, nonces,
events and notifications."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select

from forum.errors import Conflict, InvalidInput, PermissionDenied
from forum.extensions import db
from forum.models import Event, Follow, Notification, PostState, TopicStatus
from forum.services import set_follow, toggle_support
from outcomes import services
from outcomes.models import Outcome, OutcomeCitation, OutcomeStatus, OutcomeUpdate

from .conftest import add


@pytest.mark.parametrize(
    ("who", "allowed"),
    [
        ("citizen", False),
        ("other_politician", False),
        ("politician", True),
        ("scoped", False),
        ("staff", True),
        ("municipal", True),
        ("admin", True),
    ],
)
def test_who_may_write_an_outcome(world, who, allowed):
    writer = getattr(world, who)
    if allowed:
        update = add(world, writer)
        assert update.outcome.topic_id == world.topic.id
        assert update.author_id == writer.id
    else:
        with pytest.raises(PermissionDenied):
            add(world, writer)
        db.session.rollback()
        assert db.session.scalar(select(func.count(Outcome.id))) == 0
        assert (
            db.session.scalar(select(func.count(Event.id)).where(Event.kind == "outcome_update"))
            == 0
        )


def test_first_update_creates_the_outcome_and_the_latest_date_heads_it(world):
    first = add(world, status="in_progress", body="administration", decided_on=date(2026, 10, 1))
    second = add(world, status="referred", body="committee", decided_on=date(2026, 11, 1))
    # An older entry added later goes into the timeline but does not head it.
    add(world, status="postponed", decided_on=date(2026, 9, 1))
    outcome = db.session.get(Outcome, first.outcome_id)
    assert second.outcome_id == outcome.id
    assert outcome.status == OutcomeStatus.REFERRED and outcome.updated_on == date(2026, 11, 1)
    db.session.expire_all()
    assert [u.decided_on.month for u in outcome.updates] == [11, 10, 9]


def test_markdown_goes_through_the_sanitiser(world):
    update = add(world, text="**Besluttet** <script>alert(1)</script> [link](javascript:alert(1))")
    assert "<strong>Besluttet</strong>" in update.text_html
    assert "<script>" not in update.text_html and "javascript:" not in update.text_html


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("link", "javascript:alert(1)"),
        ("link", "ftp://holbaek.dk/referat.pdf"),
        ("link", "www.holbaek.dk/referat"),
        ("link", "https://"),
        ("text", "kort"),
        ("status", "maybe"),
        ("body", "the king"),
        ("decided_on", None),
        ("decided_on", date(1999, 12, 31)),
        ("citations", "ikke et nummer"),
    ],
)
def test_invalid_input_names_its_field_and_writes_nothing(world, field, value):
    with pytest.raises(InvalidInput) as exc:
        add(world, **{field: value})
    assert field in exc.value.fields
    db.session.rollback()
    assert db.session.scalar(select(func.count(OutcomeUpdate.id))) == 0


def test_http_and_https_links_are_kept(world):
    assert (
        add(world, link="https://holbaek.dk/dagsorden/12").link == "https://holbaek.dk/dagsorden/12"
    )
    assert add(world, link="http://holbaek.dk/r").link == "http://holbaek.dk/r"


def test_a_double_submission_creates_one_update(world):
    one = add(world, nonce="form-1")
    two = add(world, nonce="form-1", text="Et andet forsøg på samme formular.")
    assert one.id == two.id
    assert db.session.scalar(select(func.count(OutcomeUpdate.id))) == 1
    assert (
        db.session.scalar(select(func.count(Event.id)).where(Event.kind == "outcome_update")) == 1
    )


def test_citations_of_published_posts_with_notes(world):
    a, b = world.posts
    update = add(world, citations=f"{a.id}: Cykelstien er med\n/indlaeg/{b.id} — bussen følger\n\n")
    assert [(c.kind.value, c.target_id, c.note) for c in update.citations] == [
        ("post", a.id, "Cykelstien er med"),
        ("post", b.id, "bussen følger"),
    ]


@pytest.mark.parametrize("state", ["pending", "hidden", "rejected", "removed", "deleted"])
def test_citing_a_post_that_is_not_public_is_refused(world, state):
    post = world.posts[0]
    post.state = PostState(state)
    db.session.commit()
    with pytest.raises(InvalidInput) as exc:
        add(world, citations=f"{post.id}: note")
    assert "citations" in exc.value.fields
    db.session.rollback()
    assert db.session.scalar(select(func.count(OutcomeCitation.id))) == 0


def test_citing_a_post_of_another_topic_is_refused(world, make_topic, make_post):
    elsewhere = make_post(make_topic(committee=world.topic.committee))
    with pytest.raises(InvalidInput):
        add(world, citations=f"{elsewhere.id}: note")


def test_no_outcome_on_a_topic_that_is_not_public(world):
    world.topic.status = TopicStatus.PROPOSED
    db.session.commit()
    with pytest.raises(Conflict):
        add(world, world.admin)


def test_the_update_is_an_event_in_the_topic_room(world):
    update = add(world, citations=f"{world.posts[0].id}: x")
    ev = db.session.scalar(select(Event).where(Event.kind == "outcome_update"))
    assert ev.room == f"topic:{world.topic.id}" and ev.subject_type == "outcome"
    assert ev.payload["update_id"] == update.id and ev.payload["cited"] == [world.posts[0].id]
    assert ev.actor_id == world.staff.id


def _notices(user_id: int) -> int:
    return db.session.scalar(
        select(func.count(Notification.id)).where(
            Notification.user_id == user_id, Notification.kind == "outcome_update"
        )
    )


def test_everybody_who_took_part_is_told_exactly_once_per_update(world, make_user):
    author = world.posts[0].author  # wrote a post, so follows the topic too
    assert db.session.get(Follow, (author.id, world.topic.id)) is not None
    supporter = make_user()
    toggle_support(supporter, world.posts[1])
    follower = make_user()
    set_follow(follower, world.topic, True)
    bystander = make_user()
    db.session.commit()
    add(world)
    add(world, status="referred")
    for person in (author, world.posts[1].author, supporter, follower):
        assert _notices(person.id) == 2, person
    assert _notices(bystander.id) == 0
    assert _notices(world.staff.id) == 0  # the writer is not told of their own update
    notes = db.session.scalars(
        select(Event).where(Event.kind == "notification", Event.room == f"user:{author.id}")
    ).all()
    outcome_notes = [e for e in notes if e.payload.get("kind") == "outcome_update"]
    assert len(outcome_notes) == 2
    assert (
        outcome_notes[0].payload["path"]
        == f"/emner/{world.topic.id}/resultat#u{outcome_notes[0].payload['update_id']}"
    )


def test_participants_of_a_hidden_post_are_not_counted(world):
    hidden = world.posts[0]
    hidden.state = PostState.HIDDEN
    db.session.execute(Follow.__table__.delete().where(Follow.user_id == hidden.author_id))
    db.session.commit()
    assert hidden.author_id not in services.participants(world.topic)
    assert world.posts[1].author_id in services.participants(world.topic)


def test_an_update_writes_an_audit_entry_through_the_hook(world):
    from moderation.models import AuditEntry

    update = add(world, citations=f"{world.posts[0].id}: x")
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "outcome_update"))
    assert entry.target_id == update.id and entry.actor_id == world.staff.id
    assert entry.topic_id == world.topic.id and entry.area_id == world.topic.area_id
    assert entry.data["cited_posts"] == [world.posts[0].id] and entry.text == "decided"


def test_without_an_audit_writer_nothing_is_audited_and_the_update_is_written(app, world):
    from forum.hooks import _AUDIT_KEY
    from moderation.models import AuditEntry

    writer = app.extensions.pop(_AUDIT_KEY)
    try:
        add(world)
    finally:
        app.extensions[_AUDIT_KEY] = writer
    assert db.session.scalar(select(func.count(AuditEntry.id))) == 0
    assert db.session.scalar(select(func.count(OutcomeUpdate.id))) == 1
