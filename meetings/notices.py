"""How meeting notifications read (``forum.hooks.register_notification_kind``): a seat from
the waiting list, a meeting moved or cancelled, a new meeting on a followed debate, and the
local areas' invitations. The event carries the meeting's (or invitation's) title and page;
the in-app row does not, so the notifications page, which has only the row, says there is
news about a meeting (it used to print the kind's code)."""

from __future__ import annotations

from flask_babel import gettext as _

from forum import hooks
from forum.hooks import Notice, NoticeFacts
from forum.i18n import lazy_gettext as _l

from .invitations import ANSWERED, INVITED, REMINDER
from .services import CANCELLED, CHANGED, NEW, SEAT


def _sentence(kind: str) -> str | None:
    texts = {
        SEAT: lambda: _("You have a seat at “%(title)s”: you moved up from the waiting list"),
        CHANGED: lambda: _("“%(title)s”, a meeting you registered for, has moved"),
        CANCELLED: lambda: _("“%(title)s”, a meeting you registered for, is cancelled"),
        NEW: lambda: _("New meeting on a debate you follow: “%(title)s”"),
        INVITED: lambda: _("A local area invites you to a dialogue meeting: “%(title)s”"),
        REMINDER: lambda: _(
            "Reminder: a local area waits for your answer to its invitation “%(title)s”"
        ),
        ANSWERED: lambda: _("Your invitation “%(title)s” has been answered"),
    }
    make = texts.get(kind)
    return make() if make else None


def describe(facts: NoticeFacts) -> Notice | None:
    title, path = facts.payload.get("title") or "", facts.payload.get("path")
    sentence = _sentence(facts.kind)
    if sentence is None or not isinstance(path, str) or not path.startswith("/"):
        return None
    return Notice(sentence % {"title": title}, facts.site(path))


def register(app) -> None:
    gone = _l("News about a meeting.")
    for kind in (SEAT, CHANGED, CANCELLED, NEW, INVITED, REMINDER, ANSWERED):
        hooks.register_notification_kind(app, kind, describe, gone=gone)
