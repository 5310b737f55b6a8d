"""How outcome notifications read (``forum.hooks.register_notification_kind``), on the
notifications page and in every mail."""

from __future__ import annotations

from flask_babel import gettext as _

from forum import hooks, permissions
from forum.hooks import Notice, NoticeFacts
from forum.i18n import lazy_gettext as _l

from .services import NOTIFICATION_KIND


def describe(facts: NoticeFacts) -> Notice | None:
    """A new update of the outcome of a debate the person took part in; the topic must still
    be visible to them. A mail links the update itself (the event's path), the page the
    outcome."""
    topic = facts.topic
    if topic is None or not permissions.can_see_topic(facts.user, topic):
        return None
    path = facts.payload.get("path")
    if isinstance(path, str) and path.startswith("/"):
        url = facts.site(path)
    else:
        url = facts.link("outcomes.topic_outcome", topic_id=topic.id)
    text = _("New outcome of “%(title)s”, a debate you took part in", title=topic.title)
    return Notice(text, url)


def register(app) -> None:
    hooks.register_notification_kind(
        app,
        NOTIFICATION_KIND,
        describe,
        gone=_l("A debate you were told about is no longer available."),
    )
