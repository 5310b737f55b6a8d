"""Outcome pages: the outcome of a topic with its timeline, the form for a new update, and
the municipality's list of results (all, per committee, per area) with a status filter.
Every page works without JavaScript; the filter is an ordinary GET form."""

from __future__ import annotations

from datetime import date

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select

from forum import queries as forum_queries
from forum.errorpages import render_error
from forum.errors import DomainError, PermissionDenied
from forum.extensions import db
from forum.models import Area, Committee, Topic
from forum.views import apply_errors, int_arg

from . import permissions, queries, services
from .forms import OutcomeUpdateForm, body_label, status_label
from .models import OutcomeStatus

bp = Blueprint("outcomes", __name__)
PER_PAGE = 20


def _topic_or_404(topic_id: int) -> Topic:
    topic = forum_queries.topic_with_place(topic_id)
    if topic is None or not permissions.can_see_outcome(current_user, topic):
        abort(404)
    return topic


@bp.route("/emner/<int:topic_id>/resultat")
def topic_outcome(topic_id: int):
    """The outcome of a topic with its whole timeline (newest first)."""
    topic = _topic_or_404(topic_id)
    outcome = queries.outcome_for_topic(topic)
    if outcome is None:
        abort(404)
    return render_template(
        "outcomes/outcome.html",
        topic=topic,
        outcome=outcome,
        cited=queries.cited(current_user, outcome),
        can_write=permissions.can_write_outcome(current_user, topic),
        status_label=status_label,
        body_label=body_label,
    )


@bp.route("/emner/<int:topic_id>/resultat/ny", methods=["GET", "POST"])
@login_required
def add_update(topic_id: int):
    """A new dated update of the topic's outcome (the first one creates the outcome)."""
    topic = _topic_or_404(topic_id)
    if not permissions.can_write_outcome(current_user, topic):
        raise PermissionDenied(
            _("Only staff and the politicians of the topic's committee write its outcome.")
        )
    form = OutcomeUpdateForm()
    if request.method == "GET" and form.decided_on.data is None:
        form.decided_on.data = date.today()
    status = 200
    if form.validate_on_submit():
        try:
            update = services.add_update(
                current_user._get_current_object(),
                topic,
                status=form.status.data,
                body=form.body.data,
                text=form.text.data,
                decided_on=form.decided_on.data,
                link=form.link.data,
                citations=form.citations.data,
                nonce=form.nonce.data,
            )
        except DomainError as exc:
            db.session.rollback()
            if not apply_errors(form, exc):
                return render_error(exc.status, exc.message)
            status = exc.status
        else:
            db.session.commit()
            flash(_("The update of the outcome is published."), "success")
            return redirect(url_for("outcomes.topic_outcome", topic_id=topic.id) + f"#u{update.id}")
    elif request.method == "POST":
        status = 400
    return render_template(
        "outcomes/form.html", topic=topic, form=form, outcome=services.outcome_of(topic)
    ), status


def _status_arg() -> OutcomeStatus | None:
    raw = request.args.get("status") or ""
    if not raw:
        return None
    try:
        return OutcomeStatus(raw)
    except ValueError:
        abort(400)


def _results(place=None, kind: str | None = None):
    wanted = _status_arg()
    page = int_arg("side")
    rows, total = queries.list_outcomes(
        current_user,
        status=wanted,
        committee=place if kind == "committee" else None,
        area=place if kind == "area" else None,
        page=page,
        per_page=PER_PAGE,
    )
    pages = max(1, -(-total // PER_PAGE))
    return render_template(
        "outcomes/index.html",
        rows=rows,
        total=total,
        page=page,
        pages=pages,
        place=place,
        kind=kind,
        wanted=wanted.value if wanted else "",
        statuses=[(s.value, status_label(s)) for s in OutcomeStatus],
        status_label=status_label,
        body_label=body_label,
        committees=db.session.scalars(select(Committee).order_by(Committee.name)).all(),
        areas=db.session.scalars(select(Area).order_by(Area.name)).all(),
    )


@bp.route("/resultater")
def index():
    return _results()


@bp.route("/resultater/udvalg/<slug>")
def committee(slug: str):
    item = db.session.scalar(select(Committee).where(Committee.slug == slug)) or abort(404)
    return _results(item, "committee")


@bp.route("/resultater/omraader/<slug>")
def area(slug: str):
    item = db.session.scalar(select(Area).where(Area.slug == slug)) or abort(404)
    return _results(item, "area")
