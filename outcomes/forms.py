"""The outcome update form. The services check the same rules; the form keeps what was
typed and shows each error beside its field."""

from __future__ import annotations

from wtforms import DateField, HiddenField, SelectField, StringField, TextAreaField
from wtforms.validators import InputRequired, Length, Optional

from forum.forms import REQUIRED, BaseForm, choices, new_nonce
from forum.i18n import lazy_gettext as _l

from .models import DecidingBody, OutcomeStatus


def status_label(status) -> str:
    value = getattr(status, "value", status)
    return str(
        {
            "in_progress": _l("Under consideration"),
            "decided": _l("Decided"),
            "postponed": _l("Postponed"),
            "rejected": _l("Rejected"),
            "referred": _l("Sent on to the city council or another body"),
        }.get(value, value)
    )


def body_label(body) -> str:
    value = getattr(body, "value", body)
    return str(
        {
            "committee": _l("The committee"),
            "city_council": _l("The city council"),
            "administration": _l("The administration"),
        }.get(value, value)
    )


class OutcomeUpdateForm(BaseForm):
    status = SelectField(_l("Status"), validators=[InputRequired(REQUIRED)])
    body = SelectField(_l("Who decided"), validators=[InputRequired(REQUIRED)])
    decided_on = DateField(_l("Date"), validators=[InputRequired(REQUIRED)])
    text = TextAreaField(
        _l("The decision in words"),
        validators=[
            InputRequired(REQUIRED),
            Length(min=10, max=10_000, message=_l("Use between 10 and 10,000 characters.")),
        ],
        description=_l("Markdown: **bold**, *italics*, lists and links."),
    )
    link = StringField(
        _l("Link to the agenda item or minutes"),
        validators=[Optional(), Length(max=500, message=_l("Use at most 500 characters."))],
        description=_l("Optional; a web address starting with http:// or https://."),
    )
    citations = TextAreaField(
        _l("What we heard: contributions this update answers"),
        validators=[Optional()],
        description=_l(
            "Optional. One a line: the post's number or link, then a short note, e.g. "
            "“42: Many wanted a cycle path”. Answers from live Q&A sessions and "
            "contributions from meetings are cited by their number too; a citizen-budget "
            "idea by its link or as “idé 17: …”."
        ),
    )
    nonce = HiddenField(default=new_nonce)

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.status.choices = choices((s.value, status_label(s)) for s in OutcomeStatus)
        self.body.choices = choices((b.value, body_label(b)) for b in DecidingBody)
