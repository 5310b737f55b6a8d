"""The GET routes live.js fetches HTML from: a post's fragment and the topic's head.

They must show exactly what the topic page would show this viewer: never the text, author or
stance of a pending, rejected, hidden or removed post to anyone but its author and the
topic's moderators, and a placeholder only where the page has one (replies hang on it).
"""

from __future__ import annotations

import pytest

from forum import eventlog, services
from forum.extensions import db
from forum.models import PostState, TopicStatus
from forum.states import transition

PASSWORD = "correct-horse-battery"


@pytest.fixture
def viewer(app):
    """``viewer(user)``: a new test client logged in as ``user`` (anonymous for None)."""

    def make(user=None):
        c = app.test_client()
        if user is not None:
            r = c.post("/login", data={"email": user.email, "password": PASSWORD})
            assert r.status_code == 302, r.get_data(as_text=True)[:300]
        return c

    return make


@pytest.fixture
def cast(make_user, make_topic, viewer):
    author = make_user("politician", name="Pia Politiker")
    people = {
        "anonymous": None,
        "other": make_user(name="Otto Anden"),
        "author": author,
        "moderator": make_user("moderator", name="Mads Moderator"),
    }
    return {
        "topic": make_topic(),
        "author": author,
        "clients": {k: viewer(u) for k, u in people.items()},
    }


def fragment(c, post):
    r = c.get(f"/indlaeg/{post.id}/fragment")
    return r.status_code, r.get_data(as_text=True), r.headers.get("Cache-Control")


def move(post, state) -> None:
    old = transition(post, state)
    eventlog.record(
        f"post_{state.value}",
        "post",
        post.id,
        f"topic:{post.topic_id}",
        services.post_payload(post) | {"previous_state": old.value},
    )
    db.session.commit()


SECRET = "Hemmelig **tekst** om naboen"


@pytest.mark.parametrize(
    "state", [PostState.PENDING, PostState.REJECTED, PostState.HIDDEN, PostState.REMOVED]
)
def test_a_post_out_of_public_view_reaches_only_its_author_and_moderators(cast, make_post, state):
    post = make_post(cast["topic"], author=cast["author"], body=SECRET, stance="against")
    if state == PostState.REJECTED:
        move(post, PostState.PENDING)
    move(post, state)
    for who, c in cast["clients"].items():
        status, text, cache = fragment(c, post)
        if who in ("author", "moderator"):
            assert status == 200 and "Hemmelig" in text, who
            assert cache == "private, no-store"
        else:
            # Not on their page at all (no replies hang on it): not even a placeholder.
            assert status == 404, (who, text[:300])
            assert "Hemmelig" not in text and "Pia Politiker" not in text


@pytest.mark.parametrize("state", [PostState.HIDDEN, PostState.REMOVED, PostState.DELETED])
def test_a_removed_post_with_visible_replies_is_a_bare_placeholder(
    cast, make_post, make_user, state
):
    post = make_post(cast["topic"], author=cast["author"], body=SECRET, stance="against")
    reply = make_post(cast["topic"], author=make_user(), body="Et synligt svar", parent=post)
    if state == PostState.DELETED:
        services.delete_post(cast["author"], post)
        db.session.commit()
    else:
        move(post, state)
    for who in ("anonymous", "other"):
        status, text, _ = fragment(cast["clients"][who], post)
        assert status == 200 and 'class="placeholder"' in text, who
        for leak in (
            "Hemmelig",
            "Pia Politiker",
            "post-politician",
            "stance-against",
            "Et synligt svar",
            "<time",
        ):
            assert leak not in text, (who, leak)
        # The reply itself is on the page, below the placeholder.
        status, text, _ = fragment(cast["clients"][who], reply)
        assert status == 200 and "Et synligt svar" in text
    if state != PostState.DELETED:  # a deleted post's text is gone for everyone
        for who in ("author", "moderator"):
            status, text, _ = fragment(cast["clients"][who], post)
            assert status == 200 and "Hemmelig" in text, who


def test_a_placeholder_whose_replies_are_hidden_too_is_not_shown(cast, make_post, make_user):
    post = make_post(cast["topic"], author=cast["author"], body=SECRET)
    reply = make_post(cast["topic"], author=make_user(), body="Også skjult", parent=post)
    move(post, PostState.REMOVED)
    move(reply, PostState.HIDDEN)
    for who in ("anonymous", "other"):
        assert fragment(cast["clients"][who], post)[0] == 404, who
        assert fragment(cast["clients"][who], reply)[0] == 404, who


