"""The privacy package's forms."""

from __future__ import annotations

from wtforms import (
    BooleanField,
    IntegerField,
    PasswordField,
    RadioField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

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


class FactForm(BaseForm):
    """One optional fact about oneself, with its own consent (``privacy/reach.py``)."""

    value = RadioField(
        _l("Your answer"), validators=[InputRequired(_l("Choose one of the answers."))]
    )
    consent = BooleanField(
        _l("I agree that the municipality keeps this fact to see who takes part"),
        validators=[DataRequired(_l("Tick the box to agree that we keep this fact."))],
    )


class WithdrawFactForm(BaseForm):
    """Only the CSRF token: withdrawing names the fact in its address."""


class ReachForm(BaseForm):
    """The reach dashboard's choice (a GET form: no CSRF token needed)."""

    class Meta:
        csrf = False

    fakta = SelectField(_l("Group by"))
    maaneder = SelectField(
        _l("Period"),
        choices=choices(
            [
                ("3", _l("The last 3 months")),
                ("6", _l("The last 6 months")),
                ("12", _l("The last 12 months")),
                ("24", _l("The last 24 months")),
            ]
        ),
        default="12",
    )


def population_form(values: list[tuple[str, str]], shares: dict[str, float]) -> BaseForm:
    """A form with one percentage field per group (``values``: key, label); keys are the
    field names, so a service's error for a group lands on its field."""

    class PopulationForm(BaseForm):
        pass

    for key, label in values:
        setattr(
            PopulationForm,
            key,
            StringField(label, validators=[Optional(), Length(max=10)]),
        )
    # Shown the Danish way (12,5); a submitted form shows what was typed instead.
    return PopulationForm(data={k: f"{v:g}".replace(".", ",") for k, v in shares.items()})
