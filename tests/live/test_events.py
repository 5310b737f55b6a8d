"""Socket.IO handlers and push, through Flask-SocketIO's test client (fast, in-process)."""

from __future__ import annotations

import json
from datetime import timedelta

from sqlalchemy import func, select, update

from forum import eventlog, hooks, live, services
from forum.extensions import db
from forum.hooks import PostDecision
from forum.models import Event, PostState, Role, User, utcnow
from forum.states import transition

from .conftest import received


def hold_everything(app):
    hooks.register_post_policy(app, lambda post, action: PostDecision(PostState.PENDING, "test"))


def join(sc, rooms, **fields):
    sc.emit("join", {"rooms": rooms, **fields})
    return received(sc)


def live_messages(sc) -> list[dict]:
    return received(sc, "live")


def event_count() -> int:
    return db.session.scalar(select(func.count(Event.id)))


def hide(post, actor_id=None) -> None:
    """What moderation does: a transition, with its event row in the topic room."""
    old = transition(post, PostState.HIDDEN)
    eventlog.record(
        "post_hidden",
        "post",
        post.id,
        f"topic:{post.topic_id}",
        services.post_payload(post) | {"previous_state": old.value},
        actor_id,
    )
    db.session.commit()


# --- joining and pushing -------------------------------------------------------------------


def test_anonymous_reader_gets_published_posts_after_commit_only(
    socket_client, make_topic, make_user
):
    topic = make_topic()
    author = make_user()
    sc = socket_client()
    [(name, payload)] = join(sc, [f"topic:{topic.id}", "activity"])
    assert name == "joined" and payload["events"] == []

    services.create_post(author, topic, "Aldrig gemt")
    db.session.rollback()
    assert live_messages(sc) == []

    post = services.create_post(author, topic, "Gemt", stance="for")
    assert live_messages(sc) == []  # flushed, not committed
    db.session.commit()
    msg, activity = live_messages(sc)
    assert activity == {
        "id": msg["id"],
        "kind": "topic_activity",
        "topic_id": topic.id,
        "post_count": 1,
        "sent_at": activity["sent_at"],
    }
    assert msg["kind"] == "post_published" and msg["post_id"] == post.id
    assert msg["post_count"] == 1 and msg["stance_counts"] == {
        "for": 1,
        "against": 0,
        "question": 0,
    }
    assert "Gemt" not in json.dumps(msg) and msg["sent_at"] > 0
    assert msg["id"] == db.session.scalar(
        select(Event.id).where(Event.kind == "post_published", Event.subject_id == post.id)
    )


def test_pending_posts_reach_only_their_author_and_moderators_in_scope(
    app, client, login, socket_client, make_topic, make_user, make_area
):
    hold_everything(app)
    area, elsewhere = make_area(), make_area()
    topic = make_topic(area=area)
    author, reader = make_user(), make_user()
    everywhere = make_user("moderator")
    local = make_user("moderator", areas=[area])
    other_local = make_user("moderator", areas=[elsewhere])

    def connected(user, rooms):
        http = app.test_client()
        http.post("/login", data={"email": user.email, "password": "correct-horse-battery"})
        sc = socket_client(http)
        [(name, _payload)] = join(sc, rooms)
        assert name == "joined", _payload
        return sc

    anon = socket_client()
    join(anon, [f"topic:{topic.id}", "activity"])
    watchers = {
        "reader": connected(reader, [f"topic:{topic.id}", f"user:{reader.id}"]),
        "author": connected(author, [f"user:{author.id}"]),
        "everywhere": connected(everywhere, ["moderators"]),
        "local": connected(local, ["moderators"]),
        "other_local": connected(other_local, ["moderators"]),
    }
    post = services.create_post(author, topic, "Venter")
    db.session.commit()
    assert post.state == PostState.PENDING
    assert live_messages(anon) == []
    got = {k: live_messages(sc) for k, sc in watchers.items()}
    assert got["reader"] == [] and got["other_local"] == []
    for k in ("author", "everywhere", "local"):
        [msg] = got[k]
        assert msg["kind"] == "post_created" and msg["state"] == "pending", k

    services.publish_post(post, everywhere.id)  # a moderator approves it
    db.session.commit()
    [public] = [m for m in live_messages(anon) if m["kind"] == "post_published"]
    assert public["post_id"] == post.id
    assert [m["kind"] for m in live_messages(watchers["author"])] == ["post_published"]


