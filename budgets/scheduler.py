"""Phase changes on their dates, in the embedded default: a daemon thread that runs
``services.advance_due`` every ``BUDGETS_ADVANCE_INTERVAL_SECONDS`` (entering the result
phase runs the count, so results appear when voting closes).

``BUDGETS_SCHEDULER`` is "thread" in the embedded default and "external" in production
(``BORGERDIALOG_ENV=production``), where cron runs ``flask budgets advance`` once for all
instances. Tests (``TESTING``) start no thread; CLI commands start it only once a request is
served (``flask run``).
"""

from __future__ import annotations

import logging
import threading

import click
from flask import Flask

from forum.extensions import db

log = logging.getLogger(__name__)
DEFAULTS = {"BUDGETS_ADVANCE_INTERVAL_SECONDS": 60}


class SchedulerThread(threading.Thread):
    def __init__(self, app: Flask) -> None:
        super().__init__(name="budgets-scheduler", daemon=True)
        self.app = app
        self.stopping = threading.Event()

    def run_once(self) -> int:
        """Advance what is due; returns how many phase changes were made."""
        from .models import Phase
        from .services import advance_due

        with self.app.app_context():
            try:
                moved = [(p.id, outcome) for p, outcome in advance_due()]
                db.session.commit()
            except Exception:
                db.session.rollback()
                log.exception("budgets: advancing phases failed; trying again later")
                return 0
            finally:
                db.session.remove()
        for process_id, outcome in moved:
            if not isinstance(outcome, Phase):  # the reason it could not move on
                log.warning("budgets: process %s could not move on: %s", process_id, outcome)
        return sum(1 for _p, outcome in moved if isinstance(outcome, Phase))

    def run(self) -> None:
        interval = float(self.app.config["BUDGETS_ADVANCE_INTERVAL_SECONDS"])
        while not self.stopping.wait(interval):
            self.run_once()

    def stop(self) -> None:
        self.stopping.set()


def wants_thread(app: Flask) -> bool:
    mode = app.config.get("BUDGETS_SCHEDULER")
    if mode is None:
        production = app.config.get("BORGERDIALOG_ENV") == "production"
        mode = app.config["BUDGETS_SCHEDULER"] = "external" if production else "thread"
    if mode not in ("thread", "external"):
        raise ValueError(f"BUDGETS_SCHEDULER must be 'thread' or 'external', not {mode!r}.")
    return mode == "thread" and not app.config.get("TESTING")


def init_app(app: Flask) -> None:
    for key, value in DEFAULTS.items():
        app.config.setdefault(key, value)
    if not wants_thread(app):
        return
    if click.get_current_context(silent=True) is not None:
        started: list[bool] = []

        @app.before_request
        def _start_once() -> None:
            if not started:
                started.append(True)
                SchedulerThread(app).start()

        return
    SchedulerThread(app).start()
