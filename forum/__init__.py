"""The forum core: people, places, debates, notifications, the event log."""

from __future__ import annotations

import math
import time
from datetime import UTC, datetime
from functools import lru_cache

from babel import Locale, dates
from flask import Flask, current_app, render_template, request
from flask_babel import format_datetime, get_locale, get_timezone, ngettext
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from markupsafe import Markup
from sqlalchemy import event
from sqlalchemy.engine import Engine
from werkzeug.exceptions import HTTPException

from . import permissions, uow
from .converters import IdConverter
from .errors import DomainError
from .extensions import babel, csrf, db, limiter, login_manager, migrate
from .i18n import quote


def select_locale() -> str:
    langs = current_app.config["LANGUAGES"]
    if current_user and current_user.is_authenticated and current_user.locale in langs:
        return current_user.locale
    cookie = request.cookies.get("lang") if request else None
    if cookie in langs:
        return cookie
    return current_app.config["BABEL_DEFAULT_LOCALE"]


@login_manager.user_loader
def _load_user(login_id: str):
    # Only a login that still exists counts: logged out (here or everywhere) or a new
    # password ends it, even for copied cookies (forum/sessions.py).
    from .sessions import load_user

    return load_user(login_id)


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection, _record) -> None:
    if type(dbapi_connection).__module__.startswith("sqlite3"):
        cur = dbapi_connection.cursor()
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=NORMAL")
        # A writer waits for another's short transaction instead of failing; background
        # threads (search indexer, mail sender) write too, and a loaded machine is slow.
        cur.execute("PRAGMA busy_timeout=15000")
        cur.close()


@event.listens_for(Engine, "savepoint")
def _sqlite_begin_before_savepoint(conn, _name) -> None:
    """Open the SQLite transaction before a savepoint that would otherwise start it.

    pysqlite emits BEGIN only before INSERT/UPDATE/DELETE; a SAVEPOINT issued first opens a
    transaction of its own that its RELEASE commits, so a later rollback would not undo it.
    IMMEDIATE: savepoints guard writes (a post and its nonce), so take the write lock now,
    waiting (busy_timeout) for another writer. A deferred BEGIN would read first and then,
    if a background thread (search indexer, mail sender) committed in between, fail at the
    first write with "database is locked" at once: WAL refuses to upgrade an old snapshot
    and does not wait.
    """
    raw = conn.connection.dbapi_connection
    if type(raw).__module__.startswith("sqlite3") and not raw.in_transaction:
        raw.execute("BEGIN IMMEDIATE")


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


def _register_errors(app: Flask) -> None:
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


@lru_cache(maxsize=32)
def _datetime_patterns(locale: str, fmt: str):
    # Babel parses its patterns on every format_datetime call (about 0.1 ms); a topic page
    # formats hundreds of times, so parse them once per locale and format.
    # The time is always the short one (Danish "14.05", never "14.05.33"): seconds mean
    # nothing to a reader and Danish typography leaves them out. The date follows ``fmt``.
    loc = Locale.parse(locale)
    return (
        str(dates.get_datetime_format(fmt, locale=loc)),
        dates.parse_pattern(dates.get_date_format(fmt, locale=loc)),
        dates.parse_pattern(dates.get_time_format("short", locale=loc)),
        loc,
    )


def format_local(value: datetime, fmt: str = "medium") -> str:
    """Like flask_babel.format_datetime for naive UTC values, with cached patterns, and
    without seconds: "short", "medium" and "long" differ in the date only."""
    if fmt not in ("short", "medium", "long"):
        return format_datetime(value.replace(tzinfo=UTC), fmt)
    joined, date_pattern, time_pattern, loc = _datetime_patterns(str(get_locale() or "da"), fmt)
    local = value.replace(tzinfo=UTC).astimezone(get_timezone())
    return joined.replace("{1}", date_pattern.apply(local, loc)).replace(
        "{0}", time_pattern.apply(local, loc)
    )


def _install_template_gettext(app: Flask) -> None:
    """Templates' ``_()`` through a table of the strings already translated, per locale.

    Flask-Babel's own (``get_translations().ugettext``) finds the request's domain, locale
    and catalogue on every call, about 10 µs; a topic page makes some 30 calls. The catalogues
    do not change while the process runs, so a string translated once for a locale stays
    translated. The locale is still asked on every call (``force_locale`` changes it).
    ngettext, pgettext and npgettext stay Flask-Babel's (their counts vary)."""
    from flask_babel import get_translations

    translated: dict[tuple[str, str], str] = {}

    def gettext(string: str) -> str:
        key = (str(get_locale()), string)
        text = translated.get(key)
        if text is None:
            text = translated[key] = get_translations().ugettext(string)
        return text

    app.jinja_env.install_gettext_callables(
        gettext=gettext,
        ngettext=lambda s, p, n: get_translations().ungettext(s, p, n),
        newstyle=True,
        pgettext=lambda c, s: get_translations().upgettext(c, s),
        npgettext=lambda c, s, p, n: get_translations().unpgettext(c, s, p, n),
    )


def _register_template_helpers(app: Flask) -> None:
    @app.context_processor
    def inject():
        from . import queries

        unread = 0
        if current_user.is_authenticated:
            # A page may render several templates; read once per request, with the other
            # facts about the reader (queries.reader_facts: one statement).
            unread = queries.reader_facts(current_user).unread
        return {
            "perm": permissions,
            "unread_count": unread,
            "current_lang": str(get_locale() or "da"),
            "languages": current_app.config["LANGUAGES"],
        }

    # Quoted text in the reader's quotation marks (Danish »…«); forum/i18n.py.
    app.add_template_filter(quote, "quoted")

    @app.template_filter("dt")
    def _dt(value, fmt: str = "medium"):
        """A stored (naive UTC) time in the reader's locale and the site's time zone."""
        if value is None:
            return ""
        return format_local(value, fmt)

    @app.template_filter("isodt")
    def _isodt(value):
        return value.isoformat(timespec="seconds") + "Z" if value else ""

    @app.template_filter("nl2p")
    def _nl2p(value: str) -> Markup:
        from markupsafe import escape

        return Markup("".join(f"<p>{escape(p)}</p>" for p in (value or "").split("\n\n") if p))


def init_app(app: Flask) -> None:
    """Bind the extensions and register the forum's pages, errors and commands."""
    db.init_app(app)
    migrate.init_app(
        app, db, directory=str(app.config.get("MIGRATIONS_DIR", "migrations")), render_as_batch=True
    )
    login_manager.init_app(app)
    login_manager.login_view = "forum.login"
    login_manager.login_message = None
    csrf.init_app(app)
    babel.init_app(app, locale_selector=select_locale)
    _install_template_gettext(app)
    limiter.init_app(app)

    from . import cli, fanout, live, security, views
    from . import events as _events  # noqa: F401  (Socket.IO handlers: before socketio.init_app)
    from . import sessions as _sessions  # noqa: F401  (a key per login, on user_logged_in)

    live.init_app(app)
    fanout.install(app)
    security.init_app(app)
    # Before any blueprint registers a rule: every package's <int:id> is a bounded row id.
    app.url_map.converters["int"] = IdConverter
    app.register_blueprint(views.bp)
    cli.register(app)
    app.cli.add_command(uow.seams_command)
    _register_errors(app)
    _register_template_helpers(app)
    from . import notices

    notices.register(app)  # how the forum's own notifications read (forum/hooks.py registry)
