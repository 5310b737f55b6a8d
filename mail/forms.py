"""Forms for the account pages. Rules live in the services too; forms give early errors."""

from __future__ import annotations

from wtforms import EmailField, PasswordField
from wtforms.validators import DataRequired, EqualTo, Length

from forum.forms import REQUIRED, BaseForm
from forum.i18n import lazy_gettext as _l


class ForgotPasswordForm(BaseForm):
    email = EmailField(_l("E-mail"), validators=[DataRequired(REQUIRED), Length(max=254)])


class ResetPasswordForm(BaseForm):
    password = PasswordField(
        _l("New password"),
        validators=[
            DataRequired(REQUIRED),
            Length(min=10, max=200, message=_l("Use between 10 and 200 characters.")),
        ],
        description=_l("At least 10 characters."),
    )
    confirm = PasswordField(
        _l("Repeat new password"),
        validators=[DataRequired(REQUIRED), EqualTo("password", _l("The passwords differ."))],
    )


class ChangeEmailForm(BaseForm):
    new_email = EmailField(
        _l("New e-mail address"), validators=[DataRequired(REQUIRED), Length(max=254)]
    )
    password = PasswordField(_l("Your password"), validators=[DataRequired(REQUIRED)])


class ButtonForm(BaseForm):
    """Only the CSRF token: confirm, resend, cancel, unsubscribe buttons."""


class PreferencesForm(BaseForm):
    """The CSRF token; the ``mode-<kind>`` radios are read by ``services.parse_preferences``
    so that unknown kinds or modes are refused instead of ignored."""
