"""Report fixtures: a committee's topic with citizens in several areas and a politician."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from forum import hooks
from forum.extensions import db
from forum.models import Area, Post, PostState, Topic, User


@dataclass
class World:
    topic: Topic
    politician: User
    staff: User
    citizen: User
    big: Area  # 6 people live here
    small: Area  # 3 people live here: never shown as a group
    posts: list[Post] = field(default_factory=list)
    homes: dict[int, int] = field(default_factory=dict)


@pytest.fixture
def client_for(app):
    """``client_for(user)``: a separate test client logged in as ``user`` (None: anonymous);
    pages in English unless ``lang``."""
    from tests.conftest import PASSWORD

    def make(user: User | None, lang: str = "en"):
        c = app.test_client()
        if user is not None:
            r = c.post("/login", data={"email": user.email, "password": PASSWORD})
            assert r.status_code == 302
            assert c.post("/sprog", data={"lang": lang}).status_code == 302
        return c

    return make


@pytest.fixture
def world(app, make_user, make_committee, make_area, make_topic, make_post) -> World:
    committee = make_committee(name="Kulturudvalget")
    big, small = make_area(name="Tølløse"), make_area(name="Orø")
    politician = make_user("politician", name="Pia Politiker", committees=[committee])
    staff = make_user("staff", name="Sune Sagsbehandler")
    topic = make_topic(author=politician, committee=committee, area=big, title="Biblioteket")
    w = World(topic, politician, staff, make_user(name="Carl Citizen"), big, small)
    people = [make_user(name=f"Tølløse {i}") for i in range(6)]
    people += [make_user(name=f"Orø {i}") for i in range(3)]
    for i, person in enumerate(people):
        w.homes[person.id] = big.id if i < 6 else small.id
    stances = ["for", "for", "for", "against", "against", "question", "for", "against", "for"]
    for i, (person, stance) in enumerate(zip(people, stances, strict=True)):
        w.posts.append(
            make_post(topic, person, body=f"Argument nummer {i} om biblioteket.", stance=stance)
        )
    for i, p in enumerate(w.posts):
        p.support_count = 10 - i
    db.session.commit()
    hooks.register_participant_areas(app, lambda ids: {i: w.homes[i] for i in ids if i in w.homes})
    return w


def set_state(post: Post, state: str) -> None:
    post.state = PostState(state)
    db.session.commit()
