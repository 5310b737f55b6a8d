"""Borgerdialog: the application factory. ``python app.py`` serves it with Socket.IO."""

from __future__ import annotations

from pathlib import Path

from flask import Flask
from sqlalchemy.orm import configure_mappers
from werkzeug.middleware.proxy_fix import ProxyFix

import admin
import api
import budgets
import forum
import mail
import meetings
import moderation
import opinions
import ops
import outcomes
import privacy
import qa
import reports
import search
from forum import live, ratelimits
from forum.config import ConfigError, load_config, serving_address
from forum.extensions import socketio

HERE = Path(__file__).resolve().parent

# Every package's mapped classes, complete before any ``init_app`` starts a background thread
# (fan-out, search, mail…). A thread's first query configures the mappers; a package whose
# models were still being imported at that moment (its ``init_app`` imports them lazily) had a
# relationship naming a class further down its module, and the mappers failed for the rest of
# the process ("expression 'Appeal' failed to locate a name", a live test server in CI).
import admin.models  # noqa: E402, F401
import api.models  # noqa: E402, F401
import budgets.models  # noqa: E402, F401
import mail.models  # noqa: E402, F401
import meetings.models  # noqa: E402, F401
import moderation.models  # noqa: E402, F401
import opinions.models  # noqa: E402, F401
import outcomes.models  # noqa: E402, F401
import privacy.models  # noqa: E402, F401
import qa.models  # noqa: E402, F401
import reports.models  # noqa: E402, F401
import search.models  # noqa: E402, F401

configure_mappers()  # and a mistake in them fails the import, not a thread's first query
# The feature packages' settings (the core's are forum.config.CORE): load_config applies them
# all before any package's init_app runs (docs/ARCHITECTURE.md, "Configuration").
SETTINGS = (
    moderation.SETTINGS,
    search.SETTINGS,
    mail.SETTINGS,
    budgets.SETTINGS,
    qa.SETTINGS,
    admin.SETTINGS,
    privacy.SETTINGS,
    opinions.SETTINGS,
    reports.SETTINGS,
    meetings.SETTINGS,
    api.SETTINGS,
    ops.SETTINGS,
)


def create_app(test_config: dict | None = None) -> Flask:
    app = Flask(
        __name__,
        instance_path=str((test_config or {}).get("INSTANCE_PATH") or HERE / "instance"),
        template_folder=str(HERE / "templates"),
        static_folder=str(HERE / "static"),
    )
    try:
        # Every package's declared settings under the one rule (forum/config.py).
        load_config(app, test_config, SETTINGS)
    except ConfigError as exc:  # one line, no traceback (ops/startup.py)
        raise ops.startup.refuse(str(exc)) from None
    app.config.setdefault("MIGRATIONS_DIR", str(HERE / "migrations"))
    app.config.setdefault("BABEL_TRANSLATION_DIRECTORIES", str(HERE / "translations"))
    forum.init_app(app)
    moderation.init_app(app)
    search.init_app(app)
    mail.init_app(app)
    budgets.init_app(app)
    qa.init_app(app)
    admin.init_app(app)  # after moderation: it writes moderation's audit log
    privacy.init_app(app)
    outcomes.init_app(app)
    opinions.init_app(app)
    reports.init_app(app)  # reads every package's public content
    meetings.init_app(app)  # meetings, registration, calendars (issue 16)
    api.init_app(app)  # after the packages it reads (outcomes, qa, search)
    ops.init_app(app)  # health, metrics, request ids, backups; production start-up checks
    # A limit on every POST route that has none of its own (after all routes exist).
    ratelimits.apply(app)
    # async mode, Redis message queue (REDIS_URL), same-origin check, message size limit
    socketio.init_app(app, **live.socketio_options(app))
    trusted = app.config["TRUSTED_PROXIES"]
    if trusted:
        # Outermost, around the Socket.IO middleware too: the client's address (rate limits)
        # and scheme (secure cookies, external URLs) as the trusted proxies report them.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=trusted, x_proto=trusted)
    return app


if __name__ == "__main__":
    application = create_app()
    host, port = serving_address()  # HOST (default 127.0.0.1) and PORT (default 5000)
    socketio.run(application, host=host, port=port, allow_unsafe_werkzeug=True, debug=False)
