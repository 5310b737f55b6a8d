"""How saved-search notifications read (``forum.hooks.register_notification_kind``): on the
notifications page and in every mail."""

from __future__ import annotations

from flask_babel import gettext as _

from forum import permissions
from forum.hooks import Notice, NoticeFacts
from forum.notices import actor_name, post_notice

from .services import NOTIFICATION_KIND


def describe(facts: NoticeFacts) -> Notice | None:
    """A new post that matches one of the person's saved searches, or (no post) a newly
    opened topic that does."""
    if facts.post is None:
        topic = facts.topic
        if topic is None or not permissions.can_see_topic(facts.user, topic):
            return None
        text = _(
            "%(name)s opened the topic “%(title)s”, which matches one of your saved searches",
            name=topic.author.display_name,
            title=topic.title,
        )
        url = facts.link("forum.topic", topic_id=topic.id)
        return Notice(text, url, {"excerpt_html": topic.intro_html})
    text = _(
        "%(name)s wrote in “%(title)s”, which matches one of your saved searches",
        name=actor_name(facts),
        title=facts.post.topic.title,
    )
    return post_notice(facts, text)


def register(app) -> None:
    from forum import hooks

    hooks.register_notification_kind(app, NOTIFICATION_KIND, describe)
