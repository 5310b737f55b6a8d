from __future__ import annotations

from flask import (
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user

from .. import services, sessions, signals, uow
from ..errors import InvalidInput
from ..extensions import client_address, csrf, limiter
from ..forms import ChangePasswordForm, LoginForm, RegisterForm
from . import apply_errors, bp, safe_next


def _login_account_key() -> str:
    return "login-account:" + services.normalise_email(request.form.get("email", ""))


def _login_ip_limit() -> str:
    return current_app.config["RATELIMIT_LOGIN_IP"]


def _login_account_limit() -> str:
    return current_app.config["RATELIMIT_LOGIN_ACCOUNT"]


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(_login_ip_limit, key_func=client_address, methods=["POST"])
@limiter.limit(_login_account_limit, key_func=_login_account_key, methods=["POST"])
def login():
    """Log in. Every failure gets the same message: no account discovery."""
    form = LoginForm()
    if request.method == "GET":
        form.next.data = safe_next(request.args.get("next"), "")
    if form.validate_on_submit():
        user = services.authenticate(form.email.data, form.password.data)
        if user is not None and not user.is_active:
            # Only someone who knows the password learns this; the account exists.
            flash(
                _(
                    "This account has been deactivated. Contact the municipality if you "
                    "think this is a mistake."
                ),
                "error",
            )
            return render_template("forum/login.html", form=form, failed=True), 200
        if user is not None:
            login_user(user, remember=form.remember.data)
            if user.locale is None:
                user.locale = _current_lang()
                uow.commit()
            flash(_("You are logged in."), "success")
            return redirect(safe_next(form.next.data, url_for("forum.home")))
        form.password.errors = []
        flash(_("The e-mail address or password is not right."), "error")
        return render_template("forum/login.html", form=form, failed=True), 200
    return render_template("forum/login.html", form=form)


def _current_lang() -> str | None:
    from flask_babel import get_locale

    loc = get_locale()
    return str(loc) if loc else None


@bp.route("/logout", methods=["POST"])
def logout():
    """Log out this browser: its login ends on the server too, so a copy of its cookies stops
    working; the user's other browsers stay signed in."""
    if current_user.is_authenticated:
        sessions.end_current_login()
    logout_user()
    flash(_("You are logged out."), "success")
    return redirect(url_for("forum.home"))


@bp.route("/konto/log-ud-overalt", methods=["POST"])
@login_required
def logout_everywhere():
    """End every login of the account (this one, other browsers, remember-me cookies)."""
    sessions.end_all_logins(current_user._get_current_object())
    uow.commit()
    logout_user()
    flash(_("You are logged out on all your devices."), "success")
    return redirect(url_for("forum.home"))


@bp.route("/registrer", methods=["GET", "POST"])
@limiter.limit(
    lambda: current_app.config["RATELIMIT_REGISTER"], key_func=client_address, methods=["POST"]
)
def register():
    """Create an account. A taken address gets the same page as a new one (no account
    discovery); its owner hears of it by mail. The new account is not logged in here: the
    answer would differ."""
    if current_user.is_authenticated:
        return redirect(url_for("forum.home"))
    form = RegisterForm()
    if form.validate_on_submit():
        try:
            user, created = services.sign_up(
                form.email.data,
                form.display_name.data,
                form.password.data,
                locale=_current_lang(),
            )
        except InvalidInput as exc:
            uow.rollback()
            apply_errors(form, exc)
        else:
            if created:
                signals.user_registered.send(user)  # mail queues the confirmation mail
            else:
                signals.registration_for_existing_account.send(user)  # mail tells the owner
            uow.commit()
            # The same page for a new and a taken address (not even the address is shown).
            return render_template("forum/register_sent.html"), 200
    status = 400 if form.errors else 200
    return render_template("forum/register.html", form=form), status


@bp.route("/konto/adgangskode", methods=["GET", "POST"])
@login_required
def change_password():
    form = ChangePasswordForm()
    if form.validate_on_submit():
        try:
            services.change_password(
                current_user._get_current_object(),
                form.current_password.data,
                form.new_password.data,
            )
        except InvalidInput as exc:
            uow.rollback()
            apply_errors(form, exc)
        else:
            uow.commit()
            # The session version changed: log in again here, other devices are logged out.
            login_user(current_user._get_current_object())
            flash(_("Your password is changed. Other devices have been logged out."), "success")
            return redirect(url_for("forum.profile", user_id=current_user.id))
    status = 400 if form.errors else 200
    return render_template("forum/change_password.html", form=form), status


@bp.route("/sprog", methods=["POST"])
@csrf.exempt
def set_language():
    """Switch language; remembered in a cookie, and on the account when logged in.

    The token is checked for signed-in people only (their switch writes the account).
    Anonymously the switch sets the language cookie and nothing else, so anonymous pages
    carry no per-visitor token: they are the same for everyone and can be cached whole
    (forum/views/topics.py)."""
    if current_user.is_authenticated and current_app.config.get("WTF_CSRF_ENABLED", True):
        csrf.protect()  # what CSRFProtect does for every other form
    lang = request.form.get("lang", "")
    if lang not in current_app.config["LANGUAGES"]:
        lang = current_app.config["BABEL_DEFAULT_LOCALE"]
    response = redirect(safe_next(request.form.get("next"), url_for("forum.home")))
    response.set_cookie("lang", lang, max_age=60 * 60 * 24 * 365, samesite="Lax", httponly=True)
    if current_user.is_authenticated:
        current_user.locale = lang
        uow.commit()
    return response
