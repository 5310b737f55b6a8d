"""The invitation mail, sent through the mail package's outbox (``forum.hooks.queue_mail``).

The outbox row holds only the invitation's id; the link is made again when the mail is sent
(the token is the row's id and nonce, signed), and an invitation used or expired by then is
not sent at all.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import current_app
from flask_babel import gettext as _

from forum import hooks
from forum.extensions import db
from forum.models import Committee, Role, User, utcnow

from . import tokens
from .models import Invitation

KIND = "admin_invitation"


def mail_url(endpoint: str, **values) -> str:
    """An absolute link for a mail (there is no request when the sender runs)."""
    base = urlsplit(current_app.config["MAIL_BASE_URL"])
    adapter = current_app.url_map.bind(
        base.netloc, script_name=base.path or "/", url_scheme=base.scheme or "http"
    )
    return adapter.build(endpoint, values, force_external=True)


def role_phrase(role: str) -> str:
    return {
        Role.POLITICIAN.value: _("a politician"),
        Role.MODERATOR.value: _("a moderator"),
        Role.STAFF.value: _("municipal staff"),
    }.get(role, role)


def queue(invitation: Invitation, existing: User | None) -> bool:
    """Put the invitation mail in the outbox (in the caller's transaction)."""
    return hooks.queue_mail(
        KIND,
        invitation.email,
        {"invitation_id": invitation.id},
        user=existing,
        locale=existing.locale if existing is not None else None,
    )


def compose(payload: dict) -> hooks.OutboxMail | None:
    """The mail for the invitation in ``payload``; None when it is used or expired."""
    invitation = db.session.get(Invitation, int(payload.get("invitation_id") or 0))
    if invitation is None or invitation.used_at is not None or invitation.expires_at <= utcnow():
        return None
    existing = db.session.scalar(db.select(User).where(User.email == invitation.email))
    committees = []
    if invitation.committee_ids:
        committees = db.session.scalars(
            db.select(Committee.name).where(Committee.id.in_(invitation.committee_ids))
        ).all()
    return hooks.OutboxMail(
        subject=_("You are invited to Borgerdialog as %(role)s", role=role_phrase(invitation.role)),
        template="admin/email/invitation",
        context={
            "link": mail_url("admin.invitation", token=tokens.make_token(invitation)),
            "role": role_phrase(invitation.role),
            "committees": committees,
            "existing": existing is not None and existing.deleted_at is None,
            "expires_at": invitation.expires_at,
            "inviter": invitation.created_by.display_name if invitation.created_by else "",
        },
    )
