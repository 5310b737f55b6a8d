"""Reporting posts: once each, weighted, a threshold that hides, moderators hide at once."""

import pytest

from forum.errors import Conflict, InvalidInput, NotFound
from forum.extensions import db
from forum.models import Notification, PostState
from moderation import services
from moderation.models import AuditEntry, Flag, QueueItem


def test_report_form_and_submit(as_user, make_user, topic, in_state, rules):
    post = in_state("published", topic, body="Køb billige ure her")
    c = as_user(make_user())
    page = c.get(f"/indlaeg/{post.id}/anmeld").get_data(as_text=True)
    assert "Køb billige ure her" in page and rules["spam"].title_da in page
    assert page.count("<h1") == 1
    r = c.post(f"/indlaeg/{post.id}/anmeld", data={"reason": "spam"})
    assert r.status_code == 302
    flag = db.session.query(Flag).one()
    assert (flag.rule_id, flag.status, flag.weight) == (rules["spam"].id, "open", 1.0)
    item = db.session.query(QueueItem).filter_by(post_id=post.id, kind="flag").one()
    assert item.reason == "flags" and item.status == "open"
    assert db.session.query(AuditEntry).filter_by(action="flag").count() == 1


def test_report_link_shown_to_others_only(as_user, make_user, topic, in_state):
    post = in_state("published", topic)
    assert f"/indlaeg/{post.id}/anmeld" in as_user(make_user()).get(f"/emner/{topic.id}").get_data(
        as_text=True
    )
    assert f"/indlaeg/{post.id}/anmeld" not in as_user(post.author).get(
        f"/emner/{topic.id}"
    ).get_data(as_text=True)
    assert f"/indlaeg/{post.id}/anmeld" not in as_user(None).get(f"/emner/{topic.id}").get_data(
        as_text=True
    )


def test_bad_reports_change_nothing(make_user, topic, in_state, rules, as_user):
    post = in_state("published", topic)
    reporter = make_user()
    with pytest.raises(InvalidInput):
        services.report_post(post.author, post, "spam")  # your own post
    with pytest.raises(InvalidInput):
        services.report_post(reporter, post, "other", "")  # "other" needs a text
    with pytest.raises(InvalidInput):
        services.report_post(reporter, post, "no-such-rule")
    db.session.rollback()
    services.report_post(reporter, post, "spam")
    db.session.commit()
    with pytest.raises(Conflict):
        services.report_post(reporter, post, "respect")  # twice
    db.session.rollback()
    pending = in_state("pending", topic)
    with pytest.raises(NotFound):
        services.report_post(reporter, pending, "spam")  # not visible to them
    db.session.rollback()
    assert db.session.query(Flag).count() == 1
    c = as_user(post.author)  # Danish, the default
    r = c.post(f"/indlaeg/{post.id}/anmeld", data={"reason": "spam"})
    assert r.status_code == 400 and "dit eget indlæg" in r.get_data(as_text=True)
    c = as_user(post.author, "en")
    r = c.post(f"/indlaeg/{post.id}/anmeld", data={"reason": "spam"})
    assert r.status_code == 400 and "own post" in r.get_data(as_text=True)
    assert db.session.query(Flag).count() == 1
    c = as_user(reporter)
    r = c.post(f"/indlaeg/{post.id}/anmeld", data={"reason": "spam"})
    assert r.status_code == 409
    assert c.get("/indlaeg/999999/anmeld").status_code == 404


def test_threshold_of_distinct_reports_hides_the_post(make_user, topic, in_state, rules):
    post = in_state("published", topic)
    for i in range(2):
        services.report_post(make_user(), post, "respect" if i else "spam")
    db.session.commit()
    assert post.state == PostState.PUBLISHED
    services.report_post(make_user(), post, "respect")
    db.session.commit()
    assert post.state == PostState.HIDDEN and topic.post_count == 0
    entry = db.session.query(AuditEntry).filter_by(action="flag_hide").one()
    assert entry.actor_id is None and entry.rule_id == rules["respect"].id
    n = db.session.get(Notification, entry.notification_id)
    assert n.user_id == post.author_id
    item = db.session.query(QueueItem).filter_by(post_id=post.id, kind="flag").one()
    assert item.status == "open"  # hidden pending review


def test_moderator_report_hides_at_once(moderator, topic, in_state):
    post = in_state("published", topic)
    services.report_post(moderator, post, "illegal")
    db.session.commit()
    assert post.state == PostState.HIDDEN
    assert db.session.query(AuditEntry).filter_by(action="flag_hide").one().actor_id == moderator.id


