"""WSGI entry point for bench/topic_page.py: the real app on the benchmark's database.

Served by gunicorn as ``_topic_page_app:app`` (with the repository root and bench/ on the
Python path). The benchmark passes the database URL and its temp directory in
environment variables; the configuration goes in through ``create_app``'s test_config (with
an instance path in the temp dir), so nothing of the developer's instance/ is read or written.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from app import create_app  # noqa: E402


def bench_config(db_url: str, tmp: str) -> dict:
    """The configuration the benchmark runs the real app with (shared with topic_page.py)."""
    return {
        "SQLALCHEMY_DATABASE_URI": db_url,
        "SECRET_KEY": "bench",
        "INSTANCE_PATH": str(Path(tmp) / "instance"),  # the repository's instance/ untouched
        "RATELIMIT_ENABLED": False,
        "SEARCH_INDEX_DIR": str(Path(tmp) / "search-index"),
        # As in production with several worker processes: the app only reads the index and
        # no indexer thread writes (to the index or its cursor) while GETs are measured.
        "SEARCH_WORKER": "external",
        # Likewise no mail sender thread (it updates mail rows); files stay in the temp dir.
        "MAIL_WORKER": "external",
        "MAIL_OUTBOX_DIR": str(Path(tmp) / "outbox"),
        # And no fan-out thread writing notifications: a bench that wants them drains the
        # jobs itself (forum.fanout.drain) or starts the thread (bench/post_create.py).
        "FANOUT_WORKER": "external",
        # The bench's own accounts only: cheaper scrypt (as the tests use) makes seeding fast.
        "PASSWORD_HASH_METHOD": "scrypt:1024:8:1",
    }


def _make_app():
    db_url = os.environ.get("BENCH_DATABASE_URL")
    tmp = os.environ.get("BENCH_TMP_DIR")
    if not db_url or not tmp:
        raise RuntimeError("set BENCH_DATABASE_URL and BENCH_TMP_DIR (bench/topic_page.py does)")
    return create_app(bench_config(db_url, tmp))


app = _make_app() if os.environ.get("BENCH_DATABASE_URL") else None
