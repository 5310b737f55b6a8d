"""How citizen-budget notifications read (``forum.hooks.register_notification_kind``), on the
notifications page and in every mail. The forum's ``Notification`` row has no column for an
idea: the budgets package's ``Notice`` row beside it names the idea and keeps the reason."""

from __future__ import annotations

from flask_babel import gettext as _

from forum import hooks
from forum.hooks import Notice, NoticeFacts
from forum.i18n import lazy_gettext as _l
from forum.i18n import quote

from . import queries

KINDS = (
    "budget_idea_approved",
    "budget_idea_rejected",
    "budget_idea_feasible",
    "budget_idea_infeasible",
    "budget_idea_merged",
    "budget_idea_withdrawn",
    "budget_status",
)


def _sentence(kind: str, title: str) -> str | None:
    texts = {
        "budget_idea_approved": lambda: _(
            "Your idea “%(title)s” is approved and published.", title=title
        ),
        "budget_idea_rejected": lambda: _(
            "Your idea “%(title)s” was rejected by a moderator.", title=title
        ),
        "budget_idea_feasible": lambda: _(
            "Your idea “%(title)s” is feasible and goes on the ballot.", title=title
        ),
        "budget_idea_infeasible": lambda: _(
            "Your idea “%(title)s” was found not feasible.", title=title
        ),
        "budget_idea_merged": lambda: _(
            "The idea “%(title)s”, which you proposed or "
            "supported, was merged into another idea; your "
            "support moved with it.",
            title=title,
        ),
        "budget_idea_withdrawn": lambda: _(
            "The idea “%(title)s”, which you supported, was withdrawn by its author.",
            title=title,
        ),
        "budget_status": lambda: _("New status for the project “%(title)s”.", title=title),
    }
    make = texts.get(kind)
    return make() if make else None


def describe(facts: NoticeFacts) -> Notice | None:
    """A decision on a citizen-budget idea (or news of it), with the reason the municipality
    gave; the link leads to the idea (a withdrawn one: to its citizen budget)."""
    nid = facts.notification_id
    notice = queries.notice_for_id(facts.user.id, nid) if nid is not None else None
    if notice is None:
        return None
    idea = notice.idea
    title = idea.title if idea is not None else notice.process.title
    text = _sentence(facts.kind, title)
    if text is None:
        return None
    if idea is not None and facts.kind != "budget_idea_withdrawn":
        url = facts.link("budgets.idea", idea_id=idea.id)
    else:
        url = facts.link("budgets.process", process_id=notice.process_id)
    detail: dict = {"see": _("See it"), "see_hint": title}
    if notice.text and facts.kind == "budget_idea_rejected":
        detail["said"] = _("Reason:") + " " + notice.text
    elif notice.text and facts.kind in (
        "budget_idea_feasible",
        "budget_idea_infeasible",
        "budget_idea_merged",
    ):
        detail["said"] = _("The municipality wrote:") + " " + quote(notice.text)
    return Notice(text, url, detail)


def register(app) -> None:
    gone = _l("News about a citizen budget.")
    for kind in KINDS:
        hooks.register_notification_kind(app, kind, describe, gone=gone)
