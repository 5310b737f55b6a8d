"""The error pages: every 4xx and 5xx answer is ``errors.html`` with a title and a message in
the reader's language, and gives back what the reader typed (a failed form loses no text).
``register`` installs the handlers (domain errors, CSRF, HTTP errors, anything unexpected)
and the refusal of NUL bytes; views answer with ``render_error`` themselves where they must."""

from __future__ import annotations

import math
import time

from flask import Flask, current_app, render_template, request
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from .errors import DomainError
from .extensions import db, limiter

ERROR_MESSAGES = {
    400: lambda: _("The request could not be understood. Check what you sent and try again."),
    403: lambda: _("You do not have permission to do this."),
    404: lambda: _("We could not find that page."),
    405: lambda: _("That is not possible on this page."),
    409: lambda: _("This could not be done because something changed in the meantime."),
    410: lambda: _("This is no longer here."),
    413: lambda: _("What you sent is too large."),
    429: lambda: _("Too many attempts. Wait a little and try again."),
    500: lambda: _("Something went wrong on our side. Your text is kept below if you wrote one."),
}
ERROR_TITLES = {
    400: lambda: _("Bad request"),
    403: lambda: _("Not allowed"),
    404: lambda: _("Page not found"),
    405: lambda: _("Not allowed here"),
    409: lambda: _("Conflict"),
    410: lambda: _("Gone"),
    413: lambda: _("Too large"),
    429: lambda: _("Too many attempts"),
    500: lambda: _("Server error"),
}


def _typed_text() -> dict[str, str]:
    """What the user typed, so an error page can give it back instead of losing it."""
    if request.method != "POST":
        return {}
    limit = current_app.config.get("MAX_CONTENT_LENGTH")
    if limit and (request.content_length or 0) > limit:
        return {}  # reading the form would raise 413 inside this error page
    return {
        k: v.replace("\x00", "")
        for k, v in request.form.items()
        if k in ("title", "intro", "body") and isinstance(v, str) and v.strip()
    }


def render_error(status: int, message: str | None = None):
    """The error page for ``status``. A code without its own text (401, 415, 503, ...) keeps
    its status and borrows the general text of its class (400 or 500)."""
    if not 400 <= status <= 599:
        status = 500
    key = status if status in ERROR_MESSAGES else (400 if status < 500 else 500)
    return (
        render_template(
            "errors.html",
            status=status,
            title=ERROR_TITLES[key](),
            message=message or ERROR_MESSAGES[key](),
            typed=_typed_text() if status != 413 else {},
        ),
        status,
    )


def _refuse_nul_bytes():
    """No text a person writes contains NUL, and PostgreSQL cannot store it in a text column:
    refuse it in the query, the URL or the form before any view (or moderation's log of
    refused visits) puts it into a query."""
    sent = [*request.args.items(multi=True), *(request.view_args or {}).items()]
    if request.method == "POST" and request.mimetype in (
        "application/x-www-form-urlencoded",
        "multipart/form-data",
    ):
        sent += request.form.items(multi=True)
    if any("\x00" in k or (isinstance(v, str) and "\x00" in v) for k, v in sent):
        return render_error(
            400,
            _(
                "What you sent contains an invisible character that cannot be saved (a NUL "
                "byte). Nothing was saved; your text is below without it — copy it and try "
                "again."
            ),
        )
    return None


def retry_minutes() -> int | None:
    """Whole minutes until the limit this request broke lets it through, or None."""
    try:
        current = limiter.current_limit
        if current is None or not current.breached:
            return None
        seconds = int(current.reset_at - time.time())  # as Flask-Limiter counts it
    except Exception:  # the limit's storage is unreachable: say less, never fail
        return None
    return max(1, math.ceil(seconds / 60))


def too_many_requests():
    """The 429 page: its words say the wait its ``Retry-After`` header says, in minutes."""
    minutes = retry_minutes()
    if minutes is None:
        return render_error(429)
    body, status = render_error(
        429,
        ngettext(
            "Too many attempts. Try again in %(num)d minute.",
            "Too many attempts. Try again in %(num)d minutes.",
            minutes,
        ),
    )
    # Whole minutes, as the page says (Flask-Limiter keeps the later of this and its own).
    return body, status, {"Retry-After": str(minutes * 60)}


def register(app: Flask) -> None:
    """The error handlers, and the refusal of NUL bytes before any view."""
    app.before_request(_refuse_nul_bytes)

    @app.errorhandler(DomainError)
    def domain_error(exc: DomainError):
        db.session.rollback()
        return render_error(exc.status, exc.message or None)

    @app.errorhandler(CSRFError)
    def csrf_error(exc: CSRFError):
        return render_error(
            400,
            _(
                "The form was too old or not sent from this site. Nothing was saved; "
                "your text is below — copy it and try again."
            ),
        )

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        if exc.code == 429:
            return too_many_requests()
        return render_error(exc.code or 500)

    @app.errorhandler(Exception)
    def unexpected(exc: Exception):
        app.logger.exception("Unhandled error")
        db.session.rollback()
        return render_error(500)
