"""Turning an outbox row into an e-mail, at send time, in the recipient's language.

Rendering late is deliberate: the recipient's language, preferences and permissions are
those of the moment the mail leaves, so a post hidden (or a kind turned off) after the mail
was queued is not mailed. ``build`` raises ``Skip`` when nothing is left to say.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime, parseaddr
from urllib.parse import urlsplit

from flask import current_app
from flask_babel import force_locale, get_locale, ngettext
from flask_babel import format_datetime as babel_datetime
from flask_babel import gettext as _
from markupsafe import Markup
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from forum import hooks, permissions
from forum.extensions import db
from forum.i18n import quote
from forum.models import Notification, Post, PostState, Topic, User
from forum.text import drop_controls

from . import services, tokens
from .models import ItemStatus, Kind, MailItem, MailMessage, MessageKind, Mode

# Header lines may be 998 characters (RFC 5322): never fold a List-Unsubscribe URL.
POLICY = SMTP.clone(max_line_length=998)


class Skip(Exception):  # noqa: N818 (not an error: the mail has nothing left to say)
    """The mail should not go out; the message says why (kept in ``last_error``)."""


@dataclass
class Composed:
    to: str
    subject: str
    text: str
    html: str
    locale: str
    unsubscribe_url: str | None = None
    items: list[MailItem] = field(default_factory=list)


def external_url(endpoint: str, **values) -> str:
    """An absolute link for a mail (no request here): ``MAIL_BASE_URL`` + the route."""
    base = urlsplit(current_app.config["MAIL_BASE_URL"])
    adapter = current_app.url_map.bind(
        base.netloc, script_name=base.path or "/", url_scheme=base.scheme or "http"
    )
    return adapter.build(endpoint, values, force_external=True)


def site_url(path: str) -> str:
    return current_app.config["MAIL_BASE_URL"].rstrip("/") + "/" + path.lstrip("/")


def kind_label(kind: Kind) -> str:
    return {
        Kind.REPLY: _("Replies to your posts"),
        Kind.FOLLOWED_TOPIC: _("New posts in topics you follow"),
        Kind.SAVED_SEARCH: _("New matches for your saved searches"),
        Kind.MODERATION: _("Moderation decisions about your contributions"),
        Kind.QA_REMINDER: _("Reminders of live Q&A sessions you signed up for"),
        Kind.OUTCOME: _("Outcome of a debate you took part in"),
        Kind.MEETING: _("Meetings: a seat from the waiting list, changes and cancellations"),
    }[kind]


def mode_label(mode: Mode) -> str:
    return {
        Mode.IMMEDIATE: _("Immediately"),
        Mode.DAILY: _("Daily digest"),
        Mode.WEEKLY: _("Weekly digest"),
        Mode.OFF: _("Off"),
    }[mode]


def excerpt(html: str, limit: int | None = None) -> str:
    limit = limit or current_app.config["MAIL_EXCERPT_CHARS"]
    text = " ".join(Markup(html or "").striptags().split())
    if len(text) <= limit:
        return text
    cut = text[:limit].rsplit(" ", 1)[0]
    return cut + " …"


def locale_of(user: User) -> str:
    langs = current_app.config["LANGUAGES"]
    return user.locale if user.locale in langs else current_app.config["BABEL_DEFAULT_LOCALE"]


def _render(name: str, **ctx) -> tuple[str, str]:
    env = current_app.jinja_env
    ctx.setdefault("site_url", site_url("/"))
    ctx.setdefault("lang", str(get_locale() or "da"))
    text = env.get_template(f"mail/email/{name}.txt").render(**ctx)
    html = env.get_template(f"mail/email/{name}.html").render(**ctx)
    return text.strip() + "\n", html


# --- notification entries ------------------------------------------------------------------


def _topic_entry(user: User, item: MailItem) -> dict | None:
    """A newly opened topic that matches a saved search (search tells of topics too)."""
    topic = db.session.get(Topic, item.topic_id) if item.topic_id else None
    if topic is None or not permissions.can_see_topic(user, topic):
        return None
    name, title = topic.author.display_name, topic.title
    url = external_url("forum.topic", topic_id=topic.id)
    return {
        "kind": item.kind,
        "text": _(
            "%(name)s opened the topic “%(title)s”, which matches one of your saved searches",
            name=name,
            title=title,
        ),
        "author": name,
        "topic_id": topic.id,
        "topic_title": title,
        "topic_url": url,
        "url": url,
        "excerpt": excerpt(topic.intro_html),
        "when": topic.created_at,
    }


def _post_entry(user: User, item: MailItem) -> dict | None:
    if item.source == "saved_search" and not item.post_id and item.topic_id:
        return _topic_entry(user, item)
    post = db.session.get(Post, item.post_id) if item.post_id else None
    if post is None or post.state != PostState.PUBLISHED:
        return None
    if not permissions.can_see_post(user, post):
        return None
    name, title = post.author.display_name, post.topic.title
    if item.source == "reply":
        text = _("%(name)s replied to you in “%(title)s”", name=name, title=title)
    elif item.source == "saved_search":
        text = _(
            "%(name)s wrote in “%(title)s”, which matches one of your saved searches",
            name=name,
            title=title,
        )
    else:
        text = _("%(name)s wrote in “%(title)s”, which you follow", name=name, title=title)
    return {
        "kind": item.kind,
        "text": text,
        "author": name,
        "topic_id": post.topic_id,
        "topic_title": title,
        "topic_url": external_url("forum.topic", topic_id=post.topic_id),
        "url": external_url("forum.post", post_id=post.id) + f"#p{post.id}",
        "excerpt": excerpt(post.body_html),
        "when": post.created_at,
        "post_id": post.id,
    }


# The sentences of the notifications page (templates/moderation/_notification.html), by the
# audit entry's action: the same words in the mail and on the site.
def _decision_text(action: str, title: str) -> str | None:
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


def _audit_entry(user: User, item: MailItem):
    """The moderation audit entry behind a moderation notification, or None (moderation not
    installed, or nothing recorded). Found by the notification's id, which the feed keeps;
    items queued without it fall back to the newest notification of the kind about the post."""
    if "moderation" not in current_app.blueprints:
        return None
    from moderation.models import AuditEntry

    if item.source in ("topic_accepted", "topic_declined"):
        if item.topic_id is None:
            return None
        return db.session.scalar(
            select(AuditEntry)
            .where(
                AuditEntry.target_type == "topic",
                AuditEntry.target_id == item.topic_id,
                AuditEntry.subject_user_id == user.id,
                AuditEntry.action.in_(("proposal_accept", "proposal_decline")),
            )
            .order_by(AuditEntry.id.desc())
            .limit(1)
        )
    nid = _notification_id(user, item)
    if nid is None:
        return None
    return db.session.scalar(
        select(AuditEntry)
        .where(AuditEntry.notification_id == nid, AuditEntry.subject_user_id == user.id)
        .limit(1)
    )


def _appeal_url(entry, post: Post | None) -> str | None:
    """The link to appeal ``entry``, while it can be appealed (once, while it applies)."""
    from moderation.models import Appeal
    from moderation.services import appealable_entry

    if not appealable_entry(entry, post):
        return None
    if db.session.scalar(select(Appeal.id).where(Appeal.entry_id == entry.id)) is not None:
        return None
    return external_url("moderation.appeal", entry_id=entry.id)


def _suspension_terms(entry) -> str:
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


def _other_content(entry) -> dict | None:
    """What an audit entry about another package's content (a citizen-budget idea) keeps of
    it: its title and page, or None for posts, topics and people."""
    if entry is None or entry.post_id or not entry.data or not entry.data.get("url"):
        return None
    return entry.data


def _moderation_headline(source: str, entry, title: str) -> str | None:
    """The sentence of the mail's subject, as the notifications page words it."""
    other = _other_content(entry)
    if source == "moderation_appeal" and other is not None:
        title = other.get("title", "")
        if entry.action == "appeal_granted":
            return _("Your appeal was granted: “%(title)s” is published again.", title=title)
        return _("Your appeal about “%(title)s” was denied.", title=title)
    if source in ("moderation_decision", "moderation_appeal") and entry is not None:
        return _decision_text(entry.action, title)
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
        "topic_accepted": lambda: _(
            "Your proposed topic “%(title)s” is accepted and open", title=title
        ),
        "topic_declined": lambda: _("Your proposed topic “%(title)s” was declined", title=title),
    }
    make = texts.get(source)
    return make() if make else None


