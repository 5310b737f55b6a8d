"""Invitation links: a signed token naming an ``Invitation`` row and its nonce.

The signature keeps the link from being guessed or altered; the row decides the rest: it
expires at ``expires_at`` and works once (``used_at``).
"""

from __future__ import annotations

from typing import Literal

from flask import current_app
from itsdangerous import BadSignature, URLSafeSerializer

from forum.extensions import db
from forum.models import utcnow

from .models import Invitation

SALT = "admin.invitation"
Reason = Literal["invalid", "expired", "used"]


class InvitationProblem(Exception):
    def __init__(self, reason: Reason, invitation: Invitation | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.invitation = invitation


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=SALT)


def make_token(invitation: Invitation) -> str:
    return _serializer().dumps({"i": invitation.id, "n": invitation.nonce})


def read_token(token: str, *, for_update: bool = False) -> Invitation:
    """The invitation a link is for, or ``InvitationProblem`` (invalid, expired, used)."""
    try:
        data = _serializer().loads(token or "")
    except (BadSignature, UnicodeError, ValueError):
        raise InvitationProblem("invalid") from None
    if not isinstance(data, dict) or not isinstance(data.get("i"), int):
        raise InvitationProblem("invalid")
    if not 0 < data["i"] < 2**31 or not isinstance(data.get("n"), str):
        raise InvitationProblem("invalid")
    stmt = db.select(Invitation).where(Invitation.id == data["i"])
    if for_update:
        stmt = stmt.with_for_update()
    invitation = db.session.scalar(stmt)
    if invitation is None or invitation.nonce != data["n"]:
        raise InvitationProblem("invalid")
    if invitation.used_at is not None:
        raise InvitationProblem("used", invitation)
    if invitation.expires_at <= utcnow():
        raise InvitationProblem("expired", invitation)
    return invitation
