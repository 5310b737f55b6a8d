"""What templates get: ``_()`` through a per-locale table, the context every page has (the
reader's unread count, language, permissions) and the forum's filters (``dt``, ``isodt``,
``nl2p``, ``quoted``)."""

from __future__ import annotations

from flask import Flask, current_app
from flask_babel import get_locale
from flask_login import current_user
from markupsafe import Markup

from . import permissions
from .i18n import quote
from .localtime import format_local


def install_gettext(app: Flask) -> None:
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


def register(app: Flask) -> None:
    """The context processor and the filters."""

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
