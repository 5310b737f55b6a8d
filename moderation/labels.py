"""Words for the audit log's codes, as moderators read them: actions, states and targets.

Lazy strings (``forum.i18n.lazy_gettext``), so one table serves every language; the codes
themselves stay in the database and the CSV export. ``target_links`` names each entry's
target with its title, linked where the viewer may open it.
"""

from __future__ import annotations

from typing import NamedTuple

from flask import url_for
from flask_babel import get_locale
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from forum import hooks
from forum import permissions as forum_permissions
from forum.extensions import db
from forum.i18n import lazy_gettext as _l
from forum.models import Area, Committee, Post, Topic, User

from .models import AuditEntry, DebateRule

ACTION_LABELS = {
    "hold": _l("Held for review"),
    "publish": _l("Published"),
    "approve": _l("Approved"),
    "reject": _l("Rejected"),
    "auto_reject": _l("Rejected automatically (watched word)"),
    "hide": _l("Hidden by a moderator"),
    "flag_hide": _l("Hidden after reports, pending review"),
    "remove": _l("Removed"),
    "restore": _l("Restored"),
    "keep": _l("Kept (reports dismissed)"),
    "delete": _l("Deleted by its author"),
    "withdraw": _l("Withdrawn by its author"),
    "flag": _l("Reported"),
    "appeal": _l("Appealed"),
    "appeal_granted": _l("Appeal granted"),
    "appeal_denied": _l("Appeal denied"),
    "suspend": _l("Suspended"),
    "unsuspend": _l("Suspension lifted"),
    "proposal_accept": _l("Proposal accepted"),
    "proposal_decline": _l("Proposal declined"),
    "mode_set": _l("Mode changed"),
    "word_add": _l("Watched word added"),
    "word_remove": _l("Watched word removed"),
    "rule_add": _l("Debate rule added"),
    "rule_edit": _l("Debate rule changed"),
    "access_denied": _l("Access refused"),
    # administration (admin package)
    "admin_setup": _l("First admin created"),
    "place_create": _l("Created"),
    "place_edit": _l("Name, address or description changed"),
    "place_move": _l("Order changed"),
    "place_archive": _l("Archived"),
    "place_restore": _l("Taken into use again"),
    "area_merge": _l("Local area merged into this one"),
    "role_change": _l("Role changed"),
    "user_deactivate": _l("Account deactivated"),
    "user_reactivate": _l("Account reactivated"),
    "invite_create": _l("Invitation made"),
    "invite_accept": _l("Invitation accepted"),
    "topic_create": _l("Topic opened by an admin"),
    "topic_edit": _l("Topic edited by an admin"),
    "topic_move": _l("Topic moved"),
    "topic_status": _l("Topic status changed"),
    "topic_feature": _l("Featured on the home page"),
    "topic_unfeature": _l("No longer featured on the home page"),
    # Written by other packages through forum.hooks.audit.
    "outcome_update": _l("Outcome of a debate updated"),
}

# from_state / to_state: a post's state, a proposal's status, a suspension, a mode, a watched
# word's action, a rule's status.
STATE_LABELS = {
    "pending": _l("awaiting moderation"),
    "published": _l("published"),
    "rejected": _l("rejected"),
    "hidden": _l("hidden"),
    "removed": _l("removed"),
    "deleted": _l("deleted by its author"),
    "withdrawn": _l("withdrawn"),
    "proposed": _l("proposed"),
    "open": _l("open"),
    "closed": _l("closed"),
    "declined": _l("declined"),
    "archived": _l("archived"),
    "active": _l("active"),
    "inactive": _l("not in force"),
    "suspended": _l("suspended"),
    "inherit": _l("default mode"),
    "post": _l("post-moderation"),
    "pre": _l("pre-moderation"),
    "hold": _l("hold for review"),
    "reject": _l("reject"),
    "deactivated": _l("deactivated"),
    "citizen": _l("citizen"),
    "politician": _l("politician"),
    "moderator": _l("moderator"),
    "admin": _l("admin"),
}

TARGET_LABELS = {
    "post": _l("Post"),
    "topic": _l("Topic"),
    "user": _l("User"),
    "word": _l("Watched word"),
    "rule": _l("Debate rule"),
    "committee": _l("Committee"),
    "area": _l("Local area"),
    "url": _l("Page"),
    "appeal": _l("Appeal"),
    "invitation": _l("Invitation"),
}


def action_label(code: str | None) -> str:
    return str(ACTION_LABELS.get(code, code or ""))


def state_label(code: str | None) -> str:
    """A state's name; "–" for none."""
    if not code:
        return "–"
    return str(STATE_LABELS.get(code, code))


def target_label(kind: str | None) -> str:
    """What a target is called; a registered review source's own name for its kind."""
    if kind in TARGET_LABELS:
        return str(TARGET_LABELS[kind])
    source = hooks.review_sources().get(kind or "")
    return str(source.label) if source is not None else (kind or "")


class Target(NamedTuple):
    label: str  # "Post", "Topic", ...
    title: str  # the target's title or name ("" when unknown or not the viewer's to see)
    url: str | None  # where the viewer may open it


def target_links(viewer, rows: list[AuditEntry]) -> dict[int, Target]:
    """Entry id -> its target, named and linked only where ``viewer`` may see it."""
    models = {
        "post": Post,
        "topic": Topic,
        "user": User,
        "rule": DebateRule,
        "committee": Committee,
        "area": Area,
    }
    loaded: dict[str, dict] = {}
    for kind, model in models.items():
        ids = {e.target_id for e in rows if e.target_type == kind and e.target_id}
        stmt = select(model).where(model.id.in_(ids))
        if model is Post:
            stmt = stmt.options(joinedload(Post.topic))  # its title names the post
        found = db.session.scalars(stmt) if ids else ()
        loaded[kind] = {o.id: o for o in found}
    out = {}
    for e in rows:
        obj = loaded.get(e.target_type, {}).get(e.target_id)
        title, url = _title_and_url(viewer, e, obj)
        out[e.id] = Target(target_label(e.target_type), title, url)
    return out


def _title_and_url(viewer, e: AuditEntry, obj) -> tuple[str, str | None]:
    kind = e.target_type
    if obj is None:
        if kind in ("word", "url", "invitation"):  # the word; the address refused or invited
            return e.text, None
        if e.data and e.data.get("url"):  # a review source's content
            return str(e.data.get("title") or ""), e.data["url"]
        return "", None
    if kind == "post":
        if forum_permissions.can_see_post(viewer, obj, obj.topic):
            return obj.topic.title, url_for("moderation.post", post_id=obj.id)
        return "", None
    if kind == "topic":
        if forum_permissions.can_see_topic(viewer, obj):
            return obj.title, url_for("forum.topic", topic_id=obj.id)
        return "", None
    if kind == "user":
        return obj.display_name, url_for("moderation.user", user_id=obj.id)
    if kind == "rule":
        return obj.title(str(get_locale() or "da")), url_for("moderation.rules_admin")
    endpoint = "forum.committee" if kind == "committee" else "forum.area"
    return obj.name, url_for(endpoint, slug=obj.slug)
