"""Citizen budgets' pages: processes, ideas, review, the ballot and its receipt, results.

Every page works without JavaScript; ``static/js/budgets.js`` only adds the running total
while the voter chooses. Views parse input, call one service, and commit once.
"""

from __future__ import annotations

from babel.numbers import get_currency_symbol
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
from flask_babel import format_percent, get_locale
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select
from wtforms.validators import Optional

from forum import exports, hooks, uow
from forum import permissions as forum_permissions
from forum.converters import parse_id
from forum.errors import DomainError, PermissionDenied
from forum.extensions import db, limiter
from forum.forms import EmptyForm, choices
from forum.localtime import to_local, to_utc
from forum.models import Area, Committee
from forum.views import apply_errors, me

from . import permissions, queries, services
from .elections import export_election
from .forms import (
    BallotForm,
    IdeaForm,
    MergeForm,
    ModerateIdeaForm,
    ProcessForm,
    ReviewForm,
    StatusForm,
)
from .labels import RESULT_CSV_HEADERS, STATUS_LABELS, amount_text, money
from .models import DATED_PHASES, BallotStyle, BudgetProcess, Idea, IdeaState, Phase, Review
from .pabulib import dump

bp = Blueprint("budgets", __name__, url_prefix="/borgerbudget")


def _process_or_404(process_id: int) -> BudgetProcess:
    process = queries.process_or_none(process_id)
    if process is None or not permissions.can_see_process(current_user, process):
        abort(404)
    return process


def _idea_or_404(idea_id: int) -> Idea:
    idea = db.session.get(Idea, idea_id)
    if idea is None or not permissions.can_see_idea(current_user, idea):
        abort(404)
    return idea


def _fail(form, exc: DomainError, fallback: str) -> None:
    """Put a service's errors on the form (a message without a field goes on ``fallback``)."""
    uow.rollback()
    placed = apply_errors(form, exc)
    if not placed:
        field = getattr(form, fallback)
        field.errors = [*list(field.errors or []), exc.message or _("That did not work.")]


# --- processes -------------------------------------------------------------------------------


@bp.route("/")
def index():
    processes = queries.processes_for(current_user)
    waiting = {}
    if permissions.is_staff(current_user):
        counts = queries.waiting_by_process()
        waiting = {
            p.id: counts[p.id]
            for p in processes
            if p.id in counts and permissions.can_manage_process(current_user, p)
        }
    return render_template("budgets/index.html", processes=processes, waiting=waiting)


def _place_choices(form: ProcessForm) -> list[Area]:
    committees = db.session.scalars(select(Committee).order_by(Committee.name)).all()
    areas = db.session.scalars(select(Area).order_by(Area.name)).all()
    form.committee_id.choices = choices(
        [("", _("— none —"))] + [(str(c.id), c.name) for c in committees]
    )
    if not permissions.is_municipality_staff(current_user):
        # A moderator scoped to local areas runs budgets of their own areas only: no
        # municipality-wide or committee budgets, no split between areas (the service
        # refuses them too).
        mine = [a for a in areas if permissions.can_manage_area(current_user, a.id)]
        form.scope.choices = [c for c in form.scope.choices if c.value == "area"]
        if request.method == "GET":
            form.scope.data = "area"
        form.committee_id.choices = choices([("", _("— none —"))])
        form.area_id.choices = choices([(str(a.id), a.name) for a in mine])
        return []
    form.area_id.choices = choices([("", _("— none —"))] + [(str(a.id), a.name) for a in areas])
    return list(areas)


def _int_or_none(value) -> int | None:
    try:
        return parse_id(value) if value not in (None, "") else None
    except (TypeError, ValueError):
        return None


def _settings(form: ProcessForm, areas: list[Area]) -> dict:
    scope = form.scope.data
    amounts = {}
    for area in areas:
        raw = (request.form.get(f"area-amount-{area.id}") or "").strip()
        if raw:
            amounts[area.id] = raw.replace(".", "").replace(" ", "")
    return {
        "title": form.title.data,
        "description": form.description.data,
        "total_amount": form.total_amount.data,
        "committee_id": _int_or_none(form.committee_id.data) if scope == "committee" else None,
        "area_id": _int_or_none(form.area_id.data) if scope == "area" else None,
        "rule": form.rule.data,
        "tie_break": form.tie_break.data,
        "ballot_style": form.ballot_style.data,
        "min_choices": form.min_choices.data,
        "max_choices": form.max_choices.data,
        "points_total": form.points_total.data,
        "area_amounts": amounts,
        "phase_dates": {p: to_utc(getattr(form, f"starts_{p.value}").data) for p in DATED_PHASES},
    }


