from datetime import timedelta

import pytest
from sqlalchemy import func, select

from forum import services
from forum.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from forum.extensions import db
from forum.models import (
    Event,
    Follow,
    Notification,
    Post,
    PostRevision,
    PostState,
    Topic,
    TopicStatus,
    utcnow,
)


def _count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


# --- topics ---------------------------------------------------------------------------


def test_politician_opens_topic_in_own_committee_only(make_user, make_committee):
    mine, other = make_committee(), make_committee()
    pol = make_user("politician", committees=[mine])
    topic = services.create_topic(pol, "Ny skolevej", "Hvad mener I?", committee_id=mine.id)
    assert topic.status == TopicStatus.OPEN
    with pytest.raises(PermissionDenied):
        services.create_topic(pol, "Ny skolevej", "Hvad mener I?", committee_id=other.id)


def test_municipal_staff_open_topics_directly(make_user, make_committee, make_area):
    """Staff publish the municipality's own questions (e.g. through an API key): open at
    once in any committee or area, as admins do; a citizen's topic waits as a proposal."""
    staff, citizen = make_user("staff"), make_user()
    committee, area = make_committee(), make_area()
    topic = services.create_topic(
        staff,
        "Ny hal i Tølløse",
        "Hvad skal den kunne?",
        committee_id=committee.id,
        area_id=area.id,
    )
    assert topic.status == TopicStatus.OPEN
    proposal = services.create_topic(citizen, "Bænke", "Flere bænke, tak.", area_id=area.id)
    assert proposal.status == TopicStatus.PROPOSED


def test_citizen_proposal_is_invisible_until_accepted(client, login, make_user, make_area):
    area = make_area()
    citizen, stranger = make_user(), make_user()
    mod = make_user("moderator", areas=[area])
    topic = services.create_topic(citizen, "Bænke ved søen", "Flere bænke, tak.", area_id=area.id)
    db.session.commit()
    assert topic.status == TopicStatus.PROPOSED
    assert client.get(f"/emner/{topic.id}").status_code == 404
    login(stranger)
    assert client.get(f"/emner/{topic.id}").status_code == 404
    assert b"B\xc3\xa6nke ved s\xc3\xb8en" not in client.get(f"/omraader/{area.slug}").data
    client.post("/logout")
    login(citizen)
    assert client.get(f"/emner/{topic.id}").status_code == 200
    client.post("/logout")
    login(mod)
    assert b"B\xc3\xa6nke" in client.get("/forslag").data
    r = client.post(f"/forslag/{topic.id}", data={"decision": "accept"})
    assert r.status_code == 302
    client.post("/logout")
    assert client.get(f"/emner/{topic.id}").status_code == 200
    note = db.session.scalar(select(Notification).where(Notification.user_id == citizen.id))
    assert note.kind == "topic_accepted"


def test_citizen_cannot_propose_without_area(make_user, make_committee):
    with pytest.raises(PermissionDenied):
        services.create_topic(make_user(), "Et emne her", "Tekst", committee_id=make_committee().id)


def test_scoped_moderator_cannot_decide_other_areas(make_user, make_area):
    mine, other = make_area(), make_area()
    mod = make_user("moderator", areas=[mine])
    topic = services.create_topic(make_user(), "Et forslag", "Tekst", area_id=other.id)
    with pytest.raises(PermissionDenied):
        services.decide_topic_proposal(mod, topic, True)


@pytest.mark.parametrize("title", ["", "kort", "x" * 201, "    "])
def test_topic_title_length(make_user, make_committee, title):
    with pytest.raises(InvalidInput) as exc:
        services.create_topic(make_user("admin"), title, "Tekst", committee_id=make_committee().id)
    assert "title" in exc.value.fields
    assert _count(Topic) == 0


def test_topic_unknown_place(make_user):
    with pytest.raises(InvalidInput):
        services.create_topic(make_user("admin"), "Et godt emne", "Tekst", committee_id=999)
    with pytest.raises(InvalidInput):
        services.create_topic(make_user("admin"), "Et godt emne", "Tekst")


