"""The queue: listing, filters, scopes, claims, decisions, 409s, bulk, query counts."""

from datetime import timedelta

import pytest

from forum.extensions import db
from forum.models import Notification, PostState, utcnow
from moderation import services
from moderation.models import AuditEntry, QueueItem


def _item(post, kind="post"):
    return db.session.query(QueueItem).filter_by(post_id=post.id, kind=kind).one()


def test_queue_lists_all_kinds_oldest_first_with_context(
    as_user,
    moderator,
    make_topic,
    make_area,
    make_committee,
    held,
    in_state,
    make_user,
    rules,
    admin,
):
    area = make_area(name="Tølløse")
    t = make_topic(
        author=admin,
        committee=make_committee(name="Økonomiudvalget"),
        area=area,
        title="Cykelsti til skolen",
    )
    parent = in_state("published", t, body="Forældreindlægget her")
    held(t, body="Det første svar", parent=parent)
    reported = in_state("published", t, body="Et anmeldt indlæg")
    services.report_post(make_user(), reported, "spam")
    rejected = in_state("rejected", t)
    entry = db.session.query(AuditEntry).filter_by(post_id=rejected.id, action="reject").one()
    services.appeal_decision(rejected.author, entry, "Jeg mener ikke, det var et angreb.")
    from forum import services as forum_services

    proposal = forum_services.create_topic(
        make_user(), "Ny legeplads i Tølløse", "Vi mangler en legeplads.", area_id=area.id
    )
    db.session.commit()
    text = as_user(moderator).get("/moderation").get_data(as_text=True)
    order = [
        text.index(s)
        for s in ("Det første svar", "Et anmeldt indlæg", "Jeg mener ikke", "Ny legeplads")
    ]
    assert order == sorted(order)
    assert "Forældreindlægget her" in text  # the parent post
    assert "Cykelsti til skolen" in text and "Økonomiudvalget" in text and "Tølløse" in text
    assert "Spam" in text or "spam" in text  # the report's rule
    assert proposal.status.value == "proposed"
    assert "4" in text.split("<h1>")[1].split("</h1>")[0]


def test_filters_by_committee_area_and_reason(
    as_user, moderator, make_topic, make_area, make_committee, held, admin, in_state, make_user
):
    a1, a2 = make_area(), make_area()
    c1 = make_committee()
    t1 = make_topic(author=admin, area=a1, committee=c1)
    t2 = make_topic(author=admin, area=a2)
    held(t1, body="I område et")
    held(t2, body="I område to")
    p = in_state("published", t2, body="Anmeldt i to")
    services.report_post(make_user(), p, "spam")
    db.session.commit()
    c = as_user(moderator)
    text = c.get(f"/moderation?area={a1.id}").get_data(as_text=True)
    assert "I område et" in text and "I område to" not in text
    text = c.get(f"/moderation?committee={c1.id}").get_data(as_text=True)
    assert "I område et" in text and "I område to" not in text
    text = c.get("/moderation?reason=flags").get_data(as_text=True)
    assert "Anmeldt i to" in text and "I område et" not in text
    assert c.get("/moderation?reason=nonsense").status_code == 400
    assert c.get("/moderation?area=x").status_code == 400


def test_scoped_moderator_sees_and_acts_only_in_their_areas(
    as_user,
    make_user,
    make_topic,
    make_area,
    held,
    admin,
):
    mine, other = make_area(), make_area()
    scoped = make_user("moderator", areas=[mine])
    p_mine = held(make_topic(author=admin, area=mine), body="Lokalt indlæg")
    p_other = held(make_topic(author=admin, area=other), body="Fremmed indlæg")
    p_committee = held(make_topic(author=admin), body="Udvalgsindlæg")
    c = as_user(scoped)
    text = c.get("/moderation").get_data(as_text=True)
    assert "Lokalt indlæg" in text
    assert "Fremmed indlæg" not in text and "Udvalgsindlæg" not in text
    for post in (p_other, p_committee):
        item = _item(post)
        assert c.get(f"/moderation/items/{item.id}").status_code == 403
        r = c.post(f"/moderation/items/{item.id}/decide", data={"action": "approve"})
        assert r.status_code == 403
        assert c.get(f"/moderation/posts/{post.id}").status_code == 403
        db.session.refresh(post)
        assert post.state == PostState.PENDING
    assert (
        c.post(
            f"/moderation/items/{_item(p_mine).id}/decide", data={"action": "approve"}
        ).status_code
        == 302
    )
    db.session.refresh(p_mine)
    assert p_mine.state == PostState.PUBLISHED
    denied = (
        db.session.query(AuditEntry).filter_by(action="access_denied", actor_id=scoped.id).count()
    )
    assert denied == 6


