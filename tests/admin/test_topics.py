"""Topics in the browser: open on behalf of a committee/area, edit, move, close, archive,
feature on the home page, set the høringsfrist."""

from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import select

from forum.extensions import db
from forum.models import Event, Topic, TopicStatus
from tests.admin.conftest import audit_entries, text_of


def _topic(topic_id: int) -> Topic:
    db.session.expire_all()
    return db.session.get(Topic, topic_id)


def test_open_a_topic_on_behalf_of_a_committee(as_admin, make_committee, admin_user):
    c = make_committee("Børn og Skole")
    r = as_admin.post(
        "/admin/emner/nyt",
        data={
            "title": "Ny skolestruktur",
            "intro": "Hvad **mener** du?",
            "committee_id": str(c.id),
            "area_id": "",
            "deadline": "2099-03-01T12:00",
        },
    )
    assert r.status_code == 302
    topic = db.session.scalar(select(Topic).where(Topic.title == "Ny skolestruktur"))
    assert topic.status == TopicStatus.OPEN and topic.committee_id == c.id
    assert "<strong>mener</strong>" in topic.intro_html
    # 12:00 in Copenhagen (winter time) is 11:00 UTC.
    assert topic.deadline == datetime(2099, 3, 1, 11, 0)
    [entry] = audit_entries("topic_create")
    assert entry.actor_id == admin_user.id and entry.topic_id == topic.id
    assert entry.committee_id == c.id


def test_new_topic_errors_keep_the_text(as_admin, make_committee):
    c = make_committee()
    r = as_admin.post(
        "/admin/emner/nyt",
        data={"title": "Kort", "intro": "Min tekst", "committee_id": str(c.id)},
    )
    assert r.status_code == 400 and "Min tekst" in r.get_data(as_text=True)
    r = as_admin.post("/admin/emner/nyt", data={"title": "Et emne uden sted", "intro": "Tekst"})
    assert r.status_code == 400
    assert "Choose a committee, a local area or both." in text_of(r)
    assert db.session.scalar(select(Topic)) is None


def test_edit_title_intro_and_deadline(as_admin, make_topic):
    topic = make_topic(title="Gammel titel")
    r = as_admin.post(
        f"/admin/emner/{topic.id}",
        data={"title": "Ny og bedre titel", "intro": "Ny *tekst*.", "deadline": "2099-07-01T09:30"},
    )
    assert r.status_code == 302
    t = _topic(topic.id)
    assert t.title == "Ny og bedre titel" and "<em>tekst</em>" in t.intro_html
    assert t.deadline == datetime(2099, 7, 1, 7, 30)  # summer time: UTC+2
    [entry] = audit_entries("topic_edit")
    assert entry.data["before"]["title"] == "Gammel titel"
    assert entry.data["after"]["deadline"] == "2099-07-01T07:30"
    page = as_admin.get(f"/admin/emner/{topic.id}").get_data(as_text=True)
    assert 'value="2099-07-01T09:30"' in page  # shown in local time
    r = as_admin.post(
        f"/admin/emner/{topic.id}",
        data={"title": "Ny og bedre titel", "intro": "x", "deadline": "2001-01-01T10:00"},
    )
    assert r.status_code == 400 and "The deadline must be in the future." in text_of(r)
    assert _topic(topic.id).deadline == datetime(2099, 7, 1, 7, 30)


