"""Privacy use cases: the site's privacy settings, consents, export, deletion and retention.

What belongs to a person is found through the shared metadata, by table and column name
(``OWNED``), so this package imports none of the other feature packages' modules; a test
fails when a column that points at ``users.id`` is in neither ``OWNED`` nor ``NOT_OWNED``.
Services never commit.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from flask_babel import gettext as _
from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError

from forum import eventlog, hooks
from forum import services as forum_services
from forum import sessions as forum_sessions
from forum.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from forum.extensions import db
from forum.localtime import format_local
from forum.models import (
    Notification,
    Post,
    PostState,
    Role,
    Topic,
    User,
    moderator_areas,
    politician_committees,
    utcnow,
)

from .models import DEFAULTS, ConsentRecord, DeletionRequest, SiteSettings

log = logging.getLogger("borgerdialog.privacy")

# table -> the column naming the person the row belongs to (their own data: exported).
OWNED: dict[str, str] = {
    "user_sessions": "user_id",
    "topics": "author_id",
    "posts": "author_id",
    "supports": "user_id",
    "follows": "user_id",
    "notifications": "user_id",
    "politician_committees": "user_id",
    "moderator_areas": "user_id",
    "saved_searches": "user_id",
    "mail_preferences": "user_id",
    "mail_messages": "user_id",
    "mail_items": "user_id",
    "qa_votes": "user_id",
    "qa_signups": "user_id",
    "qa_session_politicians": "user_id",
    "budget_ideas": "author_id",
    "budget_idea_supports": "user_id",
    "budget_ballots": "user_id",
    "moderation_flags": "reporter_id",
    "moderation_appeals": "author_id",
    "moderation_suspensions": "user_id",
    "privacy_consents": "user_id",
    "privacy_deletions": "user_id",
    "opinion_participants": "user_id",  # votes and statements hang on the participant
    "privacy_facts": "user_id",  # optional facts given with consent (reach.py)
    "admin_invitations": "used_by_id",  # the invitation the person accepted (their address)
    "meeting_registrations": "user_id",
    "meeting_contacts": "user_id",
    "meeting_politicians": "user_id",
    "meeting_invitation_politicians": "user_id",
    "meeting_calendar_tokens": "user_id",
}
# Columns that name a person acting on someone else's data (staff decisions, the actor of
# another person's notification): not the person's own data, and not exported to them.
NOT_OWNED: dict[str, set[str]] = {
    "budget_processes": {"created_by_id"},
    "opinion_rounds": {"created_by_id"},
    "opinion_statements": {"proposed_by_id"},
    "budget_results": {"counted_by_id"},
    "budget_idea_reviews": {"actor_id"},
    "budget_status_updates": {"author_id"},
    "moderation_audit": {"actor_id"},
    "moderation_suspensions": {"created_by_id", "lifted_by_id"},
    "moderation_watched_words": {"created_by_id"},
    "moderation_modes": {"updated_by_id"},
    "moderation_flags": {"post_author_id", "resolved_by_id"},
    "moderation_appeals": {"decided_by_id"},
    "moderation_queue": {"claimed_by_id", "decided_by_id", "avoid_user_id"},
    "notifications": {"actor_id"},
    "qa_sessions": {"created_by_id"},
    "privacy_site_settings": {"updated_by_id"},
    "privacy_population_shares": {"updated_by_id"},
    "admin_invitations": {"created_by_id"},
    "admin_site_look": {"updated_by_id"},
    "committees": {"chair_id"},
    # an outcome is the municipality's account of a decision, written in office
    "outcomes": {"created_by_id"},
    "outcome_updates": {"author_id"},
    # a report definition is made in office, like an outcome
    "report_definitions": {"created_by_id"},
    # meetings are organised, invitations sent and offline contributions noted in office
    "meetings": {"organiser_id"},
    "meeting_invitations": {"inviter_id", "answered_by_id"},
    "meeting_contributions": {"noted_by_id"},
    # an API key is the municipality's integration, made by staff in office
    "api_keys": {"owner_id", "created_by_id"},
}
# Never handed out, even to the owner: secrets that would let a copy of the export log in.
SECRET_COLUMNS = {
    ("users", "password_hash"),
    ("user_sessions", "key_hash"),
    ("meeting_calendar_tokens", "token"),
}

FORMER_NAME = "Tidligere deltager"  # what an anonymised account's name becomes
TEXT_LIMITS = {
    "municipality_name": 200,
    "contact_address": 1000,
    "data_controller": 1000,
    "dpo_contact": 1000,
}
NUMBER_LIMITS = {
    "deletion_grace_days": (1, 90),
    "unverified_retention_days": (1, 365),
    "mail_retention_days": (7, 3650),
}


# --- settings -----------------------------------------------------------------------------


def current_settings() -> SiteSettings:
    """The settings row, or the demo's defaults (unsaved) until an admin saves them."""
    row = db.session.get(SiteSettings, 1)
    if row is None:
        row = SiteSettings(id=1, **DEFAULTS)
    return row


