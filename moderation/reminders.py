"""Reminders for moderators, in the embedded default: a daemon thread that runs
``services.send_reminders`` every ``MODERATION_REMIND_INTERVAL_SECONDS``.

``MODERATION_REMINDER_WORKER`` is "thread" in the embedded default and "external" in
production (``BORGERDIALOG_ENV=production``), where cron runs ``flask moderation remind`` once
for all instances. The thread itself is ``forum.periodic``'s (no thread under tests; under a
CLI command only once a request is served, never behind ``flask db upgrade``'s back).
"""

from __future__ import annotations

from flask import Flask, current_app

from forum.periodic import PeriodicThread, start_periodic


def _send_reminders() -> int:
    from .services import send_reminders

    return send_reminders()


def reminder_thread(app: Flask) -> PeriodicThread:
    return PeriodicThread(
        app,
        "moderation-reminders",
        _send_reminders,
        "MODERATION_REMIND_INTERVAL_SECONDS",
        enabled=lambda: bool(current_app.config.get("MODERATION_ENABLED")),
    )


def init_app(app: Flask) -> None:
    start_periodic(app, "MODERATION_REMINDER_WORKER", reminder_thread(app))
