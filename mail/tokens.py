"""Signed, expiring links (itsdangerous), one salt per purpose so no token opens another door.

Each ``read_*`` returns the user the link is for, or raises ``TokenProblem`` whose ``reason``
the page explains: ``invalid`` (tampered, foreign, for another purpose, or for an account that
is gone), ``expired``, or ``used`` (already followed, or superseded by a newer link).
Single use comes from the state the token is bound to, not from a table of used tokens:
a reset link carries a fingerprint of the password hash, so it dies with the first reset;
a verification link carries the address, a change link the pending address.
"""

from __future__ import annotations

import hashlib
from typing import Literal

from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from forum.extensions import db
from forum.models import User

from .models import Kind

Reason = Literal["invalid", "expired", "used"]

VERIFY = "mail.verify-email"
RESET = "mail.reset-password"
CHANGE = "mail.change-email"
UNSUBSCRIBE = "mail.unsubscribe"
PREFERENCES = "mail.preferences"


class TokenProblem(Exception):
    def __init__(self, reason: Reason, user: User | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.user = user


def _serializer(salt: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=salt)


def _dump(salt: str, payload: dict) -> str:
    return _serializer(salt).dumps(payload)


def _load(salt: str, token: str, max_age: int | None) -> dict:
    try:
        data = _serializer(salt).loads(token, max_age=max_age)
    except SignatureExpired:
        raise TokenProblem("expired") from None
    except (BadSignature, UnicodeError, ValueError):
        raise TokenProblem("invalid") from None
    if not isinstance(data, dict) or not isinstance(data.get("u"), int):
        raise TokenProblem("invalid")
    return data


def _user(data: dict) -> User:
    user = db.session.get(User, data["u"])
    if user is None:
        raise TokenProblem("invalid")
    return user


def _password_fingerprint(user: User) -> str:
    raw = f"{user.password_hash}:{user.session_version}".encode()
    return hashlib.sha256(raw).hexdigest()[:20]


def _age(name: str) -> int:
    return int(current_app.config[name])


# --- verification of the address given at registration ----------------------------------


def verify_token(user: User) -> str:
    return _dump(VERIFY, {"u": user.id, "e": user.email})


def read_verify_token(token: str) -> User:
    """The user whose address this confirms; ``used`` when it is already confirmed."""
    data = _load(VERIFY, token, _age("MAIL_VERIFY_MAX_AGE"))
    user = _user(data)
    if data.get("e") != user.email:
        raise TokenProblem("invalid", user)  # the account's address changed since
    if user.email_verified_at is not None:
        raise TokenProblem("used", user)
    return user


# --- password reset ----------------------------------------------------------------------


def reset_token(user: User) -> str:
    return _dump(RESET, {"u": user.id, "p": _password_fingerprint(user)})


def read_reset_token(token: str) -> User:
    data = _load(RESET, token, _age("MAIL_RESET_MAX_AGE"))
    user = _user(data)
    if data.get("p") != _password_fingerprint(user):
        raise TokenProblem("used", user)  # the password changed since: used or superseded
    return user


# --- change of address ---------------------------------------------------------------------


def change_token(user: User, new_email: str) -> str:
    return _dump(CHANGE, {"u": user.id, "n": new_email})


def read_change_token(token: str) -> tuple[User, str]:
    """The user and the new address; ``used`` when it is no longer the pending one."""
    data = _load(CHANGE, token, _age("MAIL_VERIFY_MAX_AGE"))
    user = _user(data)
    new = data.get("n")
    if not isinstance(new, str):
        raise TokenProblem("invalid")
    if user.pending_email != new:
        raise TokenProblem("used", user)
    return user, new


# --- unsubscribe and preferences (links in notification mails) ---------------------------


def unsubscribe_token(user_id: int, kinds: list[Kind]) -> str:
    return _dump(UNSUBSCRIBE, {"u": user_id, "k": sorted(k.value for k in kinds)})


def read_unsubscribe_token(token: str) -> tuple[User, list[Kind]]:
    data = _load(UNSUBSCRIBE, token, _age("MAIL_UNSUBSCRIBE_MAX_AGE"))
    raw = data.get("k")
    if not isinstance(raw, list) or not raw:
        raise TokenProblem("invalid")
    try:
        kinds = [Kind(k) for k in raw]
    except ValueError:
        raise TokenProblem("invalid") from None
    return _user(data), kinds


def preferences_token(user_id: int) -> str:
    return _dump(PREFERENCES, {"u": user_id})


def read_preferences_token(token: str) -> User:
    return _user(_load(PREFERENCES, token, _age("MAIL_PREFERENCES_LINK_MAX_AGE")))
