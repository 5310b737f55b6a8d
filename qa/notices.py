"""How live Q&A's notifications read (``forum.hooks.register_notification_kind``): a question
merged with another (the notifications page and mails) and the reminder of a session one
signed up for (mails only: ``qa_signup`` items, mail/feed.py)."""

from __future__ import annotations

from datetime import UTC

from flask_babel import format_datetime as babel_datetime
from flask_babel import gettext as _

from forum import hooks, permissions
from forum.hooks import Notice, NoticeFacts
from forum.notices import post_link


def merged(facts: NoticeFacts) -> Notice | None:
    post = facts.post
    if post is None or not permissions.can_see_post(facts.user, post):
        return None
    text = _(
        "Your question in “%(title)s” was merged with a similar question; your voice counts there",
        title=post.topic.title,
    )
    return Notice(text, post_link(facts))


def reminder(facts: NoticeFacts) -> Notice | None:
    """The session starts soon; nothing to say once it has started."""
    starts = facts.expires_at
    if starts is not None and facts.now is not None and starts <= facts.now:
        return None
    path = facts.payload.get("path")
    text = _(
        "Reminder: the live Q&A “%(title)s” starts %(when)s.",
        title=facts.payload.get("title") or "",
        when=babel_datetime(starts.replace(tzinfo=UTC), "short") if starts else "",
    )
    url = facts.site(path) if isinstance(path, str) and path.startswith("/") else facts.site("/")
    return Notice(text, url)


def register(app) -> None:
    hooks.register_notification_kind(app, "qa_merged", merged)
    hooks.register_notification_kind(app, "qa_signup", reminder)
