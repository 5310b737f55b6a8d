"""Borgerdialog: the application factory. ``python app.py`` serves it with Socket.IO."""

from __future__ import annotations

from pathlib import Path

from flask import Flask

import forum
import moderation
import search
from forum.config import load_config
from forum.extensions import socketio

HERE = Path(__file__).resolve().parent


def create_app(test_config: dict | None = None) -> Flask:
    app = Flask(
        __name__,
        instance_path=str((test_config or {}).get("INSTANCE_PATH") or HERE / "instance"),
        template_folder=str(HERE / "templates"),
        static_folder=str(HERE / "static"),
    )
    load_config(app, test_config)
    app.config.setdefault("MIGRATIONS_DIR", str(HERE / "migrations"))
    app.config.setdefault("BABEL_TRANSLATION_DIRECTORIES", str(HERE / "translations"))
    forum.init_app(app)
    moderation.init_app(app)
    search.init_app(app)
    socketio.init_app(
        app,
        async_mode=app.config.get("SOCKETIO_ASYNC_MODE", "threading"),
        message_queue=app.config.get("REDIS_URL"),
        cors_allowed_origins=[],
    )
    return app


if __name__ == "__main__":
    application = create_app()
    socketio.run(application, host="127.0.0.1", port=5000, allow_unsafe_werkzeug=True, debug=False)
