"""The forms work with CSRF protection on (the rest of the suite turns it off)."""

import re

import pytest

from forum.extensions import db
from forum.models import PostState
from moderation.models import QueueItem

pytestmark = pytest.mark.parametrize("moderation_config", [{"WTF_CSRF_ENABLED": True}])


def _token(html: str) -> str:
    return re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html).group(1)


def _login(app, user):
    c = app.test_client()
    page = c.get("/login").get_data(as_text=True)
    r = c.post(
        "/login",
        data={"email": user.email, "password": "correct-horse-battery", "csrf_token": _token(page)},
    )
    assert r.status_code == 302
    return c


def test_queue_buttons_and_decisions_with_csrf(app, moderator, topic, held, rules):
    a, b = held(topic, body="Første"), held(topic, body="Anden")
    ia = db.session.query(QueueItem).filter_by(post_id=a.id).one()
    ib = db.session.query(QueueItem).filter_by(post_id=b.id).one()
    c = _login(app, moderator)
    queue = c.get("/moderation").get_data(as_text=True)
    token = _token(queue)
    # the queue's "Approve" button posts the bulk form to the item's decide URL
    r = c.post(f"/moderation/items/{ia.id}/decide", data={"csrf_token": token, "action": "approve"})
    assert r.status_code == 302
    assert c.post(f"/moderation/items/{ib.id}/claim", data={"csrf_token": token}).status_code == 302
    page = c.get(f"/moderation/items/{ib.id}").get_data(as_text=True)
    r = c.post(
        f"/moderation/items/{ib.id}/decide",
        data={"csrf_token": _token(page), "action": "reject", "rule_id": rules["spam"].id},
    )
    assert r.status_code == 302
    r = c.post(f"/moderation/items/{ib.id}/decide", data={"action": "approve"})
    assert r.status_code == 400  # no token
    db.session.refresh(a)
    db.session.refresh(b)
    assert (a.state, b.state) == (PostState.PUBLISHED, PostState.REJECTED)


def test_report_and_appeal_with_csrf(app, make_user, topic, in_state, rules):
    from moderation.models import AuditEntry

    post = in_state("published", topic)
    c = _login(app, make_user())
    page = c.get(f"/indlaeg/{post.id}/anmeld").get_data(as_text=True)
    assert (
        c.post(
            f"/indlaeg/{post.id}/anmeld", data={"csrf_token": _token(page), "reason": "spam"}
        ).status_code
        == 302
    )
    rejected = in_state("rejected", topic)
    entry = db.session.query(AuditEntry).filter_by(post_id=rejected.id, action="reject").one()
    c = _login(app, rejected.author)
    page = c.get(f"/afgoerelser/{entry.id}/klage").get_data(as_text=True)
    assert (
        c.post(
            f"/afgoerelser/{entry.id}/klage",
            data={"csrf_token": _token(page), "text": "Det var ikke et angreb."},
        ).status_code
        == 302
    )
