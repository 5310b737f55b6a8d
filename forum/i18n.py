"""The reader's language (``select_locale``) and lazy translations that are safe in templates.

Flask-Babel's ``LazyString.__html__`` returns the plain string, so Jinja treats every lazy
string as markup and does not escape it. A lazy string formatted with a value somebody typed
(``_l("The %(filter)s “%(value)s” is unknown", value=raw)``) then reaches the page unescaped:
that was a reflected XSS on the search page. Every package imports ``lazy_gettext`` (as
``_l``) from here instead: the same lazy string, escaped when a template or ``markupsafe``
renders it.
"""

from __future__ import annotations

from flask import current_app, request
from flask_babel import gettext
from flask_babel.speaklater import LazyString
from flask_login import current_user
from markupsafe import escape


class SafeLazyString(LazyString):
    """A lazy string that is text, not markup: templates escape it like any ``str``."""

    def __html__(self):
        return str(escape(str(self)))


def lazy_gettext(string: str, **variables) -> SafeLazyString:
    return SafeLazyString(gettext, string, **variables)


def quote(text) -> str:
    """``text`` in the reader's quotation marks: Danish »…«, English “…” (a translated
    pattern, so each language keeps its own typography)."""
    return gettext("“%(text)s”", text=text)


def select_locale() -> str:
    """Flask-Babel's locale selector: the signed-in reader's choice, else the ``lang``
    cookie, else the default."""
    langs = current_app.config["LANGUAGES"]
    if current_user and current_user.is_authenticated and current_user.locale in langs:
        return current_user.locale
    cookie = request.cookies.get("lang") if request else None
    if cookie in langs:
        return cookie
    return current_app.config["BABEL_DEFAULT_LOCALE"]
