"""``flask meetings contacts``: name local forum contacts (an area-scoped capacity)."""

from __future__ import annotations

import click
from flask.cli import AppGroup
from sqlalchemy import select

from forum import uow
from forum.extensions import db
from forum.models import Area, User

from . import services
from .models import meeting_contacts

meetings_cli = AppGroup("meetings", help="Meetings and local dialogue.")


@meetings_cli.group("contacts", invoke_without_command=True)
@click.pass_context
def contacts(ctx) -> None:
    """List the local forum contacts (or add/remove one)."""
    if ctx.invoked_subcommand is not None:
        return
    rows = db.session.execute(
        select(User.email, Area.slug)
        .join(meeting_contacts, meeting_contacts.c.user_id == User.id)
        .join(Area, Area.id == meeting_contacts.c.area_id)
        .order_by(Area.slug, User.email)
    ).all()
    for email, slug in rows:
        click.echo(f"{slug}\t{email}")
    if not rows:
        click.echo("No local forum contacts.")


def _find(email: str, slug: str) -> tuple[User, Area]:
    user = db.session.scalar(select(User).where(User.email == email.strip().lower()))
    if user is None:
        raise click.ClickException(f"No account with the address {email}.")
    area = db.session.scalar(select(Area).where(Area.slug == slug))
    if area is None:
        raise click.ClickException(f"No local area {slug!r}.")
    return user, area


@contacts.command("add")
@click.argument("email")
@click.argument("area")
def add(email: str, area: str) -> None:
    """Make EMAIL a local forum contact for AREA (its slug)."""
    user, place = _find(email, area)
    changed = services.set_contact(None, user, place, True)
    uow.commit()
    click.echo(
        f"{email} is a local forum contact for {place.name}" + ("" if changed else " already")
    )


@contacts.command("remove")
@click.argument("email")
@click.argument("area")
def remove(email: str, area: str) -> None:
    """EMAIL is no longer a local forum contact for AREA."""
    user, place = _find(email, area)
    changed = services.set_contact(None, user, place, False)
    uow.commit()
    click.echo(
        f"{email} is no longer a local forum contact for {place.name}" if changed else "No change."
    )


@meetings_cli.command("remind")
def remind() -> None:
    """Remind invitees of invitations unanswered for 7 days (cron: every hour)."""
    from . import invitations

    n = invitations.remind()
    uow.commit()
    click.echo(f"{n} invitations reminded.")
