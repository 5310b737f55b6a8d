"""A rate limit on every form people can send again and again.

Routes that carry their own ``@limiter.limit`` (logging in, registering, posting and
replying, supporting a post, saving a search, budget ideas and ballots, changing the
address, a forgotten password) keep it. Every other POST route gets one here, in one table,
so the policy is readable in one place (``tests/forum/test_rate_limits.py`` fails when a POST
route has neither, or is not on ``ALLOWED_WITHOUT_LIMIT`` with a reason).

Limits count per account when signed in and per client address otherwise
(``extensions.rate_limit_key``); only POST requests count (a form's page is a GET). Past a
limit the answer is the 429 page, which says how many minutes to wait. The values are
settings (``RATELIMIT_*`` in ``forum/config.py``).
"""

from __future__ import annotations

from collections.abc import Callable

from flask import Flask, current_app
from flask_login import current_user

from . import permissions
from .extensions import limiter

# POST routes deliberately left without a limit, and why.
ALLOWED_WITHOUT_LIMIT: dict[str, str] = {
    "forum.logout": (
        "ends the caller's own login and writes nothing for a stranger; a limit could keep "
        "someone on a shared computer from logging out"
    ),
}


def _staff() -> bool:
    return permissions.is_moderator(current_user)


# setting -> the endpoints it covers (POST only). ``exempt`` says when it does not count.
TABLE: dict[str, tuple[tuple[str, ...], Callable[[], bool] | None]] = {
    # Topic proposals: a citizen proposes a few topics, not dozens. Staff open the
    # council's topics in batches and have the general limit below.
    "RATELIMIT_TOPIC": (("forum.new_topic",), _staff),
    # Guessing the current password through this form is a login attempt.
    "RATELIMIT_PASSWORD_CHANGE": (("forum.change_password",), None),
    "RATELIMIT_FLAG": (("moderation.report",), None),
    "RATELIMIT_APPEAL": (("moderation.appeal",), None),
    # Everything else a signed-in citizen (or a stranger with a mailed link) can repeat.
    "RATELIMIT_WRITE": (
        (
            "forum.new_topic",
            "forum.edit_post",
            "forum.delete_post",
            "forum.follow",
            "forum.notifications_read",
            "forum.logout_everywhere",
            "forum.set_language",
            "search.delete",
            "budgets.support",
            "budgets.withdraw_idea",
            "qa.ask",  # qa.services also counts questions and votes per session
            "qa.vote",
            "qa.signup",
            "mail.preferences",
            "mail.preferences_link",
            "mail.unsubscribe",
            "mail.resend_verification",
            "mail.verify",
            "mail.reset_password",
            "mail.confirm_email_change",
            "admin.invitation",  # an invitation link: setting a password, accepting a role
        ),
        None,
    ),
    # Staff-only forms (the services check the rights): a bound for scripts and mistakes.
    "RATELIMIT_STAFF": (
        (
            "forum.topic_status",
            "forum.decide_proposal",
            "budgets.new_process",
            "budgets.edit_process",
            "budgets.advance",
            "budgets.count",
            "budgets.moderate",
            "budgets.merge",
            "budgets.review",
            "budgets.status_update",
            "qa.new",
            "qa.edit",
            "qa.start",
            "qa.end",
            "qa.pin",
            "qa.statement",
            "qa.answer",
            "qa.merge",
            "qa.moderate",
            "qa.status",
            # administration (admins only)
            "admin.committees",
            "admin.areas",
            "admin.committee",
            "admin.area",
            "admin.move_committee",
            "admin.move_area",
            "admin.archive_committee",
            "admin.archive_area",
            "admin.merge_area",
            "admin.person",
            "admin.set_active",
            "admin.invitations",
            "admin.new_topic",
            "admin.topic",
            "admin.move_topic",
            "admin.topic_status",
            "admin.feature_topic",
            "outcomes.add_update",
            "reports.index",
        ),
        None,
    ),
}

# One decorator per setting, made once: applying it again (another app in the same
# process) must not register the limit twice, which would spend the budget twice.
_decorators: dict[str, Callable] = {}


def _decorator(setting: str) -> Callable:
    if setting not in _decorators:
        _, exempt = TABLE[setting]
        _decorators[setting] = limiter.limit(
            lambda: current_app.config[setting],
            methods=["POST"],
            exempt_when=exempt,
        )
    return _decorators[setting]


def apply(app: Flask) -> None:
    """Wrap the table's views (after every package registered its routes)."""
    for setting, (endpoints, _exempt) in TABLE.items():
        decorate = _decorator(setting)
        for endpoint in endpoints:
            view = app.view_functions.get(endpoint)
            if view is None:
                raise RuntimeError(f"ratelimits: no route {endpoint!r} (renamed?)")
            app.view_functions[endpoint] = decorate(view)
