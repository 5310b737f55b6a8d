"""Who may do what in live Q&A sessions: one place, used by services, views and templates."""

from __future__ import annotations

from forum import permissions as fp
from forum.models import Role

from .models import QASession


def _user(user):
    return fp.signed_in(user)


def can_schedule(user, area_id: int | None = None) -> bool:
    """Staff (moderators, in their areas when scoped) and admins schedule sessions."""
    return fp.can_moderate_area(user, area_id)


def can_manage(user, session: QASession) -> bool:
    """Edit, start and end a session; moderate its questions (merge, pin, mark, close)."""
    return fp.can_moderate_area(user, session.area_id)


def is_session_politician(user, session: QASession) -> bool:
    u = _user(user)
    return (
        u is not None
        and u.role == Role.POLITICIAN
        and any(p.id == u.id for p in session.politicians)
    )


def can_answer(user, session: QASession) -> bool:
    return is_session_politician(user, session)


def can_ask(user) -> bool:
    """Signed in (the service also asks the restriction hooks: suspended, unverified)."""
    return _user(user) is not None
