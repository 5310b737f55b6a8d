"""The forum's pages. One blueprint, ``forum``, split by subject into modules."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, abort, request
from flask_login import current_user
from wtforms import Form

from .. import uow
from ..errors import DomainError
from ..models import User

bp = Blueprint("forum", __name__)


def safe_next(target: str | None, default: str = "/") -> str:
    """Only our own paths: no scheme, no host, no protocol-relative or backslash tricks."""
    if not target:
        return default
    target = target.strip()
    parts = urlsplit(target)
    if (
        parts.scheme
        or parts.netloc
        or not target.startswith("/")
        or target.startswith("//")
        or "\\" in target
        or any(ord(c) < 32 for c in target)
    ):
        return default
    return target


def apply_errors(form: Form, exc: DomainError) -> bool:
    """Copy a service's field errors onto the form; False if none of them fit a field."""
    return uow.place_errors(form, exc)


def me() -> User:
    """The signed-in user as the ``User`` row itself, not Flask-Login's proxy: what services
    take, compare by identity and keep beyond the request."""
    return current_user._get_current_object()


def int_arg(name: str, default: int = 1, lo: int = 1, hi: int = 10_000) -> int:
    """An integer query argument, clamped; a malformed one is a 400, not a 500."""
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        abort(400)
    return max(lo, min(hi, value))


from . import auth, pages, topics  # noqa: E402,F401  (routes register on import)
