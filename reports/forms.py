"""The form that defines a council report."""

from __future__ import annotations

from wtforms import DateField, SelectField, StringField
from wtforms.validators import InputRequired, Length, Optional

from forum.forms import REQUIRED, BaseForm, choices
from forum.i18n import lazy_gettext as _l


class ReportForm(BaseForm):
    title = StringField(
        _l("Title"),
        validators=[
            InputRequired(REQUIRED),
            Length(min=3, max=200, message=_l("Use between 3 and 200 characters.")),
        ],
    )
    scope = SelectField(_l("What the report covers"), validators=[InputRequired(REQUIRED)])
    committee = SelectField(_l("Committee"), validators=[Optional()])
    topic = SelectField(_l("Topic"), validators=[Optional()])
    period_start = DateField(_l("From"), validators=[Optional()])
    period_end = DateField(_l("To (inclusive)"), validators=[Optional()])
    locale = SelectField(_l("Language"), validators=[InputRequired(REQUIRED)])

    def __init__(self, *args, committees=(), topics=(), **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.scope.choices = choices(
            [
                ("committee", _l("A committee")),
                ("topic", _l("A topic")),
                ("platform", _l("The whole platform")),
            ]
        )
        self.committee.choices = choices([("", "—"), *((str(c.id), c.name) for c in committees)])
        self.topic.choices = choices([("", "—"), *((str(t.id), t.title) for t in topics)])
        self.locale.choices = choices([("da", "Dansk"), ("en", "English")])
