"""Live Q&A sessions (spørgetid): politicians answer citizens' upvoted questions live.

Design: every question, answer and statement is a forum ``Post``
-----------------------------------------------------------------
The issue wants questions and answers moderated through moderation's decisions and audit
log, shown on the asker's and the politician's profiles and indexed by search like posts.
All three already work for posts, and all three read the forum's tables and event log. So
each session gets a forum ``Topic`` of its own (created when the session is scheduled, in
the session's committee/area; the optional related topic is linked both ways), and

* a question is a top-level post by the asker,
* an answer is a reply to the question by one of the session's politicians,
* a statement is a top-level post by one of the session's politicians,

while what only Q&A has (votes, open/answered/closed/merged, the pinned question, the
schedule and the politicians) lives in this package's ``qa_*`` tables, keyed by post id.

What that gives without touching moderation, search or the profiles: pre-moderation is
moderation's per-topic mode ("pre", set with ``moderation.services.set_mode`` and audited);
approving and rejecting a question is ``moderation.services.moderate_post`` (a debate rule,
the author's notification, appeals and the audit log included); the search indexer picks up
the posts' events; profiles list the posts; visibility (pending only to its author and
moderators) is the forum's ``can_see_post`` everywhere, and the forum's live routing sends a
held question's messages only to its author and the moderators.

Keeping the Q&A rules: the forum asks registered topic guards (``forum.hooks.topic_guard``)
before posting, replying, editing or supporting; ours refuses all of them in a session's
topic unless the write comes through this package's services (a context variable marks
those), so nobody bypasses the 10–500 characters, the session's state, the rate limits or
the politician check through the ordinary forum pages. The forum imports nothing of qa.
A wrapper around moderation's post policy publishes the answers and statements of the
session's own politicians at once (politicians speak in their own name; moderators can
still hide them afterwards), unless a watched word or a link held them.

Around it: reminder sign-ups emit the mail package's ``qa_signup``/``qa_signoff`` events and
a changed or cancelled schedule ``qa_changed`` (see ``mail.feed``); sessions end by themselves
``QA_AUTO_END_MINUTES`` after their end time (``flask qa tick`` from cron, and lazily on a
page view); the forum's pages list sessions through the ``qa_sessions_for`` template helper
(``templates/qa/_sessions_box.html``, included with "ignore missing"); ``flask seed-demo``
runs ``qa.demo.seed`` through the forum's demo-step hook. A process keeps the ids of the
sessions' topics for ``QA_TOPIC_CACHE_SECONDS``, so ordinary topic pages pay no query for
the guard or the list; writes always ask the database.

Live: the session page joins ``qa:<id>`` (this package's room: votes, status, pin, session
state; routed by ``qa.live``) and ``topic:<debate topic>`` (the forum's post messages,
already filtered by visibility), plus ``user:<me>`` and, for moderators, ``moderators``,
where held questions' messages go. Messages carry ids and counts; HTML comes from GET
fragment routes that apply visibility. Presence (watchers, politicians present) is
ephemeral and sent as ``qa_presence`` without an event id, at most every few seconds.
"""

from __future__ import annotations

from flask import Flask

from forum.config import Settings, defaults, number, rate_limit, whole, worker
from forum.periodic import PeriodicThread, start_periodic

# Tables and socket handlers at import time (before socketio.init_app, see PITFALLS.md).
from . import events, models  # noqa: F401

DEFAULTS: dict[str, object] = {
    "QA_QUESTION_MIN": 10,
    "QA_QUESTION_MAX": 500,
    "QA_ANSWER_MAX": 5000,
    "QA_ASK_RATE": "3 per minute;20 per hour",
    "QA_VOTE_RATE": "30 per minute",
    "QA_AUTO_END_MINUTES": 30,  # a session ends by itself this long after its end time
    "QA_PRESENCE_SECONDS": 2.0,  # how often presence is recounted and pushed
    "QA_PROJECTOR_WAITING": 5,
    "QA_TOPIC_CACHE_SECONDS": 30.0,  # how long a process trusts its list of session topics
    # Ending overdue sessions: a thread every QA_TICK_INTERVAL_SECONDS in the embedded default,
    # `flask qa tick` from cron in production (QA_WORKER=external); page views also end them.
    "QA_TICK_INTERVAL_SECONDS": 60,
}
# Q&A's settings under the one rule of forum/config.py (handed to load_config by the factory).
SETTINGS = Settings(
    "qa",
    (
        worker("QA_WORKER", "ending sessions past their end time (flask qa tick)"),
        *defaults(
            DEFAULTS,
            QA_QUESTION_MIN=whole(1),
            QA_QUESTION_MAX=whole(1),
            QA_ANSWER_MAX=whole(1),
            QA_ASK_RATE=rate_limit,
            QA_VOTE_RATE=rate_limit,
            QA_AUTO_END_MINUTES=whole(0),
            QA_PRESENCE_SECONDS=number(0.1),
            QA_PROJECTOR_WAITING=whole(0),
            QA_TOPIC_CACHE_SECONDS=number(0),
            QA_TICK_INTERVAL_SECONDS=number(1),
        ),
    ),
)


def _tick() -> int:
    from .services import tick

    return tick()


def init_app(app: Flask) -> None:
    """Register the pages, hooks, live room, commands, template helpers and demo step."""

    from forum import hooks

    from . import cli, demo, live, notices, policy, queries, views

    hooks.register_topic_guard(app, policy.topic_guard)
    hooks.register_post_policy(app, policy.wrap(hooks.registered_post_policy(app)))
    hooks.register_demo_step(app, demo.seed)
    # After the meetings package's step: a session held at one of its demo meetings.
    hooks.register_demo_step(app, demo.seed_hybrid, late=True)
    notices.register(app)  # how its notifications read, on the page and in mails
    from .citations import AnswerSource

    hooks.register_citable_source(app, AnswerSource())  # outcomes cite answers
    # Sessions' debate topics are not debates of their own on the home page's list.
    hooks.register_owned_topics(app, queries.debate_topic_ids)
    # A session held at a meeting (hybrid): the meeting's page reads the session's facts.
    from .services import session_facts

    hooks.register_live_sessions(app, session_facts)
    live.register()
    app.before_request(policy.warm_topic_ids)
    app.register_blueprint(views.bp)
    cli.register(app)
    start_periodic(
        app, "QA_WORKER", PeriodicThread(app, "qa-tick", _tick, "QA_TICK_INTERVAL_SECONDS")
    )

    @app.context_processor
    def _qa_helpers() -> dict:
        return {"qa_sessions_for": queries.sessions_for_page}
