"""Logins that can end: one ``UserSession`` row per signed-in browser.

Flask's session is a signed cookie: the server cannot take it back. So each login gets a
random key; the session cookie (and the remember-me cookie, which Flask-Login fills from the
session) carries ``<user id>:<key>``, the database keeps the key's SHA-256 with the user's
session version at login time. A request counts as signed in only while that row exists
and its version is still the user's:

* logging out deletes this login's row: a copy of its cookies stops working, the user's
  other browsers stay signed in, and this login's live connections are closed;
* logging out everywhere (and a new password) bumps ``User.session_version``: every row of
  the user stops matching (deleted too), remember-me cookies included, and live.py closes the
  connections of the old version;
* rows older than the remember-me lifetime stop counting and are deleted at the next login.

Why rows of live logins rather than a list of revoked ones: a revoked list must outlive every
cookie it revokes (remember-me cookies live 30 days), and a login missing from a live list
fails closed.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from flask import current_app, g
from flask import session as flask_session
from flask_login import user_logged_in
from sqlalchemy import delete, select

from . import uow
from .extensions import db
from .models import User, UserSession, utcnow

KEY_BYTES = 32
_HASH_KEY = "_login_key_hash"


def _hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def lifetime() -> timedelta:
    """How long a login lasts at most: the remember-me cookie's lifetime."""
    value = current_app.config.get("REMEMBER_COOKIE_DURATION", 60 * 60 * 24 * 365)
    return value if isinstance(value, timedelta) else timedelta(seconds=int(value))


def live_room_key(key_hash: str) -> str:
    """What names this login's live room (a prefix of the stored hash, never the key)."""
    return key_hash[:32]


def load_user(login_id: str) -> User | None:
    """Flask-Login's user loader: the user of a live login, else None (signed out)."""
    user_part, sep, key = login_id.partition(":")
    if not sep or not user_part.isdigit() or len(key) < 32 or len(key) > 100:
        return None  # also cookies from before logins had keys: they sign in again
    key_hash = _hash(key)
    row = db.session.execute(
        select(User, UserSession.session_version, UserSession.created_at)
        .join(UserSession, UserSession.user_id == User.id)
        .where(UserSession.key_hash == key_hash, User.id == int(user_part))
    ).first()
    if row is None:
        return None
    user, version, created_at = row
    if version != user.session_version or created_at < utcnow() - lifetime():
        return None
    if user.deactivated_at is not None:  # deactivation also ends the logins; fail closed
        return None
    setattr(g, _HASH_KEY, key_hash)
    return user


def current_key_hash() -> str | None:
    """The hash of this request's login key (after the user was loaded), or None."""
    return g.get(_HASH_KEY)


def issue_login(user: User, *, replaces: str | None = None) -> tuple[str, str]:
    """Store a new login of ``user`` (committed) and return ``(login id, key hash)``; the
    login id is what the cookies carry. ``replaces``: the hash of a login it takes over."""
    now = utcnow()
    db.session.execute(
        delete(UserSession).where(UserSession.created_at < now - lifetime()),
        execution_options={"synchronize_session": False},
    )
    # Logins of an older session version can never count again (a new password).
    db.session.execute(
        delete(UserSession).where(
            UserSession.user_id == user.id, UserSession.session_version != user.session_version
        ),
        execution_options={"synchronize_session": False},
    )
    if replaces is not None:
        end_login(replaces, commit=False)
    key = secrets.token_urlsafe(KEY_BYTES)
    key_hash = _hash(key)
    db.session.add(
        UserSession(
            user_id=user.id,
            key_hash=key_hash,
            session_version=user.session_version,
            created_at=now,
        )
    )
    # Every caller of login_user has committed its own work already; the login must be
    # stored before the response carries its key.
    uow.commit()
    return f"{user.id}:{key}", key_hash


def _start(_app, user: User, **_extra) -> None:
    """After ``login_user``: a new login key for this browser, replacing the one it had."""
    login_id, key_hash = issue_login(user, replaces=g.pop(_HASH_KEY, None))
    flask_session["_user_id"] = login_id
    setattr(g, _HASH_KEY, key_hash)


def login_exists(key_hash: str) -> bool:
    return (
        db.session.scalar(select(UserSession.id).where(UserSession.key_hash == key_hash))
        is not None
    )


def end_login(key_hash: str, *, commit: bool = True) -> None:
    """End one login: its row goes (live.py closes its connections after the commit)."""
    row = db.session.scalar(select(UserSession).where(UserSession.key_hash == key_hash))
    if row is not None:
        db.session.delete(row)
    if commit:
        uow.commit()


def end_current_login() -> None:
    """Logging out: end this request's login, if it is one."""
    key_hash = current_key_hash()
    if key_hash is not None:
        end_login(key_hash)


def end_all_logins(user: User) -> None:
    """Log out everywhere: every login of ``user`` ends, remember-me cookies included.

    The version bump ends the live connections of all of them (live.py) and makes every
    cookie issued before it worthless even if a row were left."""
    user.session_version = (user.session_version or 1) + 1
    db.session.execute(
        delete(UserSession).where(UserSession.user_id == user.id),
        execution_options={"synchronize_session": False},
    )
    db.session.flush()


user_logged_in.connect(_start)