def test_a_hidden_post_is_removed_from_view_without_content(socket_client, make_topic, make_post):
    topic = make_topic()
    post = make_post(topic, body="Noget grimt")
    sc = socket_client()
    join(sc, [f"topic:{topic.id}"])
    hide(post)
    [msg] = live_messages(sc)
    assert msg["kind"] == "post_removed" and msg["post_id"] == post.id
    assert msg["placeholder"] is True and msg["post_count"] == 0
    assert "state" not in msg and "grimt" not in json.dumps(msg)


def test_support_edit_delete_and_notifications(
    app, client, login, socket_client, make_topic, make_post, make_user
):
    topic = make_topic()
    author, fan = make_user(), make_user()
    post = make_post(topic, author=author)
    login(author)
    sc = socket_client()
    join(sc, [f"topic:{topic.id}", f"user:{author.id}"])
    services.toggle_support(fan, post)
    services.create_post(fan, topic, "Enig!", parent_id=post.id)
    db.session.commit()
    services.edit_post(author, post, "Ny tekst")
    db.session.commit()
    services.delete_post(author, post)
    db.session.commit()
    msgs = live_messages(sc)
    kinds = [m["kind"] for m in msgs]
    assert kinds == [
        "support_changed",
        "post_published",
        "notification",
        "post_edited",
        "post_deleted",
    ]
    assert msgs[0]["support_count"] == 1
    assert msgs[2]["notification_kind"] == "reply" and msgs[2]["unread"] == 1
    assert [m["id"] for m in msgs] == sorted(m["id"] for m in msgs)


# --- replay ----------------------------------------------------------------------------------


def test_replay_sends_what_was_missed_in_order_visible_only(
    app, socket_client, make_topic, make_post, make_user
):
    topic = make_topic()
    since = live.cursor()
    first = make_post(topic)
    hold_everything(app)
    held = make_post(topic)  # pending: never replayed to others
    hooks.register_post_policy(app, lambda p, a: PostDecision(PostState.PUBLISHED))
    second = make_post(topic, parent=first)
    hide(first)
    sc = socket_client()
    [(name, payload)] = join(sc, [f"topic:{topic.id}"], last_event_id=since)
    assert name == "joined"
    events = payload["events"]
    assert [(m["kind"], m.get("post_id")) for m in events] == [
        ("post_published", first.id),
        ("post_published", second.id),
        ("post_removed", first.id),
    ]
    assert held.id not in {m.get("post_id") for m in events}
    assert payload["last_event_id"] == events[-1]["id"]
    # The same again from the last id: nothing.
    [(_, again)] = join(sc, [f"topic:{topic.id}"], last_event_id=payload["last_event_id"])
    assert again["events"] == []


def test_joins_take_turns_without_holding_a_database_connection(
    app, socket_client, make_topic, make_post
):
    """``LIVE_JOIN_CONCURRENCY`` joins run at once; another waits for a turn (the topology
    bench: a reconnect storm held the whole pool and page requests timed out) and then
    joins and replays as usual."""
    import threading

    from forum import events

    app.config["LIVE_JOIN_CONCURRENCY"] = 1
    app.extensions.pop("live.join_slots", None)
    topic = make_topic()
    since = live.cursor()
    post = make_post(topic)
    sc = socket_client()
    with app.app_context():
        slots = events.join_slots()
    slots.acquire()  # every turn taken
    done = threading.Event()
    room = f"topic:{topic.id}"

    def join_in_thread() -> None:
        with app.app_context():
            sc.emit("join", {"rooms": [room], "last_event_id": since})
        done.set()

    waiting = threading.Thread(target=join_in_thread, daemon=True)
    waiting.start()
    assert not done.wait(0.5)  # waits for a turn
    slots.release()
    assert done.wait(10)
    [(name, payload)] = received(sc)
    assert name == "joined"
    assert [m.get("post_id") for m in payload["events"]] == [post.id]
    # The turn was given back: the next join does not wait.
    assert join(sc, [f"topic:{topic.id}"])[0][0] == "joined"
    app.extensions.pop("live.join_slots", None)


