"""A live Q&A session held at a meeting (hybrid): linked from the session's form or started
from the meeting's page; each page shows the other."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from forum.errors import InvalidInput
from forum.extensions import db
from forum.models import Role, User, utcnow
from meetings import hybrid
from meetings.models import meeting_qa_sessions
from qa import services as qa_services
from qa.models import QASession


def _links() -> int:
    return db.session.scalar(select(func.count()).select_from(meeting_qa_sessions))


def _session(admin, starts=None, **kw) -> QASession:
    from forum.models import Committee

    kw.setdefault("committee_id", db.session.scalar(select(Committee.id)))
    starts = starts or utcnow() + timedelta(days=10)
    s = qa_services.schedule_session(
        admin,
        kw.pop("title", "Spørgetid om vindmøllerne"),
        "Spørg politikerne.",
        starts,
        starts + timedelta(hours=1),
        [db.session.scalar(select(User.id).where(User.role == Role.POLITICIAN))],
        **kw,
    )
    db.session.commit()
    return s


def test_session_form_links_a_meeting_and_both_pages_show_it(
    world, make_meeting, make_user, client, login
):
    admin = make_user("admin")
    m = make_meeting(admin, address="Mørkøv Hallen", room="Cafeteriet")
    login(admin)
    # the meeting page offers a session made from the meeting
    page = client.get(f"/moeder/{m.id}").get_data(as_text=True)
    assert f"/spoergetid/ny?moede={m.id}" in page
    form = client.get(f"/spoergetid/ny?moede={m.id}").get_data(as_text=True)
    assert f'<option selected value="{m.id}">' in form and m.title in form
    local = m.starts_at + timedelta(hours=1)  # Danish winter time
    resp = client.post(
        "/spoergetid/ny",
        data={
            "title": "Spørgetid i Mørkøv",
            "description": "Spørg fra salen eller hjemmefra.",
            "starts_at": local.strftime("%Y-%m-%dT%H:%M"),
            "ends_at": (local + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M"),
            "committee_id": str(world.committee.id),
            "area_id": "",
            "meeting_id": str(m.id),
            "politician_ids": [str(world.politician.id)],
            "premoderated": "y",
        },
    )
    import re

    assert resp.status_code == 302, re.findall(
        r"<main.*?</form>", resp.get_data(as_text=True), re.S
    )
    session = db.session.scalar(select(QASession).where(QASession.title == "Spørgetid i Mørkøv"))
    assert hybrid.session_of(m.id) == session.id
    session_page = client.get(f"/spoergetid/{session.id}").get_data(as_text=True)
    assert f'href="/moeder/{m.id}"' in session_page and "Mørkøv Hallen, Cafeteriet" in session_page
    client.post("/logout")
    page = client.get(f"/moeder/{m.id}").get_data(as_text=True)
    assert f'href="/spoergetid/{session.id}"' in page and "Spørgetid i Mørkøv" in page
    assert "/projektor" not in page  # the projector link is for the organisers
    assert "/spoergetid/ny" not in page


def test_linking_is_checked_and_changes_nothing_when_refused(world, make_meeting, make_user):
    admin = make_user("admin")
    mine = make_meeting(admin)
    s1, s2 = _session(admin), _session(admin, title="Anden spørgetid")
    assert qa_services.hold_at_meeting(admin, s1, mine.id)
    db.session.commit()
    # a meeting holds one session
    with pytest.raises(InvalidInput) as exc:
        qa_services.hold_at_meeting(admin, s2, mine.id)
    assert "meeting_id" in exc.value.fields
    db.session.rollback()
    # a meeting that does not exist, or is cancelled
    with pytest.raises(InvalidInput):
        qa_services.hold_at_meeting(admin, s2, 999_999)
    db.session.rollback()
    other = make_meeting(admin)
    from meetings import services

    services.cancel_meeting(admin, other, "")
    db.session.commit()
    with pytest.raises(InvalidInput):
        qa_services.hold_at_meeting(admin, s2, other.id)
    db.session.rollback()
    # a moderator who does not organise the meeting may not hold a session there
    moderator = make_user("moderator")
    theirs = make_meeting(world.staff)
    with pytest.raises(InvalidInput):
        qa_services.hold_at_meeting(moderator, s2, theirs.id)
    db.session.rollback()
    assert _links() == 1 and hybrid.session_of(mine.id) == s1.id
    # unlinking
    assert qa_services.hold_at_meeting(admin, s1, None)
    db.session.commit()
    assert _links() == 0


def test_only_own_upcoming_meetings_are_offered(world, make_meeting, make_user):
    admin = make_user("admin")
    mine = make_meeting(admin)
    s = _session(admin)
    moderator = make_user("moderator")
    assert qa_services.meeting_choices(moderator, None) == []
    assert [i for i, _ in qa_services.meeting_choices(admin, None)] == [mine.id]
    qa_services.hold_at_meeting(admin, s, mine.id)
    db.session.commit()
    other = _session(admin, title="Tredje")
    assert qa_services.meeting_choices(admin, other.id) == []  # taken
    assert [i for i, _ in qa_services.meeting_choices(admin, s.id)] == [mine.id]
