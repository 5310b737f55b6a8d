"""The privacy pages: the notice, its settings (admins), my data (export, delete account)."""

from __future__ import annotations

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
from flask_babel import format_decimal
from flask_babel import gettext as _
from flask_login import current_user, login_required, logout_user

from forum import hooks, uow
from forum.errors import DomainError, PermissionDenied
from forum.extensions import db, limiter
from forum.forms import choices
from forum.i18n import quote
from forum.views import apply_errors, me

from . import export, reach, services
from .forms import (
    DeleteAccountForm,
    ExportForm,
    FactForm,
    ReachForm,
    SettingsForm,
    WithdrawFactForm,
    population_form,
)

bp = Blueprint("privacy", __name__)


@bp.route("/privatliv")
def policy():
    return render_template(
        "privacy/policy.html",
        settings=services.current_settings(),
        facts=services.retention_facts(current_app.config),
    )


@bp.route("/privatliv/indstillinger", methods=["GET", "POST"])
@login_required
@limiter.limit(lambda: current_app.config["PRIVACY_SETTINGS_RATE"], methods=["POST"])
def settings():
    if not current_user.is_admin:
        raise PermissionDenied(_("Only administrators may change the privacy settings."))
    row = services.current_settings()
    form = SettingsForm(obj=row)
    if form.validate_on_submit():
        try:
            services.update_settings(
                me(),
                {
                    name: form[name].data
                    for name in (*services.TEXT_LIMITS, *services.NUMBER_LIMITS)
                },
            )
        except DomainError as exc:
            db.session.rollback()
            if not apply_errors(form, exc):
                raise
        else:
            db.session.commit()
            flash(_("The privacy settings are saved."), "success")
            return redirect(url_for("privacy.settings"))
    status = 400 if form.errors else 200
    return render_template("privacy/settings.html", form=form, row=row), status


@bp.route("/privatliv/mine-data")
@login_required
def my_data():
    return render_template(
        "privacy/my_data.html",
        export_form=ExportForm(),
        delete_form=DeleteAccountForm(),
        grace_days=services.current_settings().deletion_grace_days,
    )


@bp.route("/privatliv/mine-data/eksport", methods=["POST"])
@login_required
@limiter.limit(lambda: current_app.config["PRIVACY_EXPORT_RATE"], methods=["POST"])
def export_data():
    form = ExportForm()
    if not form.validate_on_submit():
        return redirect(url_for("privacy.my_data"))
    try:
        payload = export.build_zip(me())
    except export.AlreadyBuilding:
        return render_template(
            "errors.html",
            status=409,
            title=_("Your export is being made"),
            message=_(
                "We are already making a copy of your data; it downloads in the window "
                "where you asked for it. Wait for it before asking again."
            ),
            typed={},
        ), 409
    name = f"borgerdialog-data-{current_user.id}.zip"
    return Response(
        payload,
        mimetype="application/zip",
        headers={
            "Content-Disposition": f'attachment; filename="{name}"',
            "Cache-Control": "no-store",
        },
    )


@bp.route("/privatliv/slet-konto", methods=["POST"])
@login_required
@limiter.limit(lambda: current_app.config["PRIVACY_DELETE_RATE"], methods=["POST"])
def delete_account():
    form = DeleteAccountForm()
    grace = services.current_settings().deletion_grace_days
    if form.validate_on_submit():
        try:
            req = services.request_deletion(me(), form.mode.data, form.password.data)
        except DomainError as exc:
            db.session.rollback()
            if not apply_errors(form, exc):
                raise
        else:
            db.session.commit()
            logout_user()
            return render_template("privacy/deletion_requested.html", req=req, grace=grace)
    return render_template(
        "privacy/my_data.html", export_form=ExportForm(), delete_form=form, grace_days=grace
    ), 400


# --- who takes part: one's optional facts, the reach dashboard (privacy/reach.py) ----------


def _fact_forms(posted: str | None = None) -> dict[str, FactForm]:
    """One form per fact, filled with the person's answers; ``posted`` reads the request."""
    mine = reach.my_facts(me())
    forms = {}
    for fact in reach.FACTS:
        row = mine.get(fact)
        value = None if row is None else (str(row.area_id) if fact == "area" else row.value)
        if fact == posted:
            form = FactForm(prefix=fact)
        else:
            form = FactForm(prefix=fact, formdata=None, data={"value": value, "consent": bool(row)})
        form.value.choices = choices(reach.fact_values(fact))
        form.value.label.text = reach.fact_label(fact)
        forms[fact] = form
    return forms


