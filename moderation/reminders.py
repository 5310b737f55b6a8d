"""Reminders for moderators, in the embedded default: a daemon thread that runs
``services.send_reminders`` every ``MODERATION_REMIND_INTERVAL_SECONDS``.

``MODERATION_REMINDER_WORKER`` is "thread" in the embedded default and "external" in
production (``BORGERDIALOG_ENV=production``), where cron runs ``flask moderation remind`` once
for all instances. Tests (``TESTING``) start no thread; CLI commands start it only once a
request is served (``flask run``), never behind ``flask db upgrade``'s back.
"""

from __future__ import annotations

import logging
import threading

import click
from flask import Flask

from forum.extensions import db

log = logging.getLogger(__name__)
_threads: set[ReminderThread] = set()
_lock = threading.Lock()


class ReminderThread(threading.Thread):
    def __init__(self, app: Flask) -> None:
        super().__init__(name="moderation-reminders", daemon=True)
        self.app = app
        self.stopping = threading.Event()

    def run_once(self) -> int:
        from .services import send_reminders

        with self.app.app_context():
            try:
                told = send_reminders()
                db.session.commit()
                return told
            except Exception:
                db.session.rollback()
                log.exception("moderation reminders failed; trying again later")
                return 0
            finally:
                db.session.remove()

    def run(self) -> None:
        interval = float(self.app.config["MODERATION_REMIND_INTERVAL_SECONDS"])
        while not self.stopping.wait(interval):
            if self.app.config.get("MODERATION_ENABLED"):
                self.run_once()

    def stop(self) -> None:
        self.stopping.set()


def _wants_thread(app: Flask) -> bool:
    worker = app.config.get("MODERATION_REMINDER_WORKER")
    if worker is None:
        production = app.config.get("BORGERDIALOG_ENV") == "production"
        worker = app.config["MODERATION_REMINDER_WORKER"] = (
            "external" if production else "thread"
        )
    if worker not in ("thread", "external"):
        raise ValueError(
            f"MODERATION_REMINDER_WORKER must be 'thread' or 'external', not {worker!r}."
        )
    return worker == "thread" and not app.config.get("TESTING")


def start_thread(app: Flask) -> ReminderThread:
    thread = ReminderThread(app)
    with _lock:
        _threads.add(thread)
    thread.start()
    return thread


def stop_threads() -> None:
    for t in list(_threads):
        t.stop()


def init_app(app: Flask) -> None:
    if not _wants_thread(app):
        return
    if click.get_current_context(silent=True) is not None:
        started: list[bool] = []

        @app.before_request
        def _start_once() -> None:
            if not started:
                started.append(True)
                start_thread(app)

        return
    start_thread(app)
