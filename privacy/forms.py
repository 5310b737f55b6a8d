"""The privacy package's forms."""

from __future__ import annotations

from wtforms import IntegerField, PasswordField, RadioField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange

from forum.forms import REQUIRED, BaseForm, choices
from forum.i18n import lazy_gettext as _l

WHOLE = _l("Use a whole number from %(min)d to %(max)d.")


class SettingsForm(BaseForm):
    municipality_name = StringField(
        _l("Municipality's name"), validators=[DataRequired(REQUIRED), Length(max=200)]
    )
    contact_address = TextAreaField(
        _l("Contact address"), validators=[DataRequired(REQUIRED), Length(max=1000)]
    )
    data_controller = TextAreaField(
        _l("Data controller"), validators=[DataRequired(REQUIRED), Length(max=1000)]
    )
    dpo_contact = TextAreaField(
        _l("Data protection officer (contact)"),
        validators=[DataRequired(REQUIRED), Length(max=1000)],
    )
    deletion_grace_days = IntegerField(
        _l("Days before a deleted account is gone (logging in cancels)"),
        validators=[InputRequired(REQUIRED), NumberRange(1, 90, WHOLE)],
    )
    unverified_retention_days = IntegerField(
        _l("Days an unconfirmed, unused account is kept"),
        validators=[InputRequired(REQUIRED), NumberRange(1, 365, WHOLE)],
    )
    mail_retention_days = IntegerField(
        _l("Days a sent e-mail is kept in the outbox"),
        validators=[InputRequired(REQUIRED), NumberRange(7, 3650, WHOLE)],
    )


class DeleteAccountForm(BaseForm):
    mode = RadioField(
        _l("What happens to your contributions"),
        choices=choices(
            [
                (
                    "anonymise",
                    _l("Keep them, shown as written by a former participant, with no link to you"),
                ),
                (
                    "erase",
                    _l(
                        "Delete their text too (a note says the post was deleted, so the "
                        "replies still make sense)"
                    ),
                ),
            ]
        ),
        validators=[InputRequired(_l("Choose what happens to your contributions."))],
    )
    password = PasswordField(_l("Your password"), validators=[DataRequired(REQUIRED)])


class ExportForm(BaseForm):
    """Only the CSRF token: the download is a POST, so another site cannot start it."""
