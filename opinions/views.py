"""Opinion map pages: open a round on a topic, vote one statement at a time (a plain form
that works without JavaScript), add a statement, and the map with its data tables.

Anonymous participants (when the round allows it) carry a random id in a signed cookie;
their votes are rate limited per address like every form."""

from __future__ import annotations

import secrets
from datetime import datetime, time

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import select

from forum import live, uow
from forum.errors import DomainError, PermissionDenied
from forum.extensions import db, limiter
from forum.models import Area, Post, Topic
from forum.views import apply_errors

from . import permissions, queries, services
from .forms import ProposePostForm, RoundForm, StatementForm, VoteForm
from .models import OpinionRound

bp = Blueprint("opinions", __name__)
COOKIE = "opinion_id"


def _vote_limit() -> str:
    return current_app.config["RATELIMIT_OPINION_VOTE"]


def _write_limit() -> str:
    return current_app.config["RATELIMIT_POST"]


def _round_or_404(round_id: int) -> OpinionRound:
    rnd = db.session.get(OpinionRound, round_id)
    if rnd is None or not permissions.can_see_round(current_user, rnd.topic):
        abort(404)
    return rnd


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.secret_key, salt="opinions-anon")


def _anon_key() -> str | None:
    raw = request.cookies.get(COOKIE)
    if not raw:
        return None
    try:
        return str(_serializer().loads(raw))
    except BadSignature:
        return None


def _participant(rnd: OpinionRound, create: bool):
    """(participant or None, new cookie value or None)."""
    if current_user.is_authenticated:
        return services.participant_for(rnd, user=current_user._get_current_object(),
                                        create=create), None  # fmt: skip
    if not rnd.allow_anonymous:
        if create:
            raise PermissionDenied(_("Log in to take part in this round."))
        return None, None
    key, cookie = _anon_key(), None
    if key is None:
        if not create:
            return None, None
        key = secrets.token_urlsafe(24)
        cookie = _serializer().dumps(key)
    return services.participant_for(rnd, anon_key=key, create=create), cookie


def _with_cookie(response, cookie: str | None):
    if cookie:
        response.set_cookie(
            COOKIE, cookie, max_age=365 * 24 * 3600, httponly=True, samesite="Lax",
            secure=current_app.config.get("SESSION_COOKIE_SECURE", False),
        )  # fmt: skip
    return response


@bp.route("/emner/<int:topic_id>/holdninger/ny", methods=["GET", "POST"])
@login_required
@limiter.limit(_write_limit, methods=["POST"])
def new_round(topic_id: int):
    topic = db.session.get(Topic, topic_id)
    if topic is None or not permissions.can_see_round(current_user, topic):
        abort(404)
    if not permissions.can_open_round(current_user, topic):
        raise PermissionDenied(_("Only staff and the committee's politicians open a round."))
    form = RoundForm()
    status = 200
    if form.validate_on_submit():
        seeds = [line for line in (form.seeds.data or "").splitlines() if line.strip()]
        with uow.saving(form) as saved:
            rnd = services.open_round(
                current_user._get_current_object(), topic, form.question.data,
                datetime.combine(form.ends_on.data, time(23, 59)),
                form.allow_anonymous.data, seeds,
            )  # fmt: skip
        if saved.ok:
            flash(_("The round is open."), "success")
            return redirect(url_for("opinions.round_page", round_id=rnd.id))
        status = saved.status
    elif request.method == "POST":
        status = 400
    return render_template("opinions/new_round.html", form=form, topic=topic), status


def _round_page(rnd: OpinionRound, vote_form=None, statement_form=None, status=200):
    live.remember_cursor()  # before the map's summary: live updates replay from here
    participant, _cookie = _participant(rnd, create=False)
    statement = services.next_statement(rnd, participant) if rnd.is_open() else None
    vote_form = vote_form or VoteForm()
    if statement is not None:
        vote_form.statement_id.data = str(statement.id)
    return render_template(
        "opinions/round.html",
        rnd=rnd,
        topic=rnd.topic,
        statement=statement,
        vote_form=vote_form,
        statement_form=statement_form or StatementForm(),
        propose_form=ProposePostForm()
        if permissions.can_moderate_round(current_user, rnd.topic) else None,
        may_take_part=current_user.is_authenticated or rnd.allow_anonymous,
        may_export=permissions.can_export_round(current_user),
        progress=queries.progress(rnd, participant),
        view=queries.map_view(rnd, participant),
    ), status  # fmt: skip


@bp.route("/holdninger/<int:round_id>")
def round_page(round_id: int):
    return _round_page(_round_or_404(round_id))


