"""Borgerdialog: the application factory. ``python app.py`` serves it with Socket.IO."""

from __future__ import annotations

from pathlib import Path

from flask import Flask

import budgets
import forum
import mail
import moderation
import ops
import qa
import search
from forum import live
from forum.config import ConfigError, load_config
from forum.extensions import socketio

HERE = Path(__file__).resolve().parent


def create_app(test_config: dict | None = None) -> Flask:
    app = Flask(
        __name__,
        instance_path=str((test_config or {}).get("INSTANCE_PATH") or HERE / "instance"),
        template_folder=str(HERE / "templates"),
        static_folder=str(HERE / "static"),
    )
    try:
        load_config(app, test_config)
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
    ops.init_app(app)  # health, metrics, request ids, backups; production start-up checks
    # async mode, Redis message queue (REDIS_URL), same-origin check, message size limit
    socketio.init_app(app, **live.socketio_options(app))
    return app


if __name__ == "__main__":
    application = create_app()
    socketio.run(application, host="127.0.0.1", port=5000, allow_unsafe_werkzeug=True, debug=False)
