"""Watched words and debate rules (admins), and the default rules."""

from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import select

from forum.errors import InvalidInput, PermissionDenied
from forum.extensions import db
from forum.models import User, utcnow
from forum.rendering import render_markdown

from .. import permissions
from ..defaults import DEFAULT_RULES
from ..models import WORD_ACTIONS, WORD_LANGUAGES, DebateRule, WatchedWord
from ._common import _clean_text, audit, get_rule


def add_watched_word(
    admin: User, word: str, language: str, action: str, rule_id=None
) -> WatchedWord:
    if not permissions.can_edit_words(admin):
        raise PermissionDenied(_("Only admins may edit the watched words."))
    word = " ".join((word or "").casefold().split())
    if not 2 <= len(word.rstrip("*")) <= 100 or "*" in word.rstrip("*"):
        raise InvalidInput(
            word=_("Enter a word or phrase of 2–100 characters; a * is allowed only at the end.")
        )
    if language not in WORD_LANGUAGES:
        raise InvalidInput(language=_("Unknown language."))
    if action not in WORD_ACTIONS:
        raise InvalidInput(action=_("Unknown action."))
    rule = get_rule(rule_id, required=action == "reject")
    exists = db.session.scalar(
        select(WatchedWord.id).where(WatchedWord.word == word, WatchedWord.language == language)
    )
    if exists is not None:
        raise InvalidInput(word=_("This word is already on the list."))
    w = WatchedWord(
        word=word,
        language=language,
        action=action,
        rule_id=rule.id if rule else None,
        created_at=utcnow(),
        created_by_id=admin.id,
    )
    db.session.add(w)
    db.session.flush()
    audit(
        "word_add",
        "word",
        w.id,
        actor=admin,
        to_state=action,
        rule=rule,
        text=word,
        data={"language": language},
    )
    return w


def remove_watched_word(admin: User, word: WatchedWord) -> None:
    if not permissions.can_edit_words(admin):
        raise PermissionDenied(_("Only admins may edit the watched words."))
    audit(
        "word_remove",
        "word",
        word.id,
        actor=admin,
        from_state=word.action,
        rule=word.rule,
        text=word.word,
        data={"language": word.language},
    )
    db.session.delete(word)
    db.session.flush()


def _render_rule(rule: DebateRule) -> None:
    rule.body_da_html = str(render_markdown(rule.body_da)) if rule.body_da else ""
    rule.body_en_html = str(render_markdown(rule.body_en)) if rule.body_en else ""


def ensure_default_rules() -> int:
    """Insert the default debate rules that are missing (by code); returns how many.

    Safe to call repeatedly; ``seed-demo`` and ``flask moderation ensure-rules`` call it.
    """
    have = set(db.session.scalars(select(DebateRule.code)))
    added = 0
    for position, data in enumerate(DEFAULT_RULES, start=1):
        if data["code"] in have:
            continue
        rule = DebateRule(position=position * 10, active=True, updated_at=utcnow(), **data)
        _render_rule(rule)
        db.session.add(rule)
        added += 1
    db.session.flush()
    return added


def save_rule(
    admin: User,
    rule: DebateRule | None,
    *,
    code: str,
    title_da: str,
    title_en: str,
    body_da: str,
    body_en: str,
    position: int = 0,
    active: bool = True,
) -> DebateRule:
    """Create or edit a debate rule (admins). Codes are fixed once created."""
    if not permissions.can_edit_rules(admin):
        raise PermissionDenied(_("Only admins may edit the debate rules."))
    errors = {}
    title_da, title_en = " ".join((title_da or "").split()), " ".join((title_en or "").split())
    if not 2 <= len(title_da) <= 120:
        errors["title_da"] = _("Use between 2 and 120 characters.")
    if not 2 <= len(title_en) <= 120:
        errors["title_en"] = _("Use between 2 and 120 characters.")
    if rule is None:
        code = (code or "").strip().lower()
        if not code or len(code) > 40 or not all(c.isalnum() or c == "-" for c in code):
            errors["code"] = _("Use 1–40 lower-case letters, digits and hyphens.")
        elif db.session.scalar(select(DebateRule.id).where(DebateRule.code == code)):
            errors["code"] = _("A rule with this code exists.")
    if errors:
        raise InvalidInput(**errors)
    body_da = _clean_text(body_da, "body_da", 5000)
    body_en = _clean_text(body_en, "body_en", 5000)
    created = rule is None
    if created:
        rule = DebateRule(code=code)
        db.session.add(rule)
    before = {} if created else {"title_da": rule.title_da, "active": rule.active}
    rule.title_da, rule.title_en = title_da, title_en
    rule.body_da, rule.body_en = body_da, body_en
    rule.position, rule.active, rule.updated_at = position, active, utcnow()
    _render_rule(rule)
    db.session.flush()
    audit(
        "rule_add" if created else "rule_edit",
        "rule",
        rule.id,
        actor=admin,
        from_state=None if created else ("active" if before["active"] else "inactive"),
        to_state="active" if active else "inactive",
        rule=rule,
        text=title_da,
    )
    return rule
