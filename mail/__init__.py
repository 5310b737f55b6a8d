"""Mail: verified accounts, password reset, change of address, and notification e-mails
people control (immediately, daily or weekly digest, or off, per kind).

``init_app`` registers the forum's user-restriction hook (unverified
accounts read and follow but do not write), connects to ``forum.signals.user_registered``
(the confirmation mail) and ``registration_for_existing_account`` (tells the owner),
installs the in-transaction queueing (``feed``), and adds the pages, the ``flask mail``
commands and — in the embedded default — the sender thread. The forum never imports mail.

Configuration (declared in ``SETTINGS``; the environment sets the SMTP ones, ``MAIL_BASE_URL``
and ``MAIL_WORKER`` under the one rule of forum/config.py):

``MAIL_SERVER``, ``MAIL_PORT``, ``MAIL_SECURITY`` ("starttls", "ssl" or "none"),
``MAIL_USERNAME``, ``MAIL_PASSWORD``, ``MAIL_SENDER``
    SMTP. Without ``MAIL_SERVER`` mails are written as ``.eml`` files to ``MAIL_OUTBOX_DIR``
    (``instance/outbox``).
``MAIL_BASE_URL``
    The site's public address, for links in mails.
``MAIL_WORKER``
    "thread": the app sends and builds digests in a daemon thread; "external": run
    ``flask --app app mail send`` and ``flask --app app mail digests`` from cron. Unset, it
    follows ``WORKERS`` (thread in the embedded default, external in production).
``MAIL_REQUIRE_VERIFICATION``
    Unverified accounts may not write, and only confirmed addresses get notification mails.
"""

from __future__ import annotations

import os

from flask import Flask, current_app
from flask_login import current_user

from forum import hooks, signals
from forum.config import (
    ConfigError,
    Setting,
    Settings,
    choice,
    defaults,
    flag,
    number,
    rate_limit,
    whole,
    worker,
)
from forum.periodic import start_when_serving

# The tables, at import time: another package's thread (the search indexer) may configure
# the mappers at any moment, and must not catch MailMessage defined but MailItem not yet.
from . import models  # noqa: F401

_TUNING: dict[str, object] = {
    "MAIL_OUTBOX_DIR": None,  # instance/outbox
    "MAIL_TIMEOUT": 30,
    "MAIL_REQUIRE_VERIFICATION": True,
    "MAIL_THREAD_WHEN_TESTING": False,
    "MAIL_POLL_INTERVAL": 5.0,
    "MAIL_BATCH_SIZE": 100,
    # A sender's lease on the mails it took, renewed while it works: a sender that died is
    # replaced this long after (at once, for the embedded sender's own process).
    "MAIL_CLAIM_SECONDS": 60,
    "MAIL_RETRY_BASE_SECONDS": 60,
    "MAIL_RETRY_MAX_SECONDS": 3600,
    "MAIL_MAX_ATTEMPTS": 10,
    # Immediate notifications wait this long: a post hidden within it is never mailed.
    "MAIL_IMMEDIATE_DELAY_SECONDS": 60,
    "MAIL_DIGEST_HOUR": 6,  # local time
    "MAIL_WEEKLY_DIGEST_DAY": 0,  # Monday
    "MAIL_DIGEST_PER_TOPIC": 3,
    "MAIL_DIGEST_MAX_TOPICS": 10,
    "MAIL_EXCERPT_CHARS": 200,
    "MAIL_QA_REMINDER_MINUTES": 60,
    "MAIL_VERIFY_MAX_AGE": 3 * 24 * 3600,
    "MAIL_RESET_MAX_AGE": 3600,
    "MAIL_UNSUBSCRIBE_MAX_AGE": 365 * 24 * 3600,
    "MAIL_PREFERENCES_LINK_MAX_AGE": 60 * 24 * 3600,
    "MAIL_VERIFY_PER_HOUR": 3,
    "MAIL_RESET_PER_ACCOUNT_PER_HOUR": 3,
    "MAIL_ACCOUNT_EXISTS_PER_HOUR": 3,  # "someone tried to register with your address"
    "RATELIMIT_RESET_IP": "5 per minute;20 per hour",
    "RATELIMIT_MAIL_CHANGE": "10 per hour",
}
_PORTS = {"starttls": 587, "ssl": 465, "none": 25}