def _facts_page(forms, problem: str | None = None, status: int = 200):
    return render_template(
        "privacy/facts.html",
        forms=forms,
        facts=reach.FACTS,
        mine=reach.my_facts(me()),
        withdraw_form=WithdrawFactForm(),
        problem=problem,
    ), status


@bp.route("/privatliv/om-dig")
@login_required
def facts():
    return _facts_page(_fact_forms())


@bp.route("/privatliv/om-dig/<fact>", methods=["POST"])
@login_required
@limiter.limit(lambda: current_app.config["PRIVACY_FACTS_RATE"], methods=["POST"])
def give_fact(fact: str):
    if fact not in reach.FACTS:
        abort(404)
    forms = _fact_forms(posted=fact)
    form = forms[fact]
    if form.validate_on_submit():
        with uow.saving(form) as saved:
            reach.give_fact(me(), fact, form.value.data, bool(form.consent.data))
        if saved.ok:
            flash(
                _(
                    "Thank you. We keep %(fact)s until you withdraw it.",
                    fact=quote(reach.fact_label(fact)),
                ),
                "success",
            )
            return redirect(url_for("privacy.facts") + f"#fact-{fact}")
        if not saved.placed:
            return _facts_page(forms, str(saved.error), saved.status)
    return _facts_page(forms, status=400)


@bp.route("/privatliv/om-dig/<fact>/tilbagekald", methods=["POST"])
@login_required
@limiter.limit(lambda: current_app.config["PRIVACY_FACTS_RATE"], methods=["POST"])
def withdraw_fact(fact: str):
    if fact not in reach.FACTS:
        abort(404)
    form = WithdrawFactForm()
    if not form.validate_on_submit():
        return redirect(url_for("privacy.facts"))
    with uow.saving(form) as saved:
        reach.withdraw_fact(me(), fact)
    if not saved.ok:
        return _facts_page(_fact_forms(), str(saved.error), saved.status)
    flash(
        _(
            "Your consent is withdrawn and %(fact)s is deleted.",
            fact=quote(reach.fact_label(fact)),
        ),
        "success",
    )
    return redirect(url_for("privacy.facts"))


@bp.route("/deltagelse")
@login_required
def reach_dashboard():
    if not reach.can_see_reach(current_user):
        raise PermissionDenied(_("Only staff may see and change the reach figures."))
    form = ReachForm(request.args)
    form.fakta.choices = choices([(f, reach.fact_label(f)) for f in reach.FACTS])
    fact = form.fakta.data if form.fakta.data in reach.FACTS else "age_band"
    months = int(form.maaneder.data) if form.maaneder.data in ("3", "6", "12", "24") else 12
    form.fakta.data, form.maaneder.data = fact, str(months)
    table = reach.figures(me(), fact, months)
    return render_template(
        "privacy/reach.html",
        form=form,
        table=table,
        k=reach.K_ANONYMITY,
        over=reach.OVER,
        under=reach.UNDER,
        decimal=_decimal,
    )


def _decimal(value: float, places: int = 1) -> str:
    """A number in the reader's way of writing it (Danish: 12,5)."""
    pattern = "#,##0.0" if places == 1 else "#,##0." + "#" * places
    return format_decimal(round(value, places), format=pattern)


def _percent(raw: str | None) -> float | None:
    text = (raw or "").strip().replace("%", "").replace(" ", "").replace(",", ".")
    if not text:
        return None
    try:
        return float(text)
    except ValueError:
        return -1.0  # the service answers "from 0 to 100"


@bp.route("/deltagelse/befolkning/<fact>", methods=["GET", "POST"])
@login_required
@limiter.limit(lambda: current_app.config["PRIVACY_FACTS_RATE"], methods=["POST"])
def population(fact: str):
    if not reach.can_see_reach(current_user):
        raise PermissionDenied(_("Only staff may see and change the reach figures."))
    if fact not in reach.FACTS:
        abort(404)
    values = reach.fact_values(fact)
    form = population_form(values, reach.population_shares().get(fact, {}))
    status = 200
    if form.validate_on_submit():
        shares = {key: _percent(form[key].data) for key, _label in values}
        with uow.saving(form) as saved:
            change = reach.set_population_shares(me(), fact, shares)
            hooks.audit(
                "population_shares",
                "reach",
                None,
                actor=me(),
                text=reach.fact_label(fact),
                data={"fact": fact, **change},
            )
        if saved.ok:
            flash(_("The population's shares are saved."), "success")
            return redirect(url_for("privacy.reach_dashboard", fakta=fact))
        if not saved.placed:
            raise saved.error
        status = saved.status
    elif form.errors:
        status = 400
    return render_template(
        "privacy/population.html",
        form=form,
        fact=fact,
        label=reach.fact_label(fact),
        values=values,
        facts=reach.FACTS,
    ), status