def test_topic_page_lists_open_first_with_counts(client, make_topic, make_post, make_committee):
    committee = make_committee()
    closed = make_topic(committee=committee, title="Lukket emne")
    services.set_topic_status(closed.author, closed, TopicStatus.CLOSED)
    db.session.commit()
    opened = make_topic(committee=committee, title="Åbent emne")
    make_post(opened)
    make_post(opened)
    text = client.get(f"/udvalg/{committee.slug}").get_data(as_text=True)
    assert text.index("Åbent emne") < text.index("Lukket emne")
    assert "2 posts" in text or "2 indlæg" in text


# --- posts ----------------------------------------------------------------------------


def test_post_and_nested_replies(make_topic, make_user):
    topic = make_topic()
    a, b = make_user(), make_user()
    root = services.create_post(a, topic, "Rod", stance="for")
    reply = services.create_post(b, topic, "Svar", parent_id=root.id, stance="against")
    deeper = services.create_post(a, topic, "Dybere", parent_id=reply.id)
    assert (root.depth, reply.depth, deeper.depth) == (0, 1, 2)
    assert reply.stance is None  # only top-level posts take a stance
    assert topic.post_count == 3
    # after the commit the parent's author is told, and followers of the topic (forum/fanout.py)
    db.session.commit()
    kinds = {(n.user_id, n.kind) for n in db.session.scalars(select(Notification))}
    assert (a.id, "reply") in kinds and (b.id, "reply") in kinds
    assert (topic.author_id, "followed_topic") in kinds
    # posting follows the topic
    assert db.session.get(Follow, (b.id, topic.id)) is not None


@pytest.mark.parametrize("body", ["", "   ", "x" * 10_001])
def test_post_body_length(make_topic, make_user, body):
    topic = make_topic()
    with pytest.raises(InvalidInput):
        services.create_post(make_user(), topic, body)
    assert _count(Post) == 0


def test_reply_to_post_in_another_topic(make_topic, make_user, make_post):
    t1, t2 = make_topic(), make_topic()
    other = make_post(t2)
    with pytest.raises(InvalidInput) as exc:
        services.create_post(make_user(), t1, "Svar", parent_id=other.id)
    assert "parent_id" in exc.value.fields
    with pytest.raises(InvalidInput):
        services.create_post(make_user(), t1, "Svar", parent_id=123456)


def test_closed_topic_and_deadline(make_topic, make_user):
    topic = make_topic()
    services.set_topic_status(topic.author, topic, TopicStatus.CLOSED)
    with pytest.raises(Conflict):
        services.create_post(make_user(), topic, "For sent")
    late = make_topic(deadline=utcnow() + timedelta(seconds=1))
    late.deadline = utcnow() - timedelta(minutes=1)
    with pytest.raises(Conflict):
        services.create_post(make_user(), late, "For sent")


def test_edit_keeps_revisions(make_topic, make_user):
    topic = make_topic()
    author = make_user()
    post = services.create_post(author, topic, "Første udgave")
    services.edit_post(author, post, "Anden udgave")
    services.edit_post(author, post, "Tredje udgave")
    revs = db.session.scalars(select(PostRevision).order_by(PostRevision.id)).all()
    assert [r.body_source for r in revs] == ["Første udgave", "Anden udgave"]
    assert post.edited_at is not None and "Tredje" in post.body_html


def test_edit_or_delete_someone_elses_post(make_topic, make_user):
    topic = make_topic()
    post = services.create_post(make_user(), topic, "Mit indlæg")
    intruder = make_user()
    with pytest.raises(PermissionDenied):
        services.edit_post(intruder, post, "Hacket")
    with pytest.raises(PermissionDenied):
        services.delete_post(intruder, post)
    assert post.body_source == "Mit indlæg"


def test_delete_keeps_replies_under_placeholder(client, make_topic, make_user):
    topic = make_topic()
    author, other = make_user(), make_user()
    post = services.create_post(author, topic, "Hemmelig tekst")
    services.edit_post(author, post, "Hemmelig tekst, rettet")
    reply = services.create_post(other, topic, "Et svar", parent_id=post.id)
    services.delete_post(author, post)
    db.session.commit()
    assert post.state == PostState.DELETED and post.body_source == ""
    assert _count(PostRevision) == 0
    text = client.get(f"/emner/{topic.id}").get_data(as_text=True)
    assert "Hemmelig" not in text
    assert "Et svar" in text and f'id="p{reply.id}"' in text
    assert ("Deleted by its author" in text) or ("Slettet af forfatteren" in text)
    assert topic.post_count == 1


