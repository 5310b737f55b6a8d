"""Mails of the ``meeting`` kind: the first on the waiting list is told by mail, in their
language, with a link to the meeting, when a seat comes free."""

from __future__ import annotations

from datetime import timedelta

from forum.extensions import db
from forum.models import utcnow
from meetings import services

from .conftest import BASE_URL, text_part


def test_moving_up_from_the_waiting_list_is_mailed(make_user, send):
    staff = make_user("staff")
    first, waiting = make_user(), make_user(locale="da")
    starts = utcnow() + timedelta(days=5)
    meeting = services.create_meeting(
        staff,
        {
            "kind": "citizens",
            "title": "Borgermøde om torvet",
            "starts_at": starts,
            "ends_at": starts + timedelta(hours=2),
            "registration": True,
            "capacity": 1,
        },
    )
    seat = services.register(first, meeting.id)
    services.register(waiting, meeting.id)
    db.session.commit()
    assert send() == []  # nobody has been told anything yet
    services.cancel_registration(first, seat.id)
    db.session.commit()
    mails = send()
    assert [m["To"] for m in mails] == [waiting.email]
    body = text_part(mails[0])
    assert "»Borgermøde om torvet«" in body and "ventelisten" in body
    assert f"{BASE_URL}/moeder/{meeting.id}" in body
