"""Outcomes: what became of a debate (issue 15, part 1).

A topic can get an outcome, written by staff (moderators without an area scope, admins) or
the politicians of the topic's committee: a timeline of dated updates, like a case file,
each with a status (under consideration, decided, postponed, rejected, sent on), the
decision in words (Markdown through ``forum.rendering``), the body that decided and a link
to the agenda item or minutes. An update can cite the contributions it answers ("what we
heard → what we did"); the cited posts show a note through the forum's citation hook
(``forum.hooks.register_post_citations``), asked once per page.

Who hears about it: everybody who took part in the topic (authors of its published posts,
those who agreed with them, its followers) gets one in-app notification per update, of kind
``outcome_update``, and so a mail of the mail package's ``outcome`` kind (their
immediate/digest/off choice and unsubscribe links apply). The update is an ``outcome_update``
event in the topic's room: open topic pages show a live notice, and the anonymous thread
cache (keyed on the room's newest event) renders the citation notes at once.

Visibility: an outcome is visible exactly to those who may see its topic; lists filter with
the forum's ``visible_topics_clause``; a cited post shows on the outcome page only to those
who may read it now. The forum imports nothing of this package.
"""

from __future__ import annotations

from flask import Flask
from flask_babel import format_date

from . import models  # noqa: F401  (tables at import time)


def init_app(app: Flask) -> None:
    """Register the pages, the citation hook, the live notice, template helpers and the demo
    step."""
    from forum import hooks
    from forum import live as forum_live

    from . import demo, notices, permissions, queries, views
    from .forms import status_label
    from .search import OutcomeSource

    hooks.register_post_citations(app, queries.post_citations)
    notices.register(app)  # how its notifications read, on the page and in mails
    hooks.register_search_source(app, OutcomeSource())
    hooks.register_cited_in(app, queries.cited_in)
    hooks.register_demo_step(app, demo.seed)
    forum_live.register_topic_notice("outcome_update")
    app.register_blueprint(views.bp)

    @app.template_filter("outcome_date")
    def _outcome_date(value) -> str:
        """A decision's date in the reader's language (»3. december 2026«)."""
        return format_date(value, "long") if value else ""

    @app.context_processor
    def _outcome_helpers() -> dict:
        return {
            "outcome_for_topic": queries.outcome_for_topic,
            "can_write_outcome": permissions.can_write_outcome,
            "outcome_status_label": status_label,
        }
