"""A pending question shows only to its author and moderators: on the session page, in
fragments, in live messages, on the projector, in search's input (the event log) and on
profiles."""

from __future__ import annotations

from sqlalchemy import select

from forum.extensions import db
from forum.models import Event
from qa import services

from .conftest import approved_question, received

HELD = "Et spørgsmål der venter på en moderator."


def join(sc, world, *extra):
    rooms = [f"qa:{world.session.id}", f"topic:{world.session.debate_topic_id}", *extra]
    sc.emit("join", {"rooms": rooms})
    got = received(sc)
    assert got and got[0][0] == "joined", got
    return got


def test_pending_question_in_pages_fragments_and_projector(world, client_for):
    pending = services.ask(world.citizen, world.session, HELD)
    db.session.commit()
    base = f"/spoergetid/{world.session.id}"
    for who, sees in (
        (None, False),
        (world.citizens[1], False),
        (world.politician, False),
        (world.citizen, True),
        (world.staff, True),
    ):
        c = client_for(who)
        assert (HELD in c.get(base).text) is sees, who
        frag = c.get(f"{base}/indslag/{pending.id}")
        assert frag.status_code == (200 if sees else 404), who
        # Nobody sees it on the projector or the forum's profile of its author, pending.
        assert HELD not in c.get(f"{base}/projektor").text
        assert HELD not in c.get(f"{base}/projektor/indhold").text
        assert HELD not in c.get(f"{base}/banner").text
        if who is not world.citizen and who is not world.staff:
            assert HELD not in c.get(f"/profil/{world.citizen.id}").text
    author_page = client_for(world.citizen).get(base).text
    assert "Awaiting moderation" in author_page or "Afventer moderation" in author_page
    staff_page = client_for(world.staff).get(base).text
    assert f"/spoergsmaal/{pending.id}/moderer" in staff_page


def test_pending_question_in_live_messages(world, client_for, sockets):
    anon = sockets(client_for(None))
    other = sockets(client_for(world.citizens[1]))
    author_http = client_for(world.citizen)
    author = sockets(author_http)
    staff = sockets(client_for(world.staff))
    join(anon, world)
    join(other, world, f"user:{world.citizens[1].id}")
    join(author, world, f"user:{world.citizen.id}")
    join(staff, world, "moderators")

    r = author_http.post(
        f"/spoergetid/{world.session.id}/spoerg", data={"body": HELD, "nonce": "v1"}
    )
    assert r.status_code == 302
    pending_id = db.session.scalar(
        select(Event.subject_id).where(Event.kind == "post_created").order_by(Event.id.desc())
    )
    assert received(anon, "live") == [] and received(other, "live") == []
    mine = received(author, "live")
    assert [m["post_id"] for m in mine if m.get("post_id")] == [pending_id]
    mods = received(staff, "live")
    assert pending_id in [m.get("post_id") for m in mods]
    assert all("body" not in m and "text" not in m for m in mine + mods)

    services.moderate_question(world.staff, world.session, pending_id, "approve")
    db.session.commit()
    for sc in (anon, other, author, staff):
        kinds = [(m["kind"], m.get("post_id")) for m in received(sc, "live")]
        assert ("post_published", pending_id) in kinds, kinds

    services.set_vote(world.citizens[1], world.session, pending_id, True)
    db.session.commit()
    msg = [m for m in received(anon, "live") if m["kind"] == "qa_votes"]
    assert msg and (msg[0]["post_id"], msg[0]["votes"]) == (pending_id, 1)
    assert set(msg[0]) <= {"id", "kind", "session_id", "post_id", "votes", "sent_at"}


