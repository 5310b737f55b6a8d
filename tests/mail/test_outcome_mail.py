"""Mails of the ``outcome`` kind (»Resultat af en debat du deltog i«): exactly once per person
and update, the person's immediate/digest/off choice, unsubscribing, visibility at send time."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from forum import services as forum_services
from forum.extensions import db
from forum.models import TopicStatus, utcnow
from mail import services
from mail.digests import build_digests
from mail.models import Kind, MailItem, Mode
from outcomes import services as outcome_services

from .conftest import text_part

TOMORROW = timedelta(days=1, hours=1)


def to(mails, user):
    return [m for m in mails if m["To"] == user.email]


@pytest.fixture
def debate(make_user, make_topic, make_post):
    admin = make_user("admin")
    topic = make_topic(author=admin, title="Cykelsti langs Skolevej")
    author = make_user(name="Anna Forfatter", locale="da")  # writes, and so follows too
    make_post(topic, author=author, body="Jeg vil have en cykelsti.")
    supporter = make_user(name="Bo Enig")
    post = make_post(topic, author=make_user(), body="En sti er en god idé.")
    forum_services.toggle_support(supporter, post)
    db.session.commit()
    return {"admin": admin, "topic": topic, "author": author, "supporter": supporter}


def update(debate, n: int = 1):
    outcome_services.add_update(
        debate["admin"],
        debate["topic"],
        status="decided" if n == 1 else "referred",
        body="committee",
        text=f"Opdatering nummer {n} om cykelstien.",
        decided_on=date(2026, 11, n),
    )
    db.session.commit()


def test_one_mail_per_person_and_update(debate, send):
    author, supporter = debate["author"], debate["supporter"]
    update(debate, 1)
    update(debate, 2)
    mails = send()
    # The author wrote a post and follows the topic: still one mail per update.
    got = to(mails, author)
    assert len(got) == 2
    assert [m["Subject"] for m in got] == [
        "Nyt resultat af »Cykelsti langs Skolevej«, en debat du deltog i"
    ] * 2
    assert f"/emner/{debate['topic'].id}/resultat#u" in text_part(got[0])
    assert len(to(mails, supporter)) == 2
    assert to(mails, debate["admin"]) == []  # the writer is not told
    assert "a debate you took part in" in to(mails, supporter)[0]["Subject"]


def test_the_digest_choice_and_off_are_kept(debate, send):
    author, supporter = debate["author"], debate["supporter"]
    services.set_preferences(author, {Kind.OUTCOME: Mode.DAILY})
    services.set_preferences(supporter, {Kind.OUTCOME: Mode.OFF})
    db.session.commit()
    update(debate, 1)
    assert to(send(), author) == [] and to(send(), supporter) == []
    assert db.session.scalar(select(MailItem.id).where(MailItem.user_id == supporter.id)) is None
    build_digests(utcnow() + TOMORROW)
    [digest] = to(send(now=utcnow() + TOMORROW), author)
    assert "»Cykelsti langs Skolevej«, en debat du deltog i" in text_part(digest)


def test_a_topic_no_longer_visible_is_not_mailed(debate, send):
    update(debate, 1)
    debate["topic"].status = TopicStatus.PROPOSED
    db.session.commit()
    assert to(send(), debate["supporter"]) == []


def test_the_unsubscribe_link_turns_the_kind_off(client, debate, send):
    update(debate, 1)
    [mail] = to(send(), debate["supporter"])
    url = mail["List-Unsubscribe"].strip("<>")
    r = client.post("/" + url.split("://", 1)[1].split("/", 1)[1])
    assert r.status_code in (200, 302)
    assert services.mode_for(debate["supporter"].id, Kind.OUTCOME) == Mode.OFF
