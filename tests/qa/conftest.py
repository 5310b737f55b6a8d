"""Live Q&A fixtures: moderation on (questions go through its policy), a session world."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import pytest

from forum.extensions import db
from forum.models import User, utcnow
from qa import services
from qa.models import QASession


@pytest.fixture
def qa_config() -> dict:
    """Override in a module to change settings."""
    return {}


@pytest.fixture
def app_config(qa_config) -> dict:
    return {"MODERATION_ENABLED": True, **qa_config}


@dataclass
class QAWorld:
    staff: User
    politician: User
    other_politician: User
    outsider_politician: User
    citizens: list[User]
    session: QASession

    @property
    def citizen(self) -> User:
        return self.citizens[0]


@pytest.fixture
def rules(app) -> dict:
    from moderation import services as moderation_services
    from moderation.models import DebateRule

    moderation_services.ensure_default_rules()
    db.session.commit()
    return {r.code: r for r in db.session.query(DebateRule)}


@pytest.fixture
def make_session(app, make_committee, make_area):
    def make(
        staff: User,
        politicians: list[User],
        *,
        live: bool = True,
        premoderated: bool = True,
        advance: bool = True,
        **kw,
    ) -> QASession:
        committee = kw.pop("committee", None) or make_committee(name="Økonomiudvalget")
        area = kw.pop("area", None)
        now = utcnow()
        session = services.schedule_session(
            staff,
            kw.pop("title", "Spørgetid efter byrådsmødet"),
            kw.pop("description", "Stil dine spørgsmål til politikerne."),
            kw.pop("starts_at", now + timedelta(minutes=5)),
            kw.pop("ends_at", now + timedelta(hours=1)),
            [p.id for p in politicians],
            committee_id=committee.id,
            area_id=area.id if area else None,
            premoderated=premoderated,
            advance_questions=advance,
            **kw,
        )
        if live:
            services.start_session(staff, session)
        db.session.commit()
        return session

    return make


@pytest.fixture
def world(make_user, make_session, rules) -> QAWorld:
    staff = make_user("moderator", name="Jens Bruun")
    pol = make_user("politician", name="Lone Bjerregaard", party="Socialdemokratiet")
    pol2 = make_user("politician", name="Henrik Dalsgaard", party="Venstre")
    outsider = make_user("politician", name="Ole Kjærgaard", party="Dansk Folkeparti")
    citizens = [make_user(name=f"Borger {i}") for i in range(1, 6)]
    session = make_session(staff, [pol, pol2])
    return QAWorld(staff, pol, pol2, outsider, citizens, session)


def approved_question(
    world: QAWorld, author: User | None = None, body: str = "Hvornår kommer cykelstien til Tølløse?"
):
    """A question asked and approved (the session is pre-moderated)."""
    post = services.ask(author or world.citizen, world.session, body)
    db.session.commit()
    services.moderate_question(world.staff, world.session, post.id, "approve")
    db.session.commit()
    return post


@pytest.fixture
def client_for(app):
    """``client_for(user)``: a separate HTTP test client logged in as ``user`` (None:
    anonymous)."""
    from tests.conftest import PASSWORD

    def make(user: User | None):
        c = app.test_client()
        if user is not None:
            r = c.post("/login", data={"email": user.email, "password": PASSWORD})
            assert r.status_code == 302
        return c

    return make


@pytest.fixture
def sockets(app):
    """``sockets(http_client)``: a Socket.IO test client with that client's cookies."""
    from tests.conftest import socket_test_client

    made = []

    def make(http_client):
        sc = socket_test_client(app, http_client)
        made.append(sc)
        return sc

    yield make
    for sc in made:
        if sc.is_connected():
            sc.disconnect()


def received(sc, name: str | None = None) -> list:
    got = [(r["name"], r["args"][0] if r["args"] else None) for r in sc.get_received()]
    return got if name is None else [p for n, p in got if n == name]
