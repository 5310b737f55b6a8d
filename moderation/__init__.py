"""Moderation: policies, the queue, flags, decisions, appeals, suspensions and the audit log.

``init_app`` registers the post policy and the user-restriction hook with the forum core,
subscribes to the forum's signals, and adds the pages, commands and template helpers. The
forum never imports this package. With ``MODERATION_ENABLED`` false (the forum's own tests)
the hooks and signal handlers let everything through and write nothing; the flag is read
at call time, so a seeding script may switch it off for a moment.
"""

from __future__ import annotations

from flask import Flask, current_app, g, has_request_context, request
from flask_login import current_user
from markupsafe import Markup, escape

from forum import hooks, signals, uow
from forum.config import Settings, choice, defaults, flag, number, rate_limit, whole, worker

DEFAULTS: dict[str, object] = {
    "MODERATION_ENABLED": True,
    "MODERATION_DEFAULT_MODE": "post",  # "post" (publish at once) or "pre" (hold)
    "MODERATION_TRUST_THRESHOLD": 2,  # hold posts of authors with fewer approved posts
    "MODERATION_LINK_TRUST_THRESHOLD": 5,  # links held below this many approved posts …
    "MODERATION_NEW_ACCOUNT_DAYS": 7,  # … or for accounts younger than this
    "MODERATION_RATE_POSTS": 5,  # hold the post after this many …
    "MODERATION_RATE_WINDOW_SECONDS": 600,  # … within this window
    "MODERATION_FLAG_THRESHOLD": 3.0,  # weighted reports that hide a post for review
    "MODERATION_CLAIM_MINUTES": 5,
    "MODERATION_REMIND_AFTER_MINUTES": 60,
    # How often the embedded reminder thread looks (see moderation.reminders); production
    # runs `flask moderation remind` from cron instead (MODERATION_REMINDER_WORKER=external).
    "MODERATION_REMIND_INTERVAL_SECONDS": 60,
    "MODERATION_QUEUE_PAGE_SIZE": 50,
    # Requests under /moderation by someone who is not a moderator (each is audited).
    "MODERATION_DENIED_RATE": "30 per minute",
    # Refused joins of the moderators' live room audited per client address (the first of
    # each connection; the rest are counted: moderation/events.py).
    "MODERATION_LIVE_REFUSAL_AUDITS": "10 per minute",
}
# Moderation's settings under the one rule of forum/config.py (handed to load_config by the
# factory).
SETTINGS = Settings(
    "moderation",
    (
        worker("MODERATION_REMINDER_WORKER", "reminders to moderators (flask moderation remind)"),
        *defaults(
            DEFAULTS,
            MODERATION_ENABLED=flag,
            MODERATION_DEFAULT_MODE=choice("post", "pre"),
            MODERATION_TRUST_THRESHOLD=whole(0),
            MODERATION_LINK_TRUST_THRESHOLD=whole(0),
            MODERATION_NEW_ACCOUNT_DAYS=whole(0),
            MODERATION_RATE_POSTS=whole(1),
            MODERATION_RATE_WINDOW_SECONDS=whole(1),
            MODERATION_FLAG_THRESHOLD=number(0),
            MODERATION_CLAIM_MINUTES=whole(1),
            MODERATION_REMIND_AFTER_MINUTES=whole(1),
            MODERATION_REMIND_INTERVAL_SECONDS=number(1),
            MODERATION_QUEUE_PAGE_SIZE=whole(1),
            MODERATION_DENIED_RATE=rate_limit,
            MODERATION_LIVE_REFUSAL_AUDITS=rate_limit,
        ),
    ),
)


def _connect_signals() -> None:
    """Blinker signals are global and connecting a receiver twice is a no-op, so one app per
    test is fine; the handlers check the current app's flag."""
    from . import services

    signals.post_created.connect(services.on_post_created, weak=False)
    signals.post_edited.connect(services.on_post_edited, weak=False)
    signals.post_state_changed.connect(services.on_post_state_changed, weak=False)
    signals.topic_created.connect(services.on_topic_created, weak=False)
    signals.topic_proposal_decided.connect(services.on_topic_proposal_decided, weak=False)
    signals.topic_moved.connect(services.on_topic_moved, weak=False)