@bp.route("/holdninger/<int:round_id>/stem", methods=["POST"])
@limiter.limit(_vote_limit, methods=["POST"])
def vote(round_id: int):
    rnd = _round_or_404(round_id)
    form = VoteForm()
    choice = request.form.get("choice", "")
    if not form.validate_on_submit() or not form.statement_id.data.isdigit():
        return _round_page(rnd, vote_form=form, status=400)
    cookie = None
    try:
        participant, cookie = _participant(rnd, create=True)
        outcome = services.cast_vote(rnd, participant, int(form.statement_id.data), choice)
    except DomainError as exc:
        uow.rollback()
        if not apply_errors(form, exc):
            flash(exc.message or _("Your vote was not recorded."), "error")
        response, status = _round_page(rnd, vote_form=form, status=exc.status)
        return _with_cookie(current_app.make_response((response, status)), cookie)
    uow.commit()
    messages = {
        "recorded": _("Your vote is recorded."),
        "changed": _("Your vote is changed."),
        "unchanged": _("Your vote was already recorded."),
    }
    flash(messages[outcome], "success")
    return _with_cookie(redirect(url_for("opinions.round_page", round_id=rnd.id)), cookie)


@bp.route("/holdninger/<int:round_id>/udsagn", methods=["POST"])
@limiter.limit(_write_limit, methods=["POST"])
def add_statement(round_id: int):
    rnd = _round_or_404(round_id)
    form = StatementForm()
    if not form.validate_on_submit():
        return _round_page(rnd, statement_form=form, status=400)
    cookie = None
    user = current_user._get_current_object() if current_user.is_authenticated else None
    with uow.saving(form) as saved:
        participant, cookie = _participant(rnd, create=True)
        st = services.add_statement(rnd, participant, form.body.data, user)
    if not saved.ok:
        if not saved.placed:
            flash(saved.error.message or _("The statement was not saved."), "error")
        return _round_page(rnd, statement_form=form, status=saved.status)
    if st.state.value == "published":
        flash(_("Thank you: your statement is published."), "success")
    else:
        flash(_("Thank you: a moderator reads your statement before others see it."), "success")
    return _with_cookie(redirect(url_for("opinions.round_page", round_id=rnd.id)), cookie)


@bp.route("/holdninger/<int:round_id>/forslag", methods=["POST"])
@login_required
@limiter.limit(_write_limit, methods=["POST"])
def propose_post(round_id: int):
    rnd = _round_or_404(round_id)
    form = ProposePostForm()
    if not form.validate_on_submit():
        return _round_page(rnd, status=400)
    post = db.session.get(Post, form.post_id.data)
    if post is None:
        abort(404)
    with uow.saving(form) as saved:
        services.propose_post(current_user._get_current_object(), rnd, post, form.body.data)
    if not saved.ok:
        flash(saved.error.message or _("The statement was not saved."), "error")
        return _round_page(rnd, status=saved.status)
    flash(_("The post is proposed as a statement."), "success")
    return redirect(url_for("opinions.round_page", round_id=rnd.id))


@bp.route("/holdninger/<int:round_id>/polis.zip")
@login_required
@limiter.limit(lambda: current_app.config["RATELIMIT_STAFF"])
def export(round_id: int):
    """Staff download the round in Pol.is's format: approved statements only, participants
    numbered anew (``interchange.export_zip``)."""
    rnd = _round_or_404(round_id)
    if not permissions.can_export_round(current_user):
        raise PermissionDenied(_("Only municipal staff download a round's data."))
    from .interchange import export_zip

    body = export_zip(rnd)
    return Response(
        body,
        mimetype="application/zip",
        headers={"Content-Disposition": f'attachment; filename="holdninger-{rnd.id}-polis.zip"'},
    )


def _map_context(rnd: OpinionRound) -> dict:
    participant, _cookie = _participant(rnd, create=False)
    view = queries.map_view(rnd, participant)
    areas = {}
    if view and view.get("areas"):
        ids = [a["area_id"] for a in view["areas"]]
        areas = dict(db.session.execute(select(Area.id, Area.name).where(Area.id.in_(ids))).all())
    return {"rnd": rnd, "topic": rnd.topic, "view": view, "area_names": areas}


@bp.route("/holdninger/<int:round_id>/kort")
def map_page(round_id: int):
    rnd = _round_or_404(round_id)
    live.remember_cursor()  # before the map: the page never claims an unseen recomputation
    return render_template("opinions/map.html", **_map_context(rnd))


@bp.route("/holdninger/<int:round_id>/kort/indhold")
def map_fragment(round_id: int):
    """The map's content alone: what an open map page fetches when the map is recomputed
    (static/js/live.js), with the page's visibility rule (404 for who may not see it)."""
    rnd = _round_or_404(round_id)
    return render_template("opinions/_map_content.html", **_map_context(rnd))


@bp.route("/holdninger/<int:round_id>/kort/resume")
def map_summary(round_id: int):
    """The map in one line, for the voting page's live update."""
    rnd = _round_or_404(round_id)
    participant, _cookie = _participant(rnd, create=False)
    view = queries.map_view(rnd, participant)
    return render_template("opinions/_map_summary.html", rnd=rnd, view=view)