def _superseded(item: MailItem, entry, post: Post | None) -> bool:
    """A decision on a post that no longer holds (hidden, then restored within the minute
    before the mail left): the later decision's mail tells what is true."""
    return (
        item.source == "moderation_decision"
        and entry is not None
        and post is not None
        and entry.target_type == "post"
        and bool(entry.to_state)
        and post.state.value != entry.to_state
    )


def _add_reason(out: dict, user: User, item: MailItem, entry) -> None:
    if entry.rule is not None:
        out["rule"] = entry.rule.title(locale_of(user))
        out["rule_url"] = external_url("moderation.rules") + f"#rule-{entry.rule.code}"
    if item.source == "moderation_suspension":
        out["said"] = _suspension_terms(entry)
    elif entry.text and entry.action != "appeal":
        out["said"] = _("The moderator wrote:") + " " + quote(entry.text)


def _moderation_entry(user: User, item: MailItem) -> dict | None:
    """A moderation decision with its reason: the debate rule (in the recipient's language)
    and the moderator's words, the post it is about (the author may read it), and how to
    appeal while the decision can be appealed."""
    topic = db.session.get(Topic, item.topic_id) if item.topic_id else None
    title = topic.title if topic is not None and permissions.can_see_topic(user, topic) else ""
    post = db.session.get(Post, item.post_id) if item.post_id else None
    if post is not None and not permissions.can_see_post(user, post):
        post = None
    entry = _audit_entry(user, item)
    text = _moderation_headline(item.source, entry, title)
    if text is None or _superseded(item, entry, post):
        return None
    out: dict = {
        "kind": item.kind,
        "text": text,
        "url": external_url("forum.notifications"),
        "when": item.created_at,
    }
    if entry is None:
        out["more"] = _("See the reasons and what you can do on your notifications page.")
    else:
        _add_reason(out, user, item, entry)
    if item.source == "topic_accepted" and title:
        out["url"] = external_url("forum.topic", topic_id=topic.id)
    other = _other_content(entry)
    if other is not None and str(other["url"]).startswith("/"):
        out["url"] = site_url(other["url"])
    if post is not None and item.source in ("moderation_decision", "moderation_appeal"):
        out["own_excerpt"] = excerpt(post.body_html)
        out["url"] = external_url("forum.post", post_id=post.id) + f"#p{post.id}"
    if entry is not None and item.source == "moderation_decision":
        appeal = _appeal_url(entry, post)
        if appeal:
            out["appeal_url"] = appeal
    return out


