"""``flask --app app backup FILE`` and ``flask --app app restore FILE``."""

from __future__ import annotations

from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import with_appcontext

from forum.extensions import db

from . import backup as backups


@click.command("backup")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@with_appcontext
def backup_command(file: Path) -> None:
    """Write the database to FILE (PostgreSQL: pg_dump custom format; SQLite: a copy)."""
    try:
        kind = backups.backup(current_app.config["SQLALCHEMY_DATABASE_URI"], file)
    except backups.BackupError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"Backed up to {file} ({kind}, {file.stat().st_size} bytes).")


@click.command("restore")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--yes", is_flag=True, help="Do not ask before replacing the database.")
@with_appcontext
def restore_command(file: Path, yes: bool) -> None:
    """Replace the database's contents with FILE. Stop the app and workers first; then run
    `flask search rebuild` (the index is not in the backup)."""
    uri = current_app.config["SQLALCHEMY_DATABASE_URI"]
    if not yes:
        click.confirm(f"Replace everything in {db.engine.url!r} with {file}?", abort=True)
    db.session.remove()
    db.engine.dispose()  # no pooled connection holds locks the restore needs
    try:
        backups.restore(uri, file)
    except backups.BackupError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(
        f"Restored {file}. Now run `flask --app app db upgrade` (if the backup is older than "
        "the code) and `flask --app app search rebuild`."
    )


def register(app: Flask) -> None:
    app.cli.add_command(backup_command)
    app.cli.add_command(restore_command)
