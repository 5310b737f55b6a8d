"""Invitations from local areas: invite, accept with a date (a meeting), decline with a
reason, public states on the area page, reminders after 7 days, bad input refused."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from forum.errors import Conflict, InvalidInput, PermissionDenied
from forum.extensions import db
from forum.models import Notification, utcnow
from meetings import invitations
from meetings.models import InvitationStatus, Meeting, MeetingInvitation


def _invite(world, **over):
    kw = {
        "subject": "Dialog om vindmøller ved Tølløse",
        "proposed_dates": "12. eller 19. marts",
        "message": "Vi vil gerne tale med udvalget.",
        "committee_id": world.committee.id,
    }
    kw.update(over)
    inv = invitations.invite(world.contact, world.area.id, **kw)
    db.session.commit()
    return inv


def test_invite_accept_becomes_a_meeting_and_shows_on_the_area_page(world, client):
    inv = _invite(world)
    notes = db.session.scalars(
        select(Notification.user_id).where(Notification.kind == "meeting_invitation")
    )
    assert set(notes) == {world.politician.id}
    starts = utcnow() + timedelta(days=30)
    m = invitations.accept(
        world.politician, inv.id, starts, starts + timedelta(hours=2), "Tølløse Skole"
    )
    db.session.commit()
    assert inv.status == InvitationStatus.ACCEPTED and inv.meeting_id == m.id
    assert m.area_id == world.area.id and m.committee_id == world.committee.id
    page = client.get(f"/omraader/{world.area.slug}").get_data(as_text=True)
    assert "Dialog om vindmøller ved Tølløse" in page
    assert client.get("/moeder/invitationer").status_code == 200


def test_decline_needs_a_reason_and_only_invitees_answer(world, make_user):
    inv = _invite(world)
    with pytest.raises(PermissionDenied):
        invitations.decline(world.citizen, inv.id, "Ingen tid")
    db.session.rollback()
    with pytest.raises(PermissionDenied):
        invitations.decline(world.other_politician, inv.id, "Ingen tid")
    db.session.rollback()
    with pytest.raises(InvalidInput):
        invitations.decline(world.politician, inv.id, "")
    db.session.rollback()
    invitations.decline(world.politician, inv.id, "Udvalget holder møde i Mørkøv i stedet")
    db.session.commit()
    assert inv.status == InvitationStatus.DECLINED
    with pytest.raises(Conflict):
        invitations.accept(
            world.politician,
            inv.id,
            utcnow() + timedelta(days=3),
            utcnow() + timedelta(days=3, hours=1),
        )


def test_bad_invitations_are_refused_and_change_nothing(world):
    with pytest.raises(InvalidInput) as exc:
        invitations.invite(
            world.contact, world.area.id, subject="Dialog", politician_ids=[world.citizen.id]
        )
    assert "politician_ids" in exc.value.fields
    db.session.rollback()
    with pytest.raises(InvalidInput):
        invitations.invite(world.contact, world.area.id, subject="Dialog")  # nobody invited
    db.session.rollback()
    with pytest.raises(PermissionDenied):
        invitations.invite(
            world.contact, world.other_area.id, subject="Dialog", committee_id=world.committee.id
        )
    db.session.rollback()
    with pytest.raises(PermissionDenied):
        invitations.invite(
            world.citizen, world.area.id, subject="Dialog", committee_id=world.committee.id
        )
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(MeetingInvitation)) == 0


def test_accepting_with_an_end_before_the_start_changes_nothing(world):
    inv = _invite(world)
    starts = utcnow() + timedelta(days=3)
    with pytest.raises(InvalidInput):
        invitations.accept(world.politician, inv.id, starts, starts - timedelta(hours=1))
    db.session.rollback()
    db.session.refresh(inv)
    assert inv.status == InvitationStatus.OPEN
    assert db.session.scalar(select(func.count()).select_from(Meeting)) == 0


def test_reminders_after_seven_days_once_a_week(world, runner):
    inv = _invite(world)
    assert invitations.remind() == 0
    assert invitations.remind(now=utcnow() + timedelta(days=8)) == 1
    db.session.commit()
    assert invitations.remind(now=utcnow() + timedelta(days=9)) == 0
    assert invitations.remind(now=utcnow() + timedelta(days=16)) == 1
    db.session.commit()
    n = db.session.scalar(
        select(func.count())
        .select_from(Notification)
        .where(Notification.kind == "meeting_invitation_reminder")
    )
    assert n == 2
    assert inv.reminded_at is not None
    assert "invitations reminded" in runner.invoke(args=["meetings", "remind"]).output


def test_invitation_pages_without_javascript(world, client, login):
    login(world.contact)
    assert client.get("/moeder/invitationer/ny").status_code == 200
    resp = client.post(
        "/moeder/invitationer/ny",
        data={
            "area_id": str(world.area.id),
            "subject": "Skolevej",
            "committee_id": "",
            "message": "Hej",
        },
    )
    assert resp.status_code == 400  # nobody invited: the form says so, keeps the text
    assert "Skolevej" in resp.get_data(as_text=True)
    resp = client.post(
        "/moeder/invitationer/ny",
        data={
            "area_id": str(world.area.id),
            "subject": "Skolevej",
            "committee_id": str(world.committee.id),
        },
    )
    assert resp.status_code == 302
    inv = db.session.scalar(select(MeetingInvitation))
    client.post("/logout")
    login(world.politician)
    resp = client.post(f"/moeder/invitationer/{inv.id}/afslaa", data={"reason": ""})
    assert resp.status_code == 400
    resp = client.post(f"/moeder/invitationer/{inv.id}/afslaa", data={"reason": "Ikke i år"})
    assert resp.status_code == 302
    assert "Ikke i år" in client.get(f"/moeder/invitationer/{inv.id}").get_data(as_text=True)
