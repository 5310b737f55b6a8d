"""A live Q&A answer as something an outcome may cite (``forum.hooks.CitableSource``): a
published answer post, in a public session topic, that the writer may read. Its note ("cited
in the outcome …") shows on the post through the forum's ``post_citations`` hook."""

from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from forum import hooks
from forum import permissions as fp
from forum.extensions import db
from forum.i18n import lazy_gettext as _l
from forum.models import Post, PostState

from .models import EntryKind, QAEntry, QASession


class AnswerSource:
    kind = "answer"
    label = _l("Q&A answer")
    words = ("svar", "answer")
    link = r"/indlaeg/(\d{1,10})"
    of_posts = True

    def citable(self, viewer, ids: list[int]) -> dict[int, hooks.Citable]:
        if not ids:
            return {}
        rows = db.session.execute(
            select(Post, QASession.title)
            .join(QAEntry, QAEntry.post_id == Post.id)
            .join(QASession, QASession.id == QAEntry.session_id)
            .options(joinedload(Post.topic), joinedload(Post.author))
            .where(Post.id.in_(ids), QAEntry.kind == EntryKind.ANSWER)
        ).all()
        out = {}
        for post, session_title in rows:
            if (
                post.state != PostState.PUBLISHED
                or not post.topic.is_public
                or not fp.can_see_post(viewer, post, post.topic)
            ):
                continue
            out[post.id] = hooks.Citable(
                self.kind,
                post.id,
                _(
                    "Answer by %(name)s in the Q&A session »%(title)s«",
                    name=post.author.display_name,
                    title=session_title,
                ),
                f"/indlaeg/{post.id}#p{post.id}",  # forum.post (services run without a request)
            )
        return out
