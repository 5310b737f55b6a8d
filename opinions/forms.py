"""Opinion map forms (Flask-WTF, CSRF; derived from forum.forms.BaseForm)."""

from __future__ import annotations

from wtforms import BooleanField, DateField, HiddenField, IntegerField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from forum.forms import BaseForm
from forum.i18n import lazy_gettext as _l

from .models import STATEMENT_MAX


class RoundForm(BaseForm):
    question = StringField(
        _l("Question"),
        validators=[DataRequired(message=_l("Write a question.")), Length(max=300)],
    )
    ends_on = DateField(
        _l("Last day"), validators=[DataRequired(message=_l("Choose the last day."))]
    )
    allow_anonymous = BooleanField(_l("People may take part without an account"))
    seeds = TextAreaField(
        _l("Seed statements"),
        description=_l("One statement a line, at most 140 characters each."),
        validators=[Optional(), Length(max=20_000)],
    )


class VoteForm(BaseForm):
    statement_id = HiddenField(validators=[DataRequired()])
    choice = HiddenField()  # the pressed button's value arrives as "choice"


class StatementForm(BaseForm):
    body = TextAreaField(
        _l("Your statement"),
        description=_l("Plain text, at most 140 characters. A moderator reads it first."),
        validators=[
            DataRequired(message=_l("Write a statement.")),
            Length(max=STATEMENT_MAX, message=_l("A statement has at most 140 characters.")),
        ],
    )


class ProposePostForm(BaseForm):
    post_id = IntegerField(
        _l("Number of the post"), validators=[DataRequired(), NumberRange(min=1, max=2**31)]
    )
    body = StringField(
        _l("The statement"),
        validators=[DataRequired(message=_l("Write a statement.")), Length(max=STATEMENT_MAX)],
    )
