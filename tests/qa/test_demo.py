"""The demo sessions (a step of ``flask seed-demo``)."""

from __future__ import annotations

from sqlalchemy import func, select

from forum.demo import seed_demo
from forum.extensions import db
from forum.models import PostState
from qa import demo, services
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
    # three of its own, and one held at a meeting when the meetings package is there
    assert db.session.scalar(select(func.count()).select_from(QASession)) == 4


def test_demo_session_held_at_the_mork_meeting(app, client, runner):
    """seed-demo runs live Q&A's late step after the meetings package's: the citizens' hour
    of the committee meeting in Mørkøv is a session held at that meeting, and each page
    links the other."""
    app.config["MODERATION_ENABLED"] = False
    result = runner.invoke(args=["seed-demo", "--big-posts", "5"])
    assert result.exit_code == 0, result.output
    hybrid = db.session.scalar(select(QASession).where(QASession.title.contains("Mørkøv")))
    assert hybrid is not None and hybrid.state == SessionState.SCHEDULED
    facts = services.meeting_of(hybrid.id)
    assert facts is not None and "Mørkøv" in facts.title
    assert hybrid.ends_at == facts.ends_at and hybrid.starts_at > facts.starts_at
    assert facts.url in client.get(f"/spoergetid/{hybrid.id}").get_data(as_text=True)
    meeting_page = client.get(facts.url).get_data(as_text=True)
    assert f"/spoergetid/{hybrid.id}" in meeting_page
