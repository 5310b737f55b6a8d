"""``flask --app app setup EMAIL "NAME"``: the first admin of a fresh install."""

from __future__ import annotations

import sys

import click
from flask import Flask
from flask.cli import with_appcontext

from forum.errors import Conflict, InvalidInput
from forum.extensions import db
from forum.text import drop_controls


@click.command("setup")
@click.argument("email")
@click.argument("display_name")
@click.option(
    "--password-stdin",
    is_flag=True,
    help="Read the password from the first line of standard input instead of prompting.",
)
@with_appcontext
def setup_command(email: str, display_name: str, password_stdin: bool) -> None:
    """Create the first admin (refused when an admin exists already)."""
    from . import services

    if services.admin_exists():
        raise click.ClickException(
            "An admin exists already; log in as that admin and use /admin to add people."
        )
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    try:
        user = services.setup_first_admin(email, drop_controls(display_name), password)
    except InvalidInput as exc:
        db.session.rollback()
        raise click.ClickException("; ".join(f"{k}: {v}" for k, v in exc.fields.items())) from None
    except Conflict as exc:
        db.session.rollback()
        raise click.ClickException(exc.message) from None
    db.session.commit()
    click.echo(f"Created the admin {user.email}. Log in and open /admin.")


def register(app: Flask) -> None:
    app.cli.add_command(setup_command)
