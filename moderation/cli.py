"""``flask --app app moderation …``: reminders (for cron) and the default debate rules."""

from __future__ import annotations

import click
from flask import Flask
from flask.cli import AppGroup

from forum import uow

moderation_cli = AppGroup("moderation", help="Moderation: reminders and debate rules.")


@moderation_cli.command("remind")
def remind() -> None:
    """Notify moderators of items that have waited longer than
    MODERATION_REMIND_AFTER_MINUTES (each item once). Run it from cron, e.g. every 5 min."""
    from .services import send_reminders

    told = send_reminders()
    uow.commit()
    click.echo(f"{told} moderators notified.")


@moderation_cli.command("ensure-rules")
def ensure_rules() -> None:
    """Insert the default debate rules (Danish and English) that are missing."""
    from .services import ensure_default_rules

    added = ensure_default_rules()
    uow.commit()
    click.echo(f"{added} debate rules added.")


def register(app: Flask) -> None:
    app.cli.add_command(moderation_cli)
