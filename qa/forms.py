"""Forms of live Q&A. The services check every rule again; forms keep the typed text."""

from __future__ import annotations

import secrets

from wtforms import (
    BooleanField,
    DateTimeLocalField,
    HiddenField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from forum.forms import REQUIRED, BaseForm
from forum.i18n import lazy_gettext as _l


def _nonce() -> str:
    return secrets.token_hex(16)


class CheckboxList(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class SessionForm(BaseForm):
    title = StringField(_l("Title"), validators=[DataRequired(REQUIRED), Length(max=200)])
    description = TextAreaField(
        _l("Description"),
        validators=[DataRequired(REQUIRED), Length(max=5000)],
        description=_l("What the session is about. Markdown: **bold**, *italic*, lists, links."),
    )
    committee_id = SelectField(_l("Committee"), validators=[Optional()], coerce=str)
    area_id = SelectField(_l("Local area"), validators=[Optional()], coerce=str)
    topic_id = StringField(
        _l("Related topic (number, optional)"),
        validators=[Optional(), Length(max=12)],
        description=_l("The number in the topic's address, e.g. 12 for /emner/12."),
    )
    starts_at = DateTimeLocalField(
        _l("Starts"), format="%Y-%m-%dT%H:%M", validators=[InputRequired(REQUIRED)]
    )
    ends_at = DateTimeLocalField(
        _l("Ends"), format="%Y-%m-%dT%H:%M", validators=[InputRequired(REQUIRED)]
    )
    politician_ids = CheckboxList(
        _l("Politicians taking part"), coerce=str, validators=[Optional()]
    )
    premoderated = BooleanField(
        _l("Questions are checked by a moderator before they are shown"), default=True
    )
    advance_questions = BooleanField(
        _l("Questions may be sent before the session starts"), default=True
    )
    meeting_id = SelectField(
        _l("Held at a meeting (optional)"),
        validators=[Optional()],
        coerce=str,
        validate_choice=False,  # the meetings package checks it (answers in the reader's language)
        description=_l(
            "A hybrid meeting: the room asks through the projector view, people at home online."
        ),
    )


class AskForm(BaseForm):
    body = TextAreaField(
        _l("Your question"),
        validators=[DataRequired(REQUIRED)],
        description=_l("10–500 characters. Markdown: **bold**, *italic*, links."),
    )
    nonce = HiddenField(default=_nonce)


class AnswerForm(BaseForm):
    body = TextAreaField(_l("Your answer"), validators=[DataRequired(REQUIRED)])
    nonce = HiddenField(default=_nonce)


class StatementForm(BaseForm):
    body = TextAreaField(
        _l("Statement"),
        validators=[DataRequired(REQUIRED)],
        description=_l("A short statement to everyone watching (at most 1,000 characters)."),
    )
    nonce = HiddenField(default=_nonce)


class RejectForm(BaseForm):
    rule_id = SelectField(_l("Debate rule"), coerce=str, validators=[Optional()])
    text = TextAreaField(
        _l("Note to the author (optional)"), validators=[Optional(), Length(max=1000)]
    )
