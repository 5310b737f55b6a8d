"""Mail's write operations: verification, password reset, change of address, preferences.

Like the forum's services they validate, add rows and flush, and never commit or read
``request``; the view or command commits. Mails are queued as ``MailMessage`` rows in the
caller's transaction; the sender renders and sends them later.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from datetime import datetime, timedelta

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import func, select
from werkzeug.security import check_password_hash

from forum import services as forum_services
from forum.errors import InvalidInput
from forum.extensions import db
from forum.models import User, enum_member, utcnow

from . import tokens
from .models import (
    DEFAULT_MODES,
    Kind,
    MailMessage,
    MailPreference,
    MessageKind,
    Mode,
)

# Actions an unverified account may not take (reading and following stay open).
RESTRICTED_ACTIONS = frozenset(
    {"post", "reply", "edit", "support", "open_topic", "flag", "ask", "vote"}
)


# --- verification ------------------------------------------------------------------------


def verification_required() -> bool:
    return bool(current_app.config["MAIL_REQUIRE_VERIFICATION"])


def is_verified(user: User) -> bool:
    return user.email_verified_at is not None


def may_receive_mail(user: User) -> bool:
    """Notification mails go only to confirmed addresses (any address, when the site does not
    ask for confirmation)."""
    return is_verified(user) or not verification_required()


def mark_verified(user: User, when: datetime | None = None) -> None:
    """Count the user's address as confirmed (demo data, accounts an admin made, tests)."""
    if user.email_verified_at is None:
        user.email_verified_at = when or utcnow()
        db.session.flush()


def restriction(user: User, action: str) -> str | None:
    """The forum's user-restriction hook: unverified accounts may read and follow only."""
    if not verification_required() or action not in RESTRICTED_ACTIONS:
        return None
    if user is None or not getattr(user, "id", None) or is_verified(user):
        return None
    return _(
        "Confirm your e-mail address first: follow the link we sent to %(email)s. Until then "
        "you can read and follow topics, but not write, reply, support, report, ask or vote.",
        email=user.email,
    )


def queue_message(
    user: User,
    kind: MessageKind,
    to_addr: str | None = None,
    payload: dict | None = None,
    due_at: datetime | None = None,
    key: str | None = None,
) -> MailMessage:
    """Add one e-mail to the outbox (in the caller's transaction)."""
    msg = MailMessage(
        key=key or f"{kind.value}:{user.id}:{secrets.token_hex(8)}",
        kind=kind,
        user_id=user.id,
        to_addr=to_addr,
        payload=payload or {},
        due_at=due_at or utcnow(),
    )
    db.session.add(msg)
    db.session.flush()
    return msg


def queue_other(
    kind: str,
    to_addr: str,
    payload: dict,
    user: User | None = None,
    locale: str | None = None,
) -> MailMessage:
    """``forum.hooks.queue_mail``: another package's mail of ``kind`` (its registered composer
    writes it when it is sent) to ``to_addr``, about ``user``'s account if there is one."""
    msg = MailMessage(
        key=f"other:{kind}:{secrets.token_hex(8)}"[:120],
        kind=MessageKind.OTHER,
        user_id=user.id if user is not None else None,
        to_addr=to_addr,
        payload={**payload, "kind": kind, "locale": locale},
        due_at=utcnow(),
    )
    db.session.add(msg)
    db.session.flush()
    return msg


def _recent(user: User, kind: MessageKind, seconds: int = 3600) -> int:
    since = utcnow() - timedelta(seconds=seconds)
    return (
        db.session.scalar(
            select(func.count(MailMessage.id)).where(
                MailMessage.user_id == user.id,
                MailMessage.kind == kind,
                MailMessage.created_at >= since,
            )
        )
        or 0
    )


def queue_verification(user: User) -> bool:
    """Mail a confirmation link to the user's address; False when already verified or when
    ``MAIL_VERIFY_PER_HOUR`` links went out in the last hour."""
    if is_verified(user):
        return False
    if _recent(user, MessageKind.VERIFY_EMAIL) >= current_app.config["MAIL_VERIFY_PER_HOUR"]:
        return False
    queue_message(user, MessageKind.VERIFY_EMAIL, to_addr=user.email)
    return True


def on_user_registered(user: User, **_extra) -> None:
    """``forum.signals.user_registered``: queue the confirmation mail with the new account
    (the registration page says a message is on its way, whether or not the site requires
    confirmed addresses)."""
    if "mail" in current_app.extensions:
        queue_verification(user)


def on_registration_for_existing_account(user: User, **_extra) -> None:
    """``forum.signals.registration_for_existing_account``: tell the owner, with links to log
    in or choose a new password (the page said nothing), at most
    ``MAIL_ACCOUNT_EXISTS_PER_HOUR`` times an hour."""
    if "mail" not in current_app.extensions:
        return
    per_hour = current_app.config["MAIL_ACCOUNT_EXISTS_PER_HOUR"]
    if _recent(user, MessageKind.ACCOUNT_EXISTS) >= per_hour:
        current_app.logger.info("Registration notice for user %s not mailed: limit", user.id)
        return
    queue_message(user, MessageKind.ACCOUNT_EXISTS, to_addr=user.email)


def verify_email(token: str) -> User:
    """Confirm the address a verification link was sent to (raises ``TokenProblem``)."""
    user = tokens.read_verify_token(token)
    mark_verified(user)
    return user


# --- forgotten password ------------------------------------------------------------------


