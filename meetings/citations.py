"""An offline contribution (said at a meeting, entered by its organisers) as something an
outcome may cite (``forum.hooks.CitableSource``): it is a forum post, so its note shows
through the forum's ``post_citations`` hook."""

from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from forum import hooks
from forum import permissions as fp
from forum.extensions import db
from forum.i18n import lazy_gettext as _l
from forum.models import Post, PostState

from .models import Meeting, MeetingContribution


class OfflineSource:
    kind = "offline"
    label = _l("Contribution from a meeting")
    words = ("møde", "moede", "meeting", "offline")
    link = r"/indlaeg/(\d{1,10})"
    of_posts = True

    def citable(self, viewer, ids: list[int]) -> dict[int, hooks.Citable]:
        if not ids:
            return {}
        rows = db.session.execute(
            select(Post, Meeting.title)
            .join(MeetingContribution, MeetingContribution.post_id == Post.id)
            .join(Meeting, Meeting.id == MeetingContribution.meeting_id)
            .options(joinedload(Post.topic))
            .where(Post.id.in_(ids))
        ).all()
        out = {}
        for post, meeting_title in rows:
            if (
                post.state != PostState.PUBLISHED
                or not post.topic.is_public
                or not fp.can_see_post(viewer, post, post.topic)
            ):
                continue
            out[post.id] = hooks.Citable(
                self.kind,
                post.id,
                _("Said at the meeting »%(title)s«", title=meeting_title),
                f"/indlaeg/{post.id}#p{post.id}",  # forum.post (services run without a request)
            )
        return out
