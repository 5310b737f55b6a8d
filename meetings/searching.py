"""Meetings in search (issue 16): each meeting is a search document (its title, description
and minutes), and the posts entered from a meeting (offline contributions) carry the origin
"moeder", which the search page offers as the filter »Fra møder« (meetings count under it
too). Registered with ``forum.hooks.register_search_source`` / ``register_post_origin``; the
search package imports nothing of this one.

Meetings are public pages (a cancelled one shows as cancelled), so every meeting is a public
document; contributions are forum posts and follow the posts' visibility in search."""

from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import select

from forum import hooks
from forum.extensions import db
from forum.i18n import lazy_gettext as _l

from .forms import kind_label
from .models import Meeting, MeetingContribution
from .services import meeting_path

ORIGIN = "moeder"


def _item(m: Meeting) -> hooks.SearchItem:
    text = m.description_source
    if m.minutes_source:
        text += "\n\n" + m.minutes_source
    place = ", ".join(x for x in (m.address, m.room) if x)
    if place:
        text = place + "\n\n" + text
    return hooks.SearchItem(
        id=m.id,
        title=m.title,
        text=text,
        url=meeting_path(m.id),
        label=_("Meeting: %(kind)s", kind=kind_label(m.kind)),
        author_id=m.organiser_id,
        created_at=m.starts_at,
        committee_id=m.committee_id,
        area_id=m.area_id,
        topic_id=m.topic_id,
        public=True,
        state="cancelled" if m.cancelled else "published",
        state_label=_("Cancelled") if m.cancelled else "",
    )


class MeetingSource:
    kind = "meeting"
    label = _l("Meetings")  # the »Kind« filter's option
    subject_type = "meeting"
    origin = ORIGIN

    def items(self, ids: list[int]) -> dict[int, hooks.SearchItem]:
        if not ids:
            return {}
        rows = db.session.scalars(select(Meeting).where(Meeting.id.in_(list(ids))))
        return {m.id: _item(m) for m in rows}

    def all_ids(self) -> list[int]:
        return list(db.session.scalars(select(Meeting.id).order_by(Meeting.id)))

    def ids_of_topics(self, topic_ids: list[int]) -> list[int]:
        if not topic_ids:
            return []
        return list(db.session.scalars(select(Meeting.id).where(Meeting.topic_id.in_(topic_ids))))

    def visible(self, viewer, ids: list[int]) -> dict[int, hooks.SearchItem]:
        return self.items(ids)  # meetings are public

    def ids_by_authors(self, user_ids: list[int]) -> list[int]:
        return list(
            db.session.scalars(select(Meeting.id).where(Meeting.organiser_id.in_(user_ids)))
        )


def contribution_posts():
    """The ids of the posts entered from a meeting (a SELECT, used as a subquery)."""
    return select(MeetingContribution.post_id)


def register(app) -> None:
    hooks.register_search_source(app, MeetingSource())
    hooks.register_post_origin(
        app, hooks.PostOrigin(ORIGIN, _l("From meetings"), contribution_posts)
    )