def test_approve_publishes_and_tells_author(as_user, moderator, topic, held):
    post = held(topic)
    item = _item(post)
    r = as_user(moderator).post(f"/moderation/items/{item.id}/decide", data={"action": "approve"})
    assert r.status_code == 302
    db.session.refresh(post)
    db.session.refresh(item)
    assert post.state == PostState.PUBLISHED and topic.post_count == 1
    assert (item.status, item.outcome, item.decided_by_id) == ("decided", "approve", moderator.id)
    entry = db.session.query(AuditEntry).filter_by(post_id=post.id, action="approve").one()
    assert (entry.actor_id, entry.from_state, entry.to_state) == (
        moderator.id,
        "pending",
        "published",
    )
    n = db.session.get(Notification, entry.notification_id)
    assert n.user_id == post.author_id


def test_reject_needs_a_rule_and_changes_nothing_without(as_user, moderator, topic, held, rules):
    post = held(topic)
    item = _item(post)
    c = as_user(moderator)
    r = c.post(f"/moderation/items/{item.id}/decide", data={"action": "reject", "text": "Nej"})
    assert r.status_code == 400
    assert (
        "Choose the debate rule" in r.get_data(as_text=True)
        or "debatregel" in r.get_data(as_text=True).lower()
    )
    db.session.refresh(post)
    db.session.refresh(item)
    assert post.state == PostState.PENDING and item.status == "open"
    assert db.session.query(AuditEntry).filter_by(action="reject").count() == 0
    r = c.post(
        f"/moderation/items/{item.id}/decide",
        data={"action": "reject", "rule_id": rules["spam"].id, "text": "Reklame"},
    )
    assert r.status_code == 302
    db.session.refresh(post)
    assert post.state == PostState.REJECTED
    entry = db.session.query(AuditEntry).filter_by(action="reject").one()
    assert (entry.rule_id, entry.text) == (rules["spam"].id, "Reklame")


def test_unknown_ids_and_actions(as_user, moderator, topic, held):
    c = as_user(moderator)
    assert c.get("/moderation/items/999999").status_code == 404
    assert c.post("/moderation/items/999999/decide", data={"action": "approve"}).status_code == 404
    assert c.get("/moderation/posts/999999").status_code == 404
    assert c.get("/moderation/users/999999").status_code == 404
    item = _item(held(topic))
    assert (
        c.post(f"/moderation/items/{item.id}/decide", data={"action": "explode"}).status_code == 400
    )


def test_claim_blocks_another_moderator(as_user, make_user, topic, held, app):
    a, b = make_user("moderator", name="Anna"), make_user("moderator", name="Bo")
    post = held(topic)
    item = _item(post)
    ca = as_user(a)
    assert ca.post(f"/moderation/items/{item.id}/claim").status_code == 302
    cb = app.test_client()
    cb.post("/login", data={"email": b.email, "password": "correct-horse-battery"})
    assert "Anna" in cb.get("/moderation").get_data(as_text=True)
    r = cb.post(f"/moderation/items/{item.id}/decide", data={"action": "approve"})
    assert r.status_code == 409 and "Anna" in r.get_data(as_text=True)
    assert cb.post(f"/moderation/items/{item.id}/claim").status_code == 409
    db.session.refresh(post)
    assert post.state == PostState.PENDING
    assert (
        ca.post(f"/moderation/items/{item.id}/decide", data={"action": "approve"}).status_code
        == 302
    )


