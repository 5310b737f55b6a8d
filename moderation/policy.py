"""The moderation policy the forum asks for each new post and each edit of a published post.

Registered with ``forum.hooks.register_post_policy`` at start-up. Whatever the mode, a post
is held when its author has fewer than ``MODERATION_TRUST_THRESHOLD`` approved posts, when it
has links and its author is new, when it matches a watched word whose action is "hold", or
when its author posts faster than the limit; a watched word with action "reject" rejects a
new post at once (an edit is held instead, for a moderator to look at).

``Post.held_reason`` keeps the reasons as ``code[=detail]`` joined by ``;`` (at most 200
characters); ``describe`` turns them into sentences for authors and moderators.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import timedelta
from functools import lru_cache

from flask import current_app
from flask_babel import gettext as _
from flask_babel import ngettext
from sqlalchemy import func, or_, select

from forum import permissions as forum_permissions
from forum.extensions import db
from forum.hooks import PostDecision
from forum.models import Post, PostState, Topic, User, utcnow

from .models import ModerationMode, WatchedWord

# Reason codes, most telling first: the first one found is the queue item's main reason.
HOLD_REASONS = ("watched_word", "rate", "links", "pre_moderation", "new_author")
# Item reasons that are not policy holds.
OTHER_REASONS = ("flags", "appeal", "proposal", "new_content", "edited_content")

_DA_SUFFIXES = (
    "e",
    "en",
    "er",
    "et",
    "ene",
    "erne",
    "ernes",
    "enes",
    "ens",
    "ers",
    "ets",
    "es",
    "s",
    "t",
    "ede",
    "ende",
    "este",
    "ne",
    "nes",
)
_DA_AFTER_E = ("r", "n", "rne", "rnes", "ns", "rs", "t", "s", "de", "nde", "ste", "ne", "nes")
_EN_SUFFIXES = ("s", "es", "'s", "’s", "ed", "ing", "er", "ers", "est", "ings")
_EN_AFTER_E = ("s", "d", "r", "rs", "st", "'s", "’s")
_LINK_RE = re.compile(r"(https?://|www\.)\S+|\]\(\s*\S+\)", re.I)


@dataclass
class Assessment:
    """What the policy found; kept on the post (``post.moderation_assessment``) for the
    signal handlers that create the queue item or the automatic rejection."""

    reasons: list[tuple[str, str]] = field(default_factory=list)
    reject_word: WatchedWord | None = None

    def held_reason(self) -> str | None:
        if self.reject_word is not None:
            return _encode([("watched_word", self.reject_word.word)])
        return _encode(self.reasons) if self.reasons else None

    @property
    def main_reason(self) -> str:
        if self.reject_word is not None:
            return "watched_word"
        codes = {c for c, _d in self.reasons}
        return next((c for c in HOLD_REASONS if c in codes), "pre_moderation")


def _encode(reasons: list[tuple[str, str]]) -> str:
    out = ";".join(f"{code}={detail}" if detail else code for code, detail in reasons)
    return out[:200]


def decode(held_reason: str | None) -> list[tuple[str, str]]:
    """``"watched_word=idiot;new_author"`` → ``[("watched_word", "idiot"), ("new_author", "")]``."""
    out = []
    for part in (held_reason or "").split(";"):
        if part:
            code, _sep, detail = part.partition("=")
            out.append((code, detail))
    return out


def main_reason(held_reason: str | None) -> str:
    codes = {c for c, _d in decode(held_reason)}
    return next((c for c in HOLD_REASONS if c in codes), "pre_moderation")


def reason_label(code: str, detail: str = "") -> str:
    cfg = current_app.config
    labels = {
        "watched_word": lambda: (
            _("Contains a watched word: “%(word)s”", word=detail)
            if detail
            else _("Contains a watched word")
        ),
        "rate": lambda: ngettext(
            "Posting faster than %(num)d post in %(min)d minutes",
            "Posting faster than %(num)d posts in %(min)d minutes",
            cfg["MODERATION_RATE_POSTS"],
            min=cfg["MODERATION_RATE_WINDOW_SECONDS"] // 60,
        ),
        "links": lambda: _("Contains links, and the author is new"),
        "pre_moderation": lambda: _("The topic is pre-moderated"),
        "new_author": lambda: ngettext(
            "The author has fewer than %(num)d approved post",
            "The author has fewer than %(num)d approved posts",
            cfg["MODERATION_TRUST_THRESHOLD"],
        ),
        "flags": lambda: _("Reported by users"),
        "appeal": lambda: _("Appeal of a decision"),
        "proposal": lambda: _("Topic proposal"),
        # Other packages' content (forum.hooks.ReviewRequest): e.g. citizen budget ideas.
        "new_content": lambda: _("New, waits for a moderator before it is published"),
        "edited_content": lambda: _("Edited after it was published; waits for a moderator again"),
    }
    return labels[code]() if code in labels else code


def labels() -> dict[str, str]:
    """Labels the queue repeats for every item, translated once per page."""
    return {
        "approved": _("Approved posts"),
        "rejected": _("Rejected"),
        "hidden": _("Hidden or removed"),
        "flags": _("Reports received"),
        "suspensions": _("Suspensions"),
        "suspended_now": _("suspended now"),
        "waiting": _("Waiting since"),
        "why": _("Why:"),
        "author": _("Author:"),
        "record_link": _("record and suspension"),
        "open": _("Open and handle"),
        "view": _("View"),
        "approve": _("Approve"),
        "proposed_by": _("Proposed by"),
        "other": _("Other"),
        "post": _("Held post"),
        "flag": _("Reported post"),
        "proposal": _("Topic proposal"),
        "appeal": _("Appeal"),
        "hidden_pending": _("hidden pending review"),
        "select": _("Select"),
    }


def describe(held_reason: str | None) -> list[str]:
    return [reason_label(code, detail) for code, detail in decode(held_reason)]


# --- watched words -----------------------------------------------------------------------


def _inflections(word: str, language: str) -> str:
    """A regex for the endings ``word`` may take in ``language`` ("any": Danish or English)."""
    endings: set[str] = set()
    if language in ("da", "any"):
        endings.update(_DA_AFTER_E if word.endswith("e") else _DA_SUFFIXES)
    if language in ("en", "any"):
        endings.update(_EN_AFTER_E if word.endswith("e") else _EN_SUFFIXES)
    alternation = "|".join(re.escape(e) for e in sorted(endings, key=len, reverse=True))
    last = word[-1]
    doubled = f"{re.escape(last)}?" if last.isalpha() and last.lower() not in "aeiouyæøå" else ""
    stem = re.escape(word)
    if language in ("en", "any") and word.endswith("e") and len(word) > 2:
        # hate → hating, hated
        return rf"(?:{stem}(?:{alternation})?|{re.escape(word[:-1])}(?:ing|ed|er|ers))"
    return rf"{stem}(?:{doubled}(?:{alternation}))?"


@lru_cache(maxsize=2048)
def word_pattern(word: str, language: str) -> re.Pattern[str]:
    """Whole-word, case-insensitive, inflection-aware; ``prefix*`` matches any ending;
    in a phrase only the last word is inflected."""
    word = " ".join(word.casefold().split())
    parts = word.split(" ")
    head = r"\s+".join(re.escape(p) for p in parts[:-1])
    last = parts[-1]
    if last.endswith("*"):
        tail = re.escape(last.rstrip("*")) + r"\w*"
    else:
        tail = _inflections(last, language)
    body = (head + r"\s+" if head else "") + tail
    return re.compile(rf"(?<!\w){body}(?!\w)", re.IGNORECASE)


def matching_words(text: str, words: list[WatchedWord]) -> list[WatchedWord]:
    return [w for w in words if word_pattern(w.word, w.language).search(text)]


def all_watched_words() -> list[WatchedWord]:
    return list(db.session.scalars(select(WatchedWord).order_by(WatchedWord.id)))


# --- modes ---------------------------------------------------------------------------------


def effective_mode(topic: Topic) -> tuple[str, str]:
    """(mode, where it comes from: "topic", "committee", "area" or "default").

    A topic's own mode wins; otherwise the stricter of its committee's and area's modes.
    """
    conds = [ModerationMode.topic_id == topic.id]
    if topic.committee_id is not None:
        conds.append(ModerationMode.committee_id == topic.committee_id)
    if topic.area_id is not None:
        conds.append(ModerationMode.area_id == topic.area_id)
    rows = db.session.scalars(select(ModerationMode).where(or_(*conds))).all()
    for r in rows:
        if r.topic_id is not None:
            return r.mode, "topic"
    for r in sorted(rows, key=lambda r: r.mode != "pre"):
        return r.mode, "committee" if r.committee_id is not None else "area"
    return current_app.config["MODERATION_DEFAULT_MODE"], "default"


# --- the policy ----------------------------------------------------------------------------


def approved_count(user: User) -> int:
    return (
        db.session.scalar(
            select(func.count(Post.id)).where(
                Post.author_id == user.id, Post.state == PostState.PUBLISHED
            )
        )
        or 0
    )


def has_links(post: Post) -> bool:
    return bool(_LINK_RE.search(post.body_source or "")) or "href=" in (post.body_html or "")


def _is_new(user: User, approved: int) -> bool:
    cfg = current_app.config
    young = user.created_at is None or (
        utcnow() - user.created_at < timedelta(days=cfg["MODERATION_NEW_ACCOUNT_DAYS"])
    )
    return young or approved < cfg["MODERATION_LINK_TRUST_THRESHOLD"]


def _too_fast(user: User) -> bool:
    cfg = current_app.config
    since = utcnow() - timedelta(seconds=cfg["MODERATION_RATE_WINDOW_SECONDS"])
    recent = (
        db.session.scalar(
            select(func.count(Post.id)).where(Post.author_id == user.id, Post.created_at >= since)
        )
        or 0
    )
    return recent >= cfg["MODERATION_RATE_POSTS"]


def assess(post: Post, action: str) -> Assessment:
    """Every reason to hold (or reject) ``post``; empty for staff and when disabled."""
    result = Assessment()
    author = post.author
    if not current_app.config.get("MODERATION_ENABLED") or forum_permissions.is_moderator(author):
        return result
    cfg = current_app.config
    # The post is in the session but not flushed: it must not be flushed from in here (the
    # forum flushes it itself, to catch a repeated form).
    with db.session.no_autoflush:
        for w in matching_words(post.body_source or "", all_watched_words()):
            if w.action == "reject" and action == "create" and result.reject_word is None:
                result.reject_word = w
            else:
                result.reasons.append(("watched_word", w.word))
        if action == "create" and _too_fast(author):
            result.reasons.append(("rate", ""))
        approved = approved_count(author)
        if has_links(post) and _is_new(author, approved):
            result.reasons.append(("links", ""))
        if effective_mode(post.topic)[0] == "pre":
            result.reasons.append(("pre_moderation", ""))
        if approved < cfg["MODERATION_TRUST_THRESHOLD"]:
            result.reasons.append(("new_author", ""))
    return result


def post_policy(post: Post, action: str) -> PostDecision:
    """The hook the forum calls (see ``forum.hooks``)."""
    result = assess(post, action)
    post.moderation_assessment = result  # read by the post_created / post_edited handlers
    if result.reject_word is not None:
        return PostDecision(PostState.REJECTED, result.held_reason())
    if result.reasons:
        return PostDecision(PostState.PENDING, result.held_reason())
    return PostDecision(PostState.PUBLISHED)
