"""Two posts by one author at the same moment (a slow request and the next one): both follow
the topic; the second insert of the follow must not fail the post (seen as a 500 under load
in bench/topology.py)."""

from __future__ import annotations

from sqlalchemy import func, select

from forum import services
from forum.extensions import db
from forum.models import Follow, Post


def test_a_follow_written_meanwhile_does_not_fail_the_post(
    make_topic, make_user, make_committee, monkeypatch
):
    topic = make_topic(committee=make_committee())
    author = make_user()
    services.create_post(author, topic, "Første indlæg.")
    db.session.commit()
    real_get = db.session.get

    def not_seen_yet(entity, ident, **kw):  # the other request committed after our read
        return None if entity is Follow else real_get(entity, ident, **kw)

    monkeypatch.setattr(db.session, "get", not_seen_yet)
    post = services.create_post(author, topic, "Andet indlæg, samtidig.")
    db.session.commit()
    monkeypatch.undo()
    assert db.session.get(Post, post.id) is not None
    follows = select(func.count()).select_from(Follow).where(Follow.user_id == author.id)
    assert db.session.scalar(follows) == 1
