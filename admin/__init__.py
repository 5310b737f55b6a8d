"""Administration in the browser (``/admin``): committees and local areas, people and their
roles, invitations, and topics, for admins; and ``flask setup`` for the first admin.

Every action is a service (``admin/services.py``) that checks permission, validates, writes
its rows and an entry in the audit log (moderation's, reached through
``forum.hooks.audit_log``), and flushes; the views commit.
"""

from __future__ import annotations

from flask import Flask

from forum import hooks
from forum.config import Settings, defaults, number, whole

DEFAULTS: dict[str, object] = {
    "ADMIN_USERS_PER_PAGE": 50,
    "ADMIN_TOPICS_PER_PAGE": 50,
    "ADMIN_INVITATION_DAYS": 14,  # how long an invitation link works
    "ADMIN_LOGO_MAX_BYTES": 200 * 1024,  # an uploaded logo (PNG or JPEG)
    "ADMIN_SITE_LOOK_TTL": 30,  # seconds a process keeps the site settings it read
}
# Administration's settings under the one rule of forum/config.py.
SETTINGS = Settings(
    "admin",
    defaults(
        DEFAULTS,
        ADMIN_USERS_PER_PAGE=whole(1),
        ADMIN_TOPICS_PER_PAGE=whole(1),
        ADMIN_INVITATION_DAYS=whole(1),
        ADMIN_LOGO_MAX_BYTES=whole(1),
        ADMIN_SITE_LOOK_TTL=number(0),
    ),
)


def init_app(app: Flask) -> None:
    if not hooks.audit_log_registered(app):
        raise RuntimeError("The admin package needs the audit log: init moderation first.")

    from . import cli, mails, models, views  # noqa: F401

    hooks.register_mail_composer(app, mails.KIND, mails.compose)
    app.register_blueprint(views.bp)
    cli.register(app)
