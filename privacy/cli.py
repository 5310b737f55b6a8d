"""``flask --app app privacy purge``: complete due deletions and apply the retention periods
(cron: every hour in production)."""

from __future__ import annotations

import click
from flask import Flask
from flask.cli import AppGroup

from forum.extensions import db

privacy_cli = AppGroup("privacy", help="Privacy: deletions and retention.")


@privacy_cli.command("purge")
def purge_command() -> None:
    """Delete accounts past their grace period, unused unconfirmed accounts, old sent mails."""
    from . import services

    done = services.purge()
    db.session.commit()
    click.echo(
        f"Deleted {done['deletions']} account(s), removed {done['unverified']} unconfirmed "
        f"account(s), dropped {done['mails']} old sent mail(s)."
    )


def register(app: Flask) -> None:
    app.cli.add_command(privacy_cli)
