"""Outcome fixtures: a committee's topic in an area, with everyone the rules tell apart."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pytest

from forum.extensions import db
from forum.models import Post, Topic, User
from outcomes import services


@dataclass
class World:
    topic: Topic
    admin: User
    staff: User  # a moderator without an area scope
    scoped: User  # a moderator scoped to the topic's own area
    politician: User  # in the topic's committee
    other_politician: User  # in another committee
    citizen: User
    posts: list[Post]
    municipal: User | None = None  # Role.STAFF: a municipal employee (not a moderator)


@pytest.fixture
def world(app, make_user, make_committee, make_area, make_topic, make_post) -> World:
    committee, other = make_committee(), make_committee()
    area = make_area()
    admin = make_user("admin")
    staff = make_user("moderator")
    scoped = make_user("moderator", areas=[area])
    politician = make_user("politician", committees=[committee])
    other_politician = make_user("politician", committees=[other])
    citizen = make_user()
    topic = make_topic(author=politician, committee=committee, area=area)
    posts = [
        make_post(topic, make_user(), body="Vi har brug for en cykelsti langs skolevejen."),
        make_post(topic, make_user(), body="Lad os hellere få en bedre busforbindelse."),
    ]
    municipal = make_user("staff")
    return World(
        topic, admin, staff, scoped, politician, other_politician, citizen, posts, municipal
    )


@pytest.fixture
def client_for(app):
    """``client_for(user)``: a separate test client logged in as ``user`` (None: anonymous)."""
    from tests.conftest import PASSWORD

    def make(user: User | None):
        c = app.test_client()
        if user is not None:
            r = c.post("/login", data={"email": user.email, "password": PASSWORD})
            assert r.status_code == 302
        return c

    return make


def add(world: World, writer: User | None = None, **kw):
    """An update through the service, committed."""
    args = {
        "status": "decided",
        "body": "committee",
        "text": "Udvalget har besluttet at bygge cykelstien i 2027.",
        "decided_on": date(2026, 11, 30),
    }
    args.update(kw)
    update = services.add_update(writer or world.staff, world.topic, **args)
    db.session.commit()
    return update


@pytest.fixture
def socket_client(app, client):
    """``socket_client()``: a Socket.IO test client (anonymous unless ``client`` logged in)."""
    from tests.conftest import socket_test_client

    made = []

    def make(http_client=None):
        sc = socket_test_client(app, http_client or client)
        made.append(sc)
        return sc

    yield make
    for sc in made:
        if sc.is_connected():
            sc.disconnect()
