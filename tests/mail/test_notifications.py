"""Notification mails: every kind in every mode, digests, visibility at send time, language,
headers, one-click unsubscribe and the preferences page."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from forum import eventlog
from forum import services as forum_services
from forum.extensions import db
from forum.models import Notification, Post, PostState, utcnow
from forum.states import transition
from mail import services
from mail.digests import build_digests
from mail.models import ItemStatus, Kind, MailItem, MailMessage, MailPreference, MessageKind, Mode

from .conftest import BASE_URL, html_part, link, text_part

TOMORROW = timedelta(days=1, hours=1)
NEXT_WEEK = timedelta(days=8)


def to(mails, user):
    return [m for m in mails if m["To"] == user.email]


def record_notification(user, kind, post=None, topic=None, **extra):
    """What moderation and search do: an in-app notification and its event."""
    topic = topic or (post.topic if post is not None else None)
    db.session.add(
        Notification(
            user_id=user.id,
            kind=kind,
            topic_id=topic.id if topic else None,
            post_id=post.id if post else None,
        )
    )
    eventlog.record(
        "notification",
        "user",
        user.id,
        f"user:{user.id}",
        {
            "kind": kind,
            "post_id": post.id if post else None,
            "topic_id": topic.id if topic else None,
            **extra,
        },
    )
    db.session.commit()


@pytest.fixture
def scene(make_user, make_topic, make_post):
    """A topic, the person the mails are for, and someone who writes."""
    target = make_user(name="Mette Modtager")
    writer = make_user(name="Søren Skribent")
    topic = make_topic(title="Cykelsti langs Skolevej")
    return {"target": target, "writer": writer, "topic": topic}


def trigger(kind: Kind, scene, make_post):
    """Cause one notification of ``kind`` for the target; returns the words to look for."""
    target, writer, topic = scene["target"], scene["writer"], scene["topic"]
    if kind == Kind.REPLY:
        own = make_post(topic, author=target, body="Jeg vil have en sti.")
        make_post(topic, author=writer, body="Helt enig, **sikker** skolevej!", parent=own)
        return "Helt enig, sikker skolevej!"
    if kind == Kind.FOLLOWED_TOPIC:
        forum_services.set_follow(target, topic, True)
        db.session.commit()
        make_post(topic, author=writer, body="Nyt indlæg om stien.")
        return "Nyt indlæg om stien."
    if kind == Kind.SAVED_SEARCH:
        post = make_post(topic, author=writer, body="Cykelstier virker i Tølløse.")
        record_notification(target, "saved_search", post, saved_search_id=1)
        return "Cykelstier virker i Tølløse."
    if kind == Kind.MODERATION:
        own = make_post(topic, author=target, body="Mit indlæg.")
        record_notification(target, "moderation_decision", own)
        return "decision about your post"
    if kind == Kind.OUTCOME:
        from outcomes import services as outcome_services

        forum_services.set_follow(target, topic, True)
        outcome_services.add_update(
            topic.author,  # an admin (make_topic's default)
            topic,
            status="decided",
            body="committee",
            text="Udvalget har besluttet cykelstien.",
            decided_on=utcnow().date(),
        )
        db.session.commit()
        return "a debate you took part in"
    if kind == Kind.MEETING:
        from meetings import services as meeting_services

        forum_services.set_follow(target, topic, True)
        starts = utcnow() + timedelta(days=3)
        meeting_services.create_meeting(
            topic.author,  # an admin: staff organise meetings
            {
                "kind": "citizens",
                "title": "Borgermøde om cykelstien",
                "starts_at": starts,
                "ends_at": starts + timedelta(hours=2),
                "topic_id": topic.id,
            },
        )
        db.session.commit()
        return "Borgermøde om cykelstien"
    starts = (utcnow() + timedelta(days=10)).replace(microsecond=0)
    eventlog.record(
        "qa_signup",
        "qa",
        7,
        f"user:{target.id}",
        {"starts_at": starts.isoformat() + "Z", "title": "Spørg borgmesteren", "path": "/qa/7"},
        target.id,
    )
    db.session.commit()
    return "Spørg borgmesteren"


def digests_until(end, send, user, step=timedelta(hours=2)):
    """Build and send digests every ``step`` from now until ``end``, as cron would;
    the (time, mail) of each digest ``user`` got."""
    got, now = [], utcnow()
    while now < end:
        build_digests(now)
        got.extend((now, m) for m in to(send(now=now), user))
        now += step
    return got


@pytest.mark.parametrize("mode", list(Mode))
@pytest.mark.parametrize("kind", list(Kind))
def test_each_kind_in_each_mode(kind, mode, scene, make_post, send):
    target = scene["target"]
    services.set_preferences(target, {kind: mode})
    db.session.commit()
    words = trigger(kind, scene, make_post)
    later = utcnow() + timedelta(days=10) - timedelta(minutes=30)  # the Q&A reminder is due
    now_mails = to(send(), target)
    if mode == Mode.IMMEDIATE:
        if kind == Kind.QA_REMINDER:
            assert now_mails == []  # not yet: an hour before the start
            now_mails = to(send(now=later), target)
        [mail] = now_mails
        assert words in text_part(mail)
        assert mail["List-Unsubscribe"] and mail["List-Unsubscribe-Post"]
        build_digests(utcnow() + NEXT_WEEK)
        assert to(send(now=utcnow() + NEXT_WEEK), target) == []
        return
    assert now_mails == []
    if kind == Kind.QA_REMINDER and mode != Mode.OFF:
        # In the last digest of the chosen kind before the start, not in the first one.
        starts = db.session.scalar(select(MailItem.expires_at).where(MailItem.user_id == target.id))
        got = digests_until(starts + timedelta(hours=6), send, target)
        [(when, digest)] = got
        assert words in text_part(digest)
        span = timedelta(days=1) if mode == Mode.DAILY else timedelta(days=7)
        assert starts - span < when < starts
        assert ("week" if mode == Mode.WEEKLY else "today") in digest["Subject"]
        return
    build_digests(utcnow() + TOMORROW)
    daily = to(send(now=utcnow() + TOMORROW), target)
    build_digests(utcnow() + NEXT_WEEK)
    weekly = to(send(now=utcnow() + NEXT_WEEK), target)
    if mode == Mode.OFF:
        assert daily == weekly == []
        assert (
            db.session.scalar(select(func.count(MailItem.id)).where(MailItem.user_id == target.id))
            == 0
        )
        return
    [digest] = daily if mode == Mode.DAILY else weekly
    assert (daily if mode == Mode.WEEKLY else weekly) == []
    assert words in text_part(digest)
    assert ("week" if mode == Mode.WEEKLY else "today") in digest["Subject"]
    # Built again in the same period: no second digest.
    assert build_digests(utcnow() + (TOMORROW if mode == Mode.DAILY else NEXT_WEEK)) == 0


def test_defaults_reply_at_once_followed_topic_in_a_daily_digest(scene, make_post, send):
    target, writer, topic = scene["target"], scene["writer"], scene["topic"]
    own = make_post(topic, author=target, body="Mit forslag.")
    make_post(topic, author=writer, body="Et svar.", parent=own)
    make_post(topic, author=writer, body="Et andet indlæg.")  # target follows (wrote there)
    [reply] = to(send(), target)
    assert "replied to you" in reply["Subject"]
    assert "Et andet indlæg." not in text_part(reply)
    assert build_digests(utcnow() + TOMORROW) >= 1
    [digest] = to(send(now=utcnow() + TOMORROW), target)
    assert "Et andet indlæg." in text_part(digest) and "Et svar." not in text_part(digest)


def test_the_mail_is_html_and_text_readable_on_a_phone_without_third_parties(
    scene, make_post, send
):
    trigger(Kind.REPLY, scene, make_post)
    [mail] = to(send(), scene["target"])
    assert mail.get_content_type() == "multipart/alternative"
    html = html_part(mail)
    assert 'name="viewport"' in html and "max-width:600px" in html
    assert "<img" not in html and "<script" not in html and "@import" not in html
    urls = re.findall(r"""(?:href|src)=["']([^"']+)""", html)
    assert urls and all(u.startswith(BASE_URL) for u in urls), urls
    assert all(u.startswith(BASE_URL) for u in re.findall(r"https?://\S+", text_part(mail)))
    assert mail["Message-ID"].endswith("@borgerdialog.test>")
    assert mail["Auto-Submitted"] == "auto-generated"
    assert re.fullmatch(rf"<{re.escape(BASE_URL)}/mail/afmeld/\S+>", mail["List-Unsubscribe"])
    assert mail["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert "/mail/indstillinger/" in text_part(mail)  # the preferences page, no login needed


def test_mails_are_in_the_recipients_language(scene, make_post, send):
    target = scene["target"]
    target.locale = "da"
    db.session.commit()
    trigger(Kind.REPLY, scene, make_post)
    [mail] = to(send(), target)
    assert mail["Subject"] == "Søren Skribent har svaret dig i »Cykelsti langs Skolevej«"
    assert mail["Content-Language"] == "da"
    assert '<html lang="da">' in html_part(mail)


def test_a_post_hidden_before_the_mail_goes_out_is_not_mailed(scene, make_post, send):
    trigger(Kind.REPLY, scene, make_post)
    reply = db.session.scalar(select(MailItem).where(MailItem.user_id == scene["target"].id))
    post = db.session.get(Post, reply.post_id)
    transition(post, PostState.HIDDEN)
    db.session.commit()
    assert to(send(), scene["target"]) == []
    msg = db.session.get(MailMessage, reply.message_id)
    assert msg.status.value == "skipped" and "visible" in msg.last_error


def test_unverified_accounts_get_no_notification_mails(scene, make_user, make_post, send):
    scene["target"] = make_user(verified=False)  # may follow, may not write
    trigger(Kind.FOLLOWED_TOPIC, scene, make_post)
    assert (
        db.session.scalar(
            select(func.count(Notification.id)).where(Notification.user_id == scene["target"].id)
        )
        == 1
    )
    assert (
        db.session.scalar(
            select(func.count(MailItem.id)).where(MailItem.user_id == scene["target"].id)
        )
        == 0
    )


def test_digest_groups_by_topic_newest_first_and_counts_the_rest(
    app, make_user, make_topic, make_post, send
):
    target, writer = make_user(), make_user(name="Ole Skriver")
    topics = [make_topic(title=f"Emne nummer {i}") for i in range(3)]
    for t in topics:
        forum_services.set_follow(target, t, True)
    db.session.commit()
    make_post(topics[2], author=writer, body="Tredje emne, ældst")
    for i in range(5):
        make_post(topics[0], author=writer, body=f"Første emne, indlæg {i}")
    make_post(topics[1], author=writer, body="Andet emne, nyest")
    app.config["MAIL_DIGEST_MAX_TOPICS"] = 2
    build_digests(utcnow() + TOMORROW)
    [digest] = to(send(now=utcnow() + TOMORROW), target)
    text = text_part(digest)
    assert text.index("Emne nummer 1") < text.index("Emne nummer 0")  # newest topic first
    assert "Emne nummer 2" not in text
    shown = sorted((f"indlæg {i}" for i in range(5) if f"indlæg {i}" in text), key=text.index)
    assert shown == ["indlæg 4", "indlæg 3", "indlæg 2"]  # newest first, three per topic
    assert "and 2 more posts in this topic" in text
    assert "and 1 more post in 1 more topic" in text
    assert "5 new" not in digest["Subject"] and "7 new" in digest["Subject"]


def test_digest_leaves_out_what_was_hidden_and_is_skipped_when_nothing_is_left(
    scene, make_post, send
):
    target, writer, topic = scene["target"], scene["writer"], scene["topic"]
    forum_services.set_follow(target, topic, True)
    db.session.commit()
    post = make_post(topic, author=writer, body="Snart skjult.")
    transition(post, PostState.HIDDEN)
    db.session.commit()
    build_digests(utcnow() + TOMORROW)
    assert to(send(now=utcnow() + TOMORROW), target) == []
    digest = db.session.scalar(
        select(MailMessage).where(
            MailMessage.kind == MessageKind.DIGEST, MailMessage.user_id == target.id
        )
    )
    assert digest.status.value == "skipped"


def test_turning_a_kind_off_drops_what_waits_for_a_digest(scene, make_post, send):
    target = scene["target"]
    trigger(Kind.FOLLOWED_TOPIC, scene, make_post)
    services.set_preferences(target, {Kind.FOLLOWED_TOPIC: Mode.OFF})
    db.session.commit()
    build_digests(utcnow() + TOMORROW)
    assert to(send(now=utcnow() + TOMORROW), target) == []
    assert (
        db.session.scalar(select(MailItem.status).where(MailItem.user_id == target.id))
        == ItemStatus.DROPPED
    )


def test_qa_reminders_follow_the_session(scene, make_post, send):
    target = scene["target"]
    trigger(Kind.QA_REMINDER, scene, make_post)
    starts = utcnow() + timedelta(days=12)
    eventlog.record("qa_changed", "qa", 7, "qa:7", {"starts_at": starts.isoformat()})
    db.session.commit()
    assert to(send(now=utcnow() + timedelta(days=10) - timedelta(minutes=30)), target) == []
    [mail] = to(send(now=starts - timedelta(minutes=30)), target)
    assert "Spørg borgmesteren" in mail["Subject"] and "/qa/7" in text_part(mail)
    trigger(Kind.QA_REMINDER, scene, make_post)  # signs up again, then withdraws
    eventlog.record("qa_signoff", "qa", 7, f"user:{target.id}", {}, target.id)
    db.session.commit()
    assert to(send(now=starts - timedelta(minutes=30)), target) == []


# --- unsubscribe and preferences -------------------------------------------------------------


def test_one_click_unsubscribe_and_twice(client, scene, make_post, send):
    trigger(Kind.REPLY, scene, make_post)
    [mail] = to(send(), scene["target"])
    path = mail["List-Unsubscribe"].strip("<>").removeprefix(BASE_URL)
    page = client.get(path)
    assert page.status_code == 200 and "Replies to your posts" in page.get_data(as_text=True)
    assert services.mode_for(scene["target"].id, Kind.REPLY) == Mode.IMMEDIATE  # GET: no change
    r = client.post(path, data={"List-Unsubscribe": "One-Click"})  # RFC 8058, no CSRF token
    assert r.status_code == 200 and "You are unsubscribed" in r.get_data(as_text=True)
    assert services.mode_for(scene["target"].id, Kind.REPLY) == Mode.OFF
    twice = client.post(path, data={"List-Unsubscribe": "One-Click"})
    assert twice.status_code == 200 and "already unsubscribed" in twice.get_data(as_text=True)
    assert "already unsubscribed" in client.get(path).get_data(as_text=True)
    assert services.mode_for(scene["target"].id, Kind.FOLLOWED_TOPIC) == Mode.DAILY  # untouched
    own = make_post(scene["topic"], author=scene["target"], body="Igen.")
    make_post(scene["topic"], author=scene["writer"], body="Svar igen.", parent=own)
    assert to(send(), scene["target"]) == []


@pytest.mark.parametrize("token", ["tampered", "garbage", "other-purpose"])
def test_bad_unsubscribe_links(client, scene, token):
    from mail import tokens

    good = tokens.unsubscribe_token(scene["target"].id, [Kind.REPLY])
    token = {
        "tampered": good[:-2] + "xx",
        "garbage": "nope",
        "other-purpose": tokens.preferences_token(scene["target"].id),
    }[token]
    for method in (client.get, client.post):
        r = method(f"/mail/afmeld/{token}")
        assert r.status_code == 400 and "not valid" in r.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(MailPreference)) == 0


def test_digest_unsubscribe_covers_its_kinds(client, scene, make_post, send):
    target = scene["target"]
    trigger(Kind.FOLLOWED_TOPIC, scene, make_post)
    trigger(Kind.SAVED_SEARCH, scene, make_post)
    build_digests(utcnow() + TOMORROW)
    [digest] = to(send(now=utcnow() + TOMORROW), target)
    client.post(digest["List-Unsubscribe"].strip("<>").removeprefix(BASE_URL))
    modes = services.modes(target.id)
    assert modes[Kind.FOLLOWED_TOPIC] == modes[Kind.SAVED_SEARCH] == Mode.OFF
    assert modes[Kind.REPLY] == Mode.IMMEDIATE
    assert text_part(digest).count("/mail/afmeld/") == 3  # one per kind, and one for all


def test_preferences_page(client, scene, login):
    target = scene["target"]
    login(target)
    page = client.get("/mail/indstillinger").get_data(as_text=True)
    assert page.count('type="radio"') == len(Kind) * len(Mode)
    r = client.post("/mail/indstillinger", data={"mode-reply": "weekly", "mode-moderation": "off"})
    assert r.status_code == 302
    modes = services.modes(target.id)
    assert modes[Kind.REPLY] == Mode.WEEKLY and modes[Kind.MODERATION] == Mode.OFF


@pytest.mark.parametrize(
    "data",
    [
        {"mode-reply": "off", "mode-gossip": "daily"},
        {"mode-reply": "off", "mode-moderation": "hourly"},
        {"mode-reply": ""},
        {},
    ],
)
def test_preferences_refuse_unknown_kinds_and_modes_and_change_nothing(client, scene, login, data):
    login(scene["target"])
    r = client.post("/mail/indstillinger", data=data)
    assert r.status_code == 400 and "Nothing was saved" in r.get_data(as_text=True)
    assert services.modes(scene["target"].id)[Kind.REPLY] == Mode.IMMEDIATE


def test_preferences_link_in_mails_works_without_logging_in(client, scene, make_post, send):
    trigger(Kind.REPLY, scene, make_post)
    [mail] = to(send(), scene["target"])
    path = link(mail, "/mail/indstillinger/")
    assert client.get(path).status_code == 200
    assert client.post(path, data={"mode-reply": "daily"}).status_code == 302
    assert services.mode_for(scene["target"].id, Kind.REPLY) == Mode.DAILY
    assert client.get("/mail/indstillinger/forged").status_code == 400


def test_hostile_names_and_titles_are_text_in_the_mail(make_user, make_topic, make_post, send):
    """A display name, a topic title and a post with markup reach the HTML part escaped and
    the subject as one line of text."""
    payload = "\"'><img src=x onerror=alert(1)>"
    target = make_user(name="Mette Modtager")
    writer = make_user(name=f"Søren {payload}")
    topic = make_topic(title=f"Cykelsti {payload}")
    own = make_post(topic, author=target, body="Mit forslag.")
    make_post(topic, author=writer, body=f"Svar {payload}", parent=own)
    [mail] = to(send(), target)
    html = html_part(mail)
    assert "<img" not in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html
    assert "\n" not in mail["Subject"] and "\r" not in mail["Subject"]


def test_control_characters_stored_in_a_title_do_not_reach_the_mail_headers(
    make_user, make_topic, make_post, send
):
    """A title stored before typed input was cleaned (forum/text.py) still gives a subject
    of plain text (no escape sequence, bell, backspace or line break) and a clean body."""
    target = make_user(name="Mette Modtager")
    writer = make_user(name="Søren Skribent")
    topic = make_topic(title="Cykelsti\x1b[31m langs\x07\x08 Skolevej")
    own = make_post(topic, author=target, body="Mit forslag.")
    make_post(topic, author=writer, body="Et svar.", parent=own)
    [mail] = to(send(), target)
    subject = str(mail["Subject"])
    assert "Cykelsti langs Skolevej" in subject
    assert not re.search(r"[\x00-\x1f\x7f]", subject), repr(subject)
    raw = mail.as_bytes().decode("utf-8", "replace")  # headers and both parts
    assert not re.search(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]", raw), repr(raw)
