"""``flask --app app budgets …``: import and export Pabulib elections, count, and move
processes on when a phase's start date has passed (run ``advance`` from cron)."""

from __future__ import annotations

import sys
from datetime import datetime
from pathlib import Path

import click
from flask import Flask
from flask.cli import AppGroup
from sqlalchemy import select

from forum import uow
from forum.errors import DomainError
from forum.extensions import db

budgets_cli = AppGroup("budgets", help="Citizen budgets: Pabulib import/export, counting.")


def _fail(exc: DomainError) -> click.ClickException:
    uow.rollback()
    detail = "; ".join(f"{k}: {v}" for k, v in exc.fields.items())
    return click.ClickException(detail or exc.message or type(exc).__name__)


def _process(process_id: int):
    from .models import BudgetProcess

    process = db.session.get(BudgetProcess, process_id)
    if process is None:
        raise click.ClickException(f"No citizen budget with id {process_id}.")
    return process


def _funded(results) -> list[str]:
    return [line.idea.key for r in results for line in r.lines if line.funded]


@budgets_cli.command("import")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--title", default=None, help="Title of the process (default: from META).")
@click.option("--rule", default=None, help="Counting rule, overriding META rule.")
@click.option("--no-count", is_flag=True, help="Import without counting.")
def import_command(path: Path, title: str | None, rule: str | None, no_count: bool) -> None:
    """Load a Pabulib .pb election as a process in its result phase and count it.

    Prints the new process's id and, when the file has a ``selected`` column, whether our
    count funds the same projects as the city did. Nothing is written if the file is
    malformed or inconsistent.
    """
    from . import services
    from .elections import import_election, load_file

    try:
        election = load_file(path)
    except DomainError as exc:
        raise _fail(exc) from None
    n = len(election.ballots)
    for warning in election.warnings:
        click.echo(warning, err=True)
    try:
        with click.progressbar(
            length=n, label="Importing ballots", show_pos=True, file=sys.stderr
        ) as bar:
            process = import_election(
                election, title=title, rule=rule, source=path.name, progress=bar.update
            )
        results = [] if no_count else services.count_process(None, process)
    except DomainError as exc:
        raise _fail(exc) from None
    uow.commit()
    click.echo(
        f"Imported {path.name} as citizen budget {process.id}: "
        f"{len(election.projects)} projects, {n} ballots, rule {process.rule}."
    )
    if no_count:
        return
    funded = _funded(results)
    click.echo(f"Funded: {', '.join(funded) or '(none)'}")
    # selected 1: funded by the file's rule (2 and 3 were funded otherwise)
    official = {p.id for p in election.projects if p.selected_by_rule}
    if any(p.selected is not None for p in election.projects):
        same = official == set(funded)
        click.echo(
            "The count reproduces the official selection."
            if same
            else f"The count differs from the official selection: {', '.join(sorted(official))}"
        )


@budgets_cli.command("export")
@click.argument("process_id", type=int)
@click.option(
    "--area",
    "area_id",
    type=int,
    default=None,
    help="Area id, for a budget split by area (one file per area).",
)
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write to this file instead of standard output.",
)
def export_command(process_id: int, area_id: int | None, output: Path | None) -> None:
    """Write a process as a Pabulib .pb election (anonymous ballots, our ``selected``)."""
    from .elections import export_election
    from .pabulib import dump

    try:
        text = dump(export_election(_process(process_id), area_id))
    except DomainError as exc:
        raise _fail(exc) from None
    if output is None:
        click.echo(text, nl=False)
    else:
        output.write_text(text, encoding="utf-8")
        click.echo(f"Wrote {output}.", err=True)


@budgets_cli.command("count")
@click.argument("process_id", type=int)
def count_command(process_id: int) -> None:
    """Count a process's ballots now (replacing the stored result)."""
    from . import services

    process = _process(process_id)
    try:
        results = services.count_process(None, process)
    except DomainError as exc:
        raise _fail(exc) from None
    uow.commit()
    for r in results:
        where = f" ({r.area.name})" if r.area else ""
        funded = [line.idea.key for line in r.lines if line.funded]
        click.echo(
            f"Budget{where}: {r.ballots} ballots, {len(funded)} projects funded for "
            f"{r.total_cost} of {r.budget} {process.currency} in {r.seconds:.3f} s: "
            f"{', '.join(funded) or '(none)'}"
        )


@budgets_cli.command("advance")
@click.option(
    "--now",
    "now_text",
    default=None,
    metavar="YYYY-MM-DDTHH:MM",
    help="Pretend it is this time (UTC); for testing schedules.",
)
def advance_command(now_text: str | None) -> None:
    """Move every process whose next phase's start date has passed (cron: every few minutes).
    Entering the result phase counts the ballots."""
    from .labels import PHASE_LABELS
    from .models import Phase
    from .services import advance_due

    now = None
    if now_text:
        try:
            now = datetime.fromisoformat(now_text)
        except ValueError:
            raise click.BadParameter("use YYYY-MM-DDTHH:MM", param_hint="--now") from None
    moved = advance_due(now)
    uow.commit()
    for process, outcome in moved:
        if isinstance(outcome, Phase):
            click.echo(
                f"{process.id} {process.title}: now {outcome.value} ({PHASE_LABELS[outcome]})"
            )
        else:
            click.echo(f"{process.id} {process.title}: not moved: {outcome}")
    if not moved:
        click.echo("No process was due to move.")


@budgets_cli.command("list")
def list_command() -> None:
    """List citizen budgets: id, phase, rule, amount, title."""
    from .models import BudgetProcess

    for p in db.session.scalars(select(BudgetProcess).order_by(BudgetProcess.id)):
        click.echo(
            f"{p.id:>5} {p.phase.value:<10} {p.rule:<17} {p.total_amount:>14} "
            f"{p.currency} {p.title}"
        )


def register(app: Flask) -> None:
    app.cli.add_command(budgets_cli)