def test_claim_expires(make_user, topic, held, app):
    a, b = make_user("moderator"), make_user("moderator")
    item = _item(held(topic))
    services.claim_item(a, item, now=utcnow() - timedelta(minutes=10))
    db.session.commit()
    services.decide_item(b, item, "approve")
    db.session.commit()
    assert item.decided_by_id == b.id


def test_second_decision_answers_409_with_current_state(as_user, make_user, topic, held, app):
    a, b = make_user("moderator", name="Anna"), make_user("moderator", name="Bo")
    post = held(topic)
    item = _item(post)
    ca = as_user(a)
    cb = app.test_client()
    cb.post("/login", data={"email": b.email, "password": "correct-horse-battery"})
    assert (
        ca.post(f"/moderation/items/{item.id}/decide", data={"action": "approve"}).status_code
        == 302
    )
    r = cb.post(f"/moderation/items/{item.id}/decide", data={"action": "reject", "rule_id": ""})
    # the missing rule is reported before anything is looked up … with a rule, a 409:
    assert r.status_code in (400, 409)
    from moderation.models import DebateRule

    services.ensure_default_rules()
    db.session.commit()
    rule = db.session.query(DebateRule).first()
    r = cb.post(
        f"/moderation/items/{item.id}/decide", data={"action": "reject", "rule_id": rule.id}
    )
    text = r.get_data(as_text=True)
    assert r.status_code == 409 and "Anna" in text
    db.session.refresh(post)
    assert post.state == PostState.PUBLISHED
    assert (
        db.session.query(AuditEntry).filter(AuditEntry.action.in_(("approve", "reject"))).count()
        == 1
    )
    assert db.session.query(Notification).filter_by(user_id=post.author_id).count() == 1


def test_decision_on_a_post_changed_under_it_is_a_conflict(make_user, topic, held):
    from forum import services as forum_services
    from forum.errors import Conflict

    mod = make_user("moderator")
    post = held(topic)
    item = _item(post)
    forum_services.delete_post(post.author, post)  # the author deletes it meanwhile
    db.session.commit()
    db.session.refresh(item)
    assert item.status == "closed"
    with pytest.raises(Conflict):
        services.decide_item(mod, item, "approve")
    db.session.rollback()


def test_bulk_approve_and_reject(as_user, moderator, topic, held, rules, make_user):
    posts = [held(topic, body=f"Bulk {i}") for i in range(4)]
    items = [_item(p) for p in posts]
    c = as_user(moderator)
    r = c.post(
        "/moderation/bulk", data={"ids": [items[0].id, items[1].id], "bulk_action": "approve"}
    )
    assert r.status_code == 302
    r = c.post("/moderation/bulk", data={"ids": [items[2].id], "bulk_action": "reject"})
    assert r.status_code == 302  # no rule: refused with a message, nothing changed
    db.session.refresh(posts[2])
    assert posts[2].state == PostState.PENDING
    other = make_user("moderator")
    services.claim_item(other, items[3])
    db.session.commit()
    r = c.post(
        "/moderation/bulk",
        data={
            "ids": [items[2].id, items[3].id, 999999],
            "bulk_action": "reject",
            "rule_id": rules["spam"].id,
        },
    )
    for p in posts:
        db.session.refresh(p)
    assert [p.state.value for p in posts] == ["published", "published", "rejected", "pending"]
    page = c.get("/moderation").get_data(as_text=True)
    assert "999999" in page  # the failure is reported


def test_non_moderators_get_403_and_an_audit_entry(client, as_user, make_user, topic, held):
    item = _item(held(topic))
    citizen = make_user()
    politician = make_user("politician")
    urls = [
        "/moderation",
        f"/moderation/items/{item.id}",
        "/moderation/audit",
        "/moderation/audit.csv",
        "/moderation/words",
        "/moderation/suspensions",
        "/moderation/modes",
        "/moderation/rules",
        f"/moderation/users/{citizen.id}",
        "/moderation/posts/1",
        "/moderation/rules/new",
    ]
    for who in (None, citizen, politician):
        c = as_user(who)
        for url in urls:
            assert c.get(url).status_code == 403, (who, url)
        assert (
            c.post(f"/moderation/items/{item.id}/decide", data={"action": "approve"}).status_code
            == 403
        )
    denied = db.session.query(AuditEntry).filter_by(action="access_denied").all()
    assert len(denied) == 3 * (len(urls) + 1)
    assert {e.actor_id for e in denied} == {None, citizen.id, politician.id}
    db.session.refresh(item)
    assert item.status == "open"


