"""A session that ends (a new password) loses its live connections at once, in every
instance: they stop hearing the user's and the moderators' rooms."""

from __future__ import annotations

import time

from forum import services
from forum.extensions import db

from .conftest import PASSWORD, cookie_header, received
from .test_real_server import post

NEW_PASSWORD = "a-brand-new-password-2026"


def test_a_new_password_disconnects_the_old_sessions_sockets(
    app, client, login, socket_client, make_user, make_topic, make_post
):
    me, other = make_user(), make_user()
    login(me)
    mine = socket_client()
    mine.emit("join", {"rooms": [f"user:{me.id}"]})
    other_client = app.test_client()
    other_client.post("/login", data={"email": other.email, "password": PASSWORD})
    theirs = socket_client(other_client)
    theirs.emit("join", {"rooms": [f"user:{other.id}"]})
    received(mine), received(theirs)

    services.change_password(me, PASSWORD, NEW_PASSWORD)
    db.session.commit()
    assert not mine.is_connected()
    assert theirs.is_connected()  # someone else's session is untouched

    # Reconnecting with the old cookie is anonymous now: the user's room is refused.
    again = socket_client()
    again.emit("join", {"rooms": [f"user:{me.id}"]})
    [(name, payload)] = received(again)
    assert (name, payload["code"]) == ("error", "login_required")
    # Nothing more of the user's reaches the old session.
    topic = make_topic()
    own = make_post(topic, author=me)
    make_post(topic, author=other, parent=own)  # a reply: a notification for ``me``
    assert received(again, "live") == []


def test_a_rolled_back_password_change_disconnects_nobody(client, login, socket_client, make_user):
    me = make_user()
    login(me)
    sc = socket_client()
    me.session_version += 1
    db.session.flush()
    db.session.rollback()
    assert sc.is_connected()


def test_a_new_password_ends_the_session_on_another_instance(
    start_server, world, redis_url, live_client, http_login
):
    one = start_server("gevent", redis_url=redis_url)
    two = start_server("gevent", redis_url=redis_url)
    uid = world.ids["citizen"]
    old = http_login(one.url, world.emails["citizen"])
    stale = live_client([f"user:{uid}"], cookie=cookie_header(old)).connect(two.url)
    stale.next("joined")
    bystander = live_client([f"topic:{world.ids['topic']}"]).connect(two.url)
    bystander.next("joined")

    fresh = http_login(one.url, world.emails["citizen"])
    r = fresh.post(
        f"{one.url}/konto/adgangskode",
        data={"current_password": PASSWORD, "new_password": NEW_PASSWORD, "confirm": NEW_PASSWORD},
        allow_redirects=False,
        timeout=10,
    )
    assert r.status_code == 302, r.text[:300]
    deadline = time.monotonic() + 10
    while stale.sio.connected and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not stale.sio.connected  # ended through Redis, on the other instance
    assert bystander.sio.connected
    # The old cookie is worth nothing now; the new session still hears its room.
    again = live_client([f"user:{uid}"], cookie=cookie_header(old)).connect(two.url)
    assert again.next("error")["code"] == "login_required"
    mine = live_client([f"user:{uid}"], cookie=cookie_header(fresh)).connect(two.url)
    mine.next("joined")
    writer = http_login(one.url, world.emails["neighbour"])
    post(writer, one.url, world.ids["topic"], "Et svar til dig", parent_id=world.ids["first_post"])
    assert mine.next("live")["kind"] == "notification"


def test_a_savepoint_inside_the_change_does_not_end_the_session_early(
    client, login, socket_client, make_user
):
    me = make_user()
    login(me)
    sc = socket_client()
    services.change_password(me, PASSWORD, NEW_PASSWORD)
    with db.session.begin_nested():  # e.g. a double-submit guard later in the same request
        db.session.flush()
    assert sc.is_connected()  # released, not committed
    db.session.commit()
    assert not sc.is_connected()


def test_a_moderator_who_loses_the_role_stops_hearing_the_moderators_room(
    client, login, socket_client, make_user
):
    from forum.models import Role

    mod = make_user("moderator")
    login(mod)
    sc = socket_client()
    sc.emit("join", {"rooms": ["moderators"]})
    [(name, _payload)] = received(sc)
    assert name == "joined"
    services.set_role(mod, Role.CITIZEN)
    db.session.commit()
    assert not sc.is_connected()  # rejoins with what a citizen may hear
    again = socket_client()
    again.emit("join", {"rooms": ["moderators"]})
    [(name, payload)] = received(again)
    assert (name, payload["code"]) == ("error", "forbidden")


def test_an_unchanged_role_keeps_the_connection(client, login, socket_client, make_user):
    from forum.models import Role

    mod = make_user("moderator")
    login(mod)
    sc = socket_client()
    services.set_role(mod, Role.MODERATOR)  # the same role, no areas before or after
    db.session.commit()
    assert sc.is_connected()


def test_a_scoped_moderator_who_loses_an_area_is_reconnected(
    client, login, socket_client, make_user, make_area
):
    from forum.models import Role

    mod = make_user()
    one, two = make_area(), make_area()
    services.set_role(mod, Role.MODERATOR, areas=[one, two])
    db.session.commit()
    login(mod)
    sc = socket_client()
    services.set_role(mod, Role.MODERATOR, areas=[one, two])  # nothing taken away
    db.session.commit()
    assert sc.is_connected()
    services.set_role(mod, Role.MODERATOR, areas=[one])
    db.session.commit()
    assert not sc.is_connected()


def test_logging_out_disconnects_that_sessions_sockets_only(
    app, client, login, socket_client, make_user
):
    me = make_user()
    login(me)
    mine = socket_client()
    mine.emit("join", {"rooms": [f"user:{me.id}"]})
    laptop = app.test_client()
    laptop.post("/login", data={"email": me.email, "password": PASSWORD})
    on_laptop = socket_client(laptop)
    on_laptop.emit("join", {"rooms": [f"user:{me.id}"]})
    received(mine), received(on_laptop)

    assert client.post("/logout").status_code == 302
    assert not mine.is_connected()
    assert on_laptop.is_connected()  # the user's other device keeps its live updates


def test_logging_out_everywhere_disconnects_every_socket_of_the_user(
    app, client, login, socket_client, make_user
):
    me = make_user()
    login(me)
    laptop = app.test_client()
    laptop.post("/login", data={"email": me.email, "password": PASSWORD})
    on_laptop = socket_client(laptop)
    mine = socket_client()
    assert client.post("/konto/log-ud-overalt").status_code == 302
    assert not mine.is_connected()
    assert not on_laptop.is_connected()