def _finish(app: Flask) -> None:
    """The port from the security when unset, the lease against the timeout, the outbox."""
    security = app.config["MAIL_SECURITY"]
    app.config["MAIL_PORT"] = app.config["MAIL_PORT"] or _PORTS[security]
    lease, timeout = app.config["MAIL_CLAIM_SECONDS"], app.config["MAIL_TIMEOUT"]
    if lease < 2 * timeout:
        # One mail may take a network timeout or two between lease renewals.
        raise ConfigError(
            f"MAIL_CLAIM_SECONDS ({lease:g}) must be at least twice MAIL_TIMEOUT ({timeout:g}): "
            f"set MAIL_CLAIM_SECONDS to {2 * timeout:g} or more."
        )
    if not app.config["MAIL_OUTBOX_DIR"]:
        app.config["MAIL_OUTBOX_DIR"] = os.path.join(app.instance_path, "outbox")


# Mail's settings under the one rule of forum/config.py (the factory hands them to
# load_config); the environment sets the ones marked env.
SETTINGS = Settings(
    "mail",
    (
        Setting("MAIL_SERVER", None, str, env=True, doc="SMTP server; unset: the outbox"),
        Setting("MAIL_PORT", None, whole(1, 65535), env=True, doc="587 starttls, 465 ssl, 25 none"),
        Setting("MAIL_SECURITY", "starttls", choice("starttls", "ssl", "none"), env=True),
        Setting("MAIL_USERNAME", None, str, env=True),
        Setting("MAIL_PASSWORD", None, str, env=True, secret=True),
        Setting("MAIL_SENDER", "Borgerdialog Holbæk <borgerdialog@localhost>", str, env=True),
        Setting("MAIL_BASE_URL", "http://127.0.0.1:5000", str, env=True, doc="links in mails"),
        worker("MAIL_WORKER", "sending mails and building digests (flask mail send/digests)"),
        *defaults(
            _TUNING,
            MAIL_TIMEOUT=number(0.1),
            MAIL_CLAIM_SECONDS=number(1),
            MAIL_POLL_INTERVAL=number(0.01),
            MAIL_BATCH_SIZE=whole(1),
            MAIL_REQUIRE_VERIFICATION=flag,
            RATELIMIT_RESET_IP=rate_limit,
            RATELIMIT_MAIL_CHANGE=rate_limit,
        ),
    ),
    finish=_finish,
)


def _unverified_banner():
    """For base.html: the signed-in user's address while it waits for confirmation."""
    from . import services

    if (
        not current_user.is_authenticated
        or not current_app.config["MAIL_REQUIRE_VERIFICATION"]
        or services.is_verified(current_user)
    ):
        return None
    return current_user.email


def _unverified_fact(user_id, now):
    """The reader fact "unverified" (``hooks.register_reader_fact``): the banner above shows
    (applies when the site asks for confirmation)."""
    from sqlalchemy import exists

    from forum.models import User

    return exists().where(User.id == user_id, User.email_verified_at.is_(None))


def _wants_thread(app: Flask) -> bool:
    if app.config["MAIL_WORKER"] != "thread":
        return False
    return not app.config.get("TESTING") or bool(app.config["MAIL_THREAD_WHEN_TESTING"])


def _start_thread(app: Flask) -> None:
    from . import sender

    if not app.config.get("MAIL_SERVER"):
        app.logger.warning(
            "No SMTP server configured (MAIL_SERVER): mails are written to %s",
            app.config["MAIL_OUTBOX_DIR"],
        )
    sender.start_thread(app)


def init_app(app: Flask) -> None:
    """Register mail's restriction hook, queueing, pages, commands and sender thread."""
    from . import cli, feed, services, views

    app.extensions["mail"] = True
    hooks.register_user_restriction(app, services.restriction)
    hooks.register_outbox(app, services.queue_other)
    hooks.register_account_eraser(app, services.erase_outbox_files)
    hooks.register_reader_fact(
        app,
        "unverified",
        _unverified_fact,
        lambda: bool(current_app.config["MAIL_REQUIRE_VERIFICATION"]),
    )
    signals.user_registered.connect(services.on_user_registered, weak=False)
    signals.registration_for_existing_account.connect(
        services.on_registration_for_existing_account, weak=False
    )
    feed.install(app)
    app.register_blueprint(views.bp)
    app.cli.add_command(cli.mail_cli)

    @app.context_processor
    def _inject():
        return {"mail_unverified": _unverified_banner}

    if _wants_thread(app):
        start_when_serving(app, lambda: _start_thread(app))