def _scope_check(form: ProcessForm) -> bool:
    scope = form.scope.data
    if scope == "committee" and not form.committee_id.data:
        form.committee_id.errors = [*form.committee_id.errors, _("Choose the committee.")]
        return False
    if scope == "area" and not form.area_id.data:
        form.area_id.errors = [*form.area_id.errors, _("Choose the local area.")]
        return False
    return True


def _render_process_form(form, areas, process=None, amounts=None, status=200):
    if amounts is None:
        amounts = (
            {a.id: request.form.get(f"area-amount-{a.id}", "") for a in areas}
            if request.method == "POST"
            else {}
        )
    return render_template(
        "budgets/process_form.html",
        form=form,
        areas=areas,
        process=process,
        amounts=amounts,
        area_error=getattr(form, "area_amounts_errors", None),
    ), status


def _save_process(form: ProcessForm, areas: list[Area], process: BudgetProcess | None):
    try:
        settings = _settings(form, areas)
        if process is None:
            process = services.create_process(me(), **settings)
        else:
            services.update_process(me(), process, **settings)
    except DomainError as exc:
        uow.rollback()
        for name, message in exc.fields.items():
            if name in ("area_amounts", "scope"):
                form.area_amounts_errors = [message]
            elif name == "phase_dates":
                form.starts_ideas.errors = [*form.starts_ideas.errors, message]
        if not apply_errors(form, exc) and not getattr(form, "area_amounts_errors", None):
            form.title.errors = [*form.title.errors, exc.message]
        return None
    uow.commit()
    return process


@bp.route("/ny", methods=["GET", "POST"])
@login_required
def new_process():
    if not permissions.can_create_process(current_user):
        abort(403)
    form = ProcessForm()
    areas = _place_choices(form)
    if form.validate_on_submit() and _scope_check(form):
        process = _save_process(form, areas, None)
        if process is not None:
            flash(
                _(
                    "The citizen budget is saved as a draft. Move it to idea collection when "
                    "it is ready."
                ),
                "success",
            )
            return redirect(url_for("budgets.process", process_id=process.id))
    return _render_process_form(
        form,
        areas,
        status=400 if form.errors or getattr(form, "area_amounts_errors", None) else 200,
    )


@bp.route("/<int:process_id>/rediger", methods=["GET", "POST"])
@login_required
def edit_process(process_id: int):
    process = _process_or_404(process_id)
    if not permissions.can_manage_process(current_user, process):
        abort(403)
    form = ProcessForm(obj=None if request.method == "POST" else process)
    areas = _place_choices(form)
    if process.phase in (Phase.VOTING, Phase.RESULT, Phase.FOLLOW_UP):
        # The money and the ballot are fixed (and not in the form): nothing to require.
        form.total_amount.validators = [Optional()]
    if request.method == "GET":
        form.description.data = process.description_source
        form.scope.data = (
            "committee" if process.committee_id else "area" if process.area_id else "municipality"
        )
        form.committee_id.data = str(process.committee_id or "")
        form.area_id.data = str(process.area_id or "")
        form.rule.data = process.rule
        form.ballot_style.data = process.ballot_style.value
        for p in DATED_PHASES:
            getattr(form, f"starts_{p.value}").data = to_local(process.starts(p))
        amounts = {a.area_id: str(a.amount) for a in process.area_amounts}
        return _render_process_form(form, areas, process, amounts)
    if form.validate_on_submit() and _scope_check(form):
        if _save_process(form, areas, process) is not None:
            flash(_("The citizen budget is saved."), "success")
            return redirect(url_for("budgets.process", process_id=process.id))
    return _render_process_form(form, areas, process, status=400)


