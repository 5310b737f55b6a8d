"""Who may administer: admins only (a scoped or municipality-wide moderator may not)."""

from __future__ import annotations

from forum.models import Role, User


def _user(user) -> User | None:
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    return user


def is_admin(user) -> bool:
    u = _user(user)
    return u is not None and u.role == Role.ADMIN and u.deactivated_at is None


__all__ = ["is_admin"]
