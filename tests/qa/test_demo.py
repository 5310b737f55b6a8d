"""The demo sessions (a step of ``flask seed-demo``)."""

from __future__ import annotations

from sqlalchemy import func, select

from forum.demo import seed_demo
from forum.extensions import db
from forum.models import PostState
from qa import demo
from qa.models import QAEntry, QASession, SessionState


def test_demo_sessions(app, client):
    app.config["MODERATION_ENABLED"] = False  # seed-demo pauses the policies the same way
    seed_demo(big_posts=5)
    assert demo.seed() > 0
    db.session.commit()
    states = dict(db.session.execute(select(QASession.title, QASession.state)).all())
    assert sorted(s.value for s in states.values()) == ["ended", "live", "scheduled"]
    live = db.session.scalar(select(QASession).where(QASession.state == SessionState.LIVE))
    assert live.pinned_post_id is not None
    assert db.session.scalar(select(func.count()).select_from(QAEntry)) >= 8
    assert all(e.post.state == PostState.PUBLISHED for e in db.session.scalars(select(QAEntry)))
    for s in db.session.scalars(select(QASession)):
        assert client.get(f"/spoergetid/{s.id}").status_code == 200
        assert client.get(f"/spoergetid/{s.id}/projektor").status_code == 200


def test_seed_demo_command_runs_the_step(app, runner):
    app.config["MODERATION_ENABLED"] = False
    result = runner.invoke(args=["seed-demo", "--big-posts", "5"])
    assert result.exit_code == 0, result.output
    assert db.session.scalar(select(func.count()).select_from(QASession)) == 3