def update_settings(admin: User, values: dict) -> SiteSettings:
    """Save the settings (admins only). A change of what the notice says bumps its version,
    so consents given from now on record the new one."""
    if not admin.is_admin:
        raise PermissionDenied(_("Only administrators may change the privacy settings."))
    errors: dict[str, str] = {}
    clean: dict[str, object] = {}
    for name, limit in TEXT_LIMITS.items():
        lines = str(values.get(name) or "").strip().splitlines()
        value = "\n".join(line.rstrip() for line in lines)
        if not value:
            errors[name] = _("This field is required.")
        elif len(value) > limit:
            errors[name] = _("Use at most %(num)d characters.", num=limit)
        clean[name] = value
    for name, (lo, hi) in NUMBER_LIMITS.items():
        value = values.get(name)
        if not isinstance(value, int) or not lo <= value <= hi:
            errors[name] = _("Use a whole number from %(lo)d to %(hi)d.", lo=lo, hi=hi)
        clean[name] = value
    if errors:
        raise InvalidInput(_("Please correct the marked fields."), **errors)
    row = db.session.get(SiteSettings, 1)
    if row is None:
        row = SiteSettings(id=1, **DEFAULTS)
        db.session.add(row)
    changed = sorted(k for k, v in clean.items() if getattr(row, k) != v)
    before = {k: getattr(row, k) for k in changed}
    if changed:
        for name in changed:
            setattr(row, name, clean[name])
        row.notice_version = (row.notice_version or 1) + 1
        row.updated_at = utcnow()
        row.updated_by_id = admin.id
    db.session.flush()
    if changed:  # in the audit log (when moderation keeps one), and on the row
        hooks.audit(
            "privacy_settings",
            "site",
            1,
            actor=admin,
            text=", ".join(changed),
            data={
                "before": before,
                "after": {k: clean[k] for k in changed},
                "notice_version": row.notice_version,
            },
        )
    log.info(
        "privacy settings changed by user %s: %s (notice version %s)",
        admin.id,
        ", ".join(changed) or "nothing",
        row.notice_version,
    )
    return row


def retention_facts(config) -> dict[str, object]:
    """What the privacy page states about retention, from the settings and the config."""
    settings = current_settings()
    return {
        "grace_days": settings.deletion_grace_days,
        "unverified_days": settings.unverified_retention_days,
        "mail_days": settings.mail_retention_days,
        "ip_hours": ip_retention_hours(config),
        "session_days": forum_sessions.lifetime().days,
    }


def ip_retention_hours(config) -> int:
    """Client addresses are kept only as rate-limit counters, which expire with their
    window: the longest configured window, in hours (at least one)."""
    longest = 1
    units = {"second": 1 / 3600, "minute": 1 / 60, "hour": 1, "day": 24, "month": 720}
    for key, value in config.items():
        if not key.startswith(("RATELIMIT_", "MODERATION_DENIED_RATE", "QA_", "PRIVACY_")):
            continue
        if not isinstance(value, str) or " per " not in value:
            continue
        for part in value.split(";"):
            words = part.strip().split()
            if len(words) >= 3 and words[1] == "per":
                count = int(words[2]) if len(words) == 4 and words[2].isdigit() else 1
                unit = words[-1].rstrip("s")
                longest = max(longest, int(round(units.get(unit, 1) * count)) or 1)
    return longest


# --- consents -----------------------------------------------------------------------------


def record_consent(user: User, kind: str = "registration") -> ConsentRecord:
    record = ConsentRecord(
        user_id=user.id, kind=kind, notice_version=current_settings().notice_version
    )
    db.session.add(record)
    db.session.flush()
    return record


def on_user_registered(user: User, **_extra) -> None:
    """``forum.signals.user_registered``: the form required the acknowledgement."""
    record_consent(user)


# --- deletion -----------------------------------------------------------------------------

MODES = ("anonymise", "erase")


def pending_deletion(user: User) -> DeletionRequest | None:
    return db.session.scalar(select(DeletionRequest).where(DeletionRequest.user_id == user.id))


