"""How moderation's notifications read (``forum.hooks.register_notification_kind``), on the
notifications page and in every mail: the decision in one sentence, the debate rule and the
moderator's words, the post it is about, and (mail) how to appeal while one may.

The audit entry behind a notification is found by the notification's id (moderation writes
it on the entry); a proposal's decision (``topic_accepted``/``topic_declined``, the forum's
kinds, whose description moderation extends) by its topic.
"""

from __future__ import annotations

from datetime import UTC, datetime

from flask import current_app, g, has_request_context
from flask_babel import format_datetime as babel_datetime
from flask_babel import get_locale
from flask_babel import gettext as _
from sqlalchemy import select

from forum import hooks, permissions
from forum.extensions import db
from forum.hooks import Notice, NoticeFacts
from forum.i18n import quote
from forum.notices import post_link, visible_topic_title

from . import queries
from .models import Appeal, AuditEntry
from .services import appealable_entry

MODERATION_KINDS = (
    "moderation_decision",
    "moderation_appeal",
    "moderation_suspension",
    "moderation_unsuspended",
    "moderation_reminder",
)
_PAGE_CACHE = "moderation_notices"


def _entry(facts: NoticeFacts) -> AuditEntry | None:
    """The audit entry behind the notification (the page reads all of the reader's recent
    ones in one statement)."""
    if facts.kind in ("topic_accepted", "topic_declined"):
        if facts.topic is None:
            return None
        return db.session.scalar(
            select(AuditEntry)
            .where(
                AuditEntry.target_type == "topic",
                AuditEntry.target_id == facts.topic.id,
                AuditEntry.subject_user_id == facts.user.id,
                AuditEntry.action.in_(("proposal_accept", "proposal_decline")),
            )
            .order_by(AuditEntry.id.desc())
            .limit(1)
        )
    nid = facts.notification_id
    if nid is None:
        return None
    if facts.medium == "page" and has_request_context():
        cache = g.setdefault(_PAGE_CACHE, {})
        if facts.user.id not in cache:
            cache[facts.user.id] = queries.notices_for(facts.user.id)
        return cache[facts.user.id].get(nid)
    return db.session.scalar(
        select(AuditEntry)
        .where(AuditEntry.notification_id == nid, AuditEntry.subject_user_id == facts.user.id)
        .limit(1)
    )


def decision_text(action: str, title: str) -> str | None:
    """The sentence of a decision on the person's post, by the audit entry's action."""
    texts = {
        "approve": lambda: _("Your post in “%(title)s” is approved and published.", title=title),
        "reject": lambda: _("Your post in “%(title)s” was rejected.", title=title),
        "auto_reject": lambda: _("Your post in “%(title)s” was rejected.", title=title),
        "hide": lambda: _("Your post in “%(title)s” was hidden by a moderator.", title=title),
        "flag_hide": lambda: _(
            "Your post in “%(title)s” was reported by several users and is "
            "hidden until a moderator has looked at it.",
            title=title,
        ),
        "remove": lambda: _("Your post in “%(title)s” was removed.", title=title),
        "restore": lambda: _("Your post in “%(title)s” is public again.", title=title),
        "appeal_granted": lambda: _(
            "Your appeal was granted: your post in “%(title)s” is public again.", title=title
        ),
        "appeal_denied": lambda: _(
            "Your appeal about your post in “%(title)s” was denied.", title=title
        ),
    }
    make = texts.get(action)
    return make() if make else None


def _other_content(entry: AuditEntry | None) -> dict | None:
    """What an audit entry about another package's content (a citizen-budget idea) keeps of
    it: its title and page, or None for posts, topics and people."""
    if entry is None or entry.post_id or not entry.data or not entry.data.get("url"):
        return None
    return entry.data


def _parse_iso(raw) -> datetime | None:
    if not isinstance(raw, str):
        return None
    try:
        value = datetime.fromisoformat(raw.removesuffix("Z"))
    except ValueError:
        return None
    return value.astimezone(UTC).replace(tzinfo=None) if value.tzinfo else value


def _suspension_terms(entry: AuditEntry) -> str:
    until = _parse_iso((entry.data or {}).get("until"))
    if until is None:
        return _(
            "Your account is suspended until further notice: you can read, but not "
            "write, support, report, ask or vote. Reason: %(reason)s",
            reason=entry.text,
        )
    return _(
        "Your account is suspended until %(until)s: you can read, but not write, "
        "support, report, ask or vote. Reason: %(reason)s",
        until=babel_datetime(until.replace(tzinfo=UTC), "short"),
        reason=entry.text,
    )


def _headline(kind: str, entry: AuditEntry | None, title: str) -> str | None:
    other = _other_content(entry)
    if kind == "moderation_appeal" and other is not None:
        title = other.get("title", "")
        if entry.action == "appeal_granted":
            return _("Your appeal was granted: “%(title)s” is published again.", title=title)
        return _("Your appeal about “%(title)s” was denied.", title=title)
    if kind in ("moderation_decision", "moderation_appeal") and entry is not None:
        return decision_text(entry.action, title)
    texts = {
        "moderation_decision": lambda: _(
            "A moderator has made a decision about your post in “%(title)s”.", title=title
        ),
        "moderation_appeal": lambda: _(
            "Your appeal about your post in “%(title)s” has been decided.", title=title
        ),
        "moderation_suspension": lambda: _("Your account is suspended."),
        "moderation_unsuspended": lambda: _(
            "Your suspension is lifted. Welcome back to the debate."
        ),
    }
    make = texts.get(kind)
    return make() if make else None


