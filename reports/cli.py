"""``flask --app app reports make …``: a council report to a file (HTML, PDF or CSV), with a
progress bar over its topics. An operator's command: it reads what everyone may read."""

from __future__ import annotations

import sys
from datetime import datetime
from pathlib import Path

import click
from flask import Flask, current_app, render_template
from flask.cli import AppGroup
from flask_babel import force_locale
from sqlalchemy import select

from forum import exports
from forum.extensions import db
from forum.models import Committee, Topic

reports_cli = AppGroup("reports", help="Reports to the council (erfaringsrapporter).")


def _date(value: str | None):
    if not value:
        return None
    try:
        return datetime.strptime(value, "%Y-%m-%d").date()
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a date (YYYY-MM-DD).") from None


def _definition(definition_id, topic_id, committee_slug, start, end, lang):
    from .models import ReportDefinition, Scope

    if definition_id is not None:
        d = db.session.get(ReportDefinition, definition_id)
        if d is None:
            raise click.ClickException(f"No report definition with id {definition_id}.")
        return d
    if topic_id is not None:
        topic = db.session.get(Topic, topic_id)
        if topic is None or not topic.is_public:
            raise click.ClickException(f"No public topic with id {topic_id}.")
        return ReportDefinition(
            title=topic.title,
            scope=Scope.TOPIC,
            topic=topic,
            topic_id=topic.id,
            period_start=start,
            period_end=end,
            locale=lang,
        )
    if committee_slug is not None:
        c = db.session.scalar(select(Committee).where(Committee.slug == committee_slug))
        if c is None:
            raise click.ClickException(f"No committee {committee_slug!r}.")
        return ReportDefinition(
            title=c.name,
            scope=Scope.COMMITTEE,
            committee=c,
            committee_id=c.id,
            period_start=start,
            period_end=end,
            locale=lang,
        )
    return ReportDefinition(
        title="Borgerdialog",
        scope=Scope.PLATFORM,
        period_start=start,
        period_end=end,
        locale=lang,
    )


def make_report(d, fmt: str, lang: str, progress=None) -> bytes:
    """The report of ``d`` as bytes in ``fmt`` (html, pdf or csv); needs an app context."""
    from . import appendix, labels, pdf
    from . import report as report_mod
    from .synthesis import STANCES
    from .views import area_name, chart_set

    with current_app.test_request_context("/"), force_locale(lang):
        r = report_mod.build(d, progress=progress)
        if fmt == "csv":
            data = "".join(exports.stream(appendix.header(), appendix.rows(r))).encode("utf-8")
            if progress is not None:
                progress(1)
            return data
        html = render_template(
            "reports/report_pdf.html",
            r=r,
            d=d,
            lang=lang,
            overall_charts=chart_set(r.overall, "all"),
            stances=STANCES,
            labels=labels,
            area_name=area_name,
        )
        if fmt == "html":
            # A file to keep or send on, read without the app: its stylesheet goes inside.
            # (Pages the app serves link it instead; the policy allows no inline style.)
            style = f"<style>{pdf.stylesheet()}</style>\n</head>"
            data = html.replace("</head>", style, 1).encode("utf-8")
        else:
            data = pdf.render(html)
        if progress is not None:
            progress(1)  # the document written
        return data


@reports_cli.command("make")
@click.option("--definition", "definition_id", type=int, help="A saved report definition.")
@click.option("--topic", "topic_id", type=int, help="A topic's id.")
@click.option("--committee", "committee_slug", help="A committee's slug.")
@click.option("--from", "start", help="First day of the period (YYYY-MM-DD).")
@click.option("--to", "end", help="Last day of the period (YYYY-MM-DD).")
@click.option("--lang", type=click.Choice(["da", "en"]), default=None, help="Default: da.")
@click.option("--format", "fmt", type=click.Choice(["pdf", "html", "csv"]), default="pdf")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), required=True)
def make_command(definition_id, topic_id, committee_slug, start, end, lang, fmt, out) -> None:
    """Make a report for a topic, a committee or (neither given) the whole platform."""
    from . import pdf
    from . import report as report_mod

    d = _definition(definition_id, topic_id, committee_slug, _date(start), _date(end), lang or "da")
    lang = lang or d.locale or "da"
    if fmt == "pdf" and not pdf.available():
        raise click.ClickException(f"PDF needs Pango: {pdf.INSTALL_HINT} (or use --format html)")
    n = report_mod.topic_count(d)
    # One step for the overall figures, one per topic, one for writing the document.
    with click.progressbar(length=n + 2, label="Report", show_pos=True, file=sys.stderr) as bar:
        data = make_report(d, fmt, lang, progress=bar.update)
    out.write_bytes(data)
    db.session.rollback()  # an unsaved definition stays unsaved
    click.echo(f"{out} ({len(data):,} bytes, {n} topics)")


def register(app: Flask) -> None:
    app.cli.add_command(reports_cli)