def test_replay_fills_holes_behind_the_seen_ids(socket_client, make_topic, make_post):
    topic = make_topic()
    posts = [make_post(topic) for _ in range(4)]
    ids = [
        e.id
        for e in db.session.scalars(
            select(Event).where(Event.kind == "post_published").order_by(Event.id)
        )
    ]
    assert len(ids) == 4
    sc = socket_client()
    # The client saw the 1st, 3rd and 4th (the 2nd committed late, while it was away).
    [(_, payload)] = join(
        sc, [f"topic:{topic.id}"], last_event_id=ids[3], seen_ids=[ids[0], ids[2], ids[3]]
    )
    assert [m["post_id"] for m in payload["events"]] == [posts[1].id]


def test_too_much_or_too_old_tells_the_client_to_reload(app, socket_client, make_topic, make_post):
    topic = make_topic()
    since = live.cursor()
    for _ in range(4):
        make_post(topic)
    app.config["LIVE_REPLAY_MAX_EVENTS"] = 3
    sc = socket_client()
    [(name, payload)] = join(sc, [f"topic:{topic.id}"], last_event_id=since)
    assert name == "reload" and payload["reason"] == "too_many" and payload["message"]
    app.config["LIVE_REPLAY_MAX_EVENTS"] = 500
    long_ago = utcnow() - timedelta(days=2)
    db.session.execute(update(Event).where(Event.id > since).values(created_at=long_ago))
    db.session.commit()
    [(name, payload)] = join(sc, [f"topic:{topic.id}"], last_event_id=since)
    assert (name, payload["reason"]) == ("reload", "too_old")
    # Still joined: live messages keep coming.
    make_post(topic)
    assert [m["kind"] for m in live_messages(sc)] == ["post_published"]


def test_the_replay_limit_counts_messages_not_log_rows(
    socket_client, make_topic, make_post, make_user
):
    """LIVE_REPLAY_MAX_EVENTS (500) is what the README promises: missed messages. Each
    published reply is two log rows (created, published) but one message."""
    topic = make_topic()
    root = make_post(topic)
    writers = [make_user() for _ in range(3)]
    since = live.cursor()

    def reply(n: int) -> None:
        for i in range(n):
            make_post(topic, author=writers[i % 3], parent=root)

    reply(400)
    rows = db.session.scalar(
        select(func.count(Event.id)).where(Event.id > since, Event.room == f"topic:{topic.id}")
    )
    assert rows == 800  # two rows per reply: only 250 replies fitted in the old limit
    sc = socket_client()
    [(name, payload)] = join(sc, [f"topic:{topic.id}"], last_event_id=since)
    assert name == "joined"
    assert len(payload["events"]) == 400
    assert {m["kind"] for m in payload["events"]} == {"post_published"}
    reply(100)  # exactly 500 messages: still replayed
    received(sc)  # (the live copies of these, as joined)
    [(name, payload)] = join(sc, [f"topic:{topic.id}"], last_event_id=since)
    assert name == "joined" and len(payload["events"]) == 500
    reply(1)  # 501 messages: reload
    received(sc)
    [(name, payload)] = join(sc, [f"topic:{topic.id}"], last_event_id=since)
    assert (name, payload["reason"]) == ("reload", "too_many")


# --- refusals --------------------------------------------------------------------------------


