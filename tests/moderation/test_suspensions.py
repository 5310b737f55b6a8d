"""Suspended users read but do not write; they see why and until when; admins lift."""

from datetime import timedelta

import pytest

from forum import services as forum_services
from forum.errors import Conflict, InvalidInput, PermissionDenied
from forum.extensions import db
from forum.models import PostState, utcnow
from moderation import services
from moderation.models import AuditEntry, QueueItem


def test_suspended_user_can_read_but_not_write(
    as_user, moderator, make_user, topic, in_state, make_area
):
    user = make_user()
    other_post = in_state("published", topic)
    own = in_state("published", topic, author=user)
    c = as_user(moderator)
    r = c.post(
        f"/moderation/users/{user.id}/suspend",
        data={"duration": "7", "reason": "Gentagne personangreb"},
    )
    assert r.status_code == 302
    c = as_user(user)  # in Danish, the default
    page = c.get(f"/emner/{topic.id}").get_data(as_text=True)
    assert "Gentagne personangreb" in page  # the banner: why …
    assert "Du er udelukket fra at skrive indtil" in page  # … and until when
    page = as_user(user, "en").get(f"/emner/{topic.id}").get_data(as_text=True)
    assert "Gentagne personangreb" in page and "You are suspended from writing until" in page
    r = c.post(f"/emner/{topic.id}/indlaeg", data={"body": "Må jeg?"})
    assert r.status_code == 403 and "Gentagne personangreb" in r.get_data(as_text=True)
    assert c.post(f"/indlaeg/{other_post.id}/stoet").status_code == 403
    assert (
        c.post(
            f"/indlaeg/{other_post.id}/anmeld", data={"reason": "other", "text": "x"}
        ).status_code
        == 403
    )
    area = make_area()
    r = c.post("/emner/nyt", data={"title": "Et nyt emne", "intro": "Tekst", "area_id": area.id})
    assert r.status_code in (400, 403) and "Gentagne personangreb" in r.get_data(as_text=True)
    for call in (
        lambda: forum_services.create_post(user, topic, "svar", parent_id=other_post.id),
        lambda: forum_services.edit_post(user, own, "ny tekst"),
        lambda: forum_services.toggle_support(user, other_post),
        lambda: services.report_post(user, other_post, "spam"),
        lambda: forum_services.create_topic(user, "Et nyt emne", "Tekst", area_id=area.id),
    ):
        with pytest.raises(PermissionDenied):
            call()
    db.session.rollback()
    assert c.get(f"/emner/{topic.id}").status_code == 200  # reading still works


def test_suspension_ends_by_itself_and_admins_lift_it(moderator, admin, make_user, topic):
    user = make_user()
    s = services.suspend_user(moderator, user, "Spam", until=utcnow() + timedelta(days=1))
    db.session.commit()
    assert services.restriction(user, "post")
    with pytest.raises(PermissionDenied):
        services.lift_suspension(moderator, s)
    db.session.rollback()
    services.lift_suspension(admin, s)
    db.session.commit()
    assert services.restriction(user, "post") is None
    s2 = services.suspend_user(moderator, user, "Igen", until=utcnow() + timedelta(days=1))
    s2.until = utcnow() - timedelta(seconds=1)
    db.session.commit()
    assert services.restriction(user, "post") is None
    actions = [
        e.action
        for e in db.session.query(AuditEntry).order_by(AuditEntry.id)
        if e.target_type == "user"
    ]
    assert actions == ["suspend", "unsuspend", "suspend"]


def test_indefinite_suspension_and_lift_page(as_user, moderator, admin, make_user):
    user = make_user(name="Sigurd")
    c = as_user(moderator)
    c.post(f"/moderation/users/{user.id}/suspend", data={"duration": "0", "reason": "Trusler"})
    text = c.get("/moderation/suspensions").get_data(as_text=True)
    assert "Sigurd" in text and "Trusler" in text
    s = services.active_suspension(user.id)
    assert s.until is None
    assert c.post(f"/moderation/suspensions/{s.id}/lift").status_code == 403
    assert as_user(admin).post(f"/moderation/suspensions/{s.id}/lift").status_code == 302
    assert services.active_suspension(user.id) is None


def test_held_posts_of_suspended_author_stay_held(moderator, make_user, topic, held, rules):
    user = make_user()
    post = held(topic, user)
    services.suspend_user(moderator, user, "Spam")
    db.session.commit()
    item = db.session.query(QueueItem).filter_by(post_id=post.id).one()
    with pytest.raises(Conflict):
        services.decide_item(moderator, item, "approve")
    db.session.rollback()
    assert post.state == PostState.PENDING
    services.decide_item(moderator, item, "reject", rules["spam"].id)
    db.session.commit()
    assert post.state == PostState.REJECTED


def test_bad_suspensions(moderator, admin, make_user, make_area, make_topic, held):
    user = make_user()
    with pytest.raises(InvalidInput):
        services.suspend_user(moderator, user, "")
    with pytest.raises(InvalidInput):
        services.suspend_user(moderator, admin, "Nej")
    with pytest.raises(InvalidInput):
        services.suspend_user(moderator, moderator, "Nej")
    with pytest.raises(InvalidInput):
        services.suspend_user(moderator, user, "Spam", until=utcnow() - timedelta(days=1))
    with pytest.raises(PermissionDenied):
        services.suspend_user(make_user(), user, "Spam")
    area = make_area()
    scoped = make_user("moderator", areas=[area])
    with pytest.raises(PermissionDenied):  # has not written in the scoped moderator's areas
        services.suspend_user(scoped, user, "Spam")
    db.session.rollback()
    held(make_topic(author=admin, area=area), user)
    services.suspend_user(scoped, user, "Spam")
    db.session.commit()
    with pytest.raises(Conflict):
        services.suspend_user(moderator, user, "Igen")