def _cache() -> dict:
    """Per-request memo (in ``g``: each request has an app context of its own)."""
    if not has_request_context():
        return {}
    return g.setdefault("moderation_memo", {})


def remember_waiting(count: int) -> None:
    """The queue page counted what waits (unfiltered): the navigation reuses the figure."""
    _cache()["waiting"] = count


def _enabled() -> bool:
    return bool(current_app.config.get("MODERATION_ENABLED"))


def _waiting() -> int | None:
    """The live count in a moderator's navigation (None for everyone else)."""
    from . import permissions, queries

    if not _enabled() or not permissions.can_use_queue(current_user):
        return None
    cache = _cache()
    if "waiting" not in cache:
        if permissions.moderated_area_ids(current_user) is not None:
            _waiting_areas()  # one reading gives the areas' figures and their sum
        else:
            cache["waiting"] = queries.waiting_count(current_user)
    return cache["waiting"]


def _waiting_areas() -> dict[int, int] | None:
    """A scoped moderator's waiting items per area (their sum is the navigation's figure): the
    live count updates one area at a time. None for everyone else."""
    from . import permissions, queries

    if not _enabled() or not permissions.can_use_queue(current_user):
        return None
    scope = permissions.moderated_area_ids(current_user)
    if scope is None:
        return None
    cache = _cache()
    if "waiting_areas" not in cache:
        counts = queries.waiting_counts()
        cache["waiting_areas"] = {a: counts.by_area.get(a, 0) for a in sorted(scope)}
        cache["waiting"] = counts.for_scope(scope)
    return cache["waiting_areas"]


def _my_suspension():
    from . import services

    if not _enabled() or not current_user.is_authenticated:
        return None
    cache = _cache()
    if "suspension" not in cache:
        if hooks.known_reader_fact("suspended", current_user.id) is False:
            cache["suspension"] = None  # read with the reader's other facts: none in force
        else:
            cache["suspension"] = services.active_suspension(current_user.id)
    return cache["suspension"]


def _suspended_fact(user_id, now):
    """The reader fact "suspended" (``hooks.register_reader_fact``): a suspension in force."""
    from sqlalchemy import exists, or_

    from .models import Suspension

    return exists().where(
        Suspension.user_id == user_id,
        Suspension.lifted_at.is_(None),
        or_(Suspension.until.is_(None), Suspension.until > now),
    )


def _until(value) -> str:
    from . import services

    return services.until_text(value)


def _write_block(user) -> str | None:
    """The forum's write block (``hooks.register_write_block``): a suspension in force hides
    every write control; its message. The viewer's own is read once per page."""
    from . import services

    if not _enabled():
        return None
    if (
        has_request_context()
        and not hasattr(request, "sid")  # a socket event: no per-page memo
        and current_user.is_authenticated
        and current_user.id == user.id
    ):
        s = _my_suspension()
    else:
        s = services.active_suspension(user.id)
    return services.suspension_message(s) if s is not None else None


def _post_note(post):
    """The latest decision on the viewer's own not-public post (one query per topic)."""
    from . import queries

    if not _enabled() or not current_user.is_authenticated or current_user.id != post.author_id:
        return None
    cache = _cache().setdefault("post_notes", {})
    if post.topic_id not in cache:
        cache[post.topic_id] = queries.post_notes(current_user.id, post.topic_id)
    return cache[post.topic_id].get(post.id)


def _source_label(kind: str) -> str:
    """What a registered source's content is called (its kind, if none is registered)."""
    source = hooks.review_sources().get(kind)
    return str(source.label) if source is not None else kind


def _target_note(kind: str, target_id: int):
    """The latest decision on the viewer's own content of a registered source (the rule, the
    text, an appeal and whether one may be made), or None."""
    from . import queries

    if not _enabled() or not current_user.is_authenticated:
        return None
    return queries.target_note(current_user.id, kind, target_id)


_PLACEHOLDER_ID = 987654321


