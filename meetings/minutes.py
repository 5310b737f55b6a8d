"""What was said there (issue 16): minutes (referat) of a meeting, and offline contributions —
statements, questions and proposals made in the room — entered by staff or the meeting's
organisers into the meeting's topic as ordinary posts (so they go through the post policy
and visibility rules and count in the stance figures), each with its provenance in a
``MeetingContribution`` row: "fra borgermødet i Tølløse 12.3.2027, noteret af …", and the
speaker's name only with their consent. The thread shows the provenance through the forum's
citation hook (``forum.hooks.register_post_citations``; ``provenance_notes``)."""

from __future__ import annotations

from datetime import datetime

from flask_babel import format_date
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from forum import eventlog
from forum import permissions as fp
from forum import services as forum_services
from forum.errors import Conflict, InvalidInput, PermissionDenied
from forum.extensions import db
from forum.hooks import Citation
from forum.i18n import lazy_gettext as _l
from forum.models import Post, User, utcnow
from forum.rendering import render_markdown

from . import permissions
from .models import Meeting, MeetingContribution

MINUTES_MAX = 50_000
SPEAKER_MAX = 80

# "fra borgermødet …": the meeting by its kind, in the definite form.
_DEFINITE = {
    "summit": _l("the topic summit"),
    "conference": _l("the conference"),
    "committee_local": _l("the committee meeting"),
    "study_trip": _l("the study trip"),
    "local_debate": _l("the local debate meeting"),
    "council_theme": _l("the council's theme meeting"),
    "citizens": _l("the citizens' meeting"),
}


def _check(user: User, meeting: Meeting, now: datetime) -> None:
    if not permissions.can_manage(user, meeting):
        raise PermissionDenied(_("Only staff and the meeting's organisers write what was said."))
    if meeting.cancelled:
        raise Conflict(_("The meeting was cancelled."))
    if meeting.starts_at > now:
        raise Conflict(_("The meeting has not taken place yet."))


def publish_minutes(user: User, meeting: Meeting, text: str, now: datetime | None = None):
    now = now or utcnow()
    _check(user, meeting, now)
    text = (text or "").replace("\r\n", "\n").strip()
    if not 10 <= len(text) <= MINUTES_MAX:
        raise InvalidInput(minutes=_("The minutes must be 10–50,000 characters."))
    meeting.minutes_source = text
    meeting.minutes_html = str(render_markdown(text))
    meeting.minutes_published_at = meeting.minutes_published_at or now
    meeting.updated_at = now
    eventlog.record(
        "meeting_minutes",
        "meeting",
        meeting.id,
        f"topic:{meeting.topic_id}" if meeting.topic_id else f"meeting:{meeting.id}",
        {"meeting_id": meeting.id, "title": meeting.title},
        user.id,
    )
    db.session.flush()
    return meeting


def add_contribution(
    user: User,
    meeting: Meeting,
    body: str,
    *,
    stance: str | None = None,
    speaker_name: str = "",
    consent: bool = False,
    now: datetime | None = None,
) -> Post:
    """Enter what someone said in the room as a post in the meeting's topic."""
    now = now or utcnow()
    _check(user, meeting, now)
    if meeting.topic is None:
        raise Conflict(_("The meeting has no debate to enter contributions into."))
    speaker_name = " ".join((speaker_name or "").split())
    if len(speaker_name) > SPEAKER_MAX:
        raise InvalidInput(speaker_name=_("Use at most %(n)d characters.", n=SPEAKER_MAX))
    if speaker_name and not consent:
        raise InvalidInput(
            speaker_name=_("Give the speaker's name only when they agreed to it being shown.")
        )
    post = forum_services.create_post(user, meeting.topic, body, stance=stance or None)
    db.session.add(
        MeetingContribution(
            post_id=post.id,
            meeting_id=meeting.id,
            speaker_name=speaker_name,
            noted_by_id=user.id,
            created_at=now,
        )
    )
    db.session.flush()
    return post


def provenance(c: MeetingContribution) -> str:
    m = c.meeting
    place = m.area.name if m.area else (m.address or m.title)
    text = _(
        "from %(meeting)s in %(place)s %(date)s, noted by %(name)s",
        meeting=str(_DEFINITE.get(m.kind.value, m.title)),
        place=place,
        date=format_date(m.starts_at, "d.M.yyyy"),
        name=c.noted_by.display_name,
    )
    if c.speaker_name:
        text += " · " + _("said by %(name)s", name=c.speaker_name)
    return text


def provenance_notes(topic_id: int, post_ids: list[int]) -> dict[int, list[Citation]]:
    """The citation hook: each offline contribution among ``post_ids`` gets its provenance."""
    rows = db.session.scalars(
        select(MeetingContribution)
        .options(
            selectinload(MeetingContribution.meeting).selectinload(Meeting.area),
            selectinload(MeetingContribution.noted_by),
        )
        .where(MeetingContribution.post_id.in_(post_ids))
    )
    return {c.post_id: [Citation(provenance(c), f"/moeder/{c.meeting_id}")] for c in rows}


def contributions(viewer, meeting: Meeting) -> list[tuple[Post, str]]:
    """The meeting's offline contributions the viewer may read, with their provenance."""
    rows = db.session.scalars(
        select(MeetingContribution)
        .options(selectinload(MeetingContribution.noted_by))
        .where(MeetingContribution.meeting_id == meeting.id)
        .order_by(MeetingContribution.id)
    ).all()
    if not rows:
        return []
    posts = {
        p.id: p
        for p in db.session.scalars(select(Post).where(Post.id.in_([r.post_id for r in rows])))
    }
    return [
        (posts[r.post_id], provenance(r))
        for r in rows
        if r.post_id in posts and fp.can_see_post(viewer, posts[r.post_id])
    ]
