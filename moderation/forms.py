"""Moderation's forms (Flask-WTF, CSRF-protected). Rule choices are filled per request."""

from __future__ import annotations

from wtforms import (
    BooleanField,
    DateField,
    IntegerField,
    RadioField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from forum.forms import BaseForm, choices
from forum.i18n import lazy_gettext as _l

REQUIRED = _l("This field is required.")


class DecideForm(BaseForm):
    """One item's decision. The pressed button's ``action`` value says which."""

    rule_id = SelectField(
        _l("Debate rule (required to reject, hide or remove)"),
        coerce=str,
        validators=[Optional()],
    )
    text = TextAreaField(
        _l("Explanation for the author (optional)"),
        validators=[Optional(), Length(max=1000)],
    )


class BulkForm(BaseForm):
    rule_id = SelectField(
        _l("Debate rule (required to reject)"), coerce=str, validators=[Optional()]
    )
    text = TextAreaField(
        _l("Explanation for the authors (optional)"), validators=[Optional(), Length(max=1000)]
    )


class ReportForm(BaseForm):
    reason = RadioField(
        _l("Which debate rule does the post break?"), validators=[InputRequired(REQUIRED)]
    )
    text = TextAreaField(
        _l("What is wrong? (required for “Other”)"),
        validators=[Optional(), Length(max=500)],
    )


class AppealForm(BaseForm):
    text = TextAreaField(
        _l("Why should the decision be changed?"),
        validators=[DataRequired(REQUIRED), Length(min=10, max=1000)],
        description=_l(
            "10–1000 characters. A moderator other than the one who decided "
            "reads it where possible."
        ),
    )


DURATIONS = choices(
    [
        ("1", _l("1 day")),
        ("3", _l("3 days")),
        ("7", _l("7 days")),
        ("30", _l("30 days")),
        ("90", _l("90 days")),
        ("0", _l("Until further notice")),
    ]
)


class SuspendForm(BaseForm):
    duration = SelectField(_l("Duration"), choices=DURATIONS, default="7")
    rule_id = SelectField(_l("Debate rule (optional)"), coerce=str, validators=[Optional()])
    reason = TextAreaField(
        _l("Reason (shown to the user)"),
        validators=[DataRequired(REQUIRED), Length(min=3, max=1000)],
    )


class WordForm(BaseForm):
    word = StringField(
        _l("Word or phrase"),
        validators=[DataRequired(REQUIRED), Length(max=101)],
        description=_l(
            "Matched as a whole word with its endings (idiot → idioter, idiots). "
            "End with * to match any ending."
        ),
    )
    language = SelectField(
        _l("Language"),
        choices=choices(
            [("any", _l("Danish and English")), ("da", _l("Danish")), ("en", _l("English"))]
        ),
    )
    action = SelectField(
        _l("Action"),
        choices=choices([("hold", _l("Hold for review")), ("reject", _l("Reject with a rule"))]),
    )
    rule_id = SelectField(
        _l("Debate rule (required to reject)"), coerce=str, validators=[Optional()]
    )


class RuleForm(BaseForm):
    code = StringField(
        _l("Code (for links; cannot be changed later)"), validators=[Optional(), Length(max=40)]
    )
    title_da = StringField(
        _l("Title in Danish"), validators=[DataRequired(REQUIRED), Length(max=120)]
    )
    title_en = StringField(
        _l("Title in English"), validators=[DataRequired(REQUIRED), Length(max=120)]
    )
    body_da = TextAreaField(
        _l("Text in Danish"), validators=[Optional(), Length(max=5000)], description=_l("Markdown.")
    )
    body_en = TextAreaField(
        _l("Text in English"),
        validators=[Optional(), Length(max=5000)],
        description=_l("Markdown."),
    )
    position = IntegerField(
        _l("Position"), default=0, validators=[Optional(), NumberRange(min=0, max=10_000)]
    )
    active = BooleanField(_l("In force"), default=True)


class ModeForm(BaseForm):
    target_type = SelectField(
        _l("Kind"),
        choices=choices(
            [("committee", _l("Committee")), ("area", _l("Local area")), ("topic", _l("Topic"))]
        ),
    )
    target_id = IntegerField(_l("Id"), validators=[InputRequired(REQUIRED)])
    mode = SelectField(
        _l("Mode"),
        choices=choices(
            [
                ("inherit", _l("Inherit / default")),
                ("post", _l("Post-moderation")),
                ("pre", _l("Pre-moderation")),
            ]
        ),
    )


class AuditFilterForm(BaseForm):
    """A GET form: no CSRF token (it changes nothing)."""

    class Meta:
        csrf = False

    action = SelectField(_l("Action"), coerce=str, validators=[Optional()])
    actor = IntegerField(_l("Moderator (user id)"), validators=[Optional()])
    subject = IntegerField(_l("About user (id)"), validators=[Optional()])
    post = IntegerField(_l("Post (id)"), validators=[Optional()])
    date_from = DateField(_l("From"), validators=[Optional()])
    date_to = DateField(_l("To (inclusive)"), validators=[Optional()])


class QueueFilterForm(BaseForm):
    class Meta:
        csrf = False

    committee = SelectField(_l("Committee"), coerce=str, validators=[Optional()])
    area = SelectField(_l("Local area"), coerce=str, validators=[Optional()])
    reason = SelectField(_l("Reason"), coerce=str, validators=[Optional()])
