"""Authors see their own decided posts with rule and text, and may appeal once."""

import pytest

from forum.errors import Conflict, InvalidInput, PermissionDenied
from forum.extensions import db
from forum.models import Notification, PostState
from moderation import services
from moderation.models import Appeal, AuditEntry, QueueItem


def _decision(post, action="reject"):
    return db.session.query(AuditEntry).filter_by(post_id=post.id, action=action).one()


def test_author_sees_own_rejected_post_with_rule_and_text(as_user, topic, in_state, rules):
    post = in_state("rejected", topic, body="Min afviste tekst")
    c = as_user(post.author)
    text = c.get(f"/emner/{topic.id}").get_data(as_text=True)
    assert "Min afviste tekst" in text
    assert rules["respect"].title_da in text and "Hold en god tone." in text
    entry = _decision(post)
    assert f"/afgoerelser/{entry.id}/klage" in text
    notes = c.get("/notifikationer").get_data(as_text=True)
    assert rules["respect"].title_da in notes and "Hold en god tone." in notes


def test_pending_post_shows_why_it_waits(as_user, topic, held):
    post = held(topic, body="Venter")
    text = as_user(post.author).get(f"/indlaeg/{post.id}").get_data(as_text=True)
    assert "Venter" in text and "moderator" in text.lower()


def test_appeal_once_goes_to_another_moderator_and_outcome_is_told(
    as_user,
    make_user,
    topic,
    held,
    rules,
    app,
):
    decider = make_user("moderator", name="Dorte")
    other = make_user("moderator", name="Ole")
    post = held(topic, body="Skarp men fair kritik")
    services.moderate_post(decider, post, "reject", rules["respect"].id, "For skarp")
    db.session.commit()
    entry = _decision(post)
    c = as_user(post.author)
    assert c.get(f"/afgoerelser/{entry.id}/klage").status_code == 200
    r = c.post(f"/afgoerelser/{entry.id}/klage", data={"text": "Jeg angreb ingen person."})
    assert r.status_code == 302
    r = c.post(f"/afgoerelser/{entry.id}/klage", data={"text": "Og en gang til, tak."})
    assert r.status_code == 409  # once per decision
    appeal = db.session.query(Appeal).one()
    item = db.session.query(QueueItem).filter_by(kind="appeal").one()
    assert item.avoid_user_id == decider.id
    with pytest.raises(PermissionDenied):
        services.decide_item(decider, item, "grant")
    db.session.rollback()
    services.decide_item(other, item, "grant", text="Kritikken var saglig.")
    db.session.commit()
    db.session.refresh(post)
    assert post.state == PostState.PUBLISHED and appeal.status == "granted"
    granted = _decision(post, "appeal_granted")
    assert granted.actor_id == other.id
    n = db.session.get(Notification, granted.notification_id)
    assert n.user_id == post.author_id and n.kind == "moderation_appeal"
    text = c.get("/notifikationer").get_data(as_text=True)
    assert "Kritikken var saglig." in text


def test_the_deciding_moderator_decides_when_nobody_else_can(
    make_user, make_area, make_topic, held, rules, admin
):
    area = make_area()
    only = make_user("moderator", areas=[area])
    t = make_topic(author=admin, area=area)
    post = held(t)
    services.moderate_post(only, post, "reject", rules["spam"].id)
    db.session.commit()
    services.appeal_decision(post.author, _decision(post), "Det var ikke spam!")
    db.session.commit()
    item = db.session.query(QueueItem).filter_by(kind="appeal").one()
    # an admin could decide it, so the original moderator may not
    with pytest.raises(PermissionDenied):
        services.decide_item(only, item, "deny")
    db.session.rollback()
    admin.role = admin.role.__class__("citizen")
    db.session.commit()
    services.decide_item(only, item, "deny", text="Det var reklame.")
    db.session.commit()
    assert db.session.query(Appeal).one().status == "denied"


def test_bad_appeals_change_nothing(as_user, make_user, topic, in_state, rules, admin):
    post = in_state("rejected", topic)
    entry = _decision(post)
    stranger = make_user()
    with pytest.raises(PermissionDenied):
        services.appeal_decision(stranger, entry, "Det er ikke min sag, men …")
    with pytest.raises(InvalidInput):
        services.appeal_decision(post.author, entry, "kort")
    approved = in_state("published", topic)
    with pytest.raises(InvalidInput):  # an approval is not against you
        services.appeal_decision(
            approved.author, _decision(approved, "approve"), "Jeg klager over godkendelsen"
        )
    db.session.rollback()
    r = as_user(stranger).post(
        f"/afgoerelser/{entry.id}/klage", data={"text": "Det er ikke min sag, men …"}
    )
    assert r.status_code == 403
    assert as_user(stranger).get("/afgoerelser/999999/klage").status_code == 404
    assert db.session.query(Appeal).count() == 0
    assert db.session.query(AuditEntry).filter_by(action="access_denied").count() >= 1
    # a decision that no longer applies cannot be appealed
    hidden = in_state("hidden", topic)
    hide_entry = _decision(hidden, "hide")
    services.moderate_post(admin, hidden, "restore")
    db.session.commit()
    with pytest.raises(Conflict):
        services.appeal_decision(hidden.author, hide_entry, "Den er allerede tilbage.")