def _parse_iso(raw) -> datetime | None:
    if not isinstance(raw, str):
        return None
    try:
        value = datetime.fromisoformat(raw.removesuffix("Z"))
    except ValueError:
        return None
    return value.astimezone(UTC).replace(tzinfo=None) if value.tzinfo else value


def _qa_entry(user: User, item: MailItem, now: datetime) -> dict | None:
    if item.expires_at is not None and item.expires_at <= now:
        return None
    payload = item.payload or {}
    starts = item.expires_at
    path = payload.get("path")
    return {
        "kind": item.kind,
        "text": _(
            "Reminder: the live Q&A “%(title)s” starts %(when)s.",
            title=payload.get("title") or "",
            when=babel_datetime(starts.replace(tzinfo=UTC), "short") if starts else "",
        ),
        "url": site_url(path) if isinstance(path, str) and path.startswith("/") else site_url("/"),
        "when": item.created_at,
    }


def _notification_id(user: User, item: MailItem) -> int | None:
    """The in-app notification behind ``item``: kept by the feed, or (items queued without
    it) the newest of its kind about the same post up to the item."""
    nid = (item.payload or {}).get("notification_id")
    if isinstance(nid, int):
        return nid
    about = (
        Notification.post_id == item.post_id
        if item.post_id is not None
        else Notification.post_id.is_(None)
    )
    return db.session.scalar(
        select(Notification.id)
        .where(
            Notification.user_id == user.id,
            Notification.kind == item.source,
            about,
            Notification.created_at <= item.created_at + timedelta(seconds=5),
        )
        .order_by(Notification.id.desc())
        .limit(1)
    )


