"""API keys: staff make them, a request carries one as ``Authorization: Bearer <key>``.

The secret is shown once, when made; the database keeps its SHA-256 (a key is 256 random
bits, so a plain hash is enough: there is nothing to guess) and its first characters to tell
keys apart in lists. A key acts as the staff account that owns it: writes go through that
account's rights (the forum's services check them), and every write is audited.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from flask import g, request
from flask_babel import gettext as _
from sqlalchemy import select

from forum import eventlog, hooks, permissions
from forum.errors import InvalidInput, NotFound, PermissionDenied
from forum.extensions import db
from forum.models import Area, User, enum_member, utcnow

from .models import ApiKey, KeyScope

PREFIX = "bdk_"
LAST_USE_RESOLUTION = timedelta(minutes=1)  # last use is written at most once a minute


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def can_manage_keys(user) -> bool:
    return permissions.is_staff(user)


def create_key(
    actor: User, name: str, scope: str, area_id: int | None = None
) -> tuple[ApiKey, str]:
    """Make a key owned by ``actor``; returns it and its secret (shown once, never stored)."""
    if not can_manage_keys(actor):
        raise PermissionDenied(_("Only staff may make API keys."))
    name = (name or "").strip()
    if not 1 <= len(name) <= 80:
        raise InvalidInput(name=_("Give the key a name of at most 80 characters."))
    kind = enum_member(KeyScope, scope, scope=_("Choose what the key may do."))
    area = None
    if kind == KeyScope.WRITE_AREA:
        area = db.session.get(Area, area_id) if area_id else None
        if area is None:
            raise InvalidInput(area=_("A key that writes needs its local area."))
    secret = PREFIX + secrets.token_urlsafe(32)
    key = ApiKey(
        name=name,
        prefix=secret[: len(PREFIX) + 6],
        key_hash=hash_secret(secret),
        scope=kind,
        area=area,
        owner=actor,
        created_by=actor,
    )
    db.session.add(key)
    db.session.flush()
    eventlog.record("api_key_created", "api_key", key.id, "staff", {"name": name}, actor.id)
    hooks.audit(
        "api_key_created", "api_key", key.id, actor=actor, text=name, data={"scope": kind.value}
    )
    return key, secret


def revoke_key(actor: User, key_id: int) -> ApiKey:
    if not can_manage_keys(actor):
        raise PermissionDenied(_("Only staff may revoke API keys."))
    key = db.session.get(ApiKey, key_id)
    if key is None:
        raise NotFound(_("No such key."))
    if key.revoked_at is None:
        key.revoked_at = utcnow()
        eventlog.record("api_key_revoked", "api_key", key.id, "staff", {}, actor.id)
        hooks.audit("api_key_revoked", "api_key", key.id, actor=actor, text=key.name)
    return key


def list_keys(actor: User) -> list[ApiKey]:
    if not can_manage_keys(actor):
        raise PermissionDenied(_("Only staff may see API keys."))
    return list(db.session.scalars(select(ApiKey).order_by(ApiKey.id.desc())))


# --- the request's key --------------------------------------------------------------------

_NONE = object()


def presented_secret() -> str | None:
    """The secret the request carries (``Authorization: Bearer …``), or None."""
    header = request.headers.get("Authorization", "")
    if not header:
        return None
    scheme, _sep, value = header.partition(" ")
    return value.strip() if scheme.lower() == "bearer" else ""


def current_key() -> ApiKey | None:
    """The request's valid key (looked up once per request), or None: no key, or a bad one
    (``key_problem`` tells which)."""
    found = g.get("_api_key", _NONE)
    if found is not _NONE:
        return found
    secret = presented_secret()
    key = None
    if secret:
        key = db.session.scalar(select(ApiKey).where(ApiKey.key_hash == hash_secret(secret)))
        owner = key.owner if key is not None else None
        if key is not None and (
            key.revoked_at is not None
            or owner is None
            or owner.deactivated_at is not None
            or owner.deleted_at is not None
            or not permissions.is_staff(owner)
        ):
            key = None
    g._api_key = key
    return key


def key_problem() -> str | None:
    """Why the request's credentials are refused: None when it has none or a valid key."""
    secret = presented_secret()
    if secret is None:
        return None
    if current_key() is None:
        return "invalid_key"
    return None


def note_use(key: ApiKey) -> bool:
    """Record the key's last use (at most once a minute); True when written."""
    now = utcnow()
    if key.last_used_at is not None and now - key.last_used_at < LAST_USE_RESOLUTION:
        return False
    key.last_used_at = now
    return True
