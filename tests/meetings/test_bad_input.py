"""The issue's bad input through the pages, in the reader's language (English here; the
service tests read the Danish): each a clear answer that keeps what was typed, and nothing
changes."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from forum.extensions import db
from forum.models import Event, utcnow
from meetings import services
from meetings.models import Meeting, MeetingInvitation, MeetingRegistration

from .test_views import _form


@pytest.fixture(autouse=True)
def _english(client) -> None:
    client.set_cookie("lang", "en")


def _count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


@pytest.mark.parametrize(
    ("over", "message"),
    [
        ({"ends_at": "2099-01-01T17:00", "starts_at": "2099-01-01T18:00"}, "must end after"),
        ({"starts_at": "2020-01-01T18:00", "ends_at": "2020-01-01T20:00"}, "in the past"),
        ({"online_link": "ftp://example.dk/møde"}, "http://"),
        ({"capacity": "0"}, "1 to 100,000"),
        ({"registration_deadline": "2020-01-01T12:00"}, "deadline cannot be in the past"),
    ],
)
def test_new_meeting_bad_input(world, client, login, over, message):
    login(world.staff)
    events = _count(Event)
    resp = client.post("/moeder/ny", data=_form(title="Mit særlige møde", **over))
    page = resp.get_data(as_text=True)
    assert resp.status_code == 400 and message in page
    assert "Mit særlige møde" in page  # what was typed is kept
    assert _count(Meeting) == 0 and _count(Event) == events


def test_capacity_below_registered_through_the_edit_page(
    world, make_meeting, make_user, client, login
):
    m = make_meeting(capacity=3)
    for _ in range(3):
        services.register(make_user(), m.id)
    db.session.commit()
    login(world.staff)
    local = m.starts_at + timedelta(hours=1)
    data = _form(
        title=m.title,
        starts_at=local.strftime("%Y-%m-%dT%H:%M"),
        ends_at=(local + timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M"),
        capacity="2",
    )
    resp = client.post(f"/moeder/{m.id}/rediger", data=data)
    assert resp.status_code == 400
    assert "3 people have a seat already" in resp.get_data(as_text=True)
    db.session.refresh(m)
    assert m.capacity == 3 and m.sequence == 0


def test_registering_twice_late_or_someone_elses_through_the_pages(
    world, make_meeting, make_user, client, login
):
    m = make_meeting(registration_deadline=utcnow() + timedelta(minutes=1))
    other = services.register(make_user(), m.id)
    db.session.commit()
    login(world.citizen)
    client.post(f"/moeder/{m.id}/tilmeld", data={})
    twice = client.post(f"/moeder/{m.id}/tilmeld", data={}, follow_redirects=True)
    assert "You are registered for this meeting already." in twice.get_data(as_text=True)
    assert _count(MeetingRegistration) == 2
    m.registration_deadline = utcnow() - timedelta(minutes=1)
    db.session.commit()
    late_person = make_user()
    client.post("/logout")
    login(late_person)
    late = client.post(f"/moeder/{m.id}/tilmeld", data={}, follow_redirects=True)
    assert "The registration deadline has passed." in late.get_data(as_text=True)
    assert services.registration_of(late_person, m.id) is None
    theirs = client.post(f"/moeder/tilmeldinger/{other.id}/afmeld")
    assert theirs.status_code == 404
    db.session.refresh(other)
    assert other.status.value == "confirmed"


def test_inviting_someone_who_is_not_a_politician_through_the_form(world, client, login):
    login(world.contact)
    resp = client.post(
        "/moeder/invitationer/ny",
        data={
            "area_id": str(world.area.id),
            "subject": "Dialog om skolevejen",
            "committee_id": "",
            "politician_ids": [str(world.citizen.id)],
        },
    )
    page = resp.get_data(as_text=True)
    assert resp.status_code == 400 and "Dialog om skolevejen" in page
    assert "Only politicians can be invited." in page
    assert _count(MeetingInvitation) == 0
    client.set_cookie("lang", "da")
    resp = client.post(
        "/moeder/invitationer/ny",
        data={
            "area_id": str(world.area.id),
            "subject": "Dialog om skolevejen",
            "politician_ids": [str(world.citizen.id)],
        },
    )
    assert "valid choice" not in resp.get_data(as_text=True)
    assert _count(MeetingInvitation) == 0


def test_calendar_token_guessing_is_a_404(world, client):
    for token in ("a" * 43, "x", "-" * 43, "A" * 64, "a" * 200):
        assert client.get(f"/moeder/kalender/mig/{token}.ics").status_code == 404
