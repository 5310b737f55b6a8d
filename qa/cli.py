"""``flask --app app qa …``: end overdue sessions (run ``tick`` from cron every minute)."""

from __future__ import annotations

import click
from flask import Flask
from flask.cli import AppGroup

from forum import uow

qa_cli = AppGroup("qa", help="Live Q&A sessions.")


@qa_cli.command("tick")
def tick_command() -> None:
    """End the sessions whose end time passed QA_AUTO_END_MINUTES ago."""
    from . import services

    ended = services.tick()
    uow.commit()
    click.echo(f"Ended {ended} session(s).")


def register(app: Flask) -> None:
    app.cli.add_command(qa_cli)
