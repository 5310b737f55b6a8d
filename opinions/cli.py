"""``flask --app app opinions …``: Pol.is import and export, and the map's recomputation
(run ``recompute`` from cron when ``OPINIONS_WORKER=external``)."""

from __future__ import annotations

from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import AppGroup

from forum import uow
from forum.errors import DomainError
from forum.extensions import db

opinions_cli = AppGroup("opinions", help="Opinion maps: Pol.is import/export, recomputation.")


@opinions_cli.command("import")
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
@click.option("--topic", "topic_id", type=int, default=None, help="Topic to hold the round.")
def import_command(directory: Path, topic_id: int | None) -> None:
    """Read a Pol.is export (comments.csv, votes.csv, participants-votes.csv) into a new
    statements round; prints the round's id. A malformed file writes nothing."""
    from forum.models import Topic

    from .interchange import import_directory
    from .polis import PolisFormatError

    topic = None
    if topic_id is not None:
        topic = db.session.get(Topic, topic_id)
        if topic is None:
            raise click.ClickException(f"No topic with id {topic_id}.")
    try:
        rnd = import_directory(directory, topic)
    except PolisFormatError as exc:
        uow.rollback()
        raise click.ClickException(str(exc)) from None
    except DomainError as exc:
        uow.rollback()
        detail = "; ".join(str(v) for v in exc.fields.values()) or exc.message
        raise click.ClickException(detail) from None
    uow.commit()
    click.echo(f"Imported round {rnd.id} (topic {rnd.topic_id}).")


@opinions_cli.command("export")
@click.argument("round_id", type=int)
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
def export_command(round_id: int, directory: Path) -> None:
    """Write a round as a Pol.is export (comments.csv, votes.csv, participants-votes.csv)."""
    from .interchange import export_round
    from .models import OpinionRound
    from .polis import write_conversation

    rnd = db.session.get(OpinionRound, round_id)
    if rnd is None:
        raise click.ClickException(f"No statements round with id {round_id}.")
    write_conversation(directory, export_round(rnd))
    click.echo(f"Wrote round {round_id} to {directory}.")


@opinions_cli.command("recompute")
def recompute_command() -> None:
    """Recompute the maps of rounds with new votes (debounced)."""
    from .services import recompute_due

    n = recompute_due(float(current_app.config["OPINIONS_DEBOUNCE_SECONDS"]))
    uow.commit()
    click.echo(f"Recomputed {n} map(s).")


def register(app: Flask) -> None:
    app.cli.add_command(opinions_cli)