def test_move_between_committees_and_areas(as_admin, make_topic, make_committee, make_area):
    a, b = make_committee("A-udvalg"), make_committee("B-udvalg")
    area = make_area("Tølløse")
    topic = make_topic(committee=a)
    r = as_admin.post(
        f"/admin/emner/{topic.id}/flyt", data={"committee_id": str(b.id), "area_id": str(area.id)}
    )
    assert r.status_code == 302
    t = _topic(topic.id)
    assert (t.committee_id, t.area_id) == (b.id, area.id)
    [entry] = audit_entries("topic_move")
    assert (
        entry.data["before"]["committee_id"] == a.id and entry.data["after"]["area_id"] == area.id
    )
    assert db.session.scalar(
        select(Event).where(Event.kind == "topic_changed", Event.subject_id == topic.id)
    )
    r = as_admin.post(f"/admin/emner/{topic.id}/flyt", data={"committee_id": "", "area_id": ""})
    assert r.status_code == 400
    assert "Choose a committee, a local area or both." in text_of(r)
    # Into an archived committee: refused.
    a.archived_at = a.archived_at or datetime(2026, 1, 1)
    db.session.commit()
    r = as_admin.post(f"/admin/emner/{topic.id}/flyt", data={"committee_id": str(a.id)})
    assert r.status_code == 400 and "archived" in text_of(r)
    assert _topic(topic.id).committee_id == b.id


def test_close_and_archive(as_admin, make_topic):
    topic = make_topic()
    assert (
        as_admin.post(f"/admin/emner/{topic.id}/status", data={"status": "closed"}).status_code
        == 302
    )
    assert _topic(topic.id).status == TopicStatus.CLOSED
    assert (
        as_admin.post(f"/admin/emner/{topic.id}/status", data={"status": "archived"}).status_code
        == 302
    )
    assert _topic(topic.id).status == TopicStatus.ARCHIVED
    assert [(e.from_state, e.to_state) for e in audit_entries("topic_status")] == [
        ("open", "closed"),
        ("closed", "archived"),
    ]
    r = as_admin.post(f"/admin/emner/{topic.id}/status", data={"status": "proposed"})
    assert r.status_code == 400
    assert _topic(topic.id).status == TopicStatus.ARCHIVED


def test_feature_on_the_home_page(as_admin, make_topic, new_client):
    topic = make_topic(title="Det vigtige emne")
    home = new_client().get("/").get_data(as_text=True)
    assert "Featured topics" not in home
    assert (
        as_admin.post(f"/admin/emner/{topic.id}/fremhaev", data={"featured": "1"}).status_code
        == 302
    )
    home = new_client().get("/").get_data(as_text=True)
    assert "Featured topics" in home and "Det vigtige emne" in home
    as_admin.post(f"/admin/emner/{topic.id}/fremhaev", data={"featured": "0"})
    assert "Featured topics" not in new_client().get("/").get_data(as_text=True)
    assert len(audit_entries("topic_feature")) == 1 and len(audit_entries("topic_unfeature")) == 1


def test_topic_list_filters(as_admin, make_topic):
    make_topic(title="Cykelsti i Tølløse")
    closed = make_topic(title="Skolevej i Jyderup")
    as_admin.post(f"/admin/emner/{closed.id}/status", data={"status": "closed"})
    text = text_of(as_admin.get("/admin/emner?q=cykel"))
    assert "Cykelsti i Tølløse" in text and "Skolevej" not in text
    text = text_of(as_admin.get("/admin/emner?status=closed"))
    assert "Skolevej i Jyderup" in text and "Cykelsti" not in text
    assert as_admin.get("/admin/emner?status=nonsense").status_code == 400


@pytest.mark.parametrize("app_config", [{"MODERATION_ENABLED": True}])
def test_moving_a_topic_moves_its_open_queue_items(
    as_admin, make_topic, make_area, make_post, make_user
):
    from moderation.models import QueueItem

    old, new = make_area("Tølløse"), make_area("Jyderup")
    topic = make_topic(area=old)
    make_post(topic, author=make_user(), body="Et nyt indlæg fra en ny bruger.")  # held
    item = db.session.scalar(select(QueueItem).where(QueueItem.topic_id == topic.id))
    assert item is not None and item.status == "open" and item.area_id == old.id
    r = as_admin.post(f"/admin/emner/{topic.id}/flyt", data={"area_id": str(new.id)})
    assert r.status_code == 302
    db.session.expire_all()
    assert db.session.get(QueueItem, item.id).area_id == new.id
