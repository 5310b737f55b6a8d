"""Citizen budgets (borgerbudget): processes, ideas and their review, ballots, counting rules
(greedy and the Method of Equal Shares) and Pabulib import/export.

``init_app`` adds the tables, pages, commands and template helpers, and registers held ideas
as a review source with the forum's hooks, so moderation's queue decides them when it is
there. The package imports the forum only; neither the forum nor moderation imports it.
"""

from __future__ import annotations

from flask import Flask

from forum.config import Setting, Settings, number, worker

# The tables are defined when the package is imported, not in init_app: by then other
# packages' threads (mail sender, search indexer) may already be mapping the models, and a
# half-imported module makes SQLAlchemy's mapper configuration fail for the whole process.
from . import models  # noqa: F401

# Citizen budgets' settings under the one rule of forum/config.py (handed to load_config by
# the factory).
SETTINGS = Settings(
    "budgets",
    (
        worker("BUDGETS_SCHEDULER", "phases that move on their dates (flask budgets advance)"),
        # how often the embedded scheduler looks for due phase changes (budgets/scheduler.py)
        Setting("BUDGETS_ADVANCE_INTERVAL_SECONDS", 60, number(1)),
    ),
)


def init_app(app: Flask) -> None:
    """Register citizen budgets' pages, commands and template helpers."""
    from forum import hooks

    from . import cli, notices, queries, views
    from .labels import PHASE_LABELS, RULE_LABELS, STATUS_LABELS, STYLE_LABELS, TIE_BREAK_LABELS
    from .permissions import can_create_process, can_manage_process
    from .review import IdeaSource

    app.register_blueprint(views.bp)
    cli.register(app)
    notices.register(app)  # how its notifications read, on the page and in mails
    # Held ideas wait in moderation's queue when there is one (see budgets.review).
    hooks.register_review_source(app, IdeaSource())
    # Ideas' debate threads are not debates of their own on the home page's list.
    hooks.register_owned_topics(app, queries.idea_topic_ids)
    from .citations import IdeaCitations

    hooks.register_citable_source(app, IdeaCitations())  # outcomes cite ideas
    # Phases move on their dates by themselves in the embedded default (cron in production).
    from . import scheduler

    scheduler.init_app(app)

    @app.context_processor
    def _budget_helpers() -> dict:
        return {
            "budget_home": queries.home_processes,
            "budget_phase_labels": PHASE_LABELS,
            "budget_rule_labels": RULE_LABELS,
            "budget_tie_break_labels": TIE_BREAK_LABELS,
            "budget_style_labels": STYLE_LABELS,
            "budget_status_labels": STATUS_LABELS,
            "budget_can_create": can_create_process,
            "budget_can_manage": can_manage_process,
        }