def request_deletion(user: User, mode: str, password: str) -> DeletionRequest:
    """Ask to delete one's account: logged out everywhere now, completed by the purge after
    the grace period unless the person logs in before then."""
    if user.deleted_at is not None:
        raise NotFound(_("This account has been deleted."))
    if mode not in MODES:
        raise InvalidInput(mode=_("Choose what happens to your contributions."))
    if not forum_services.authenticate(user.email, password or "") or user.id is None:
        raise InvalidInput(password=_("The password is not right."))
    existing = pending_deletion(user)
    if existing is not None:
        raise Conflict(
            _(
                "Your account is already being deleted; it will be deleted after %(date)s.",
                date=format_local(existing.due_at, "long"),
            )
        )
    now = utcnow()
    grace = current_settings().deletion_grace_days
    req = DeletionRequest(
        user_id=user.id, mode=mode, requested_at=now, due_at=now + timedelta(days=grace)
    )
    db.session.add(req)
    try:
        with db.session.begin_nested():
            db.session.flush()
    except IntegrityError:  # a second request at the same moment
        raise Conflict(_("Your account is already being deleted.")) from None
    forum_sessions.end_all_logins(user)
    _drop_outbox(user.id)
    return req


def cancel_on_login(user: User) -> bool:
    """Logging in during the grace period cancels the deletion. True if one was cancelled."""
    req = pending_deletion(user)
    if req is None:
        return False
    db.session.delete(req)
    db.session.flush()
    return True


def _table(name: str):
    return db.metadata.tables.get(name)


def _drop_outbox(user_id: int) -> None:
    """Mails not yet handed to a sender, and items waiting for a digest, go. (A mail a
    sender holds right now is its lease's business: it goes at completion.)"""
    items, messages = _table("mail_items"), _table("mail_messages")
    if items is None or messages is None:
        return
    unsent = select(messages.c.id).where(
        messages.c.user_id == user_id, messages.c.status.in_(("queued", "failed"))
    )
    db.session.execute(
        delete(items).where(
            items.c.user_id == user_id,
            (items.c.status == "pending") | items.c.message_id.in_(unsent),
        )
    )
    db.session.execute(delete(messages).where(messages.c.id.in_(unsent)))


def _erase_address_traces(user: User) -> None:
    """Files other packages keep (mail's .eml outbox files) go before the rows naming them;
    mails to the person's address with no account on them (an invitation) go too, and the
    invitation they accepted keeps no address."""
    hooks.erase_account_traces(user.id, user.email)
    mails = _table("mail_messages")
    if mails is not None:
        db.session.execute(
            delete(mails).where(mails.c.user_id.is_(None), mails.c.to_addr == user.email)
        )
    invitations = _table("admin_invitations")
    if invitations is not None:
        db.session.execute(
            update(invitations)
            .where(invitations.c.used_by_id == user.id)
            .values(email=f"deleted-{user.id}@deleted.invalid")
        )