@bp.route("/<int:process_id>")
def process(process_id: int):
    process = _process_or_404(process_id)
    area_id = _int_or_none(request.args.get("omraade"))
    ideas = queries.ideas_for(current_user, process, area_id)
    manage = permissions.can_manage_process(current_user, process)
    waiting = queries.waiting_counts(process) if manage else None
    return render_template(
        "budgets/process.html",
        process=process,
        ideas=ideas,
        area_id=area_id,
        supported=queries.supported_ids(current_user, ideas),
        waiting=waiting,
        can_manage=manage,
        can_propose=permissions.can_propose(current_user, process),
        ballot=queries.my_ballot(current_user, process),
        button_form=EmptyForm(),
        closes=process.starts(Phase.RESULT),
        has_results=permissions.can_see_results(current_user, process)
        and queries.has_results(process),
    )


@bp.route("/<int:process_id>/fase", methods=["POST"])
@login_required
def advance(process_id: int):
    process = _process_or_404(process_id)
    if not permissions.can_manage_process(current_user, process):
        abort(403)
    if not EmptyForm().validate_on_submit():
        abort(400)
    try:
        new = services.advance_phase(me(), process)
    except DomainError as exc:
        uow.rollback()
        flash(exc.message, "error")
    else:
        uow.commit()
        from .labels import PHASE_LABELS

        flash(
            _("The citizen budget is now in the phase “%(phase)s”.", phase=PHASE_LABELS[new]),
            "success",
        )
    return redirect(url_for("budgets.process", process_id=process_id))


@bp.route("/<int:process_id>/optaelling", methods=["POST"])
@login_required
def count(process_id: int):
    process = _process_or_404(process_id)
    if not permissions.can_manage_process(current_user, process):
        abort(403)
    if not EmptyForm().validate_on_submit():
        abort(400)
    try:
        services.count_process(me(), process)
    except DomainError as exc:
        uow.rollback()
        flash(exc.message, "error")
        return redirect(url_for("budgets.process", process_id=process_id))
    uow.commit()
    flash(_("The ballots are counted."), "success")
    return redirect(url_for("budgets.result", process_id=process_id))


@bp.route("/<int:process_id>/behandling")
@login_required
def review_list(process_id: int):
    process = _process_or_404(process_id)
    if not permissions.can_manage_process(current_user, process):
        abort(403)
    ideas = queries.ideas_for(current_user, process)
    return render_template(
        "budgets/review.html",
        process=process,
        held=[i for i in ideas if i.state == IdeaState.PENDING],
        unreviewed=[i for i in ideas if i.state == IdeaState.PUBLISHED and i.review is None],
        reviewed=[i for i in ideas if i.review is not None],
    )


# --- ideas -----------------------------------------------------------------------------------


def _idea_area_choices(form: IdeaForm, process: BudgetProcess) -> None:
    if process.has_area_budgets:
        areas = sorted((a.area for a in process.area_amounts), key=lambda a: a.name)
    else:
        areas = db.session.scalars(select(Area).order_by(Area.name)).all()
    first = [("", _("— choose —"))]
    if process.committee_id and not process.has_area_budgets:
        first = [("", _("— the whole municipality —"))]
    form.area_id.choices = choices(first + [(str(a.id), a.name) for a in areas])


def _write_limit() -> str:
    return current_app.config["RATELIMIT_POST"]


@bp.route("/<int:process_id>/ideer/ny", methods=["GET", "POST"])
@login_required
@limiter.limit(_write_limit, methods=["POST"])
def new_idea(process_id: int):
    process = _process_or_404(process_id)
    reason = forum_permissions.write_block(current_user)
    if reason:
        raise PermissionDenied(reason)  # a suspension: 403 with its reason
    if not permissions.can_propose(current_user, process):
        flash(_("This citizen budget is not collecting ideas now."), "error")
        return redirect(url_for("budgets.process", process_id=process.id))
    form = IdeaForm()
    _idea_area_choices(form, process)
    status = 200
    if form.validate_on_submit():
        try:
            idea = services.propose_idea(
                me(),
                process,
                form.title.data,
                form.description.data,
                form.estimated_cost.data,
                area_id=_int_or_none(form.area_id.data),
                nonce=form.nonce.data,
            )
        except DomainError as exc:
            _fail(form, exc, "title")
            status = exc.status
        else:
            uow.commit()
            if idea.state == IdeaState.PENDING:
                flash(
                    _(
                        "Thank you! Your idea waits for a moderator; until then only you can "
                        "see it."
                    ),
                    "success",
                )
            else:
                flash(_("Your idea is published."), "success")
            return redirect(url_for("budgets.idea", idea_id=idea.id))
    elif request.method == "POST":
        status = 400
    return render_template("budgets/idea_form.html", form=form, process=process), status