def test_a_reply_under_a_post_the_viewer_may_not_see_is_not_shown(cast, make_post, make_user):
    parent = make_post(cast["topic"], author=cast["author"], body=SECRET)
    reply = make_post(
        cast["topic"], author=make_user(), body="Svar på et held indlæg", parent=parent
    )
    move(parent, PostState.PENDING)  # held again (an edit went back to the queue)
    for who in ("anonymous", "other"):
        assert fragment(cast["clients"][who], reply)[0] == 404, who
    for who in ("author", "moderator"):
        status, text, _ = fragment(cast["clients"][who], reply)
        assert status == 200 and "Svar på et held indlæg" in text, who


def test_a_deep_reply_under_a_hidden_post_is_its_visible_ancestor_or_nothing(app, cast, make_post):
    depth = app.config["THREAD_DISPLAY_DEPTH"]
    chain = [make_post(cast["topic"])]
    for _ in range(depth):
        chain.append(make_post(cast["topic"], parent=chain[-1]))
    deep = chain[-1]
    move(deep, PostState.HIDDEN)
    c = cast["clients"]["anonymous"]
    assert fragment(c, deep)[0] == 404  # a hidden leaf: nothing on the page changes
    status, text, _ = fragment(cast["clients"]["moderator"], deep)
    assert status == 200 and f'id="p{chain[depth - 1].id}"' in text  # the continue link


def test_posts_of_a_topic_the_viewer_may_not_see_are_404(make_user, make_topic, make_post, viewer):
    topic = make_topic()
    post = make_post(topic, body="Før emnet blev trukket tilbage")
    topic.status = TopicStatus.PROPOSED  # not public: only its author and moderators
    db.session.commit()
    assert fragment(viewer(None), post)[0] == 404
    assert fragment(viewer(make_user()), post)[0] == 404


# --- the topic's head ----------------------------------------------------------------------


def test_the_topic_head_is_what_the_page_shows(client, make_user, make_topic):
    admin = make_user("admin")
    topic = make_topic(author=admin, title="Skolevej", intro="Første *udgave*")
    page = client.get(f"/emner/{topic.id}").get_data(as_text=True)
    assert "data-live-topic-head" in page and 'data-head-url="/emner/0/hoved"' in page
    services.edit_topic(admin, topic, "Skolevej og cykelsti", "Anden **udgave**", None)
    db.session.commit()
    r = client.get(f"/emner/{topic.id}/hoved")
    text = r.get_data(as_text=True)
    assert r.status_code == 200 and r.headers["Cache-Control"] == "private, no-store"
    assert text.lstrip().startswith("<div data-live-topic-head")
    assert "Skolevej og cykelsti" in text and "<strong>udgave</strong>" in text
    assert 'data-status="open"' in text
    services.set_topic_status(admin, topic, TopicStatus.CLOSED)
    db.session.commit()
    assert 'data-status="closed"' in client.get(f"/emner/{topic.id}/hoved").get_data(as_text=True)


def test_the_head_of_a_topic_the_viewer_may_not_see_is_404(make_user, make_topic, viewer):
    topic = make_topic()
    topic.status = TopicStatus.PROPOSED
    db.session.commit()
    assert viewer(None).get(f"/emner/{topic.id}/hoved").status_code == 404
    assert viewer(make_user()).get(f"/emner/{topic.id}/hoved").status_code == 404
    assert viewer(None).get("/emner/999999/hoved").status_code == 404


def test_a_topic_edit_reaches_the_topic_room_without_text(socket_client, make_user, make_topic):
    from .conftest import received

    admin = make_user("admin")
    topic = make_topic(author=admin, title="Skolevej")
    sc = socket_client()
    sc.emit("join", {"rooms": [f"topic:{topic.id}"]})
    received(sc)
    services.edit_topic(admin, topic, "Hemmelig ny titel", "Hemmelig intro", None)
    db.session.commit()
    [msg] = received(sc, "live")
    assert msg["kind"] == "topic_changed" and msg["topic_id"] == topic.id
    assert msg["status"] == "open" and "Hemmelig" not in repr(msg)
