"""Reports: what citizens think, for those who decide (issue 15, parts 2 and 3).

- The **synthesis page** of a topic (``/emner/<id>/hvad-mener-borgerne``), for politicians,
  staff, moderators and admins: stances overall, by week and by local area (groups under 5
  people suppressed, and said so), the strongest arguments per stance (by supports, at most
  one per person, spread over areas), unanswered questions to politicians, the politicians'
  replies, participants against posts. Charts are server-rendered SVG, each with a data
  table. Cached per process on the topic room's newest event, like the topic page.
- The **council report** (erfaringsrapport) for a topic, a committee or the whole platform
  over a period: a saved definition (``report_definitions``), made on demand as HTML with
  print CSS, as PDF from the same HTML (WeasyPrint), and as a CSV appendix of its figures
  (``forum.exports``); ``flask reports make`` writes one to a file with a progress bar.

Only what everyone may read counts: published posts of public topics (and the other
packages' public content). A separate package from ``outcomes/``: outcomes are written
content with their own pages and notifications; reports only read, from every package.
"""

from __future__ import annotations

from flask import Flask

from forum.config import Setting, Settings, whole

from . import models  # noqa: F401  (tables at import time)

# Reports' settings under the one rule of forum/config.py: groups smaller than REPORTS_K_MIN
# are not shown apart.
SETTINGS = Settings("reports", (Setting("REPORTS_K_MIN", 5, whole(1)),))


def init_app(app: Flask) -> None:
    """Register the pages, the command, the demo step and the template helpers."""
    from forum import hooks

    from . import cli, demo, permissions, views

    app.register_blueprint(views.bp)
    cli.register(app)
    hooks.register_demo_step(app, demo.seed)

    @app.context_processor
    def _report_helpers() -> dict:
        return {
            "reports_can_make": permissions.can_make_report,
            "reports_can_see_synthesis": permissions.can_see_synthesis,
        }