def _render_idea(idea: Idea, status: int = 200, **forms):
    process = idea.process
    staff = permissions.can_manage_process(current_user, process)
    line = (
        queries.funding_line(idea) if permissions.can_see_results(current_user, process) else None
    )
    review_form = forms.get("review_form") or ReviewForm(
        final_cost=idea.final_cost,
        reason=idea.review_reason or None,
        outcome=idea.review.value if idea.review in (Review.FEASIBLE, Review.INFEASIBLE) else None,
    )
    merge_form = forms.get("merge_form") or MergeForm()
    if permissions.can_review(current_user, idea):
        merge_form.target_id.choices = choices(
            [("", _("— choose —"))] + [(str(t.id), t.title) for t in queries.merge_targets(idea)]
        )
    return render_template(
        "budgets/idea.html",
        idea=idea,
        process=process,
        line=line,
        supported=bool(queries.supported_ids(current_user, [idea])),
        updates=queries.status_updates([idea.id])[idea.id],
        # "Cited in the outcome of …" (outcomes, through the forum's hook), for a public idea
        cited_in=hooks.cited_in("idea", [idea.id]).get(idea.id, [])
        if idea.state == IdeaState.PUBLISHED
        else [],
        reviews=queries.reviews_of(idea) if staff else [],
        button_form=EmptyForm(),
        moderate_form=forms.get("moderate_form") or ModerateIdeaForm(),
        review_form=review_form,
        merge_form=merge_form,
        status_form=forms.get("status_form") or StatusForm(),
        status_labels=STATUS_LABELS,
        can_moderate=permissions.can_moderate_idea(current_user, idea),
        in_queue=hooks.review_queue_active(),
        can_edit=permissions.can_edit_idea(current_user, idea),
        can_withdraw=permissions.can_withdraw_idea(current_user, idea),
        can_review=permissions.can_review(current_user, idea),
        can_support=permissions.can_support(current_user, idea),
        can_post_status=permissions.can_post_status(current_user, process),
    ), status


@bp.route("/ideer/<int:idea_id>")
def idea(idea_id: int):
    return _render_idea(_idea_or_404(idea_id))


@bp.route("/ideer/<int:idea_id>/rediger", methods=["GET", "POST"])
@login_required
@limiter.limit(_write_limit, methods=["POST"])
def edit_idea(idea_id: int):
    idea = _idea_or_404(idea_id)
    process = idea.process
    if not permissions.can_edit_idea(current_user, idea):
        flash(_("This idea can no longer be changed."), "error")
        return redirect(url_for("budgets.idea", idea_id=idea.id))
    form = IdeaForm(obj=idea) if request.method == "GET" else IdeaForm()
    _idea_area_choices(form, process)
    status = 200
    if request.method == "GET":
        form.description.data = idea.description_source
        form.area_id.data = str(idea.area_id or "")
    elif form.validate_on_submit():
        try:
            services.edit_idea(
                me(),
                idea,
                form.title.data,
                form.description.data,
                form.estimated_cost.data,
                area_id=_int_or_none(form.area_id.data),
            )
        except DomainError as exc:
            _fail(form, exc, "title")
            status = exc.status
        else:
            uow.commit()
            if idea.state == IdeaState.PENDING:
                flash(
                    _(
                        "Your changes are saved. The idea waits for a moderator again; until "
                        "then only you can see it."
                    ),
                    "success",
                )
            else:
                flash(_("Your changes are saved."), "success")
            return redirect(url_for("budgets.idea", idea_id=idea.id))
    else:
        status = 400
    return render_template("budgets/idea_form.html", form=form, process=process, idea=idea), status


