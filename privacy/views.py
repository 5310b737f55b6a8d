"""The privacy pages: the notice, its settings (admins), my data (export, delete account)."""

from __future__ import annotations

from flask import (
    Blueprint,
    Response,
    current_app,
    flash,
    redirect,
    render_template,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required, logout_user

from forum.errors import DomainError, PermissionDenied
from forum.extensions import db, limiter
from forum.views import apply_errors

from . import export, services
from .forms import DeleteAccountForm, ExportForm, SettingsForm

bp = Blueprint("privacy", __name__)


def _me():
    return current_user._get_current_object()


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
                _me(),
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
        payload = export.build_zip(_me())
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
            req = services.request_deletion(_me(), form.mode.data, form.password.data)
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
