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
from flask_babel import gettext as _
from markupsafe import Markup
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from forum import hooks
from forum.extensions import db
from forum.models import Notification, Post, Topic, User
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
# What a mail says of each item is registered by the package that writes the notification
# (forum.hooks.register_notification_kind): the same sentence, link and detail as on the
# notifications page. The mail adds only its own shape: excerpts, the grouping by topic.

_POST_KINDS = (Kind.REPLY, Kind.FOLLOWED_TOPIC, Kind.SAVED_SEARCH)


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


def facts_of(user: User, item: MailItem, now: datetime) -> hooks.NoticeFacts:
    """A mail item as the registered describers see it (absolute links)."""
    post = db.session.get(Post, item.post_id) if item.post_id else None
    topic = db.session.get(Topic, item.topic_id) if item.topic_id else None
    return hooks.NoticeFacts(
        kind=item.source or "",
        user=user,
        medium="mail",
        link=external_url,
        site=site_url,
        topic=topic,
        post=post,
        actor=post.author if post is not None else None,
        payload=dict(item.payload or {}),
        created_at=item.created_at,
        expires_at=item.expires_at,
        now=now,
        find_notification=lambda: _notification_id(user, item),
    )


def entry(user: User, item: MailItem, now: datetime) -> dict | None:
    """What to say about one item, or None when the recipient may no longer see it."""
    facts = facts_of(user, item, now)
    notice = hooks.describe_notification(facts)
    if notice is None:
        return None
    detail = dict(notice.detail)
    out: dict = {
        "kind": item.kind,
        "text": notice.text,
        "url": notice.url or external_url("forum.notifications"),
        "when": item.created_at,
    }
    for key in ("said", "rule", "rule_url", "appeal_url", "more"):
        if detail.get(key):
            out[key] = detail[key]
    if detail.get("own_excerpt_html") is not None:
        out["own_excerpt"] = excerpt(detail["own_excerpt_html"])
    if "excerpt_html" in detail:
        out["excerpt"] = excerpt(detail["excerpt_html"])
    if item.kind in _POST_KINDS:
        # Grouped by topic in a digest (a saved search's new topic is a group of its own).
        topic = facts.post.topic if facts.post is not None else facts.topic
        out["author"] = (
            facts.post.author.display_name if facts.post is not None else topic.author.display_name
        )
        out["topic_id"] = topic.id
        out["topic_title"] = topic.title
        out["topic_url"] = external_url("forum.topic", topic_id=topic.id)
        if facts.post is not None:
            out["post_id"] = facts.post.id
            out["when"] = facts.post.created_at
        else:
            out["when"] = topic.created_at
    return out


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