BAD_JOINS = [
    ("not an object", "invalid"),
    ({"rooms": ["activity"], "extra": 1}, "invalid"),
    ({}, "invalid"),
    ({"rooms": "activity"}, "invalid"),
    ({"rooms": []}, "invalid"),
    ({"rooms": ["activity"] * 9}, "invalid"),
    ({"rooms": [7]}, "invalid"),
    ({"rooms": ["x" * 61]}, "invalid"),
    ({"rooms": ["activity"], "last_event_id": "12"}, "invalid"),
    ({"rooms": ["activity"], "last_event_id": -1}, "invalid"),
    ({"rooms": ["activity"], "last_event_id": 1.5}, "invalid"),
    ({"rooms": ["activity"], "last_event_id": True}, "invalid"),
    ({"rooms": ["activity"], "last_event_id": 10**12}, "invalid"),  # from the future
    ({"rooms": ["activity"], "last_event_id": 0, "seen_ids": [1] * 201}, "invalid"),
    ({"rooms": ["activity"], "last_event_id": 0, "seen_ids": [5]}, "invalid"),
    ({"rooms": ["activity"], "seen_ids": [1]}, "invalid"),
    ({"rooms": ["topic:999999"]}, "unknown_room"),
    ({"rooms": ["topic:abc"]}, "unknown_room"),
    ({"rooms": ["nowhere"]}, "unknown_room"),
    ({"rooms": ["activity:1"]}, "unknown_room"),
    ({"rooms": ["user:1"]}, "login_required"),
    ({"rooms": ["moderators"]}, "forbidden"),
    ({"rooms": ["activity", "topic:999999"]}, "unknown_room"),  # all or nothing
]


def test_bad_joins_are_refused_with_a_clear_error_and_change_nothing(
    app, socket_client, make_topic, make_user
):
    app.config["LIVE_RATE_BURST"] = 100  # this test sends more than a burst on purpose
    topic = make_topic()
    author = make_user()
    sc = socket_client()
    for payload, code in BAD_JOINS:  # one app for all cases: the app is the slow part
        before = event_count()
        sc.emit("join", payload)
        [(name, err)] = received(sc)
        assert name == "error" and err["event"] == "join" and err["code"] == code, payload
        assert isinstance(err["message"], str) and len(err["message"]) > 10
        assert event_count() == before  # nothing written
    # Nothing joined (not even the valid rooms of a request), and the connection works.
    services.create_post(author, topic, "Efter fejlene")
    db.session.commit()
    assert live_messages(sc) == []
    assert join(sc, ["activity"])[0][0] == "joined"


def test_invisible_topics_and_other_peoples_rooms_are_refused(
    client, login, socket_client, make_user, make_area
):
    area = make_area()
    proposer, other = make_user(), make_user()
    proposal = services.create_topic(proposer, "Et forslag", "Tekst", area_id=area.id)
    db.session.commit()
    login(other)
    sc = socket_client()
    for rooms, code in (
        ([f"topic:{proposal.id}"], "unknown_room"),
        ([f"user:{proposer.id}"], "forbidden"),
        (["moderators"], "forbidden"),
    ):
        [(name, err)] = join(sc, rooms)
        assert (name, err["code"]) == ("error", code), rooms
    assert join(sc, [f"user:{other.id}"])[0][0] == "joined"


def test_an_ended_session_ends_the_connections_rights(client, login, socket_client, make_user):
    user = make_user()
    login(user)
    sc = socket_client()
    # A new password ends the session's connections at once (test_sessions.py). Should one
    # still be here (the version changed behind the ORM's back, or the close is on its way
    # from another instance), its next join is refused.
    db.session.execute(
        update(User).where(User.id == user.id).values(session_version=User.session_version + 1)
    )
    db.session.commit()
    assert sc.is_connected()
    [(name, err)] = join(sc, [f"user:{user.id}"])
    assert (name, err["code"]) == ("error", "session_ended")