def complete_deletion(req: DeletionRequest, now: datetime | None = None) -> User:
    """Delete the account of ``req``: the row stays as an anonymous author, everything that
    named or described the person goes; with "erase" their texts go too."""
    user = db.session.get(User, req.user_id)
    now = now or utcnow()
    if user is None or user.deleted_at is not None:
        raise Conflict(_("This account is already deleted."))
    if req.mode == "erase":
        posts = db.session.scalars(
            select(Post).where(Post.author_id == user.id, Post.state != PostState.DELETED)
        ).all()
        for post in posts:
            forum_services.delete_post(user, post)  # as the author deleting it: placeholder
        # Topics they opened or proposed keep their title (the thread's heading); the
        # introduction, their own words, goes. The indexer follows the event.
        for topic in db.session.scalars(select(Topic).where(Topic.author_id == user.id)):
            topic.intro_source = ""
            topic.intro_html = ""
            topic.updated_at = now
            eventlog.record(
                "topic_changed",
                "topic",
                topic.id,
                f"topic:{topic.id}",
                forum_services.topic_payload(topic),
                user.id,
            )
        ideas = _table("budget_ideas")
        if ideas is not None:
            db.session.execute(
                update(ideas)
                .where(ideas.c.author_id == user.id)
                .values(description_source="", description_html="")
            )
        for name, column, text in (
            ("moderation_appeals", "author_id", "text"),
            ("moderation_flags", "reporter_id", "text"),
        ):
            table = _table(name)
            if table is not None:
                db.session.execute(
                    update(table).where(table.c[column] == user.id).values({text: ""})
                )
    _erase_address_traces(user)
    # What only described the person, or only served them, goes in both modes.
    for name in (
        "notifications",
        "follows",
        "saved_searches",
        "mail_preferences",
        "mail_items",
        "mail_messages",
        "qa_signups",
        "qa_session_politicians",
        "privacy_consents",
        "privacy_facts",
        "user_sessions",
    ):
        table = _table(name)
        if table is not None:
            db.session.execute(delete(table).where(table.c[OWNED[name]] == user.id))
    db.session.execute(
        delete(politician_committees).where(politician_committees.c.user_id == user.id)
    )
    db.session.execute(delete(moderator_areas).where(moderator_areas.c.user_id == user.id))
    ballots = _table("budget_ballots")
    if ballots is not None:  # ballots stay counted, no longer linked to anyone
        db.session.execute(update(ballots).where(ballots.c.user_id == user.id).values(user_id=None))
    ideas = _table("budget_ideas")
    if ideas is not None:
        db.session.execute(update(ideas).where(ideas.c.author_id == user.id).values(author_id=None))
    # Notifications others got about this person's actions keep no link to them.
    db.session.execute(
        update(Notification).where(Notification.actor_id == user.id).values(actor_id=None)
    )
    db.session.expire_all()
    user = db.session.get(User, req.user_id)
    user.display_name = FORMER_NAME  # the search indexer re-indexes their content (event)
    user.email = f"deleted-{user.id}@deleted.invalid"
    user.pending_email = None
    user.password_hash = "!"  # matches no password
    user.party = None
    user.locale = None
    user.role = Role.CITIZEN
    user.email_verified_at = None
    user.session_version = (user.session_version or 1) + 1
    user.deleted_at = now
    db.session.execute(delete(DeletionRequest).where(DeletionRequest.id == req.id))
    eventlog.record("account_deleted", "user", user.id, f"user:{user.id}", {"mode": req.mode})
    db.session.flush()
    return user


# --- retention: the purge -----------------------------------------------------------------


def purge(now: datetime | None = None) -> dict[str, int]:
    """Complete due deletions, remove inactive unconfirmed accounts, drop old sent mails.
    Run by the periodic thread (embedded) or ``flask privacy purge`` (cron)."""
    now = now or utcnow()
    settings = current_settings()
    done = {"deletions": 0, "unverified": 0, "mails": 0}
    due = db.session.scalars(
        select(DeletionRequest).where(DeletionRequest.due_at <= now).order_by(DeletionRequest.id)
    ).all()
    for req in due:
        with db.session.begin_nested():
            complete_deletion(req, now)
        done["deletions"] += 1
    cutoff = now - timedelta(days=settings.unverified_retention_days)
    stale = db.session.scalars(
        select(User).where(
            User.email_verified_at.is_(None),
            User.deleted_at.is_(None),
            User.role == Role.CITIZEN,
            User.created_at < cutoff,
            ~select(Post.id).where(Post.author_id == User.id).exists(),
        )
    ).all()
    for user in stale:
        if _active_since(user.id, cutoff):
            continue
        db.session.execute(
            update(Notification).where(Notification.actor_id == user.id).values(actor_id=None)
        )
        hooks.erase_account_traces(user.id, user.email)
        db.session.delete(user)  # never wrote anything: the row and its cascades go
        done["unverified"] += 1
    db.session.flush()
    mails = _table("mail_messages")
    if mails is not None:
        mail_cutoff = now - timedelta(days=settings.mail_retention_days)
        result = db.session.execute(
            delete(mails).where(mails.c.status == "sent", mails.c.sent_at < mail_cutoff)
        )
        done["mails"] = result.rowcount or 0
    if any(done.values()):
        log.info("privacy purge: %s", done)
    return done


# Rows that only served an account: they go with an unused unconfirmed one. A row in any
# other owned table (a ballot, a vote, a support, a report...) means the account was used.
DISPOSABLE = frozenset(
    {
        "user_sessions",
        "notifications",
        "follows",
        "mail_preferences",
        "mail_messages",
        "mail_items",
        "privacy_consents",
        "privacy_deletions",
        "privacy_facts",
    }
)


def _active_since(user_id: int, since: datetime) -> bool:
    """Logged in since ``since``, or did anything that counts: not an unused account."""
    from forum.models import UserSession

    if db.session.scalar(
        select(UserSession.id)
        .where(UserSession.user_id == user_id, UserSession.created_at >= since)
        .limit(1)
    ):
        return True
    for name, column in OWNED.items():
        table = _table(name)
        if name in DISPOSABLE or table is None:
            continue
        if db.session.scalar(select(table.c[column]).where(table.c[column] == user_id).limit(1)):
            return True
    return False
