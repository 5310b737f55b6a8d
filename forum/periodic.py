"""Periodic jobs that run in a background thread in the embedded default, and from cron in
production.

A package starts its job with ``start_periodic(app, mode_key, PeriodicThread(...))``: the config key
``mode_key`` (declared with ``forum.config.worker``) is "thread" or "external" (cron runs the
package's command instead); unset, it follows ``WORKERS`` ("thread" in the embedded default,
"external" when ``BORGERDIALOG_ENV=production``). The thread is
never started under tests, and under a ``flask`` command only with the first request (so
``flask db upgrade`` or ``flask seed-demo`` start no threads). Each round runs the job in an
app context and commits; a failing round is rolled back, logged and tried again next time.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

import click
from flask import Flask

from . import uow
from .config import ConfigError
from .extensions import db

log = logging.getLogger(__name__)
MODES = ("thread", "external")


def worker_mode(app: Flask, key: str) -> str:
    """The mode for ``key`` ("thread" or "external"). ``load_config`` has resolved every
    declared job's mode (its own setting, else ``WORKERS``: forum/config.py); an undeclared
    key follows ``WORKERS`` the same way."""
    mode = app.config.get(key)
    if mode is None:
        mode = app.config.get("WORKERS")
        if mode is None:
            production = app.config.get("BORGERDIALOG_ENV") == "production"
            mode = "external" if production else "thread"
        app.config[key] = mode
    if mode not in MODES:
        raise ConfigError(f"{key} must be thread or external, not {mode!r}.")
    return mode


class PeriodicThread(threading.Thread):
    """Runs ``job()`` every ``interval`` seconds (read from config) until stopped."""

    def __init__(
        self,
        app: Flask,
        name: str,
        job: Callable[[], int],
        interval_key: str,
        enabled: Callable[[], bool] | None = None,
    ) -> None:
        super().__init__(name=name, daemon=True)
        self.app = app
        self.job = job
        self.interval_key = interval_key
        self.enabled = enabled
        self.stopping = threading.Event()

    def run_once(self) -> int:
        """One round in an app context: the job's count, committed; 0 after a failure."""
        with self.app.app_context():
            try:
                if self.enabled is not None and not self.enabled():
                    return 0
                done = self.job()
                uow.commit()
                return done
            except Exception:
                uow.rollback()
                log.exception("%s failed; trying again later", self.name)
                return 0
            finally:
                db.session.remove()

    def run(self) -> None:
        while not self.stopping.wait(float(self.app.config[self.interval_key])):
            self.run_once()

    def stop(self) -> None:
        self.stopping.set()


def wants_thread(app: Flask, mode_key: str) -> bool:
    """Whether this process runs the job's thread: mode "thread" and not under tests."""
    return worker_mode(app, mode_key) == "thread" and not app.config.get("TESTING")


def start_periodic(app: Flask, mode_key: str, thread: PeriodicThread) -> PeriodicThread | None:
    """Start ``thread`` when ``mode_key`` says "thread" (see the module docstring).

    Returns the started thread, or None when none was started now.
    """
    if not wants_thread(app, mode_key):
        return None
    return thread if start_when_serving(app, thread.start) else None


def start_when_serving(app: Flask, start: Callable[[], object]) -> bool:
    """Call ``start`` now, or, under a ``flask`` command, with the first request served (a
    command such as ``flask db upgrade`` must not start writers behind its back; ``flask run``
    serves requests). True when it was called now."""
    if click.get_current_context(silent=True) is None:
        start()
        return True
    started: list[bool] = []

    @app.before_request
    def _start_once() -> None:
        if not started:
            started.append(True)
            start()

    return False
