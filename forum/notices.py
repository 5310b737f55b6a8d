"""How the forum's own notifications read, and the notifications page's side of the registry.

The forum registers its kinds (``reply``, ``followed_topic``, ``topic_accepted``,
``topic_declined``) with ``hooks.register_notification_kind``; other packages register theirs
from their ``init_app``. ``post_notice`` is the shape every notification about a new post has
(the sentence links to the post, the mail quotes it); search uses it for saved searches.
The page builds ``NoticeFacts`` from a ``Notification`` row (``page_facts``); the mail package
builds them from its mail items.
"""

from __future__ import annotations

from flask import url_for
from flask_babel import gettext as _

from . import hooks, permissions
from .hooks import Notice, NoticeFacts
from .i18n import lazy_gettext as _l
from .models import Notification, PostState

GONE_POST = _l("A post you were told about is no longer available.")


def actor_name(facts: NoticeFacts) -> str:
    """Who did it, by name (``Someone`` when nobody is named)."""
    return facts.actor.display_name if facts.actor is not None else _("Someone")


def post_link(facts: NoticeFacts) -> str:
    post = facts.post
    return facts.link("forum.post", post_id=post.id) + f"#p{post.id}"


def post_notice(facts: NoticeFacts, text: str) -> Notice | None:
    """A notification about a published post ``facts.user`` may see: ``text`` links to the
    post; a mail quotes it. None when the post is gone or no longer visible to them."""
    post = facts.post
    if post is None or post.state != PostState.PUBLISHED:
        return None
    if not permissions.can_see_post(facts.user, post):
        return None
    return Notice(text, post_link(facts), {"excerpt_html": post.body_html})


def _reply(facts: NoticeFacts) -> Notice | None:
    if facts.post is None:
        return None
    text = _(
        "%(name)s replied to you in “%(title)s”",
        name=actor_name(facts),
        title=facts.post.topic.title,
    )
    return post_notice(facts, text)


def _followed_topic(facts: NoticeFacts) -> Notice | None:
    if facts.post is None:
        return None
    text = _(
        "%(name)s wrote in “%(title)s”, which you follow",
        name=actor_name(facts),
        title=facts.post.topic.title,
    )
    return post_notice(facts, text)


def visible_topic_title(facts: NoticeFacts) -> str:
    """The topic's title if ``facts.user`` may see the topic, else empty."""
    topic = facts.topic
    return topic.title if topic is not None and permissions.can_see_topic(facts.user, topic) else ""


def _topic_accepted(facts: NoticeFacts) -> Notice | None:
    title = visible_topic_title(facts)
    text = _("Your proposed topic “%(title)s” is accepted and open", title=title)
    url = facts.link("forum.topic", topic_id=facts.topic.id) if title else None
    return Notice(text, url or facts.link("forum.notifications"))


def _topic_declined(facts: NoticeFacts) -> Notice | None:
    title = visible_topic_title(facts)
    text = _("Your proposed topic “%(title)s” was declined", title=title)
    # The page says it without a link; a mail leads to the notifications page.
    url = facts.link("forum.notifications") if facts.medium == "mail" else None
    return Notice(text, url)


def register(app) -> None:
    hooks.register_notification_kind(app, "reply", _reply, gone=GONE_POST)
    hooks.register_notification_kind(app, "followed_topic", _followed_topic, gone=GONE_POST)
    hooks.register_notification_kind(app, "topic_accepted", _topic_accepted)
    hooks.register_notification_kind(app, "topic_declined", _topic_declined)

    @app.context_processor
    def _notice_helpers() -> dict:
        return {"notification_notice": page_notice, "notification_gone": page_gone}


# --- the notifications page ----------------------------------------------------------------------


def _identity(path: str) -> str:
    return path


def page_facts(n: Notification, user) -> NoticeFacts:
    """The facts of one row of ``user``'s notifications page."""
    return NoticeFacts(
        kind=n.kind,
        user=user,
        medium="page",
        link=url_for,
        site=_identity,
        topic=n.topic,
        post=n.post,
        actor=n.actor,
        created_at=n.created_at,
        _notification_id=n.id,
    )


def page_notice(n: Notification, user) -> Notice | None:
    """How row ``n`` reads on ``user``'s notifications page (None: nothing left to say)."""
    return hooks.describe_notification(page_facts(n, user))


def page_gone(n: Notification) -> str:
    """What the page says of a notification with nothing left to say: the kind's registered
    words, or (a kind nobody registered) the kind itself, as the page always did."""
    registered = hooks.notification_kinds().get(n.kind)
    if registered is None:
        return n.kind
    return str(registered.gone or GONE_POST)
