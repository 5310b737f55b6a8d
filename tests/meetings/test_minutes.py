"""Minutes and offline contributions: posts in the meeting's topic with provenance, shown in
the thread, under the post visibility rules, counted as stances; bad input refused."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from forum.errors import Conflict, InvalidInput, PermissionDenied
from forum.extensions import db
from forum.models import Post, PostState, utcnow
from meetings import minutes
from meetings.models import MeetingContribution


@pytest.fixture
def past(world, make_meeting):
    m = make_meeting(
        kind="citizens", topic_id=world.topic.id, area_id=world.area.id, registration=False
    )
    m.starts_at -= timedelta(days=20)  # it took place
    m.ends_at -= timedelta(days=20)
    db.session.commit()
    return m


def test_contributions_with_provenance_in_the_thread_and_stance(world, past, client):
    post = minutes.add_contribution(
        world.staff,
        past,
        "Vi ønsker færre vindmøller tæt på byen.",
        stance="against",
        speaker_name="Hanne Holm",
        consent=True,
    )
    db.session.commit()
    assert post.stance.value == "against" and post.state == PostState.PUBLISHED
    page = client.get(f"/emner/{world.topic.id}").get_data(as_text=True)
    assert "Vi ønsker færre vindmøller" in page
    assert "fra borgermødet i Tølløse" in page and "sagt af Hanne Holm" in page
    assert f"/moeder/{past.id}" in page
    assert "Vi ønsker færre vindmøller" in client.get(f"/moeder/{past.id}").get_data(as_text=True)


def test_a_hidden_contribution_is_not_shown_to_others(world, past, client):
    post = minutes.add_contribution(world.staff, past, "En udtalelse der senere skjules.")
    db.session.commit()
    post.state = PostState.HIDDEN
    db.session.commit()
    assert "senere skjules" not in client.get(f"/moeder/{past.id}").get_data(as_text=True)


def test_bad_contributions_change_nothing(world, past, make_meeting):
    with pytest.raises(InvalidInput):
        minutes.add_contribution(world.staff, past, "Noget der blev sagt.", speaker_name="Ib")
    db.session.rollback()
    with pytest.raises(PermissionDenied):
        minutes.add_contribution(world.citizen, past, "Noget der blev sagt.")
    db.session.rollback()
    future = make_meeting(topic_id=world.topic.id)
    with pytest.raises(Conflict):
        minutes.add_contribution(world.staff, future, "Noget der blev sagt.")
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(MeetingContribution)) == 0
    assert db.session.scalar(select(func.count()).select_from(Post)) == 0


def test_minutes_published_after_the_meeting(world, past, client, login):
    login(world.staff)
    resp = client.post(f"/moeder/{past.id}/referat", data={"minutes": "kort"})
    assert resp.status_code == 400
    resp = client.post(
        f"/moeder/{past.id}/referat", data={"minutes": "## Referat\n\nMødet drøftede vindmøller."}
    )
    assert resp.status_code == 302
    assert "Mødet drøftede vindmøller." in client.get(f"/moeder/{past.id}").get_data(as_text=True)
    resp = client.post(
        f"/moeder/{past.id}/bidrag",
        data={"body": "Et forslag fra salen om solceller.", "stance": "for", "speaker_name": ""},
    )
    assert resp.status_code == 302
    db.session.refresh(past)  # the requests committed in sessions of their own
    assert past.minutes_published_at is not None
    assert utcnow() >= past.minutes_published_at
