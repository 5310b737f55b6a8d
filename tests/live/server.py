"""A real Borgerdialog server for the live tests, configured from ``LIVE_TEST_CONFIG`` (JSON).

``python tests/live/server.py PORT`` serves it like ``python app.py`` (threading mode);
``gunicorn -k gevent 'tests.live.server:make_app()'`` serves it like production. Both on
127.0.0.1 only, with CSRF and rate limits off so tests can post with a plain HTTP client.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))


def make_app():
    from app import create_app

    config = {
        "TESTING": False,
        "SECRET_KEY": "live-test-secret",  # the same in every process: sessions work on all
        "WTF_CSRF_ENABLED": False,
        "RATELIMIT_ENABLED": False,
        "PASSWORD_HASH_METHOD": "scrypt:1024:8:1",
        "MODERATION_ENABLED": False,  # publish at once: these tests are about delivery
        "MAIL_REQUIRE_VERIFICATION": False,
        **json.loads(os.environ["LIVE_TEST_CONFIG"]),
    }
    return create_app(config)


if __name__ == "__main__":
    from forum.extensions import socketio

    application = make_app()
    socketio.run(
        application,
        host="127.0.0.1",
        port=int(sys.argv[1]),
        allow_unsafe_werkzeug=True,
        debug=False,
        log_output=False,
    )