def test_support_toggle_rules(make_topic, make_user):
    topic = make_topic()
    author, fan = make_user(), make_user()
    post = services.create_post(author, topic, "Støt mig")
    assert services.toggle_support(fan, post) == (True, 1)
    assert services.toggle_support(fan, post) == (False, 0)
    assert services.toggle_support(fan, post) == (True, 1)
    with pytest.raises(PermissionDenied):
        services.toggle_support(author, post)
    assert post.support_count == 1


def test_double_submitted_form_creates_one_post(client, login, make_topic, make_user):
    topic = make_topic()
    login(make_user())
    data = {"body": "Kun én gang", "nonce": "abc123", "stance": ""}
    r1 = client.post(f"/emner/{topic.id}/indlaeg", data=data)
    r2 = client.post(f"/emner/{topic.id}/indlaeg", data=data)
    assert r1.status_code == r2.status_code == 302
    assert r1.location == r2.location
    assert _count(Post) == 1


# --- the event log --------------------------------------------------------------------


def test_every_change_writes_an_event(make_topic, make_user):
    topic = make_topic()
    author, fan = make_user(), make_user()
    post = services.create_post(author, topic, "Hej")
    services.edit_post(author, post, "Hej igen")
    services.toggle_support(fan, post)
    services.set_topic_status(topic.author, topic, TopicStatus.CLOSED)
    services.delete_post(author, post)
    kinds = [e.kind for e in db.session.scalars(select(Event).order_by(Event.id))]
    for kind in (
        "topic_opened",
        "post_created",
        "post_published",
        "post_edited",
        "support_changed",
        "topic_changed",
        "post_deleted",
    ):
        assert kind in kinds
    rooms = {e.room for e in db.session.scalars(select(Event).where(Event.subject_type == "post"))}
    assert rooms == {f"topic:{topic.id}"}


def test_failed_transaction_leaves_no_event(make_topic, make_user):
    topic = make_topic()
    before = _count(Event)
    author = make_user()
    services.create_post(author, topic, "Skrevet, men aldrig gemt")
    assert _count(Event) > before  # written in the transaction…
    db.session.rollback()  # …and gone with it
    assert _count(Event) == before
    assert _count(Post) == 0


def test_events_are_pushed_only_after_commit(make_topic, make_user):
    from forum import uow

    seen: list[list[dict]] = []
    handlers = uow.seams(db.session().app)
    entry = handlers.add(
        uow.AFTER_COMMIT, "test.seen", lambda _unit, events: events and seen.append(events)
    )
    try:
        topic = make_topic()
        seen.clear()
        services.create_post(make_user(), topic, "Rullet tilbage")
        db.session.rollback()
        assert seen == []
        services.create_post(make_user(), topic, "Gemt")
        assert seen == []
        db.session.commit()
        assert [e["kind"] for e in seen[-1]][:2] == ["post_created", "post_published"]
    finally:
        handlers.remove(entry)


def test_not_found_for_invisible_topic(make_user, make_area):
    area = make_area()
    topic = services.create_topic(make_user(), "Et forslag", "Tekst", area_id=area.id)
    with pytest.raises(NotFound):
        services.create_post(make_user(), topic, "Indlæg")


def test_a_real_double_submit_race_returns_the_first_post(make_topic, make_user, monkeypatch):
    """Two requests pass the nonce lookup at once; the loser's INSERT hits the unique index
    and gets the winner's post back, with the transaction still usable."""
    topic = make_topic()
    author = make_user()
    first = services.create_post(author, topic, "Først", nonce="race-1")
    db.session.commit()
    monkeypatch.setattr(services, "_post_by_nonce", _lookup_missing_once(services._post_by_nonce))
    again = services.create_post(author, topic, "Først", nonce="race-1")
    assert again.id == first.id
    other = services.create_post(author, topic, "Noget andet", nonce="race-2")
    db.session.commit()
    assert _count(Post) == 2 and other.id != first.id


def _lookup_missing_once(real):
    calls = []

    def lookup(author, nonce):
        calls.append(nonce)
        return None if len(calls) == 1 else real(author, nonce)

    return lookup
