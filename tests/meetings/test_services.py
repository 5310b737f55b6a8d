"""Meetings' rules: who organises, bad input changes nothing, seats and the waiting list."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from forum.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from forum.extensions import db
from forum.models import Event, Notification, utcnow
from meetings import services
from meetings.models import Meeting, MeetingRegistration, RegistrationStatus

from .conftest import meeting_data


def _count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def test_staff_politicians_and_contacts_in_their_area_organise(world):
    m = services.create_meeting(world.staff, meeting_data())
    assert m.description_html.count("<strong>") == 1
    services.create_meeting(world.politician, meeting_data(committee_id=world.committee.id))
    services.create_meeting(world.contact, meeting_data(area_id=world.area.id))
    db.session.commit()
    assert _count(Meeting) == 3
    with pytest.raises(InvalidInput) as exc:
        services.create_meeting(world.contact, meeting_data(area_id=world.other_area.id))
    assert "area_id" in exc.value.fields
    for user in (world.citizen, world.moderator):
        with pytest.raises(PermissionDenied):
            services.create_meeting(user, meeting_data())


@pytest.mark.parametrize(
    ("over", "field"),
    [
        ({"ends_at_offset": timedelta(hours=-1)}, "ends_at"),
        ({"starts_at": utcnow() - timedelta(days=1)}, "starts_at"),
        ({"online_link": "javascript:alert(1)"}, "online_link"),
        ({"online_link": "ftp://example.dk/x"}, "online_link"),
        ({"capacity": 0}, "capacity"),
        ({"title": "x"}, "title"),
        ({"kind": "party"}, "kind"),
        ({"politician_ids": "citizen"}, "politician_ids"),
        ({"topic_id": 999_999}, "topic_id"),
    ],
)
def test_bad_meeting_input_is_refused_and_changes_nothing(world, over, field):
    over = dict(over)
    data = meeting_data()
    if "ends_at_offset" in over:
        data["ends_at"] = data["starts_at"] + over.pop("ends_at_offset")
    if over.get("politician_ids") == "citizen":
        over["politician_ids"] = [world.citizen.id]
    if "starts_at" in over:
        over["ends_at"] = over["starts_at"] + timedelta(hours=1)
    data.update(over)
    events = _count(Event)
    with pytest.raises(InvalidInput) as exc:
        services.create_meeting(world.staff, data)
    db.session.rollback()
    assert field in exc.value.fields
    assert _count(Meeting) == 0 and _count(Event) == events


def test_seats_then_waiting_list_then_moving_up_with_a_mail(world, make_meeting, make_user):
    m = make_meeting(capacity=2)
    a, b, c, d = (make_user() for _ in range(4))
    rows = []
    for person in (a, b, c, d):
        rows.append(services.register(person, m.id, "Vegetar"))
        db.session.commit()
    assert [r.status for r in rows] == [
        RegistrationStatus.CONFIRMED,
        RegistrationStatus.CONFIRMED,
        RegistrationStatus.WAITING,
        RegistrationStatus.WAITING,
    ]
    assert [rows[2].position, rows[3].position] == [1, 2]
    services.cancel_registration(a, rows[0].id)
    db.session.commit()
    db.session.refresh(rows[2])
    db.session.refresh(rows[3])
    assert rows[2].status == RegistrationStatus.CONFIRMED and rows[2].position is None
    assert rows[3].status == RegistrationStatus.WAITING
    note = db.session.scalar(select(Notification).where(Notification.user_id == c.id))
    assert note is not None and note.kind == services.SEAT
    from mail.models import Kind, MailItem

    item = db.session.scalar(select(MailItem).where(MailItem.user_id == c.id))
    assert item is not None and item.kind == Kind.MEETING
    assert item.payload["path"] == f"/moeder/{m.id}"
    seated = db.session.scalar(
        select(func.count())
        .select_from(MeetingRegistration)
        .where(MeetingRegistration.status == RegistrationStatus.CONFIRMED)
    )
    assert seated == 2


def test_registering_twice_after_the_deadline_or_when_cancelled_is_refused(
    world, make_meeting, make_user
):
    m = make_meeting()
    services.register(world.citizen, m.id)
    db.session.commit()
    with pytest.raises(Conflict, match="allerede tilmeldt"):
        services.register(world.citizen, m.id)
    db.session.rollback()
    assert _count(MeetingRegistration) == 1
    late = make_meeting(registration_deadline=utcnow() + timedelta(days=1))
    with pytest.raises(Conflict, match="Tilmeldingsfristen"):
        services.register(world.citizen, late.id, now=utcnow() + timedelta(days=2))
    db.session.rollback()
    services.cancel_meeting(world.staff, m, "Sygdom")
    db.session.commit()
    with pytest.raises(Conflict, match="aflyst"):
        services.register(make_user(), m.id)
    db.session.rollback()
    assert _count(MeetingRegistration) == 1


def test_cancelling_someone_elses_registration_is_refused(world, make_meeting, make_user):
    m = make_meeting()
    row = services.register(world.citizen, m.id)
    db.session.commit()
    with pytest.raises(NotFound):
        services.cancel_registration(make_user(), row.id)
    db.session.rollback()
    db.session.refresh(row)
    assert row.status == RegistrationStatus.CONFIRMED


def test_capacity_below_the_number_registered_is_refused(world, make_meeting, make_user):
    m = make_meeting(capacity=3)
    for _ in range(3):
        services.register(make_user(), m.id)
    db.session.commit()
    with pytest.raises(InvalidInput) as exc:
        services.edit_meeting(
            world.staff, m, meeting_data(capacity=2, starts_at=m.starts_at, ends_at=m.ends_at)
        )
    db.session.rollback()
    assert "capacity" in exc.value.fields
    db.session.refresh(m)
    assert m.capacity == 3 and m.sequence == 0


def test_raising_capacity_moves_the_waiting_list_up(world, make_meeting, make_user):
    m = make_meeting(capacity=1)
    first, second = make_user(), make_user()
    services.register(first, m.id)
    waiting = services.register(second, m.id)
    db.session.commit()
    assert waiting.status == RegistrationStatus.WAITING
    assert services.edit_meeting(
        world.staff, m, meeting_data(capacity=2, starts_at=m.starts_at, ends_at=m.ends_at)
    )
    db.session.commit()
    db.session.refresh(waiting)
    assert waiting.status == RegistrationStatus.CONFIRMED


def test_moving_a_meeting_bumps_the_sequence_and_tells_those_registered(world, make_meeting):
    m = make_meeting()
    services.register(world.citizen, m.id)
    db.session.commit()
    later = m.starts_at + timedelta(days=1)
    services.edit_meeting(
        world.staff, m, meeting_data(starts_at=later, ends_at=later + timedelta(hours=2))
    )
    db.session.commit()
    assert m.sequence == 1 and m.moved_at is not None
    kinds = set(
        db.session.scalars(
            select(Notification.kind).where(Notification.user_id == world.citizen.id)
        )
    )
    assert kinds == {services.CHANGED}
    services.cancel_meeting(world.staff, m, "")
    db.session.commit()
    assert m.sequence == 2 and m.cancelled
    with pytest.raises(Conflict):
        services.cancel_meeting(world.staff, m, "")


def test_only_organisers_edit_and_cancel(world, make_meeting):
    m = make_meeting(area_id=world.area.id)
    for user in (world.citizen, world.other_politician):
        with pytest.raises(PermissionDenied):
            services.cancel_meeting(user, m, "")
    # the area's contact, the committee's politician do
    services.cancel_meeting(world.contact, m, "")
    db.session.rollback()


def test_followers_of_the_topic_hear_of_a_new_meeting(world, make_user):
    from forum import services as forum_services

    follower = make_user()
    forum_services.set_follow(follower, world.topic, True)
    db.session.commit()
    services.create_meeting(world.staff, meeting_data(topic_id=world.topic.id))
    db.session.commit()
    kinds = list(
        db.session.scalars(select(Notification.kind).where(Notification.user_id == follower.id))
    )
    assert kinds == [services.NEW]


def test_contacts_cli_adds_lists_and_removes(world, runner, make_user):
    person = make_user(email="kontakt@example.dk")
    out = runner.invoke(args=["meetings", "contacts", "add", "kontakt@example.dk", "moerkoev"])
    assert out.exit_code == 0, out.output
    assert "moerkoev\tkontakt@example.dk" in runner.invoke(args=["meetings", "contacts"]).output
    from meetings import permissions

    assert permissions.can_organise_in(person, world.other_area.id)
    out = runner.invoke(args=["meetings", "contacts", "add", "nobody@example.dk", "moerkoev"])
    assert out.exit_code != 0 and "No account" in out.output
    out = runner.invoke(args=["meetings", "contacts", "remove", "kontakt@example.dk", "moerkoev"])
    assert out.exit_code == 0
    assert "kontakt@example.dk" not in runner.invoke(args=["meetings", "contacts"]).output