def test_socket_vote_and_ask_with_error_events(world, client_for, sockets):
    q = approved_question(world)
    voter = sockets(client_for(world.citizens[1]))
    join(voter, world)
    voter.emit("qa_vote", {"session_id": world.session.id, "post_id": q.id, "vote": True})
    got = received(voter)
    assert (
        "qa_voted",
        {"session_id": world.session.id, "post_id": q.id, "votes": 1, "vote": True},
    ) in got
    before = db.session.scalar(select(Event.id).order_by(Event.id.desc()))
    for payload, code in (
        ({"session_id": world.session.id, "post_id": q.id, "vote": True}, "conflict"),
        ({"session_id": world.session.id, "post_id": 999999, "vote": True}, "not_found"),
        ({"session_id": world.session.id, "post_id": q.id, "vote": "ja"}, "invalid"),
        ({"session_id": 999999, "post_id": q.id, "vote": True}, "not_found"),
        ({"session_id": world.session.id, "post_id": q.id}, "invalid"),
        ({"session_id": world.session.id, "post_id": q.id, "vote": True, "x": 1}, "invalid"),
    ):
        voter.emit("qa_vote", payload)
        errors = received(voter, "error")
        assert errors and errors[0]["code"] == code and errors[0]["message"], payload
    voter.emit("qa_ask", {"session_id": world.session.id, "body": "kort"})
    assert received(voter, "error")[0]["code"] == "invalid"
    assert db.session.scalar(select(Event.id).order_by(Event.id.desc())) == before
    voter.emit("qa_ask", {"session_id": world.session.id, "body": "Et spørgsmål via socket."})
    asked = received(voter, "qa_asked")
    assert asked and asked[0]["state"] == "pending"
    anon = sockets(client_for(None))
    join(anon, world)
    anon.emit("qa_vote", {"session_id": world.session.id, "post_id": q.id, "vote": True})
    assert received(anon, "error")[0]["code"] == "login_required"


def test_presence_counts_watchers_and_present_politicians(world, client_for, sockets, app):
    from qa.live import presence_now

    a = sockets(client_for(None))
    b = sockets(client_for(world.politician))
    join(a, world)
    join(b, world)
    watchers, politicians = presence_now(world.session.id)
    assert watchers == 2 and politicians == [world.politician.id]


def test_unknown_qa_room(world, client_for, sockets):
    sc = sockets(client_for(None))
    sc.emit("join", {"rooms": ["qa:999999"]})
    assert received(sc, "error")[0]["code"] == "unknown_room"


def test_search_input_has_the_posts(world):
    """Search's indexer follows post events in topic rooms: a question and an answer write
    the same events as any post (published ones are indexed, held ones are not)."""
    q = approved_question(world)
    a = services.answer(world.politician, world.session, q.id, "Svaret kan findes i søgning.")
    db.session.commit()
    kinds = {
        (e.kind, e.subject_id)
        for e in db.session.scalars(select(Event).where(Event.subject_type == "post"))
    }
    assert ("post_published", q.id) in kinds and ("post_published", a.id) in kinds


def test_messages_leave_only_after_the_real_commit(world):
    """Asking opens savepoints (the forum's double-submit guard, moderation's queue item);
    SQLAlchemy reports a savepoint's release as a commit, which must not push the events
    early: a client fetching the question at once would get a 404."""
    from forum import uow

    batches: list[list[str]] = []

    def listen(events):
        batches.append([e["kind"] for e in events])

    handlers = uow.seams(db.session().app)
    entry = handlers.add(
        uow.AFTER_COMMIT, "test.listen", lambda _unit, events: events and listen(events)
    )
    try:
        services.ask(world.citizen, world.session, HELD)
        assert batches == []
        db.session.commit()
        assert len(batches) == 1 and "post_created" in batches[0]
    finally:
        handlers.remove(entry)


def test_a_question_asked_over_the_socket_drops_control_characters(world, client_for, sockets):
    """The live path skips the forms, so it drops control characters (and NUL) itself."""
    from forum.models import Post

    asker = sockets(client_for(world.citizens[1]))
    join(asker, world)
    asker.emit(
        "qa_ask",
        {"session_id": world.session.id, "body": "\x1b[31mHvad\x07\x08 koster\x00 stien?\tNu"},
    )
    [asked] = received(asker, "qa_asked")
    post = db.session.get(Post, asked["post_id"])
    assert post.body_source == "Hvad koster stien?\tNu"
