"""Forms. Length rules live in the services too; forms give the user early, kept-text errors."""

from __future__ import annotations

import secrets

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateTimeLocalField,
    EmailField,
    HiddenField,
    PasswordField,
    RadioField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.fields import SelectChoice
from wtforms.validators import DataRequired, EqualTo, InputRequired, Length, Optional

from forum.i18n import lazy_gettext as _l
from forum.text import drop_controls

REQUIRED = _l("This field is required.")


def choices(pairs) -> list[SelectChoice]:
    """WTForms 3.3+ wants SelectChoice objects instead of (value, label) tuples."""
    return [SelectChoice(value, label) for value, label in pairs]


class BaseForm(FlaskForm):
    """The base of every form: each text field (string, text area, e-mail, hidden, search)
    drops control characters other than tab and newline from what was typed, before its
    validators and the services see it (see forum/text.py). Passwords are left as typed."""

    class Meta:
        def bind_field(self, form, unbound_field, options):
            cls = unbound_field.field_class
            if issubclass(cls, StringField) and not issubclass(cls, PasswordField):
                own = options.get("filters", unbound_field.kwargs.get("filters", ()))
                options = {**options, "filters": (drop_controls, *own)}
            return unbound_field.bind(form=form, **options)


class LoginForm(BaseForm):
    email = EmailField(_l("E-mail"), validators=[DataRequired(REQUIRED)])
    password = PasswordField(_l("Password"), validators=[DataRequired(REQUIRED)])
    remember = BooleanField(_l("Remember me on this device"))
    next = HiddenField()


class RegisterForm(BaseForm):
    email = EmailField(
        _l("E-mail"),
        validators=[DataRequired(REQUIRED), Length(max=254)],
    )
    display_name = StringField(
        _l("Name shown to others"),
        validators=[
            DataRequired(REQUIRED),
            Length(min=2, max=80, message=_l("Use between 2 and 80 characters.")),
        ],
    )
    password = PasswordField(
        _l("Password"),
        validators=[
            DataRequired(REQUIRED),
            Length(min=10, max=200, message=_l("Use between 10 and 200 characters.")),
        ],
        description=_l("At least 10 characters."),
    )
    confirm = PasswordField(
        _l("Repeat password"),
        validators=[DataRequired(REQUIRED), EqualTo("password", _l("The passwords differ."))],
    )
    # Required: the privacy package records it (with the notice's version) on registration.
    accept = BooleanField(
        _l("I have read the debate rules and the privacy notice"),
        validators=[
            DataRequired(
                _l(
                    "To create an account, tick that you have read the debate rules "
                    "and the privacy notice."
                )
            )
        ],
    )


class ChangePasswordForm(BaseForm):
    current_password = PasswordField(_l("Current password"), validators=[DataRequired(REQUIRED)])
    new_password = PasswordField(
        _l("New password"),
        validators=[
            DataRequired(REQUIRED),
            Length(min=10, max=200, message=_l("Use between 10 and 200 characters.")),
        ],
    )
    confirm = PasswordField(
        _l("Repeat new password"),
        validators=[DataRequired(REQUIRED), EqualTo("new_password", _l("The passwords differ."))],
    )


class TopicForm(BaseForm):
    title = StringField(
        _l("Title"),
        validators=[
            DataRequired(REQUIRED),
            Length(min=5, max=200, message=_l("The title must be 5–200 characters.")),
        ],
    )
    intro = TextAreaField(
        _l("Introduction"),
        validators=[
            DataRequired(REQUIRED),
            Length(max=10_000, message=_l("The text must be 1–10000 characters.")),
        ],
        description=_l("Markdown: *italic*, **bold**, lists, > quotes, links."),
    )
    committee_id = SelectField(_l("Committee"), coerce=str, validators=[Optional()])
    area_id = SelectField(_l("Local area"), coerce=str, validators=[Optional()])
    deadline = DateTimeLocalField(
        _l("Consultation deadline (optional)"), format="%Y-%m-%dT%H:%M", validators=[Optional()]
    )


def new_nonce() -> str:
    return secrets.token_urlsafe(16)


class PostForm(BaseForm):
    body = TextAreaField(
        _l("Your post"),
        validators=[
            DataRequired(REQUIRED),
            Length(max=10_000, message=_l("The text must be 1–10000 characters.")),
        ],
        description=_l("Markdown: *italic*, **bold**, lists, > quotes, links."),
    )
    stance = RadioField(
        _l("Your stance (optional)"),
        choices=choices(
            [
                ("", _l("No stance")),
                ("for", _l("For")),
                ("against", _l("Against")),
                ("question", _l("Question")),
            ]
        ),
        default="",
        validators=[Optional()],
    )
    parent_id = HiddenField()
    nonce = HiddenField(default=new_nonce)


class EditPostForm(BaseForm):
    body = TextAreaField(
        _l("Text"),
        validators=[
            DataRequired(REQUIRED),
            Length(max=10_000, message=_l("The text must be 1–10000 characters.")),
        ],
    )


class TopicStatusForm(BaseForm):
    status = SelectField(
        _l("Status"),
        choices=choices(
            [("open", _l("Open")), ("closed", _l("Closed")), ("archived", _l("Archived"))]
        ),
    )


class ProposalDecisionForm(BaseForm):
    decision = RadioField(
        _l("Decision"),
        choices=choices([("accept", _l("Accept")), ("decline", _l("Decline"))]),
        validators=[InputRequired(REQUIRED)],
    )


class EmptyForm(BaseForm):
    """A form with only the CSRF token (buttons: support, follow, delete, mark read)."""


__all__ = [
    "LoginForm",
    "RegisterForm",
    "ChangePasswordForm",
    "TopicForm",
    "PostForm",
    "EditPostForm",
    "TopicStatusForm",
    "ProposalDecisionForm",
    "EmptyForm",
]
