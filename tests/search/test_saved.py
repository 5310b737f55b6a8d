"""Saved searches, and the notifications they send as the indexer indexes new posts."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from forum.extensions import db
from forum.hooks import PostDecision, register_post_policy
from forum.models import Notification, PostState
from search import services
from search.models import SavedSearch

from .conftest import set_state


def notes(user) -> list[Notification]:
    db.session.expire_all()
    return list(
        db.session.scalars(
            select(Notification)
            .where(Notification.user_id == user.id, Notification.kind == "saved_search")
            .order_by(Notification.id)
        )
    )


@pytest.fixture
def politician(make_user):
    return make_user("politician", name="Palle Politiker", party="Venstre")


def test_save_list_and_delete_through_the_pages(corpus, reindex, client, login, politician):
    reindex()
    login(politician)
    r = client.post(
        "/soeg/gemte",
        data={
            "name": "Skoleveje",
            "q": "cykelsti",
            "udvalg": "boern-og-skole",
            "holdning": "bogus",
            "notify": "y",
        },
    )
    assert r.status_code == 302 and r.headers["Location"].endswith("/soeg/gemte")
    saved = db.session.scalar(select(SavedSearch))
    assert (saved.name, saved.query, saved.filters) == (
        "Skoleveje",
        "cykelsti",
        {"udvalg": "boern-og-skole"},
    )  # unknown values are not kept
    html = client.get("/soeg/gemte").get_data(as_text=True)
    assert "Skoleveje" in html and "udvalg=boern-og-skole" in html and "q=cykelsti" in html
    assert "Filters: Udvalget for Børn og Skole" in html  # the name, not the slug
    client.post(
        "/soeg/gemte",
        data={
            "name": "Politikere",
            "q": "havn",
            "rolle": "politician",
            "holdning": "against",
            "fra": "2026-01-01",
            "sort": "newest",
        },
    )
    html = client.get("/soeg/gemte").get_data(as_text=True)
    assert "Filters: Politicians only, Against, From date: 2026-01-01, Newest first" in html
    db.session.delete(
        db.session.scalar(select(SavedSearch).where(SavedSearch.name == "Politikere"))
    )
    db.session.commit()
    r = client.post(f"/soeg/gemte/{saved.id}/slet")
    assert r.status_code == 302
    assert db.session.scalar(select(SavedSearch)) is None


def test_saving_checks_names(corpus, client, login, politician, make_user, app):
    login(politician)
    client.post("/soeg/gemte", data={"name": "Havn", "q": "havn"})
    r = client.post("/soeg/gemte", data={"name": "Havn", "q": "havnebad"}, follow_redirects=True)
    assert "You already have a saved search with this name." in r.get_data(as_text=True)
    r = client.post("/soeg/gemte", data={"name": "", "q": "havn"}, follow_redirects=True)
    assert "This field is required." in r.get_data(as_text=True)
    r = client.post("/soeg/gemte", data={"name": "Stjerne", "q": "*"}, follow_redirects=True)
    assert "This search cannot be saved" in r.get_data(as_text=True)
    app.config["SEARCH_MAX_SAVED"] = 1
    r = client.post("/soeg/gemte", data={"name": "To", "q": "skole"}, follow_redirects=True)
    assert "at most 1 saved searches" in r.get_data(as_text=True)
    assert len(services.list_saved(politician)) == 1


def test_others_cannot_delete_my_saved_search(corpus, client, login, politician, make_user):
    saved = services.save_search(politician, "Mine", {"q": "havn"})
    db.session.commit()
    login(make_user())
    assert client.post(f"/soeg/gemte/{saved.id}/slet").status_code == 404
    assert client.get("/soeg/gemte").status_code == 200


def test_saved_search_pages_need_login(client):
    assert client.get("/soeg/gemte").status_code == 302
    assert client.post("/soeg/gemte", data={"name": "x"}).status_code == 302


def test_new_matching_posts_notify_the_owner(
    corpus, reindex, politician, make_post, make_user, client, login
):
    reindex()
    services.save_search(
        politician, "Cykler i skoleudvalget", {"q": "cykelsti*", "udvalg": "boern-og-skole"}
    )
    services.save_search(politician, "Cykler overalt", {"q": "cykelstier"})
    db.session.commit()
    road, harbour = corpus["topics"]["road"], corpus["topics"]["harbour"]
    match = make_post(road, body="Cykelstierne skal være bredere.")
    make_post(harbour, body="Cykelstien ved havnen er fin.")  # other committee: one search
    make_post(road, body="Parkering ved skolen.")  # no match
    make_post(road, politician, body="Mine egne cykelstier.")  # own post: no notification
    reindex()
    got = notes(politician)
    assert sorted(n.post.body_source for n in got) == [
        "Cykelstien ved havnen er fin.",
        "Cykelstierne skal være bredere.",
    ]
    assert next(n for n in got if n.post_id == match.id).actor_id == match.author_id
    assert reindex() == 0 and len(notes(politician)) == 2  # nothing twice
    login(politician)
    html = client.get("/notifikationer").get_data(as_text=True)
    assert "matches one of your saved searches" in html
    assert f"/indlaeg/{match.id}#p{match.id}" in html


def test_only_published_posts_notify(app, corpus, reindex, politician, make_post, make_user):
    reindex()
    services.save_search(politician, "Fortove", {"q": "fortov"})
    db.session.commit()
    register_post_policy(app, lambda post, action: PostDecision(PostState.PENDING, "test"))
    held = make_post(corpus["topics"]["road"], body="Fortovet er glat.")
    reindex()
    assert notes(politician) == []
    set_state(held, PostState.PUBLISHED)
    reindex()
    assert [n.post_id for n in notes(politician)] == [held.id]


def test_a_replayed_batch_notifies_once(corpus, indexer, politician, make_post, app):
    """The indexer dies after writing the index and before moving its cursor: the batch runs
    again, and the notification is not sent a second time."""
    indexer.run_once()
    services.save_search(politician, "Havnebad", {"q": "havnebad"})
    db.session.commit()
    from search.models import SearchCursor

    before = db.session.scalar(select(SearchCursor.last_event_id))
    make_post(corpus["topics"]["harbour"], body="Et havnebad til, tak.")

    class Crash(Exception):
        pass

    def crash(step, **info):
        if step == "db_committed":
            raise Crash

    indexer.on_step = crash
    with pytest.raises(Crash):
        indexer.run_once()
    assert len(notes(politician)) == 1
    cursor_before = db.session.scalar(select(SavedSearch.last_match_at))
    assert cursor_before is not None
    # Roll the cursor back, as if that commit had never happened.
    cur = db.session.scalar(select(SearchCursor))
    cur.last_event_id = cur.high_event_id = before
    cur.gaps = []
    db.session.commit()
    indexer.on_step = lambda step, **info: None
    assert indexer.run_once() > 0  # the same batch again
    assert len(notes(politician)) == 1


def test_notifications_follow_the_saved_filters(corpus, reindex, politician, make_post, make_user):
    reindex()
    services.save_search(politician, "Politikere om havnen", {"q": "havn*", "rolle": "politician"})
    db.session.commit()
    make_post(corpus["topics"]["harbour"], body="Havnen trænger.")  # a citizen
    pia = corpus["users"]["pia"]
    from forum import services as forum_services

    forum_services.create_post(pia, corpus["topics"]["harbour"], "Havnen får penge i 2027.")
    db.session.commit()
    reindex()
    assert [n.post.body_source for n in notes(politician)] == ["Havnen får penge i 2027."]


def test_new_topics_notify_too_once_public(
    corpus, reindex, politician, make_topic, make_user, make_area, client, login
):
    reindex()
    services.save_search(politician, "Svømmehaller", {"q": "svømmehal"})
    db.session.commit()
    admin = make_user("admin")
    opened = make_topic(admin, title="Ny svømmehal i Jyderup", intro="Hvor skal den ligge?")
    citizen = make_user(name="Sille Svømmer")
    proposal = make_topic(
        citizen,
        area=make_area(),
        title="Svømmehallen i Mørkøv",
        intro="Den trænger til renovering.",
    )
    make_topic(admin, title="Ny skolevej", intro="Og intet om haller.")
    reindex()
    got = notes(politician)
    assert [(n.topic_id, n.post_id, n.actor_id) for n in got] == [(opened.id, None, admin.id)]
    from forum import services as forum_services

    forum_services.decide_topic_proposal(make_user("moderator"), proposal, accept=True)
    db.session.commit()
    reindex()
    assert [n.topic_id for n in notes(politician)] == [opened.id, proposal.id]
    assert reindex() == 0 and len(notes(politician)) == 2  # nothing twice
    login(politician)
    html = client.get("/notifikationer").get_data(as_text=True)
    assert "opened the topic “Ny svømmehal i Jyderup”, which matches one of your saved" in html
    assert f'href="/emner/{opened.id}"' in html
