"""The policy the forum asks for each new post and each edit of a published post."""

from datetime import timedelta

import pytest

from forum import services as forum_services
from forum.extensions import db
from forum.models import Notification, PostState, utcnow
from moderation import services
from moderation.models import AuditEntry, QueueItem, WatchedWord
from moderation.policy import word_pattern


def _trusted(make_user, topic, admin, n=5, days=30):
    """A citizen with ``n`` approved posts and an account ``days`` old."""
    user = make_user()
    user.created_at = utcnow() - timedelta(days=days)
    for i in range(n):
        post = forum_services.create_post(user, topic, f"Indlæg {i}")
        if post.state == PostState.PENDING:
            services.moderate_post(admin, post, "approve")
        post.created_at = utcnow() - timedelta(days=1)  # outside the rate window
    db.session.commit()
    return user


def _word(word, action="hold", language="any", rule=None):
    w = WatchedWord(word=word, language=language, action=action, rule_id=rule.id if rule else None)
    db.session.add(w)
    db.session.commit()
    return w


def test_author_below_trust_threshold_is_held_then_trusted(topic, make_post, admin, make_user):
    user = make_user()
    first = make_post(topic, user)
    assert first.state == PostState.PENDING and first.held_reason == "new_author"
    services.moderate_post(admin, first, "approve")
    second = make_post(topic, user)
    assert second.state == PostState.PENDING  # 1 approved < 2
    services.moderate_post(admin, second, "approve")
    db.session.commit()
    assert make_post(topic, user).state == PostState.PUBLISHED


@pytest.mark.parametrize("moderation_config", [{"MODERATION_TRUST_THRESHOLD": 0}])
def test_trust_threshold_is_configurable(topic, make_post, make_user):
    user = make_user()
    user.created_at = utcnow() - timedelta(days=30)
    assert make_post(topic, user).state == PostState.PUBLISHED


def test_hold_writes_queue_item_event_and_audit(topic, held):
    post = held(topic)
    item = db.session.query(QueueItem).filter_by(post_id=post.id).one()
    assert (item.kind, item.status, item.reason, item.area_id) == (
        "post",
        "open",
        "new_author",
        topic.area_id,
    )
    entry = db.session.query(AuditEntry).filter_by(post_id=post.id, action="hold").one()
    assert entry.to_state == "pending" and entry.actor_id is None
    from forum.models import Event

    assert db.session.query(Event).filter_by(kind="queue_item_added", room="moderators").count()


def test_links_by_new_author_are_held(topic, make_post, make_user, admin):
    user = _trusted(make_user, topic, admin, n=2, days=1)  # trusted count, but a young account
    assert make_post(topic, user, body="Se https://example.com").held_reason == "links"
    assert make_post(topic, user, body="Ingen links her").state == PostState.PUBLISHED
    old = _trusted(make_user, topic, admin, n=5, days=30)
    assert make_post(topic, old, body="Se [her](https://example.com)").state == PostState.PUBLISHED


@pytest.mark.parametrize("moderation_config", [{"MODERATION_RATE_POSTS": 100}])
def test_watched_word_hold_is_whole_word_and_inflected(topic, make_post, make_user, admin):
    _word("idiot")
    user = _trusted(make_user, topic, admin)
    for text in (
        "Du er en idiot.",
        "I er IDIOTER!",
        "idioterne i byrådet",
        "Idiots, all of you",
        "idiotens forslag",
    ):
        post = make_post(topic, user, body=text)
        assert post.state == PostState.PENDING, text
        assert post.held_reason == "watched_word=idiot"
    for text in ("Det er idiotisk", "Idiotsikker løsning", "et godt forslag"):
        assert make_post(topic, user, body=text).state == PostState.PUBLISHED, text


def test_watched_word_reject_rejects_with_rule_and_tells_author(topic, make_post, make_user, rules):
    _word("svin", action="reject", rule=rules["respect"])
    user = make_user()
    post = make_post(topic, user, body="I er nogle svin")
    assert post.state == PostState.REJECTED
    entry = db.session.query(AuditEntry).filter_by(post_id=post.id, action="auto_reject").one()
    assert entry.rule_id == rules["respect"].id and entry.data["word"] == "svin"
    n = db.session.get(Notification, entry.notification_id)
    assert (n.user_id, n.kind) == (user.id, "moderation_decision")
    assert topic.post_count == 0
    assert db.session.query(QueueItem).filter_by(post_id=post.id).count() == 0


