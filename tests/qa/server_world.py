"""The database the real-server and browser tests serve (tests/live's ``start_server``
serves whatever ``world`` fixture the test module has)."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest

from tests.live.conftest import PASSWORD, World


@pytest.fixture
def world(tmp_path):
    """A database with a live, pre-moderated session, a moderator, two politicians (one in
    the session) and five citizens; one question is already published with one vote."""
    from app import create_app
    from forum import services as forum_services
    from forum.extensions import db
    from forum.models import Committee, Role, utcnow
    from qa import services

    db_url = f"sqlite:///{tmp_path / 'qa.sqlite3'}"
    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "live-test",
            "SQLALCHEMY_DATABASE_URI": db_url,
            "PASSWORD_HASH_METHOD": "scrypt:1024:8:1",
            "SEARCH_INDEX_DIR": str(tmp_path / "ix"),
            "MODERATION_ENABLED": False,
            "MAIL_REQUIRE_VERIFICATION": False,
            "RATELIMIT_ENABLED": False,
        }
    )
    w = World(db_url=db_url, channel=f"borgerdialog-test-{uuid.uuid4().hex[:12]}")
    with app.app_context():
        db.create_all()
        committee = Committee(slug="oekonomi", name="Økonomiudvalget")
        db.session.add(committee)
        db.session.flush()
        people = {}
        roles = {
            "staff": Role.MODERATOR,
            "politician": Role.POLITICIAN,
            **{f"citizen{i}": Role.CITIZEN for i in range(5)},
        }
        for key, role in roles.items():
            email = f"{key}@example.dk"
            people[key] = forum_services.register_user(email, f"Person {key}", PASSWORD)
            forum_services.set_role(people[key], role, party="SF" if key == "politician" else None)
            w.emails[key] = email
        session = services.schedule_session(
            people["staff"],
            "Spørgetid efter byrådsmødet",
            "Spørg løs.",
            utcnow() + timedelta(minutes=1),
            utcnow() + timedelta(hours=1),
            [people["politician"].id],
            committee_id=committee.id,
            premoderated=True,
        )
        services.start_session(people["staff"], session)
        first = services.ask(people["citizen4"], session, "Hvad med fortovene i Jyderup?")
        services.set_vote(people["citizen3"], session, first.id, True)
        db.session.commit()
        w.ids = {
            "session": session.id,
            "topic": session.debate_topic_id,
            "first": first.id,
            **{k: u.id for k, u in people.items()},
        }
        db.session.remove()
        db.engine.dispose()
    yield w
