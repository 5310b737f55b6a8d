"""Phase changes on their dates, in the embedded default: a daemon thread that runs
``services.advance_due`` every ``BUDGETS_ADVANCE_INTERVAL_SECONDS`` (entering the result
phase runs the count, so results appear when voting closes).

``BUDGETS_SCHEDULER`` (declared in budgets/__init__.py; unset, it follows ``WORKERS``) is
"thread" in the embedded default and "external" in production, where cron runs
``flask budgets advance`` once for all instances. The thread itself is ``forum.periodic``'s
(no thread under tests; under a CLI command only once a request is served).
"""

from __future__ import annotations

import logging

from flask import Flask

from forum.periodic import PeriodicThread, start_periodic

log = logging.getLogger(__name__)


def advance_due_phases() -> int:
    """Advance what is due (the caller commits); how many phase changes were made."""
    from .models import Phase
    from .services import advance_due

    moved = [(p.id, outcome) for p, outcome in advance_due()]
    for process_id, outcome in moved:
        if not isinstance(outcome, Phase):  # the reason it could not move on
            log.warning("budgets: process %s could not move on: %s", process_id, outcome)
    return sum(1 for _p, outcome in moved if isinstance(outcome, Phase))


def init_app(app: Flask) -> None:
    start_periodic(app, "BUDGETS_SCHEDULER", scheduler_thread(app))


def scheduler_thread(app: Flask) -> PeriodicThread:
    return PeriodicThread(
        app, "budgets-scheduler", advance_due_phases, "BUDGETS_ADVANCE_INTERVAL_SECONDS"
    )
