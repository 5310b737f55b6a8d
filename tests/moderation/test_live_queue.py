"""The live queue: what moderators' rooms hear (messages, counts, scope), the item rows the
queue page fetches, and proposals decided on the forum's own page."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from forum import live
from forum import services as forum_services
from forum.extensions import db
from forum.models import Event, TopicStatus
from moderation import services
from moderation.models import AuditEntry, QueueItem
from tests.conftest import socket_test_client


def _events_since(last_id: int) -> list[dict]:
    from forum.eventlog import as_dict

    return [
        as_dict(e)
        for e in db.session.scalars(select(Event).where(Event.id > last_id).order_by(Event.id))
    ]


def _cursor() -> int:
    return live.cursor()


def _by_room(outs) -> dict[str, list[dict]]:
    rooms: dict[str, list[dict]] = {}
    for audience, msg in outs:
        for room in audience:
            rooms.setdefault(room, []).append(msg)
    return rooms


@pytest.fixture
def places(make_area, make_topic, admin):
    a, b = make_area(), make_area()
    return {
        "a": a,
        "b": b,
        "topic_a": make_topic(author=admin, area=a),
        "topic_b": make_topic(author=admin, area=b),
    }


def test_queue_events_carry_counts_per_scope_and_no_text(places, held, make_user, rules, moderator):
    start = _cursor()
    held(places["topic_a"], make_user(), body="Hemmelig tekst i område A")
    held(places["topic_a"], make_user())
    held(places["topic_b"], make_user())
    db.session.commit()
    events = _events_since(start)
    added = [e for e in events if e["kind"] == "queue_item_added"]
    assert len(added) == 3 and all(e["room"] == "moderators" for e in added)
    outs = live.messages(events, live.read_facts(events))
    rooms = _by_room(outs)
    a, b = places["a"].id, places["b"].id
    queue_msgs = [m for m in rooms["moderators"] if m["kind"] == "queue_item_added"]
    # Read after the whole transaction: every message carries the counts as committed.
    assert [m["waiting"] for m in queue_msgs] == [3, 3, 3]
    area_a = [m for m in rooms[f"moderators:area:{a}"] if m["kind"] == "queue_item_added"]
    area_b = [m for m in rooms[f"moderators:area:{b}"] if m["kind"] == "queue_item_added"]
    assert [m["area_waiting"] for m in area_a] == [2, 2]
    assert [m["area_waiting"] for m in area_b] == [1]
    assert all("waiting" not in m for m in area_a + area_b)  # a scoped moderator's own sum
    msg = area_a[0]
    assert msg["item_kind"] == "post" and msg["reason"] == "new_author"
    assert msg["area_id"] == a and isinstance(msg["item_id"], int)
    assert "Hemmelig" not in json.dumps(outs)

    # A decision: the decided message and the new counts, for both audiences.
    item = db.session.scalar(select(QueueItem).where(QueueItem.area_id == b))
    start = _cursor()
    services.decide_item(moderator, item, "reject", rules["spam"].id, "Reklame")
    db.session.commit()
    events = _events_since(start)
    rooms = _by_room(live.messages(events, live.read_facts(events)))
    [decided] = [m for m in rooms["moderators"] if m["kind"] == "queue_item_decided"]
    assert decided["waiting"] == 2 and decided["outcome"] == "reject"
    assert decided["by"] == moderator.id and decided["item_id"] == item.id
    [decided_b] = [m for m in rooms[f"moderators:area:{b}"] if m["kind"] == "queue_item_decided"]
    assert decided_b["area_waiting"] == 0
    assert f"moderators:area:{a}" not in rooms
    assert "Reklame" not in json.dumps(rooms)


def test_replay_gives_a_scoped_moderator_only_their_areas(places, held, make_user):
    start = _cursor()
    held(places["topic_a"], make_user())
    held(places["topic_b"], make_user())
    db.session.commit()
    a = places["a"].id
    result = live.replay({f"moderators:area:{a}"}, start, set())
    queue = [m for m in result.messages if m["kind"] == "queue_item_added"]
    assert len(queue) == 1 and queue[0]["area_id"] == a and queue[0]["area_waiting"] == 1
    everywhere = live.replay({"moderators"}, start, set())
    assert [m["waiting"] for m in everywhere.messages if m["kind"] == "queue_item_added"] == [2, 2]


def _socket(app, user):
    http = app.test_client()
    r = http.post("/login", data={"email": user.email, "password": "correct-horse-battery"})
    assert r.status_code == 302
    sc = socket_test_client(app, http)
    sc.emit("join", {"rooms": ["moderators"]})
    [joined] = sc.get_received()
    return sc, joined


def _live(sc) -> list[dict]:
    return [r["args"][0] for r in sc.get_received() if r["name"] == "live"]


def test_moderators_hear_the_queue_live_within_their_scope(
    app, places, make_user, held, moderator, rules
):
    local = make_user("moderator", areas=[places["a"]])
    elsewhere = make_user("moderator", areas=[places["b"]])
    citizen = make_user()
    everywhere_sc, joined = _socket(app, moderator)
    assert joined["name"] == "joined"
    local_sc, _j = _socket(app, local)
    other_sc, _j = _socket(app, elsewhere)
    outsider_sc, refused = _socket(app, citizen)
    assert refused["name"] == "error" and refused["args"][0]["code"] == "forbidden"
    assert (
        db.session.scalar(
            select(AuditEntry).where(
                AuditEntry.action == "access_denied", AuditEntry.actor_id == citizen.id
            )
        )
        is not None
    )

    post = held(places["topic_a"], make_user())
    db.session.commit()
    [added] = [m for m in _live(everywhere_sc) if m["kind"] == "queue_item_added"]
    assert added["waiting"] == 1
    [local_added] = [m for m in _live(local_sc) if m["kind"] == "queue_item_added"]
    assert local_added["area_waiting"] == 1 and local_added["item_id"] == added["item_id"]
    assert [m for m in _live(other_sc) if m["kind"].startswith("queue_")] == []
    assert _live(outsider_sc) == []

    item = db.session.get(QueueItem, added["item_id"])
    services.claim_item(local, item)
    db.session.commit()
    [claimed] = [m for m in _live(everywhere_sc) if m["kind"] == "queue_item_claimed"]
    assert claimed["claimed_by"] == local.id and claimed["by"] == local.id
    services.decide_item(local, item, "approve")
    db.session.commit()
    assert post.state.value == "published"
    [decided] = [m for m in _live(everywhere_sc) if m["kind"] == "queue_item_decided"]
    assert decided["waiting"] == 0 and decided["by"] == local.id
    for sc in (everywhere_sc, local_sc, other_sc, outsider_sc):
        sc.disconnect()


def test_the_row_of_an_item_for_the_live_queue(as_user, places, held, make_user, moderator, rules):
    post = held(places["topic_a"], make_user(), body="Række til køen")
    item = db.session.scalar(select(QueueItem).where(QueueItem.post_id == post.id))
    c = as_user(moderator)
    r = c.get(f"/moderation/items/{item.id}/row")
    assert r.status_code == 200
    html = r.get_data(as_text=True)
    assert html.lstrip().startswith("<li") and f'id="item-{item.id}"' in html
    assert "Række til køen" in html and "<html" not in html
    assert (
        as_user(make_user("moderator", areas=[places["b"]]))
        .get(f"/moderation/items/{item.id}/row")
        .status_code
        == 403
    )
    assert as_user(make_user()).get(f"/moderation/items/{item.id}/row").status_code == 403
    assert c.get("/moderation/items/999999/row").status_code == 404
    services.decide_item(moderator, item, "reject", rules["spam"].id)
    db.session.commit()
    assert c.get(f"/moderation/items/{item.id}/row").status_code == 410


def test_queue_page_and_navigation_name_the_live_room(as_user, places, held, make_user, moderator):
    held(places["topic_a"], make_user())
    held(places["topic_b"], make_user())
    page = as_user(moderator).get("/moderation").get_data(as_text=True)
    assert 'data-live-room="moderators"' in page and 'data-moderation-waiting="2"' in page
    assert "js/moderation.js" in page and "data-queue" in page
    local = make_user("moderator", areas=[places["a"]])
    page = as_user(local).get("/").get_data(as_text=True)
    assert 'data-moderation-waiting="1"' in page
    assert f'data-waiting-areas="{{&#34;{places["a"].id}&#34;: 1}}"' in page
    citizen_page = as_user(make_user()).get("/").get_data(as_text=True)
    assert "moderation.js" not in citizen_page and "data-moderation-waiting" not in citizen_page
    empty = as_user(make_user("moderator", areas=[places["b"]]))
    # An empty filtered page still has the (empty) list for live additions.
    text = empty.get(f"/moderation?area={places['a'].id}").get_data(as_text=True)
    assert "data-queue " in text or "data-queue\n" in text


def test_a_proposal_decided_on_the_forum_page_leaves_the_queue(make_area, make_user, moderator):
    area = make_area()
    citizen = make_user()
    topic = forum_services.create_topic(
        citizen, "Et forslag", "Lad os tale om det", area_id=area.id
    )
    db.session.commit()
    assert topic.status == TopicStatus.PROPOSED
    item = db.session.scalar(select(QueueItem).where(QueueItem.topic_id == topic.id))
    assert item.status == "open"
    start = _cursor()
    forum_services.decide_topic_proposal(moderator, topic, True)
    db.session.commit()
    db.session.refresh(item)
    assert item.status == "decided" and item.outcome == "accept"
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "proposal_accept"))
    assert entry.actor_id == moderator.id and entry.subject_user_id == citizen.id
    kinds = [e["kind"] for e in _events_since(start)]
    assert "queue_item_decided" in kinds


def test_the_embedded_reminder_thread_reminds_and_production_uses_cron(
    app, make_user, make_area, make_topic, held, admin
):
    from datetime import timedelta

    from flask import Flask

    from forum.models import Notification, utcnow
    from forum.periodic import wants_thread
    from moderation import reminders

    held(make_topic(author=admin, area=make_area()))
    db.session.query(QueueItem).update({"created_at": utcnow() - timedelta(hours=2)})
    db.session.commit()
    thread = reminders.reminder_thread(app)
    assert thread.run_once() == 1  # the admin (nobody else moderates)
    assert thread.run_once() == 0  # each item once
    assert (
        db.session.query(Notification)
        .filter_by(kind="moderation_reminder", user_id=admin.id)
        .count()
        == 1
    )
    # Which processes run the thread: the embedded default, not production, not tests.
    for config, wanted in (
        ({}, True),
        ({"BORGERDIALOG_ENV": "production"}, False),
        ({"MODERATION_REMINDER_WORKER": "external"}, False),
        ({"TESTING": True}, False),
    ):
        other = Flask("check")
        other.config.update(config)
        assert wants_thread(other, "MODERATION_REMINDER_WORKER") is wanted, config
    bad = Flask("check")
    bad.config["MODERATION_REMINDER_WORKER"] = "cron"
    from forum.config import ConfigError

    with pytest.raises(ConfigError, match="MODERATION_REMINDER_WORKER must be thread or"):
        wants_thread(bad, "MODERATION_REMINDER_WORKER")
