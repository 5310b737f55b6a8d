"""Mail's pages: confirming addresses, forgotten passwords, changing the address, the mail
preferences and one-click unsubscribe. Every link problem gets a page with a way forward."""

from __future__ import annotations

from flask import (
    Blueprint,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user

from forum import uow
from forum.errors import InvalidInput
from forum.extensions import csrf, limiter
from forum.models import User
from forum.views import apply_errors

from . import services, tokens
from .compose import kind_label, mode_label
from .forms import (
    ButtonForm,
    ChangeEmailForm,
    ForgotPasswordForm,
    PreferencesForm,
    ResetPasswordForm,
)
from .models import DEFAULT_MODES, Kind, Mode

bp = Blueprint("mail", __name__)

_STATUS = {"invalid": 400, "expired": 410, "used": 410}


def _link_problem(problem: tokens.TokenProblem, purpose: str):
    """The page for an invalid, expired or used link, with what to do next."""
    uow.rollback()
    status = _STATUS[problem.reason]
    if purpose == "verify" and problem.reason == "used":
        status = 200
    return render_template("mail/link_problem.html", reason=problem.reason, purpose=purpose), status


# --- confirming the address -------------------------------------------------------------------


@bp.route("/konto/bekraeft/<token>", methods=["GET", "POST"])
def verify(token: str):
    """GET shows a button (mail scanners follow links); POST confirms."""
    try:
        user = tokens.read_verify_token(token)
    except tokens.TokenProblem as problem:
        return _link_problem(problem, "verify")
    form = ButtonForm()
    if form.validate_on_submit():
        try:
            services.verify_email(token)
        except tokens.TokenProblem as problem:
            return _link_problem(problem, "verify")
        uow.commit()
        if not current_user.is_authenticated:  # straight from registering: not logged in yet
            flash(
                _(
                    "Thank you: your e-mail address is confirmed. Log in to take part in the "
                    "debate."
                ),
                "success",
            )
            return redirect(url_for("forum.login"))
        flash(
            _("Thank you: your e-mail address is confirmed. You can now take part in the debate."),
            "success",
        )
        return redirect(url_for("forum.home"))
    return render_template("mail/verify.html", form=form, email=user.email)


@bp.route("/konto/bekraeft", methods=["POST"])
@login_required
def resend_verification():
    form = ButtonForm()
    if not form.validate_on_submit():
        return redirect(url_for("forum.home"))
    user = current_user._get_current_object()
    if services.is_verified(user):
        flash(_("Your e-mail address is already confirmed."), "success")
    elif services.queue_verification(user):
        uow.commit()
        flash(
            _(
                "We sent a new link to %(email)s. It may take a few minutes; check your spam "
                "folder too.",
                email=user.email,
            ),
            "success",
        )
    else:
        flash(
            _(
                "We have sent several links in the last hour. Use the newest one, or try "
                "again later."
            ),
            "error",
        )
    return redirect(request.referrer if _same_site(request.referrer) else url_for("forum.home"))


def _same_site(url: str | None) -> bool:
    return bool(url) and url.startswith(request.host_url)


# --- forgotten password ------------------------------------------------------------------------


def _reset_ip_limit() -> str:
    return current_app.config["RATELIMIT_RESET_IP"]


@bp.route("/glemt-adgangskode", methods=["GET", "POST"])
@limiter.limit(_reset_ip_limit, methods=["POST"])
def forgot_password():
    """The same answer whether or not the address has an account (no account discovery)."""
    form = ForgotPasswordForm()
    if form.validate_on_submit():
        services.request_password_reset(form.email.data)
        uow.commit()
        return render_template("mail/forgot_sent.html", email=form.email.data)
    status = 400 if form.errors else 200
    return render_template("mail/forgot_password.html", form=form), status


@bp.route("/konto/nulstil/<token>", methods=["GET", "POST"])
def reset_password(token: str):
    try:
        tokens.read_reset_token(token)
    except tokens.TokenProblem as problem:
        return _link_problem(problem, "reset")
    form = ResetPasswordForm()
    if form.validate_on_submit():
        try:
            services.reset_password(token, form.password.data)
        except tokens.TokenProblem as problem:
            return _link_problem(problem, "reset")
        except InvalidInput as exc:
            uow.rollback()
            apply_errors(form, exc)
        else:
            uow.commit()
            flash(
                _(
                    "Your password is changed and you are logged out everywhere. Log in with "
                    "the new password."
                ),
                "success",
            )
            return redirect(url_for("forum.login"))
    status = 400 if form.errors else 200
    return render_template("mail/reset_password.html", form=form), status


# --- changing the address ---------------------------------------------------------------------


@bp.route("/konto/email", methods=["GET", "POST"])
@login_required
@limiter.limit(lambda: current_app.config["RATELIMIT_MAIL_CHANGE"], methods=["POST"])
def change_email():
    user = current_user._get_current_object()
    form = ChangeEmailForm()
    cancel = ButtonForm(prefix="cancel")
    if request.method == "POST" and request.form.get("action") == "cancel":
        if cancel.validate_on_submit():
            services.cancel_email_change(user)
            uow.commit()
            flash(_("The change of e-mail address is cancelled."), "success")
        return redirect(url_for("mail.change_email"))
    if form.validate_on_submit():
        try:
            new = services.request_email_change(user, form.new_email.data, form.password.data)
        except InvalidInput as exc:
            uow.rollback()
            apply_errors(form, exc)
        else:
            uow.commit()
            flash(
                _(
                    "We sent a link to %(email)s. Your address changes when you follow it; "
                    "until then the old one stays.",
                    email=new,
                ),
                "success",
            )
            return redirect(url_for("mail.change_email"))
    status = 400 if form.errors else 200
    return render_template("mail/change_email.html", form=form, cancel=cancel, user=user), status


@bp.route("/konto/email/<token>", methods=["GET", "POST"])
def confirm_email_change(token: str):
    try:
        user, new = tokens.read_change_token(token)
    except tokens.TokenProblem as problem:
        return _link_problem(problem, "change")
    form = ButtonForm()
    if form.validate_on_submit():
        try:
            user, _old = services.confirm_email_change(token)
        except tokens.TokenProblem as problem:
            return _link_problem(problem, "change")
        except InvalidInput as exc:
            uow.commit()  # the pending address is cleared
            return render_template(
                "mail/link_problem.html",
                reason="taken",
                purpose="change",
                message=exc.fields.get("new_email"),
            ), 409
        uow.commit()
        if current_user.is_authenticated and current_user.id == user.id:
            login_user(user)
        flash(_("Your e-mail address is now %(email)s.", email=user.email), "success")
        return redirect(url_for("forum.home"))
    return render_template("mail/confirm_email_change.html", form=form, new=new)


# --- preferences and unsubscribe --------------------------------------------------------------


def _preferences(user: User, action: str):
    form = PreferencesForm()
    if request.method == "POST":
        if not form.validate_on_submit():
            return render_template("mail/preferences.html", **_prefs_ctx(user, form, action)), 400
        try:
            chosen = services.parse_preferences(request.form)
        except InvalidInput as exc:
            uow.rollback()
            return render_template(
                "mail/preferences.html", error=exc.message, **_prefs_ctx(user, form, action)
            ), 400
        services.set_preferences(user, chosen)
        uow.commit()
        flash(_("Your e-mail choices are saved."), "success")
        return redirect(action)
    return render_template("mail/preferences.html", **_prefs_ctx(user, form, action))


def _prefs_ctx(user: User, form, action: str) -> dict:
    return {
        "form": form,
        "action": action,
        "owner": user,
        "current": services.modes(user.id),
        "kinds": list(Kind),
        "modes": list(Mode),
        "defaults": DEFAULT_MODES,
        "kind_label": kind_label,
        "mode_label": mode_label,
        "verified": services.may_receive_mail(user),
    }


@bp.route("/mail/indstillinger", methods=["GET", "POST"])
@login_required
def preferences():
    return _preferences(current_user._get_current_object(), url_for("mail.preferences"))


@bp.route("/mail/indstillinger/<token>", methods=["GET", "POST"])
def preferences_link(token: str):
    """The link in every mail: change mail preferences without logging in."""
    try:
        user = tokens.read_preferences_token(token)
    except tokens.TokenProblem as problem:
        return _link_problem(problem, "preferences")
    return _preferences(user, url_for("mail.preferences_link", token=token))


@bp.route("/mail/afmeld/<token>", methods=["GET", "POST"])
@csrf.exempt  # RFC 8058 one-click: mail clients POST here without a form; the token is the key
def unsubscribe(token: str):
    try:
        user, kinds = tokens.read_unsubscribe_token(token)
    except tokens.TokenProblem as problem:
        return _link_problem(problem, "unsubscribe")
    labels = [kind_label(k) for k in kinds]
    prefs_url = url_for("mail.preferences_link", token=tokens.preferences_token(user.id))
    if request.method == "POST":
        changed = services.unsubscribe(user, kinds)
        uow.commit()
        return render_template(
            "mail/unsubscribed.html", labels=labels, already=not changed, prefs_url=prefs_url
        )
    current = services.modes(user.id)
    already = all(current[k] == Mode.OFF for k in kinds)
    return render_template(
        "mail/unsubscribe.html", labels=labels, already=already, token=token, prefs_url=prefs_url
    )
