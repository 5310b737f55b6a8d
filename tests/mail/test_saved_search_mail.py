"""A saved search that matches a newly opened topic is mailed, not only shown in the app."""

from __future__ import annotations

from forum.extensions import db
from mail import services as mail_services
from mail.models import Kind, Mode

from .conftest import BASE_URL, text_part


def test_a_new_matching_topic_is_mailed(app, make_user, make_topic, send):
    from search import services as search_services
    from search.indexer import Indexer

    politician = make_user("politician", name="Lone Bjerregaard")
    mail_services.set_preferences(politician, {Kind.SAVED_SEARCH: Mode.IMMEDIATE})
    search_services.save_search(politician, "Svømmehaller", {"q": "svømmehal"})
    db.session.commit()
    indexer = Indexer(app)
    indexer.run_once()
    admin = make_user("admin", name="Ada Admin")
    opened = make_topic(admin, title="Ny svømmehal i Jyderup", intro="Hvor skal den ligge?")
    make_topic(admin, title="Ny skolevej", intro="Og intet om haller.")
    indexer.run_once()
    indexer.close()
    mails = [m for m in send() if m["To"] == politician.email]
    assert len(mails) == 1, [m["Subject"] for m in mails]
    text = text_part(mails[0])
    assert "Ny svømmehal i Jyderup" in mails[0]["Subject"] + text
    assert f"{BASE_URL}/emner/{opened.id}" in text
    assert "Ny skolevej" not in text


def test_in_a_daily_digest_the_topic_is_listed_too(app, make_user, make_topic, send):
    from datetime import timedelta

    from forum.models import utcnow
    from mail.digests import build_digests
    from search import services as search_services
    from search.indexer import Indexer

    politician = make_user("politician", name="Lone Bjerregaard")
    mail_services.set_preferences(politician, {Kind.SAVED_SEARCH: Mode.DAILY})
    search_services.save_search(politician, "Svømmehaller", {"q": "svømmehal"})
    db.session.commit()
    indexer = Indexer(app)
    indexer.run_once()
    opened = make_topic(make_user("admin"), title="Ny svømmehal i Jyderup", intro="Hvor?")
    indexer.run_once()
    indexer.close()
    assert [m for m in send() if m["To"] == politician.email] == []  # not at once
    later = utcnow() + timedelta(days=1, hours=1)
    assert build_digests(later) >= 1
    [digest] = [m for m in send(now=later) if m["To"] == politician.email]
    assert f"{BASE_URL}/emner/{opened.id}" in text_part(digest)
    assert "Ny svømmehal i Jyderup" in text_part(digest)
