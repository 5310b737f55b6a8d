"""forum.periodic: the background jobs of the embedded default (moderation reminders,
budget phases, ending Q&A sessions) share one thread runner."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import func, select

from forum.config import ConfigError
from forum.extensions import db
from forum.models import Committee
from forum.periodic import PeriodicThread, start_periodic, worker_mode


def _count() -> int:
    return db.session.scalar(select(func.count()).select_from(Committee))


def test_worker_mode_follows_workers_and_refuses_nonsense(app):
    app.config.pop("X_WORKER", None)
    assert app.config["WORKERS"] == "thread"  # the embedded default (forum/config.py)
    assert worker_mode(app, "X_WORKER") == "thread"
    app.config.pop("X_WORKER")
    app.config["WORKERS"] = "external"
    assert worker_mode(app, "X_WORKER") == "external"
    app.config.pop("X_WORKER")
    app.config.pop("WORKERS")
    app.config["BORGERDIALOG_ENV"] = "production"
    assert worker_mode(app, "X_WORKER") == "external"
    app.config["X_WORKER"] = "cron"
    with pytest.raises(ConfigError, match="X_WORKER must be thread or external, not 'cron'"):
        worker_mode(app, "X_WORKER")


def test_no_thread_under_tests(app):
    app.config["X_WORKER"] = "thread"
    thread = PeriodicThread(app, "x", lambda: 0, "X_INTERVAL")
    assert start_periodic(app, "X_WORKER", thread) is None and not thread.is_alive()


def test_a_round_commits_the_job_and_a_failing_round_changes_nothing(app):
    n = [0]

    def job() -> int:
        n[0] += 1
        db.session.add(Committee(slug=f"udvalg-{n[0]}", name=f"Udvalg {n[0]}"))
        if n[0] == 2:
            raise RuntimeError("the database went away")
        return 1

    thread = PeriodicThread(app, "test-job", job, "X_INTERVAL")
    assert thread.run_once() == 1
    assert thread.run_once() == 0  # failed: rolled back, logged, tried again next round
    db.session.remove()
    assert _count() == 1
    off = PeriodicThread(app, "test-job", job, "X_INTERVAL", enabled=lambda: False)
    assert off.run_once() == 0 and n[0] == 2


def test_the_thread_runs_every_interval_until_stopped(app):
    app.config["X_INTERVAL"] = 0.02
    rounds: list[float] = []
    thread = PeriodicThread(
        app, "test-loop", lambda: rounds.append(time.monotonic()) or 1, "X_INTERVAL"
    )
    thread.start()
    try:
        deadline = time.monotonic() + 10
        while len(rounds) < 3 and time.monotonic() < deadline:
            time.sleep(0.01)
    finally:
        thread.stop()
        thread.join(timeout=5)
    assert len(rounds) >= 3 and not thread.is_alive()


def test_under_a_command_the_start_waits_for_the_first_request(app):
    import click

    from forum.periodic import start_when_serving

    calls: list[int] = []
    with click.Context(click.Command("upgrade")):
        assert start_when_serving(app, lambda: calls.append(1)) is False
    assert calls == []  # `flask db upgrade` starts nothing
    client = app.test_client()
    client.get("/")
    client.get("/")
    assert calls == [1]  # the first request served starts it, once
    assert start_when_serving(app, lambda: calls.append(2)) is True and calls == [1, 2]