@pytest.mark.parametrize(
    "word,language,text,hit",
    [
        ("idiot", "da", "idioterne", True),
        ("idiot", "en", "idioterne", False),
        ("idiot", "en", "idiots", True),
        ("hate", "en", "hating", True),
        ("hate", "en", "hated", True),
        ("spam", "en", "spamming", True),
        ("kælling", "da", "Kællingen", True),
        ("bøsse", "da", "bøsserne", True),
        ("fuck*", "any", "fucking", True),
        ("fuck*", "any", "motherfucker", False),
        ("dumme svin", "da", "DUMME   SVINENE", True),
        ("dumme svin", "da", "dumme hund", False),
        ("løgn", "da", "løgnhals", False),
        ("løgn", "da", "løgne", True),
    ],
)
def test_word_patterns(word, language, text, hit):
    assert bool(word_pattern(word, language).search(text)) is hit


def test_modes_inherit_and_topic_overrides(
    make_topic, make_committee, make_area, make_post, make_user, admin, moderator
):
    committee, area = make_committee(), make_area()
    t = make_topic(author=admin, committee=committee, area=area)
    user = _trusted(make_user, t, admin)
    assert make_post(t, user).state == PostState.PUBLISHED
    services.set_mode(moderator, "area", area.id, "pre")
    db.session.commit()
    post = make_post(t, user)
    assert post.state == PostState.PENDING and post.held_reason == "pre_moderation"
    services.set_mode(moderator, "topic", t.id, "post")  # the topic's own mode wins
    db.session.commit()
    assert make_post(t, user).state == PostState.PUBLISHED
    services.set_mode(moderator, "topic", t.id, "inherit")
    services.set_mode(moderator, "area", area.id, None)
    services.set_mode(moderator, "committee", committee.id, "pre")
    db.session.commit()
    assert make_post(t, user).state == PostState.PENDING
    actions = [e.to_state for e in db.session.query(AuditEntry).filter_by(action="mode_set")]
    assert actions == ["pre", "post", "inherit", "inherit", "pre"]


def test_scoped_moderator_sets_modes_only_in_their_areas(make_user, make_area, make_committee):
    from forum.errors import PermissionDenied

    mine, other = make_area(), make_area()
    scoped = make_user("moderator", areas=[mine])
    services.set_mode(scoped, "area", mine.id, "pre")
    for kind, target in (("area", other.id), ("committee", make_committee().id)):
        with pytest.raises(PermissionDenied):
            services.set_mode(scoped, kind, target, "pre")
    with pytest.raises(PermissionDenied):
        services.set_mode(make_user(), "area", mine.id, "pre")


@pytest.mark.parametrize("moderation_config", [{"MODERATION_RATE_POSTS": 3}])
def test_posting_faster_than_the_limit_is_held(topic, make_post, make_user, admin):
    user = _trusted(make_user, topic, admin, n=5)
    for _i in range(3):
        assert make_post(topic, user).state == PostState.PUBLISHED
    post = make_post(topic, user)
    assert post.state == PostState.PENDING and post.held_reason == "rate"


def test_staff_posts_are_not_held(topic, make_post, admin, moderator):
    _word("idiot")
    assert make_post(topic, moderator, body="idiot").state == PostState.PUBLISHED


def test_edit_of_published_post_is_checked_again(topic, make_post, make_user, admin):
    user = _trusted(make_user, topic, admin)
    post = make_post(topic, user)
    _word("idiot", action="reject")
    forum_services.edit_post(user, post, "Nu skriver jeg idiot")
    db.session.commit()
    assert post.state == PostState.PENDING  # an edit is held for a moderator, not rejected
    item = db.session.query(QueueItem).filter_by(post_id=post.id, status="open").one()
    assert item.reason == "watched_word"
    entry = db.session.query(AuditEntry).filter_by(post_id=post.id, action="hold").one()
    assert entry.from_state == "published"


@pytest.mark.parametrize("moderation_config", [{"MODERATION_ENABLED": False}])
def test_disabled_publishes_everything(topic, make_post):
    assert make_post(topic).state == PostState.PUBLISHED
    assert db.session.query(AuditEntry).count() == 0


def test_double_submitted_form_finds_its_first_post(topic, make_user):
    user = make_user()
    a = forum_services.create_post(user, topic, "Hej", nonce="n1")
    db.session.commit()
    b = forum_services.create_post(user, topic, "Hej", nonce="n1")
    assert a.id == b.id
    assert db.session.query(QueueItem).filter_by(post_id=a.id).count() == 1