def _rule(detail: dict, facts: NoticeFacts, entry: AuditEntry) -> None:
    if entry.rule is not None:
        detail["rule"] = entry.rule.title(str(get_locale() or "da"))
        detail["rule_url"] = facts.link("moderation.rules") + f"#rule-{entry.rule.code}"


def _said(entry: AuditEntry) -> str | None:
    if entry.text and entry.action != "appeal":
        return _("The moderator wrote:") + " " + quote(entry.text)
    return None


def _appeal_url(facts: NoticeFacts, entry: AuditEntry) -> str | None:
    """The link to appeal ``entry``, while it can be appealed (once, while it applies)."""
    if not appealable_entry(entry, facts.post):
        return None
    if db.session.scalar(select(Appeal.id).where(Appeal.entry_id == entry.id)) is not None:
        return None
    return facts.link("moderation.appeal", entry_id=entry.id)


def _superseded(facts: NoticeFacts, entry: AuditEntry | None) -> bool:
    """A decision on a post that no longer holds (hidden, then restored within the minute
    before the mail left): the later decision's mail tells what is true."""
    post = facts.post
    return (
        facts.kind == "moderation_decision"
        and entry is not None
        and post is not None
        and entry.target_type == "post"
        and bool(entry.to_state)
        and post.state.value != entry.to_state
    )


def describe(facts: NoticeFacts) -> Notice | None:
    """A moderation decision with its reason: the debate rule (in the reader's language) and
    the moderator's words, the post it is about (its author may read it), and (mail) how to
    appeal while the decision can be appealed."""
    mail = facts.medium == "mail"
    if facts.kind == "moderation_reminder":
        minutes = current_app.config["MODERATION_REMIND_AFTER_MINUTES"]
        text = _(
            "Items in the moderation queue have waited longer than %(num)d minutes.", num=minutes
        )
        return Notice(text, facts.link("moderation.queue"))
    if facts.post is not None and not permissions.can_see_post(facts.user, facts.post):
        facts.post = None
    title = visible_topic_title(facts)
    entry = _entry(facts)
    text = _headline(facts.kind, entry, title)
    if text is None or (mail and _superseded(facts, entry)):
        return None
    detail: dict = {}
    notice = Notice(text, facts.link("forum.notifications") if mail else None, detail)
    _reason(detail, facts, entry)
    _links(notice, facts, entry)
    return notice


def _reason(detail: dict, facts: NoticeFacts, entry: AuditEntry | None) -> None:
    mail = facts.medium == "mail"
    if entry is None:
        if mail:
            detail["more"] = _("See the reasons and what you can do on your notifications page.")
    elif facts.kind == "moderation_suspension":
        # The page says the reason; the mail the terms (until when, what one may not do).
        if mail:
            _rule(detail, facts, entry)
            detail["said"] = _suspension_terms(entry)
        elif entry.text:
            detail["said"] = _("Reason:") + " " + entry.text
    else:
        _rule(detail, facts, entry)
        said = _said(entry)
        if said:
            detail["said"] = said


def _links(notice: Notice, facts: NoticeFacts, entry: AuditEntry | None) -> None:
    """Where it leads: the other package's content, or the person's own post (the page links
    it after the sentence), and (mail) the appeal while one may be made."""
    mail, detail = facts.medium == "mail", notice.detail
    other = _other_content(entry)
    if other is not None:
        url = str(other["url"])
        if url.startswith("/"):
            notice.url = facts.site(url)
        elif not mail:
            notice.url = url
        detail["see"] = _("See it")
    if facts.post is not None and facts.kind in ("moderation_decision", "moderation_appeal"):
        notice.url = post_link(facts)
        detail["see"] = _("See your post")
        detail["own_excerpt_html"] = facts.post.body_html
    if mail and entry is not None and facts.kind == "moderation_decision":
        appeal = _appeal_url(facts, entry)
        if appeal:
            detail["appeal_url"] = appeal


def _proposal(forum_describe):
    """The forum's proposal kinds, with the decision's rule and words added (a declined
    proposal says why on the page too, as its mail always did)."""

    def describe_proposal(facts: NoticeFacts) -> Notice | None:
        notice = forum_describe(facts)
        if notice is None:
            return None
        entry = _entry(facts)
        if entry is None:
            if facts.medium == "mail":
                notice.detail["more"] = _(
                    "See the reasons and what you can do on your notifications page."
                )
            return notice
        _rule(notice.detail, facts, entry)
        said = _said(entry)
        if said:
            notice.detail["said"] = said
        return notice

    return describe_proposal


def register(app) -> None:
    for kind in MODERATION_KINDS:
        hooks.register_notification_kind(app, kind, describe, package="moderation")
    forum_kinds = hooks.notification_kinds(app)
    for kind in ("topic_accepted", "topic_declined"):
        if kind in forum_kinds:
            hooks.register_notification_kind(
                app, kind, _proposal(forum_kinds[kind].describe), package="moderation"
            )