def _url_parts(endpoint: str) -> tuple[str, str]:
    """A route's URL around its post id, to build one per post by joining strings."""
    from flask import url_for

    head, _sep, tail = url_for(endpoint, post_id=_PLACEHOLDER_ID).partition(str(_PLACEHOLDER_ID))
    return head, tail


def _may_report() -> bool:
    """Reporting is writing: not while suspended (once per page)."""
    from forum import permissions as forum_permissions

    cache = _cache()
    if "may_report" not in cache:
        cache["may_report"] = forum_permissions.can_write(current_user)
    return cache["may_report"]


def _post_actions(p, topic, viewer_id: int | None = None) -> Markup:
    """The report and moderate links of one post in a thread. What is the same for every post
    of the page (permission, URLs, labels) is worked out once per request: a 300-post thread
    paid for a template include, two url_for and a permission check per post.

    ``viewer_id``: render the report link as for another reader than the signed-in one (0:
    a reader who wrote none of the posts), for the thread that readers share
    (templates/forum/_thread.html, ``shared``); the permissions stay the signed-in one's."""
    from flask import g
    from flask_babel import gettext

    from . import permissions

    uid = current_user.id if current_user.is_authenticated else None
    key = (topic.id, uid)
    page = g.get("_moderation_post_actions")
    if page is None or page[0] != key:
        page = g._moderation_post_actions = (
            key,
            permissions.can_moderate_topic(current_user, topic),
            _url_parts("moderation.report"),
            _url_parts("moderation.post"),
            str(escape(gettext("Report"))),
            str(escape(gettext("Moderate"))),
            str(escape(gettext("post by %(name)s"))),
        )
    _key, can_moderate, report_url, moderate_url, report, moderate, post_by = page
    if uid is None:
        return Markup("")
    if viewer_id is not None:
        uid = viewer_id
    hidden = post_by % {"name": escape(p.author.display_name)}
    links = []
    if uid != p.author_id and p.state.value == "published" and _may_report():
        links.append(
            f'<a href="{report_url[0]}{p.id}{report_url[1]}" class="btn-small">'
            f'{report}<span class="visually-hidden"> {hidden}</span></a>'
        )
    if can_moderate:
        links.append(
            f'<a href="{moderate_url[0]}{p.id}{moderate_url[1]}" class="btn-small">'
            f'{moderate}<span class="visually-hidden"> {hidden}</span></a>'
        )
    return Markup("\n".join(links))


def _template_helpers(app: Flask) -> None:
    """Functions, not values: a page pays for a query only if its template calls one."""
    from . import labels, permissions, policy

    @app.context_processor
    def inject():
        return {
            "moderation_enabled": _enabled,
            "moderation_waiting": _waiting,
            "moderation_waiting_areas": _waiting_areas,
            "moderation_suspension": _my_suspension,
            "moderation_until": _until,
            "moderation_post_note": _post_note,
            "moderation_reasons": policy.describe,
            "moderation_labels": policy.labels,
            "moderation_perm": permissions,
            "moderation_source_label": _source_label,
            "moderation_action_label": labels.action_label,
            "moderation_state_label": labels.state_label,
            "moderation_target_note": _target_note,
            "moderation_post_actions": _post_actions,
        }


def init_app(app: Flask) -> None:
    """Register moderation's policy, restriction hook, pages, commands and helpers."""

    from . import cli, events, models, notices, policy, reminders, services, views  # noqa: F401

    hooks.register_post_policy(app, policy.post_policy)
    hooks.register_user_restriction(app, services.restriction)
    hooks.register_write_block(app, _write_block)
    hooks.register_reader_fact(app, "suspended", _suspended_fact, _enabled)
    hooks.register_review_queue(app, services.SourceQueue())
    # Live Q&A moderates its questions on its own page through the desk (no import of ours).
    hooks.register_moderator_desk(app, services.Desk())
    notices.register(app)  # how its notifications read, on the page and in mails
    hooks.register_audit_log(app, services.audit)
    # The audit log is append-only: the unit of work refuses updates and deletes of its rows.
    uow.append_only(app, models.AuditEntry, models.AppendOnlyViolation)
    _connect_signals()
    events.register()
    app.register_blueprint(views.bp)
    cli.register(app)
    _template_helpers(app)
    reminders.init_app(app)