def _qa_merged_entry(user: User, item: MailItem) -> dict | None:
    post = db.session.get(Post, item.post_id) if item.post_id else None
    if post is None or not permissions.can_see_post(user, post):
        return None
    return {
        "kind": item.kind,
        "text": _(
            "Your question in “%(title)s” was merged with a similar question; your "
            "voice counts there",
            title=post.topic.title,
        ),
        "url": external_url("forum.post", post_id=post.id) + f"#p{post.id}",
        "when": item.created_at,
    }


def _budget_entry(user: User, item: MailItem) -> dict | None:
    """A decision on a citizen-budget idea, with the reason the municipality gave (the
    budgets package keeps it beside the notification, as its notifications page shows it)."""
    if "budgets" not in current_app.blueprints:
        return None
    from budgets.models import Notice

    nid = _notification_id(user, item)
    notice = db.session.get(Notice, nid) if nid is not None else None
    if notice is None or notice.notification.user_id != user.id:
        return None
    idea = notice.idea
    title = idea.title if idea is not None else notice.process.title
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
    }
    if item.source not in texts:
        return None
    out = {
        "kind": item.kind,
        "text": texts[item.source](),
        "when": item.created_at,
        "url": (
            external_url("budgets.idea", idea_id=idea.id)
            if idea is not None
            else external_url("budgets.process", process_id=notice.process_id)
        ),
    }
    if notice.text and item.source == "budget_idea_rejected":
        out["said"] = _("Reason:") + " " + notice.text
    elif notice.text and item.source != "budget_idea_approved":
        out["said"] = _("The municipality wrote:") + " " + quote(notice.text)
    return out


def _outcome_entry(user: User, item: MailItem) -> dict | None:
    """A new update of the outcome of a debate the user took part in: the event's payload
    names the topic and the outcome page's path; the topic must still be visible to them."""
    topic = db.session.get(Topic, item.topic_id) if item.topic_id else None
    if topic is None or not permissions.can_see_topic(user, topic):
        return None
    path = (item.payload or {}).get("path")
    return {
        "kind": item.kind,
        "text": _("New outcome of “%(title)s”, a debate you took part in", title=topic.title),
        "url": site_url(path) if isinstance(path, str) and path.startswith("/") else site_url("/"),
        "when": item.created_at,
    }


def _meeting_entry(user: User, item: MailItem) -> dict | None:
    """A meeting the user registered for (a seat came free, it moved, it was cancelled) or a
    new meeting on a followed topic: the event's payload names its title and page."""
    payload = item.payload or {}
    title, path = payload.get("title") or "", payload.get("path")
    texts = {
        "meeting_seat": _("You have a seat at “%(title)s”: you moved up from the waiting list"),
        "meeting_changed": _("“%(title)s”, a meeting you registered for, has moved"),
        "meeting_cancelled": _("“%(title)s”, a meeting you registered for, is cancelled"),
        "meeting_new": _("New meeting on a debate you follow: “%(title)s”"),
        "meeting_invitation": _("A local area invites you to a dialogue meeting: “%(title)s”"),
        "meeting_invitation_reminder": _(
            "Reminder: a local area waits for your answer to its invitation “%(title)s”"
        ),
        "meeting_invitation_answered": _("Your invitation “%(title)s” has been answered"),
    }
    if item.source not in texts or not isinstance(path, str) or not path.startswith("/"):
        return None
    return {
        "kind": item.kind,
        "text": texts[item.source] % {"title": title},
        "url": site_url(path),
        "when": item.created_at,
    }


