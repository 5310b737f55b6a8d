"""Routing: which rooms hear what about each event (pure functions, no database)."""

from __future__ import annotations

import json

from forum.live import Facts, TopicFacts, messages, route

TOPIC = "topic:7"


def post_event(kind, state, id=100, previous_state=None, author=3, depth=0, stance=None, **extra):
    payload = {
        "post_id": 50,
        "topic_id": 7,
        "parent_id": None,
        "author_id": author,
        "state": state,
        "stance": stance,
        "support_count": 0,
        "depth": depth,
        **extra,
    }
    if previous_state:
        payload["previous_state"] = previous_state
    return {
        "id": id,
        "kind": kind,
        "subject_type": "post",
        "subject_id": 50,
        "room": TOPIC,
        "actor_id": author,
        "payload": payload,
    }


def facts(area_id=4, public=True, post_count=12, stance_counts=None) -> Facts:
    return Facts(topics={7: TopicFacts(area_id, public, post_count, stance_counts)})


def by_room(outs) -> dict[str, list[dict]]:
    rooms: dict[str, list[dict]] = {}
    for audience, msg in outs:
        for room in audience:
            rooms.setdefault(room, []).append(msg)
    return rooms


def test_a_published_post_reaches_the_topic_room_and_the_activity_lists():
    batch = [
        post_event("post_created", "pending", id=1),
        post_event("post_published", "published", id=2, previous_state="pending"),
    ]
    rooms = by_room(messages(batch, facts()))
    assert set(rooms) == {TOPIC, "activity"}  # created and published at once: nobody held it
    [msg] = rooms[TOPIC]
    assert msg["kind"] == "post_published" and msg["id"] == 2 and msg["post_count"] == 12
    assert rooms["activity"] == [
        {"id": 2, "kind": "topic_activity", "topic_id": 7, "post_count": 12}
    ]


def test_a_pending_post_reaches_only_its_author_and_the_areas_moderators():
    rooms = by_room(route(post_event("post_created", "pending"), facts(area_id=4)))
    assert set(rooms) == {"user:3", "moderators", "moderators:area:4"}
    assert rooms["user:3"][0]["state"] == "pending"


def test_moderator_rooms_without_an_area_or_without_facts():
    assert set(by_room(route(post_event("post_created", "rejected"), facts(area_id=None)))) == {
        "user:3",
        "moderators",
    }
    # Facts could not be read: fewer listeners, never more.
    assert set(by_room(route(post_event("post_created", "pending"), Facts()))) == {
        "user:3",
        "moderators",
    }


def test_a_post_leaving_public_view_is_removed_from_the_topic_room_without_content():
    rooms = by_room(route(post_event("post_hidden", "hidden", previous_state="published"), facts()))
    [removal] = rooms[TOPIC]
    assert removal == {
        "id": 100,
        "kind": "post_removed",
        "topic_id": 7,
        "post_id": 50,
        "placeholder": True,
        "post_count": 12,
    }
    assert rooms["user:3"][0]["state"] == "hidden"  # the author learns what happened
    edit = route(post_event("post_edited", "pending"), facts())  # an edit held again
    assert by_room(edit)[TOPIC][0] == {
        "id": 100,
        "kind": "post_removed",
        "topic_id": 7,
        "post_id": 50,
        "placeholder": False,
        "post_count": 12,
    }


def test_a_post_that_was_never_public_is_never_mentioned_in_the_topic_room():
    for ev in (
        post_event("post_rejected", "rejected", previous_state="pending"),
        post_event("post_deleted", "deleted", previous_state="pending"),
        post_event("post_edited", "pending", previous_state="pending"),
    ):
        assert TOPIC not in by_room(route(ev, facts())), ev["kind"]


def test_deletion_support_and_stances():
    rooms = by_room(
        route(
            post_event("post_deleted", "deleted", previous_state="published", stance="for"),
            facts(stance_counts={"for": 2}),
        )
    )
    assert rooms[TOPIC][0]["kind"] == "post_deleted"
    assert rooms[TOPIC][0]["stance_counts"] == {"for": 2}
    support = by_room(route(post_event("support_changed", "published", support_count=5), facts()))
    assert set(support) == {TOPIC}
    [msg] = support[TOPIC]
    assert msg["kind"] == "support_changed" and msg["support_count"] == 5
    assert "post_count" not in msg  # support does not change the published count


def test_notifications_go_to_their_user_only_with_the_unread_count():
    ev = {
        "id": 9,
        "kind": "notification",
        "subject_type": "user",
        "subject_id": 5,
        "room": "user:5",
        "actor_id": None,
        "payload": {"kind": "reply", "post_id": 50, "topic_id": 7},
    }
    [(audience, msg)] = route(ev, Facts(unread={5: 3}))
    assert audience == ("user:5",)
    assert msg == {
        "id": 9,
        "kind": "notification",
        "post_id": 50,
        "topic_id": 7,
        "notification_kind": "reply",
        "unread": 3,
    }


def test_proposed_topics_go_to_the_areas_moderators():
    ev = {
        "id": 3,
        "kind": "topic_proposed",
        "subject_type": "topic",
        "subject_id": 8,
        "room": "moderators",
        "actor_id": 2,
        "payload": {
            "topic_id": 8,
            "title": "Bænke",
            "status": "proposed",
            "area_id": 6,
            "committee_id": None,
            "post_count": 0,
        },
    }
    [(audience, msg)] = route(ev, Facts())
    assert audience == ("moderators", "moderators:area:6")
    assert "title" not in msg


def test_messages_carry_no_text():
    ev = post_event("post_edited", "published", body="secret words", title="x" * 100)
    for _audience, msg in route(ev, facts()):
        assert "secret" not in json.dumps(msg) and "xxxx" not in json.dumps(msg)


def test_unknown_rooms_are_not_forwarded():
    ev = {
        "id": 1,
        "kind": "something",
        "subject_type": "thing",
        "subject_id": 1,
        "room": "secret:1",
        "actor_id": None,
        "payload": {},
    }
    assert route(ev, Facts()) == []
