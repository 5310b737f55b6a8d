"""``flask --app app mail ...``: send what is due, build digests (for cron), and small tools."""

from __future__ import annotations

import time

import click
from flask.cli import AppGroup
from sqlalchemy import func, select

from forum import services as forum_services
from forum import uow
from forum.extensions import db
from forum.models import utcnow

from .models import MailMessage, MessageStatus

mail_cli = AppGroup("mail", help="Send queued e-mails, build digests, manage addresses.")


@mail_cli.command("send")
@click.option("--limit", type=int, default=None, help="Try at most this many mails.")
def send_command(limit: int | None) -> None:
    """Send every mail that is due (retries included). Safe to run from cron while the app runs."""
    from .sender import run_once

    started = time.perf_counter()
    report = run_once(limit=limit)
    took = time.perf_counter() - started
    click.echo(f"{report} in {took:.2f} s")


@mail_cli.command("digests")
def digests_command() -> None:
    """Build the daily and weekly digests that are due (each at most once per period)."""
    from .digests import build_digests

    made = build_digests()
    click.echo(f"{made} digest(s) queued; `flask mail send` sends them.")


@mail_cli.command("status")
def status_command() -> None:
    """How many mails are in each state."""
    rows = db.session.execute(
        select(MailMessage.status, func.count(MailMessage.id)).group_by(MailMessage.status)
    ).all()
    if not rows:
        click.echo("The outbox is empty.")
    for status, count in sorted(rows, key=lambda r: r[0].value):
        click.echo(f"{status.value:<12} {count}")
    stale = db.session.scalar(
        select(func.count(MailMessage.id)).where(
            MailMessage.status.in_((MessageStatus.SENDING, MessageStatus.HANDED_OVER)),
            MailMessage.claimed_until < utcnow(),
        )
    )
    if stale:
        click.echo(
            f"({stale} held by a sender that stopped; the next `mail send` checks whether "
            "they went out and sends them again if not)"
        )


@mail_cli.command("verify")
@click.argument("email")
def verify_command(email: str) -> None:
    """Count an account's e-mail address as confirmed (support cases, imported accounts)."""
    from .services import mark_verified

    user = forum_services.get_user_by_email(email)
    if user is None:
        raise click.ClickException(f"No account with e-mail {email}.")
    mark_verified(user)
    uow.commit()
    click.echo(f"{user.email} is confirmed.")