def entry(user: User, item: MailItem, now: datetime) -> dict | None:
    """What to say about one item, or None when the recipient may no longer see it."""
    if item.kind in (Kind.REPLY, Kind.FOLLOWED_TOPIC, Kind.SAVED_SEARCH):
        return _post_entry(user, item)
    if item.source == "qa_merged":
        return _qa_merged_entry(user, item)
    if item.source.startswith("budget_"):
        return _budget_entry(user, item)
    if item.kind == Kind.MODERATION:
        return _moderation_entry(user, item)
    if item.kind == Kind.QA_REMINDER:
        return _qa_entry(user, item, now)
    if item.kind == Kind.OUTCOME:
        return _outcome_entry(user, item)
    if item.kind == Kind.MEETING:
        return _meeting_entry(user, item)
    return None


# --- the messages ----------------------------------------------------------------------------


def _recipient(msg: MailMessage) -> User:
    user = msg.user
    if user is None:
        raise Skip("the account is gone")
    return user


def _common(user: User, kinds: list[Kind]) -> dict:
    unsubscribe = None
    if kinds:
        unsubscribe = external_url(
            "mail.unsubscribe", token=tokens.unsubscribe_token(user.id, kinds)
        )
    return {
        "user": user,
        "kinds": kinds,
        "kind_label": kind_label,
        "unsubscribe_url": unsubscribe,
        "preferences_url": external_url(
            "mail.preferences_link", token=tokens.preferences_token(user.id)
        ),
        "unsubscribe_kind_url": lambda k: external_url(
            "mail.unsubscribe", token=tokens.unsubscribe_token(user.id, [k])
        ),
    }


def _account_mail(msg: MailMessage, user: User) -> Composed:
    loc = locale_of(user)
    if msg.kind == MessageKind.VERIFY_EMAIL:
        if services.is_verified(user) or user.email != msg.to_addr:
            raise Skip("already verified, or the address changed")
        link = external_url("mail.verify", token=tokens.verify_token(user))
        subject = _("Confirm your e-mail address for Borgerdialog")
        text, html = _render(
            "verify_email",
            user=user,
            link=link,
            hours=current_app.config["MAIL_VERIFY_MAX_AGE"] // 3600,
        )
    elif msg.kind == MessageKind.PASSWORD_RESET:
        if user.email != msg.to_addr:
            raise Skip("the address changed")
        link = external_url("mail.reset_password", token=tokens.reset_token(user))
        subject = _("Choose a new password for Borgerdialog")
        text, html = _render(
            "password_reset",
            user=user,
            link=link,
            minutes=current_app.config["MAIL_RESET_MAX_AGE"] // 60,
            forgot_url=external_url("mail.forgot_password"),
        )
    elif msg.kind == MessageKind.EMAIL_CHANGE:
        if user.pending_email != msg.to_addr:
            raise Skip("the change was cancelled or superseded")
        link = external_url(
            "mail.confirm_email_change", token=tokens.change_token(user, msg.to_addr)
        )
        subject = _("Confirm your new e-mail address for Borgerdialog")
        text, html = _render(
            "email_change",
            user=user,
            link=link,
            new=msg.to_addr,
            hours=current_app.config["MAIL_VERIFY_MAX_AGE"] // 3600,
        )
    elif msg.kind == MessageKind.ACCOUNT_EXISTS:
        if user.email != msg.to_addr:
            raise Skip("the address changed")
        subject = _("Someone tried to create an account with your address")
        text, html = _render(
            "account_exists",
            user=user,
            email=user.email,
            login_url=external_url("forum.login"),
            forgot_url=external_url("mail.forgot_password"),
        )
    else:  # EMAIL_CHANGED, to the old address
        subject = _("Your e-mail address for Borgerdialog was changed")
        text, html = _render(
            "email_changed",
            user=user,
            old=msg.to_addr,
            new=mask((msg.payload or {}).get("new", "")),
            forgot_url=external_url("mail.forgot_password"),
        )
    return Composed(msg.to_addr, subject, text, html, loc)


