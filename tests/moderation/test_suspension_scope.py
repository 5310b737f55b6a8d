"""A moderator scoped to local areas sees the suspensions and moderation records only of
people in their scope: those who have written in their areas (the rule suspending follows)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from forum.extensions import db
from forum.models import utcnow
from moderation import services


@pytest.fixture
def scene(make_area, make_user, make_topic, make_post, admin):
    here, there = make_area("Tølløse"), make_area("Holbæk By")
    scoped = make_user("moderator", name="Kirsten Scoped", areas=[here])
    everywhere = make_user("moderator", name="Jens Everywhere")
    local = make_user(name="Lone Local")
    stranger = make_user(name="Sven Stranger")
    make_post(make_topic(author=admin, area=here), local, body="Om Tølløse.")
    make_post(make_topic(author=admin, area=there), stranger, body="Om Holbæk.")
    make_post(make_topic(author=admin), stranger, body="Om udvalget.")  # a committee's topic
    until = utcnow() + timedelta(days=10)
    services.suspend_user(admin, local, "Grund-i-Tølløse: personangreb", until)
    services.suspend_user(admin, stranger, "Grund-i-Holbæk: chikane", until)
    db.session.commit()
    return scoped, everywhere, local, stranger


def test_suspension_list_shows_only_the_scope(as_user, scene, admin):
    scoped, everywhere, local, stranger = scene
    html = as_user(scoped, "en").get("/moderation/suspensions").get_data(as_text=True)
    assert "Grund-i-Tølløse" in html and "Lone Local" in html
    assert "Grund-i-Holbæk" not in html and "Sven Stranger" not in html
    for viewer in (everywhere, admin):
        html = as_user(viewer, "en").get("/moderation/suspensions").get_data(as_text=True)
        assert "Grund-i-Tølløse" in html and "Grund-i-Holbæk" in html


def test_user_page_only_in_scope(as_user, scene, admin):
    scoped, everywhere, local, stranger = scene
    client = as_user(scoped, "en")
    mine = client.get(f"/moderation/users/{local.id}")
    assert mine.status_code == 200 and "Grund-i-Tølløse" in mine.get_data(as_text=True)
    other = client.get(f"/moderation/users/{stranger.id}")
    assert other.status_code == 403
    assert "Grund-i-Holbæk" not in other.get_data(as_text=True)
    assert "not written in the areas you moderate" in other.get_data(as_text=True)
    # An invalid suspension form does not show the record back either.
    bad = client.post(f"/moderation/users/{stranger.id}/suspend", data={"reason": ""})
    assert bad.status_code == 403 and "Grund-i-Holbæk" not in bad.get_data(as_text=True)
    for viewer in (everywhere, admin):
        page = as_user(viewer, "en").get(f"/moderation/users/{stranger.id}")
        assert page.status_code == 200 and "Grund-i-Holbæk" in page.get_data(as_text=True)


def test_scope_rule_is_the_one_suspending_uses(scene):
    scoped, everywhere, local, stranger = scene
    assert services.user_in_scope(scoped, local) and not services.user_in_scope(scoped, stranger)
    assert services.user_in_scope(everywhere, stranger)
    assert not services.user_in_scope(local, stranger)  # not a moderator


def test_a_topic_proposal_in_the_area_is_writing_there(scene, make_user, make_area):
    from forum import services as forum_services

    scoped = scene[0]
    here = scoped.moderated_areas[0]
    proposer = make_user(name="Per Proposer")
    forum_services.create_topic(proposer, "Et forslag til Tølløse", "Tekst", area_id=here.id)
    db.session.commit()
    assert services.user_in_scope(scoped, proposer)
    assert not services.user_in_scope(scoped, make_user())