@bp.route("/ideer/<int:idea_id>/traek-tilbage", methods=["POST"])
@login_required
def withdraw_idea(idea_id: int):
    idea = _idea_or_404(idea_id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    try:
        services.withdraw_idea(me(), idea)
    except DomainError as exc:
        uow.rollback()
        flash(exc.message, "error")
        return redirect(url_for("budgets.idea", idea_id=idea_id))
    uow.commit()
    flash(_("Your idea is withdrawn. Its supporters are told."), "success")
    return redirect(url_for("budgets.process", process_id=idea.process_id))


@bp.route("/ideer/<int:idea_id>/stoet", methods=["POST"])
@login_required
def support(idea_id: int):
    idea = _idea_or_404(idea_id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    try:
        supported, _count = services.toggle_support(me(), idea)
    except DomainError as exc:
        uow.rollback()
        flash(exc.message, "error")
    else:
        uow.commit()
        flash(
            _("You support this idea.") if supported else _("You no longer support this idea."),
            "success",
        )
    return redirect(url_for("budgets.idea", idea_id=idea_id))


@bp.route("/ideer/<int:idea_id>/moderer", methods=["POST"])
@login_required
def moderate(idea_id: int):
    idea = _idea_or_404(idea_id)
    if not permissions.can_moderate_idea(current_user, idea):
        abort(403)
    form = ModerateIdeaForm()
    if form.validate_on_submit():
        try:
            decided = services.moderate_idea(
                me(), idea, form.action.data == "approve", form.reason.data
            )
        except DomainError as exc:
            _fail(form, exc, "reason")
            return _render_idea(db.session.get(Idea, idea_id), exc.status, moderate_form=form)
        uow.commit()
        if not decided:
            flash(
                _("Decide this idea in the moderation queue, where it waits with the held posts."),
                "info",
            )
            return redirect(url_for("budgets.idea", idea_id=idea_id))
        flash(
            _("The idea is published.")
            if form.action.data == "approve"
            else _("The idea is rejected; its author is told why."),
            "success",
        )
        return redirect(url_for("budgets.idea", idea_id=idea_id))
    return _render_idea(idea, 400, moderate_form=form)


@bp.route("/ideer/<int:idea_id>/vurdering", methods=["POST"])
@login_required
def review(idea_id: int):
    idea = _idea_or_404(idea_id)
    if not permissions.can_manage_process(current_user, idea.process):
        abort(403)
    form = ReviewForm()
    if form.validate_on_submit():
        try:
            services.review_idea(
                me(),
                idea,
                form.outcome.data == "feasible",
                form.reason.data,
                form.final_cost.data,
            )
        except DomainError as exc:
            _fail(form, exc, "reason")
            return _render_idea(db.session.get(Idea, idea_id), exc.status, review_form=form)
        uow.commit()
        flash(_("The review is saved and the author is told."), "success")
        return redirect(url_for("budgets.idea", idea_id=idea_id))
    return _render_idea(idea, 400, review_form=form)


@bp.route("/ideer/<int:idea_id>/saml", methods=["POST"])
@login_required
def merge(idea_id: int):
    idea = _idea_or_404(idea_id)
    if not permissions.can_manage_process(current_user, idea.process):
        abort(403)
    form = MergeForm()
    form.target_id.choices = choices([(str(t.id), t.title) for t in queries.merge_targets(idea)])
    if form.validate_on_submit():
        target = db.session.get(Idea, _int_or_none(form.target_id.data) or 0)
        if target is None:
            form.target_id.errors = [_("Choose another idea in the same citizen budget.")]
            return _render_idea(idea, 400, merge_form=form)
        try:
            services.merge_idea(me(), idea, target, form.merge_reason.data)
        except DomainError as exc:
            if "reason" in exc.fields:
                exc.fields["merge_reason"] = exc.fields.pop("reason")
            _fail(form, exc, "merge_reason")
            return _render_idea(db.session.get(Idea, idea_id), exc.status, merge_form=form)
        uow.commit()
        flash(_("The ideas are merged; supporters are told."), "success")
        return redirect(url_for("budgets.idea", idea_id=target.id))
    return _render_idea(idea, 400, merge_form=form)


@bp.route("/ideer/<int:idea_id>/status", methods=["POST"])
@login_required
def status_update(idea_id: int):
    idea = _idea_or_404(idea_id)
    if not permissions.can_manage_process(current_user, idea.process):
        abort(403)
    form = StatusForm()
    if form.validate_on_submit():
        try:
            services.add_status_update(
                me(), idea, form.status.data, form.happened_on.data, form.text.data
            )
        except DomainError as exc:
            _fail(form, exc, "text")
            return _render_idea(db.session.get(Idea, idea_id), exc.status, status_form=form)
        uow.commit()
        flash(_("The status update is published; followers and voters are told."), "success")
        return redirect(url_for("budgets.idea", idea_id=idea_id) + "#status")
    return _render_idea(idea, 400, status_form=form)


# --- the ballot ------------------------------------------------------------------------------


def _posted_choices(process: BudgetProcess) -> dict[int, int] | list[str]:
    """What the ballot form sent: ``idea`` checkboxes, or ``points-<id>`` fields."""
    if process.ballot_style == BallotStyle.POINTS:
        out = {}
        for name, value in request.form.items():
            if name.startswith("points-") and value.strip():
                out[name.removeprefix("points-")] = value.strip()
        return out
    return request.form.getlist("idea")


def _selection(process: BudgetProcess, posted) -> dict[int, int]:
    """The posted choices as {idea id: points}, ignoring what cannot be read (the service
    reports those when the ballot is cast)."""
    out: dict[int, int] = {}
    items = posted.items() if isinstance(posted, dict) else ((k, 1) for k in posted)
    for key, value in items:
        try:
            out[parse_id(key)] = int(value)
        except (TypeError, ValueError):
            continue
    return out


def _ballot_page(process, form, area_id, selection, ballot, errors=(), status=200):
    ideas = (
        services.ballot_ideas(process, area_id) if (area_id or not process.has_area_budgets) else []
    )
    by_id = {i.id: i for i in ideas}
    spent = sum(by_id[i].cost for i in selection if i in by_id)
    points = sum(p for i, p in selection.items() if i in by_id)
    budget = (
        services.ballot_budget(process, area_id)
        if (area_id or not process.has_area_budgets)
        else None
    )
    return render_template(
        "budgets/ballot.html",
        process=process,
        form=form,
        ideas=ideas,
        area_id=area_id,
        selection=selection,
        spent=spent,
        points=points,
        budget=budget,
        ballot=ballot,
        errors=list(errors),
        can_vote=permissions.can_vote(current_user, process),
        area_fixed=bool(ballot and ballot.area_id and process.has_area_budgets),
        currency_symbol=get_currency_symbol(process.currency, str(get_locale() or "da")),
    ), status


@bp.route("/<int:process_id>/stemmeseddel", methods=["GET", "POST"])
@limiter.limit(_write_limit, methods=["POST"])
def ballot(process_id: int):
    process = _process_or_404(process_id)
    mine = queries.my_ballot(current_user, process)
    form = BallotForm()
    if process.has_area_budgets:
        areas = sorted((a.area for a in process.area_amounts), key=lambda a: a.name)
        form.area_id.choices = choices(
            [("", _("— choose —"))] + [(str(a.id), a.name) for a in areas]
        )
    else:
        areas = db.session.scalars(select(Area).order_by(Area.name)).all()
        form.area_id.choices = choices(
            [("", _("— I'd rather not say —"))] + [(str(a.id), a.name) for a in areas]
        )
    if request.method == "GET":
        area_id = (mine.area_id if mine else None) or _int_or_none(request.args.get("omraade"))
        if mine is not None and mine.area_id and process.has_area_budgets:
            area_id = mine.area_id
        form.area_id.data = str(area_id or "")
        selection = {c.idea_id: c.points for c in mine.choices} if mine else {}
        return _ballot_page(process, form, area_id, selection, mine)

    if not current_user.is_authenticated:
        return redirect(
            url_for("forum.login", next=url_for("budgets.ballot", process_id=process_id))
        )
    if not form.validate_on_submit():
        abort(400)
    area_id = _int_or_none(form.area_id.data)
    if mine is not None and mine.area_id and process.has_area_budgets:
        area_id = area_id or mine.area_id
    posted = _posted_choices(process)
    selection = _selection(process, posted)
    if request.form.get("action") == "area" or request.form.get("action") == "total":
        # "Show the projects" / "Update the total" without casting: the no-JS running total.
        return _ballot_page(process, form, area_id, selection, mine)
    try:
        services.cast_ballot(me(), process, posted, area_id=area_id)
    except DomainError as exc:
        uow.rollback()
        errors = list(exc.fields.items()) or [("ballot", exc.message)]
        return _ballot_page(process, form, area_id, selection, mine, errors, exc.status)
    uow.commit()
    flash(_("Your ballot is received. You can change it until voting closes."), "success")
    return redirect(url_for("budgets.receipt", process_id=process.id))


@bp.route("/<int:process_id>/kvittering")
@login_required
def receipt(process_id: int):
    process = _process_or_404(process_id)
    mine = queries.my_ballot(current_user, process)
    if mine is None:
        flash(_("You have not voted in this citizen budget."), "info")
        return redirect(url_for("budgets.ballot", process_id=process_id))
    ideas = {
        i.id: i
        for i in db.session.scalars(
            select(Idea).where(Idea.id.in_([c.idea_id for c in mine.choices]))
        )
    }
    chosen = sorted(
        ((ideas[c.idea_id], c.points) for c in mine.choices if c.idea_id in ideas),
        key=lambda pair: pair[0].title,
    )
    return render_template(
        "budgets/receipt.html",
        process=process,
        ballot=mine,
        chosen=chosen,
        spent=sum(i.cost for i, _p in chosen),
        points=sum(p for _i, p in chosen),
        budget=services.ballot_budget(process, mine.area_id),
        can_change=permissions.can_vote(current_user, process),
    )


# --- results ---------------------------------------------------------------------------------


def _results_or_404(process: BudgetProcess):
    if not permissions.can_see_results(current_user, process):
        abort(404)
    return queries.results(process)


@bp.route("/<int:process_id>/resultat")
def result(process_id: int):
    process = _process_or_404(process_id)
    counted = _results_or_404(process)
    funded_ids = [ln.idea_id for r in counted for ln in r.lines if ln.funded]
    return render_template(
        "budgets/result.html",
        process=process,
        results=counted,
        participation=queries.participation(process, counted),
        updates=queries.status_updates(funded_ids),
        status_labels=STATUS_LABELS,
        public=permissions.results_public(process),
    )


@bp.route("/<int:process_id>/resultat.csv")
def result_csv(process_id: int):
    process = _process_or_404(process_id)
    counted = _results_or_404(process)
    if not counted:
        abort(404)
    header = [str(h) for h in RESULT_CSV_HEADERS]
    rows = [
        [
            r.area.name if r.area else "",
            line.idea.key,
            line.idea.title,
            amount_text(line.cost),
            process.currency,
            line.score,
            line.supporters,
            int(line.funded),
            line.position,
            "" if line.full_share is None else f"{line.full_share:.2f}",
            "" if line.full_payers is None else line.full_payers,
            "" if line.partial_payers is None else line.partial_payers,
            "" if line.nothing_left is None else line.nothing_left,
        ]
        for r in counted
        for line in r.lines
    ]
    # titles and area names are neutralised (a title "=HYPERLINK(...)" stays text), with the BOM
    return exports.response(
        exports.stream(header, rows, delimiter=","), f"borgerbudget-{process.id}.csv"
    )


@bp.route("/<int:process_id>/resultat.pb")
def result_pb(process_id: int):
    """The election as a Pabulib file (one area's budget with ``?omraade=``): anonymous
    ballots numbered by ballot, our count's ``selected`` column."""
    process = _process_or_404(process_id)
    if not permissions.can_see_results(current_user, process):
        abort(404)
    try:
        election = export_election(process, _int_or_none(request.args.get("omraade")))
    except DomainError:
        abort(404)
    return Response(
        dump(election),
        mimetype="text/plain",
        headers={"Content-Disposition": f"attachment; filename=borgerbudget-{process.id}.pb"},
    )


@bp.app_template_global("budget_money")
def _money(amount, currency: str = "DKK", decimals: bool = False) -> str:
    return money(amount, currency, decimals)


@bp.app_template_global("budget_percent")
def _percent(share: float) -> str:
    return format_percent(share)