def mask(address: str) -> str:
    """``anne@example.dk`` → ``a***@example.dk``: enough to recognise, not to harvest."""
    local, _, domain = address.partition("@")
    return (local[:1] + "***@" + domain) if domain else "***"


def _live_items(msg: MailMessage) -> list[MailItem]:
    return [i for i in msg.items if i.status == ItemStatus.QUEUED]


def _load_posts(items: list[MailItem]) -> list[Post]:
    """The items' posts with their authors and topics, in one query (the entries then find
    them in the session). Keep the list while composing: the session holds them weakly."""
    ids = {i.post_id for i in items if i.post_id}
    if not ids:
        return []
    return list(
        db.session.scalars(
            select(Post)
            .options(joinedload(Post.author), joinedload(Post.topic))
            .where(Post.id.in_(ids))
        ).unique()
    )


def _notification(msg: MailMessage, user: User, now: datetime) -> Composed:
    items = _live_items(msg)
    if not items:
        raise Skip("cancelled")
    item = items[0]
    if services.mode_for(user.id, item.kind) == Mode.OFF:
        raise Skip("the kind is turned off")
    posts = _load_posts([item])
    found = entry(user, item, now)
    del posts
    if found is None:
        raise Skip("no longer visible to the recipient")
    ctx = _common(user, [item.kind])
    text, html = _render("notification", entry=found, **ctx)
    return Composed(
        user.email, found["text"], text, html, locale_of(user), ctx["unsubscribe_url"], items
    )


def digest_model(user: User, items: list[MailItem], now: datetime) -> dict:
    """Group a digest: posts by topic (topics and posts newest first), the rest apart."""
    per_topic = current_app.config["MAIL_DIGEST_PER_TOPIC"]
    max_topics = current_app.config["MAIL_DIGEST_MAX_TOPICS"]
    topics: dict[int, dict] = {}
    others: list[dict] = []
    seen_posts: set[int] = set()
    total = 0
    for item in items:
        found = entry(user, item, now)
        if found is None:
            continue
        if "post_id" in found:
            if found["post_id"] in seen_posts:
                continue
            seen_posts.add(found["post_id"])
            group = topics.setdefault(
                found["topic_id"],
                {
                    "title": found["topic_title"],
                    "url": found["topic_url"],
                    "entries": [],
                },
            )
            group["entries"].append(found)
        else:
            others.append(found)
        total += 1
    groups = list(topics.values())
    for g in groups:
        g["entries"].sort(key=lambda e: (e["when"], e["post_id"]), reverse=True)
        g["newest"] = g["entries"][0]["when"]
        g["more"] = max(0, len(g["entries"]) - per_topic)
        g["entries"] = g["entries"][:per_topic]
    groups.sort(key=lambda g: g["newest"], reverse=True)
    hidden = groups[max_topics:]
    others.sort(key=lambda e: e["when"], reverse=True)
    return {
        "groups": groups[:max_topics],
        "more_topics": len(hidden),
        "more_topic_posts": sum(len(g["entries"]) + g["more"] for g in hidden),
        "others": others,
        "total": total,
    }