def request_password_reset(email: str) -> None:
    """Mail a reset link if ``email`` belongs to an account, within the per-address limit.

    Says nothing either way: the page answers the same for every address.
    """
    user = forum_services.get_user_by_email(email)
    if user is None:
        return
    per_hour = current_app.config["MAIL_RESET_PER_ACCOUNT_PER_HOUR"]
    if _recent(user, MessageKind.PASSWORD_RESET) >= per_hour:
        current_app.logger.info("Password reset for user %s not mailed: per-address limit", user.id)
        return
    queue_message(user, MessageKind.PASSWORD_RESET, to_addr=user.email)


def reset_password(token: str, new_password: str) -> User:
    """Set a new password through a reset link; the link dies with it, and so do the
    user's sessions elsewhere. Following the link also proves the address."""
    user = tokens.read_reset_token(token)
    forum_services.set_password(user, new_password, "password")
    mark_verified(user)
    return user


# --- change of address -----------------------------------------------------------------------


def request_email_change(user: User, new_email: str, password: str) -> str:
    """Start changing the address: the new one must be confirmed before it takes effect."""
    new = forum_services.normalise_email(new_email)
    if not forum_services.EMAIL_RE.match(new) or len(new) > 254:
        raise InvalidInput(new_email=_("Enter a valid e-mail address."))
    if not check_password_hash(user.password_hash, password or ""):
        raise InvalidInput(password=_("The password is not right."))
    if new == user.email:
        raise InvalidInput(new_email=_("This is already your e-mail address."))
    if forum_services.get_user_by_email(new) is not None:
        raise InvalidInput(new_email=_("An account with this e-mail address already exists."))
    user.pending_email = new
    queue_message(user, MessageKind.EMAIL_CHANGE, to_addr=new)
    return new


def cancel_email_change(user: User) -> None:
    user.pending_email = None
    db.session.flush()


def confirm_email_change(token: str) -> tuple[User, str]:
    """Make the pending address the account's address and tell the old one.

    Raises ``TokenProblem``, or ``InvalidInput`` when another account took the address since.
    """
    user, new = tokens.read_change_token(token)
    if forum_services.get_user_by_email(new) is not None:
        user.pending_email = None
        db.session.flush()
        raise InvalidInput(new_email=_("An account with this e-mail address already exists."))
    old = user.email
    user.email = new
    user.pending_email = None
    user.email_verified_at = utcnow()
    db.session.flush()
    queue_message(user, MessageKind.EMAIL_CHANGED, to_addr=old, payload={"new": new})
    return user, old


# --- preferences ---------------------------------------------------------------------------


def modes(user_id: int) -> dict[Kind, Mode]:
    """The user's mode for every kind (defaults filled in)."""
    rows = db.session.execute(
        select(MailPreference.kind, MailPreference.mode).where(MailPreference.user_id == user_id)
    )
    chosen = {kind: mode for kind, mode in rows}
    return {k: chosen.get(k, DEFAULT_MODES[k]) for k in Kind}


def mode_for(user_id: int, kind: Kind) -> Mode:
    chosen = db.session.scalar(
        select(MailPreference.mode).where(
            MailPreference.user_id == user_id, MailPreference.kind == kind
        )
    )
    return chosen or DEFAULT_MODES[kind]


def _set(user_id: int, kind: Kind, mode: Mode) -> bool:
    pref = db.session.get(MailPreference, (user_id, kind))
    if pref is None:
        if DEFAULT_MODES[kind] == mode:
            return False
        db.session.add(MailPreference(user_id=user_id, kind=kind, mode=mode, updated_at=utcnow()))
        return True
    if pref.mode == mode:
        return False
    pref.mode = mode
    pref.updated_at = utcnow()
    return True


def parse_preferences(form: Mapping[str, str]) -> dict[Kind, Mode]:
    """Read ``mode-<kind>`` fields; unknown kinds or modes are refused, all or nothing."""
    chosen: dict[Kind, Mode] = {}
    for name, value in form.items():
        if not name.startswith("mode-"):
            continue
        raw_kind = name.removeprefix("mode-")
        kind = enum_member(
            Kind, raw_kind, _("Unknown kind of e-mail: %(kind)s", kind=raw_kind[:40])
        )
        chosen[kind] = enum_member(
            Mode, value, _("Unknown choice for e-mails: %(mode)s", mode=str(value)[:40])
        )
    if not chosen:
        raise InvalidInput(_("Choose how often you want each kind of e-mail."))
    return chosen


def set_preferences(user: User, chosen: Mapping[Kind, Mode]) -> int:
    """Store the user's choices; returns how many changed."""
    changed = sum(_set(user.id, kind, mode) for kind, mode in chosen.items())
    db.session.flush()
    return changed


def unsubscribe(user: User, kinds: list[Kind]) -> bool:
    """Turn the given kinds off; False when they already were (unsubscribing twice)."""
    changed = sum(_set(user.id, kind, Mode.OFF) for kind in kinds)
    db.session.flush()
    return changed > 0


def erase_outbox_files(user_id: int, email: str) -> int:
    """``forum.hooks.register_account_eraser``: remove the ``.eml`` files the file backend
    wrote for the person's mails (to their account or their address); returns how many."""
    from .sender import FileTransport

    directory = current_app.config.get("MAIL_OUTBOX_DIR")
    if not directory:
        return 0
    keys = db.session.scalars(
        select(MailMessage.key).where(
            (MailMessage.user_id == user_id) | (func.lower(MailMessage.to_addr) == email.lower())
        )
    ).all()
    transport = FileTransport(directory)
    removed = 0
    for key in keys:
        path = transport.path_for(key)
        try:
            path.unlink()
        except FileNotFoundError:
            continue
        removed += 1
    return removed
