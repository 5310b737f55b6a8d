"""Outcomes in search: indexed from the event log, found with their topic's visibility."""

from __future__ import annotations

from datetime import date

import pytest

from forum import eventlog
from forum.extensions import db
from forum.models import TopicStatus
from outcomes import services as outcome_services


@pytest.fixture
def decided(make_user, make_committee, make_area, make_topic, make_post):
    committee = make_committee()
    topic = make_topic(
        committee=committee,
        area=make_area(),
        title="Trafik ved Tølløse Skole",
        intro="Hvad gør vi?",
    )
    make_post(topic, make_user(), "Vi ønsker en sikker skolevej.")
    staff = make_user("moderator", name="Sara Sagsbehandler")
    update = outcome_services.add_update(
        staff,
        topic,
        status="decided",
        body="committee",
        text="Udvalget besluttede en fodgængerovergang med helleanlæg ved skolen.",
        decided_on=date(2026, 11, 30),
        notify=False,
    )
    db.session.commit()
    return {"topic": topic, "staff": staff, "outcome_id": update.outcome_id}


def _outcome_hits(page):
    return [h for h in page.hits if h.kind == "outcome"]


def test_an_outcome_is_found_by_its_words_and_links_to_its_page(decided, reindex, find, client):
    reindex()
    hits = _outcome_hits(find("helleanlæg"))
    assert [h.pk for h in hits] == [decided["outcome_id"]]
    assert hits[0].url == f"/emner/{decided['topic'].id}/resultat"
    assert hits[0].author.id == decided["staff"].id
    html = client.get("/soeg?q=helleanlæg").get_data(as_text=True)
    assert "Outcome of “Trafik ved Tølløse Skole”" in html
    assert f"/emner/{decided['topic'].id}/resultat" in html


def test_the_kind_filter_keeps_only_outcomes(decided, reindex, find):
    reindex()
    everything = find("skole")
    assert {h.kind for h in everything.hits} >= {"outcome", "topic", "post"}
    only = find("skole", slags="outcome")
    assert {h.kind for h in only.hits} == {"outcome"}
    assert only.total == 1
    posts = find("skole", slags="post")
    assert {h.kind for h in posts.hits} == {"post"}
    # An unknown kind is left out with a notice, never an error.
    odd = find("skole", slags="idea")
    assert "unknown_slags" in {n.code for n in odd.notices}


def test_a_new_update_reindexes_the_outcome(decided, reindex, find):
    reindex()
    assert _outcome_hits(find("cykelparkering")) == []
    outcome_services.add_update(
        decided["staff"],
        decided["topic"],
        status="in_progress",
        body="administration",
        text="Forvaltningen undersøger også cykelparkering ved hallen.",
        decided_on=date(2026, 12, 2),
        notify=False,
    )
    db.session.commit()
    reindex()
    assert [h.pk for h in _outcome_hits(find("cykelparkering"))] == [decided["outcome_id"]]


def _make_not_public(topic):
    topic.status = TopicStatus.DECLINED
    eventlog.record("topic_changed", "topic", topic.id, f"topic:{topic.id}", {}, None)
    db.session.commit()


def test_an_outcome_of_a_topic_nobody_may_see_is_not_found(decided, reindex, find, make_user):
    reindex()
    # The index has not heard yet: the database check drops it all the same.
    decided["topic"].status = TopicStatus.DECLINED
    db.session.commit()
    assert _outcome_hits(find("helleanlæg")) == []
    assert _outcome_hits(find("helleanlæg", viewer=make_user())) == []
    # After the event the index holds it as restricted: not counted for anyone either.
    _make_not_public(decided["topic"])
    reindex()
    page = find("helleanlæg", viewer=make_user())
    assert page.total == 0 and page.hits == []
    # A moderator who asks for restricted content finds it (as with held posts).
    admin = make_user("admin")
    assert [h.pk for h in _outcome_hits(find("helleanlæg", viewer=admin, skjulte=1))] == [
        decided["outcome_id"]
    ]
    assert _outcome_hits(find("helleanlæg", viewer=admin)) == []


def test_a_rebuild_indexes_outcomes(decided, indexer, find):
    indexer.rebuild(notify=False)
    assert [h.pk for h in _outcome_hits(find("helleanlæg"))] == [decided["outcome_id"]]


def test_a_deleted_topic_takes_its_outcome_out_of_the_index(decided, reindex, find):
    reindex()
    topic_id = decided["topic"].id
    db.session.delete(decided["topic"])
    eventlog.record("topic_deleted", "topic", topic_id, f"topic:{topic_id}", {}, None)
    db.session.commit()
    reindex()
    page = find("helleanlæg")
    assert page.hits == [] and page.total == 0


def test_the_csv_export_and_api_name_outcomes(decided, reindex, client, make_user):
    reindex()
    from tests.conftest import PASSWORD

    user = make_user()
    client.post("/login", data={"email": user.email, "password": PASSWORD})
    csv = client.get("/soeg/eksport.csv?q=helleanlæg&slags=outcome").get_data(as_text=True)
    assert f"o{decided['outcome_id']}" in csv
    assert "helleanlæg" in csv
    api = client.get("/api/v1/search?q=helleanlæg&slags=outcome")
    assert api.status_code == 200
    items = api.get_json()["items"]
    assert [(i["kind"], i["id"]) for i in items] == [("outcome", decided["outcome_id"])]


def test_a_renamed_topic_reindexes_its_outcome_and_the_hit_names_its_committee(
    decided, reindex, find, client
):
    reindex()
    topic = decided["topic"]
    assert _outcome_hits(find("rundkørsel")) == []
    topic.title = "Rundkørsel ved Tølløse Skole"
    eventlog.record("topic_changed", "topic", topic.id, f"topic:{topic.id}", {}, None)
    db.session.commit()
    reindex()
    # the outcome's document holds its topic's title: found by the new one, no event of its own
    hits = _outcome_hits(find("rundkørsel", slags="outcome"))
    assert [h.pk for h in hits] == [decided["outcome_id"]]
    assert hits[0].topic_id == topic.id and hits[0].committee.id == topic.committee_id
    html = client.get("/soeg?q=rundkørsel&slags=outcome").get_data(as_text=True)
    assert topic.committee.name in html and f"/emner/{topic.id}/resultat" in html