def _digest(msg: MailMessage, user: User, now: datetime) -> Composed:
    items = _live_items(msg)
    kinds = sorted({i.kind for i in items})
    posts = _load_posts(items)
    model = digest_model(user, items, now)
    del posts
    if not model["total"]:
        raise Skip("nothing in it is visible to the recipient any more")
    mode = (msg.payload or {}).get("mode", Mode.DAILY.value)
    if mode == Mode.WEEKLY.value:
        subject = ngettext(
            "Borgerdialog this week: %(num)d new for you",
            "Borgerdialog this week: %(num)d new for you",
            model["total"],
        )
    else:
        subject = ngettext(
            "Borgerdialog today: %(num)d new for you",
            "Borgerdialog today: %(num)d new for you",
            model["total"],
        )
    ctx = _common(user, kinds)
    text, html = _render("digest", weekly=mode == Mode.WEEKLY.value, **model, **ctx)
    return Composed(user.email, subject, text, html, locale_of(user), ctx["unsubscribe_url"], items)


def _other_mail(msg: MailMessage) -> Composed:
    """Another package's mail (``forum.hooks.queue_mail``), written by its composer now."""
    payload = dict(msg.payload or {})
    composer = hooks.mail_composer(str(payload.get("kind")))
    if composer is None:
        raise Skip("no composer is registered for this kind")
    user = msg.user
    langs = current_app.config["LANGUAGES"]
    loc = payload.get("locale")
    if loc not in langs:
        loc = locale_of(user) if user is not None else current_app.config["BABEL_DEFAULT_LOCALE"]
    with force_locale(loc):
        mail = composer(payload)
        if mail is None:
            raise Skip("nothing to send any more")
        env = current_app.jinja_env
        ctx = {"site_url": site_url("/"), "lang": loc, **mail.context}
        text = env.get_template(f"{mail.template}.txt").render(**ctx).strip() + "\n"
        html = env.get_template(f"{mail.template}.html").render(**ctx)
        return Composed(msg.to_addr, str(mail.subject), text, html, loc)


def build(msg: MailMessage, now: datetime) -> Composed:
    """Render ``msg`` for its recipient now; raises ``Skip`` when it should not go out."""
    if msg.kind == MessageKind.OTHER:
        return _other_mail(msg)
    user = _recipient(msg)
    with force_locale(locale_of(user)):
        if msg.kind in (MessageKind.NOTIFICATION, MessageKind.DIGEST):
            if not services.may_receive_mail(user):
                raise Skip("the address is not confirmed")
            if msg.kind == MessageKind.NOTIFICATION:
                return _notification(msg, user, now)
            return _digest(msg, user, now)
        return _account_mail(msg, user)


def sender_address() -> str:
    return parseaddr(current_app.config["MAIL_SENDER"])[1] or "borgerdialog@localhost"


def message_id(key: str) -> str:
    domain = sender_address().rpartition("@")[2] or "localhost"
    return f"<{hashlib.sha256(key.encode()).hexdigest()[:32]}@{domain}>"


def to_email(msg: MailMessage, composed: Composed, now: datetime) -> EmailMessage:
    email = EmailMessage(policy=POLICY)
    email["From"] = current_app.config["MAIL_SENDER"]
    email["To"] = composed.to
    # No control characters in the headers or the body (typed input drops them,
    # forum/text.py; rows stored before that are cleaned here); the subject is one line.
    email["Subject"] = " ".join(drop_controls(composed.subject).split())
    email["Date"] = format_datetime(now.replace(tzinfo=UTC))
    email["Message-ID"] = message_id(msg.key)
    email["Auto-Submitted"] = "auto-generated"
    if composed.unsubscribe_url:
        email["List-Unsubscribe"] = f"<{composed.unsubscribe_url}>"
        email["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    email.set_content(drop_controls(composed.text))
    email.add_alternative(drop_controls(composed.html), subtype="html")
    email["Content-Language"] = composed.locale  # after the body: set_content drops Content-*
    return email