def test_unknown_events_and_floods(app, socket_client):
    sc = socket_client()
    sc.emit("post_something", {"body": "x"})
    [(name, err)] = received(sc)
    assert (name, err["code"], err["event"]) == ("error", "unknown_event", "post_something")

    app.config.update(LIVE_RATE_BURST=5, LIVE_RATE_PER_SECOND=0.001)
    for _ in range(200):
        sc.emit("join", {"rooms": ["activity"]})
    got = received(sc)
    assert [n for n, _p in got].count("joined") <= 5
    errors = [p for n, p in got if n == "error"]
    assert [e["code"] for e in errors] == ["rate_limited"]  # one error per burst, then quiet
    other = socket_client()  # everyone else is served as before
    assert join(other, ["activity"])[0][0] == "joined"


def test_leave(socket_client, make_topic, make_post):
    topic = make_topic()
    sc = socket_client()
    join(sc, [f"topic:{topic.id}"])
    sc.emit("leave", {"rooms": [f"topic:{topic.id}"]})
    assert received(sc) == [("left", {"rooms": [f"topic:{topic.id}"]})]
    make_post(topic)
    assert live_messages(sc) == []
    sc.emit("leave", {"rooms": [f"topic:{topic.id}"]})
    [(name, err)] = received(sc)
    assert (name, err["code"]) == ("error", "not_joined")


# --- pages and the fragment route ----------------------------------------------------------


def test_topic_page_names_its_room_and_cursor(client, make_topic, make_post):
    topic = make_topic()
    make_post(topic)
    cursor = live.cursor()
    text = client.get(f"/emner/{topic.id}").get_data(as_text=True)
    assert f'data-live-room="topic:{topic.id}"' in text
    assert f'data-last-event-id="{cursor}"' in text
    assert 'aria-live="polite"' in text and "socket.io.min.js" in text
    assert 'data-live-room="activity"' in client.get("/").get_data(as_text=True)
    login_page = client.get("/login").get_data(as_text=True)
    assert "socket.io.min.js" not in login_page  # nothing to follow, no script


def test_fragment_applies_the_visibility_rule(app, client, login, make_topic, make_post, make_user):
    topic = make_topic()
    author = make_user()
    root = make_post(topic, author=author, body="Synlig **tekst**")
    text = client.get(f"/indlaeg/{root.id}/fragment").get_data(as_text=True)
    assert f'id="p{root.id}"' in text and "<strong>tekst</strong>" in text
    assert text.lstrip().startswith('<ol class="thread">')

    hold_everything(app)
    held = make_post(topic, author=author, body="Venter")
    assert client.get(f"/indlaeg/{held.id}/fragment").status_code == 404
    login(author)
    assert "Venter" in client.get(f"/indlaeg/{held.id}/fragment").get_data(as_text=True)


def test_fragment_of_a_deleted_post_is_its_placeholder(client, make_topic, make_post, make_user):
    topic = make_topic()
    author = make_user()
    post = make_post(topic, author=author, body="Forkert")
    make_post(topic, parent=post)
    services.delete_post(author, post)
    db.session.commit()
    text = client.get(f"/indlaeg/{post.id}/fragment").get_data(as_text=True)
    assert 'class="placeholder"' in text and "Forkert" not in text


def test_fragment_below_the_display_depth_is_the_continue_link(app, client, make_topic, make_post):
    topic = make_topic()
    chain = [make_post(topic)]
    for _ in range(app.config["THREAD_DISPLAY_DEPTH"]):
        chain.append(make_post(topic, parent=chain[-1]))
    deep = chain[-1]
    edge = chain[app.config["THREAD_DISPLAY_DEPTH"] - 1]
    text = client.get(f"/indlaeg/{deep.id}/fragment").get_data(as_text=True)
    assert f'id="p{edge.id}"' in text and f'id="p{deep.id}"' not in text
    assert 'class="continue"' in text


def test_moderator_role_change_is_respected_at_join(client, login, socket_client, make_user):
    user = make_user()
    login(user)
    sc = socket_client()
    assert join(sc, ["moderators"])[0][1]["code"] == "forbidden"
    db.session.get(User, user.id).role = Role.MODERATOR
    db.session.commit()
    assert join(sc, ["moderators"])[0][0] == "joined"