def test_restored_post_needs_a_new_threshold(make_user, moderator, topic, in_state):
    post = in_state("published", topic)
    for _i in range(3):
        services.report_post(make_user(), post, "spam")
    db.session.commit()
    assert post.state == PostState.HIDDEN
    item = db.session.query(QueueItem).filter_by(post_id=post.id, kind="flag").one()
    services.decide_item(moderator, item, "restore")
    db.session.commit()
    assert post.state == PostState.PUBLISHED
    assert {f.status for f in db.session.query(Flag)} == {"dismissed"}
    for _i in range(2):
        services.report_post(make_user(), post, "spam")
    db.session.commit()
    assert post.state == PostState.PUBLISHED  # two new reports are below the threshold
    services.report_post(make_user(), post, "spam")
    db.session.commit()
    assert post.state == PostState.HIDDEN


def test_mostly_dismissed_reporters_weigh_less(make_user, moderator, topic, in_state):
    grumpy = make_user()
    for _i in range(4):
        p = in_state("published", topic)
        services.report_post(grumpy, p, "spam")
        item = db.session.query(QueueItem).filter_by(post_id=p.id, kind="flag").one()
        services.decide_item(moderator, item, "restore")
        db.session.commit()
    assert services.reporter_weight(grumpy) == pytest.approx(2 / 6)
    post = in_state("published", topic)
    services.report_post(grumpy, post, "spam")
    services.report_post(make_user(), post, "spam")
    services.report_post(make_user(), post, "spam")
    db.session.commit()
    assert post.state == PostState.PUBLISHED  # 1/3 + 1 + 1 < 3
    services.report_post(make_user(), post, "spam")
    db.session.commit()
    assert post.state == PostState.HIDDEN


def test_hide_and_remove_uphold_reports(make_user, moderator, topic, in_state, rules):
    post = in_state("published", topic)
    reporter = make_user()
    services.report_post(reporter, post, "spam")
    item = db.session.query(QueueItem).filter_by(post_id=post.id, kind="flag").one()
    services.decide_item(moderator, item, "remove", rules["spam"].id, "Reklame")
    db.session.commit()
    assert post.state == PostState.REMOVED
    assert db.session.query(Flag).one().status == "upheld"
    assert services.reporter_weight(reporter) == 1.0


def test_reported_post_held_again_by_an_edit(make_user, moderator, admin, topic, in_state):
    from forum import services as forum_services
    from moderation.models import WatchedWord
    from moderation.queries import waiting_count

    post = in_state("published", topic)
    services.report_post(make_user(), post, "spam")
    db.session.add(WatchedWord(word="tåbe", language="da", action="hold"))
    db.session.commit()
    forum_services.edit_post(post.author, post, "Nu med en tåbe")
    db.session.commit()
    items = {i.kind: i.status for i in db.session.query(QueueItem).filter_by(post_id=post.id)}
    assert items == {"flag": "closed", "post": "open"}
    assert waiting_count(moderator) == 1
    services.moderate_post(moderator, post, "approve")
    db.session.commit()
    # the report was never reviewed: it is back in the queue
    assert (
        db.session.query(QueueItem).filter_by(post_id=post.id, kind="flag", status="open").count()
        == 1
    )
    assert waiting_count(moderator) == 1


def test_count_matches_listing_after_forum_decides_a_proposal(make_user, moderator, make_area):
    from forum import services as forum_services
    from moderation.queries import QueueFilters, queue_page, waiting_count

    area = make_area()
    t = forum_services.create_topic(make_user(), "Et forslag her", "Tekst", area_id=area.id)
    db.session.commit()
    assert waiting_count(moderator) == 1
    forum_services.decide_topic_proposal(moderator, t, True)  # on the forum's own page
    db.session.commit()
    assert waiting_count(moderator) == 0
    assert queue_page(moderator, QueueFilters()).items == []


def test_moderator_confirms_a_hide_by_reports_with_a_rule(
    make_user, moderator, topic, in_state, rules
):
    post = in_state("published", topic)
    for _i in range(3):
        services.report_post(make_user(), post, "spam")
    item = db.session.query(QueueItem).filter_by(post_id=post.id, kind="flag").one()
    services.decide_item(moderator, item, "hide", rules["spam"].id, "Reklame")
    db.session.commit()
    assert post.state == PostState.HIDDEN and item.status == "decided"
    entry = db.session.query(AuditEntry).filter_by(action="hide").one()
    assert (entry.from_state, entry.to_state, entry.rule_id) == (
        "hidden",
        "hidden",
        rules["spam"].id,
    )
    assert {f.status for f in db.session.query(Flag)} == {"upheld"}
    assert entry.notification_id is not None


def test_moderate_link_only_for_moderators_and_names_escaped(
    as_user, make_user, topic, in_state, moderator
):
    author = make_user(name="<b>Bo</b> & Co")
    post = in_state("published", topic, author=author)
    page = as_user(moderator).get(f"/emner/{topic.id}").get_data(as_text=True)
    assert f'href="/moderation/posts/{post.id}"' in page
    citizen_page = as_user(make_user()).get(f"/emner/{topic.id}").get_data(as_text=True)
    assert f'href="/moderation/posts/{post.id}"' not in citizen_page
    assert "<b>Bo</b>" not in page and "<b>Bo</b>" not in citizen_page
