"""Opinion maps (holdningskort, issue 17): statements rounds on a topic, votes agree /
disagree / pass, and a Pol.is-style map of opinion groups with representative, consensus and
divisive statements; Pol.is import and export.

``init_app`` adds the pages, the commands, the review source (participants' statements wait
in moderation's queue when there is one), the live room ``opinions:<round>`` and the
periodic recomputation. The package imports the forum only.
"""

from __future__ import annotations

from flask import Flask

from forum.config import Setting, Settings, number, rate_limit, worker

# Tables defined at import (see budgets/__init__.py for why).
from . import models  # noqa: F401

# The opinion map's settings under the one rule of forum/config.py (handed to load_config by
# the factory).
SETTINGS = Settings(
    "opinions",
    (
        worker("OPINIONS_WORKER", "recomputing opinion maps (flask opinions recompute)"),
        Setting("OPINIONS_DEBOUNCE_SECONDS", 5, number(0)),
        Setting("OPINIONS_INTERVAL_SECONDS", 5, number(0.1)),
        Setting("RATELIMIT_OPINION_VOTE", "30 per minute;1000 per day", rate_limit, env=True),
    ),
)


def init_app(app: Flask) -> None:
    """Register the opinion map's pages, commands, review source and recomputation."""
    from forum import hooks
    from forum.periodic import PeriodicThread, start_periodic

    from . import cli, demo, live, views
    from .review import StatementSource

    app.register_blueprint(views.bp)
    cli.register(app)
    hooks.register_review_source(app, StatementSource())
    hooks.register_demo_step(app, demo.seed)
    # The synthesis page and the council report show the map's groups and statements.
    from .synthesis import sections

    hooks.register_synthesis_section(app, sections)
    live.register()

    @app.context_processor
    def _opinion_helpers() -> dict:
        from .permissions import can_open_round
        from .queries import rounds_for

        return {"opinion_rounds_for": rounds_for, "can_open_opinion_round": can_open_round}

    start_periodic(
        app,
        "OPINIONS_WORKER",
        PeriodicThread(app, "opinions-recompute", _recompute_job, "OPINIONS_INTERVAL_SECONDS"),
    )


def _recompute_job() -> int:
    from flask import current_app

    from .services import recompute_due

    return recompute_due(float(current_app.config["OPINIONS_DEBOUNCE_SECONDS"]))
