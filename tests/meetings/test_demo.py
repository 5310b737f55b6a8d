"""The issue's demo list: a topmøde on the school structure in Holbæk, Klima og Miljø's
meeting in Mørkøv on the wind turbines, a Tølløse Lokalforum invitation accepted and one
waiting, one past meeting with minutes and twelve offline contributions — found in search
with »Fra møder«."""

from __future__ import annotations

from sqlalchemy import func, select

from forum.demo import seed_demo
from forum.extensions import db
from forum.models import utcnow
from meetings import demo
from meetings.models import (
    InvitationStatus,
    Meeting,
    MeetingContribution,
    MeetingInvitation,
    MeetingRegistration,
    RegistrationStatus,
)
from tests.search import conftest as search_fixtures

_no_stray_indexer_thread = search_fixtures._no_stray_indexer_thread
_close_searchers = search_fixtures._close_searchers
indexer = search_fixtures.indexer
reindex = search_fixtures.reindex
find = search_fixtures.find


def test_demo_meetings(app, reindex, find):
    app.config["MODERATION_ENABLED"] = False  # seed-demo pauses the policies the same way
    seed_demo(big_posts=5)
    assert demo.seed() > 0
    db.session.commit()
    meetings = {m.title: m for m in db.session.scalars(select(Meeting))}
    summit = meetings["Topmøde om skolestrukturen i Holbæk"]
    assert summit.kind.value == "summit" and summit.starts_at > utcnow()
    wind = next(m for t, m in meetings.items() if "Mørkøv" in t)
    assert wind.committee.slug == "klima-og-miljoe" and wind.area.slug == "moerkoev"
    statuses = [
        r.status
        for r in db.session.scalars(
            select(MeetingRegistration).where(MeetingRegistration.meeting_id == wind.id)
        )
    ]
    assert statuses.count(RegistrationStatus.WAITING) == 2  # full, with a waiting list
    invitations = list(db.session.scalars(select(MeetingInvitation)))
    assert {i.status for i in invitations} == {InvitationStatus.ACCEPTED, InvitationStatus.OPEN}
    assert all(i.area.slug == "toelloese" for i in invitations)
    past = meetings["Borgermøde om skolevejen i Tølløse"]
    assert past.ends_at < utcnow() and past.minutes_html
    assert (
        db.session.scalar(
            select(func.count())
            .select_from(MeetingContribution)
            .where(MeetingContribution.meeting_id == past.id)
        )
        == 12
    )
    reindex()
    from_meetings = find("cykelstien", kilde="moeder")
    assert from_meetings.total >= 2
    assert all(h.kind == "meeting" or h.origin == "moeder" for h in from_meetings.hits)
    assert from_meetings.total < find("cykelstien").total  # online posts too without it