def test_nav_shows_waiting_count_to_moderators_only(as_user, moderator, make_user, topic, held):
    held(topic)
    held(topic)
    text = as_user(moderator).get("/").get_data(as_text=True)
    assert 'data-moderation-waiting="2"' in text
    assert "data-moderation-waiting" not in as_user(make_user()).get("/").get_data(as_text=True)


def test_item_page_shows_reason_record_and_history(
    as_user, moderator, topic, held, make_user, admin, rules
):
    author = make_user(name="Karl Kritisk")
    old = held(topic, author, body="Gammelt")
    services.moderate_post(admin, old, "reject", rules["spam"].id, "")
    db.session.commit()
    post = held(topic, author, body="Nyt indlæg")
    text = as_user(moderator).get(f"/moderation/items/{_item(post).id}").get_data(as_text=True)
    assert "Karl Kritisk" in text and "Nyt indlæg" in text
    assert "Rejected: 1" in text or "Afvist: 1" in text
    assert text.count("<h1") == 1


def test_queue_page_and_decision_cost_a_constant_number_of_queries(
    as_user,
    moderator,
    make_topic,
    make_area,
    held,
    make_user,
    count_queries,
    admin,
    in_state,
):
    """The queue page and a decision cost the same with 3 and with 30 items waiting
    (measured in one test: parallel test workers share no state between tests)."""
    area = make_area()
    t = make_topic(author=admin, area=area)
    c = as_user(moderator)

    def add_items(first: int, last: int, reports: int) -> None:
        for i in range(first, last):
            parent = in_state("published", t, body=f"forælder {i}") if i % 3 == 0 else None
            held(t, make_user(), body=f"indlæg {i}", parent=parent)
        for i in range(reports):
            p = in_state("published", t, body=f"anmeldt {first}-{i}")
            services.report_post(make_user(), p, "other", "Spam")
        db.session.commit()

    def costs() -> tuple[int, int]:
        c.get("/moderation")
        with count_queries() as page_queries:
            assert c.get("/moderation").status_code == 200
        # The decided post's topic has one follower whatever the queue holds: publishing
        # notifies followers (the forum's fan-out, one row each), which is not the queue's cost.
        lone = held(make_topic(author=admin, area=area), make_user(), body="alene")
        item = db.session.query(QueueItem).filter_by(post_id=lone.id).one()
        with count_queries() as decide_queries:
            response = c.post(f"/moderation/items/{item.id}/decide", data={"action": "approve"})
            assert response.status_code == 302
        return page_queries(), decide_queries()

    add_items(0, 3, reports=1)
    small = costs()
    add_items(3, 30, reports=5)  # 30 held posts and 6 reported ones in all
    assert costs() == small


class TestRepeatedDenials:
    """Each refused request is audited, so a stranger repeating them is limited."""

    @pytest.fixture
    def app_config(self, app_config) -> dict:
        return {**app_config, "RATELIMIT_ENABLED": True, "MODERATION_DENIED_RATE": "5 per minute"}

    def test_a_stranger_is_limited_and_moderators_are_not(self, app, as_user, moderator):
        from forum.extensions import limiter

        limiter.reset()
        stranger = as_user(None)
        codes = [stranger.get("/moderation").status_code for _ in range(8)]
        assert codes == [403] * 5 + [429] * 3
        assert db.session.query(AuditEntry).filter_by(action="access_denied").count() == 5
        mod = as_user(moderator)
        assert all(mod.get("/moderation").status_code == 200 for _ in range(8))
