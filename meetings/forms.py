"""Meeting forms. The services check the same rules; the forms keep what was typed."""

from __future__ import annotations

from wtforms import (
    BooleanField,
    DateTimeLocalField,
    IntegerField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import InputRequired, Length, NumberRange, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from forum.forms import REQUIRED, BaseForm, choices
from forum.i18n import lazy_gettext as _l

from .models import MeetingKind

DT = "%Y-%m-%dT%H:%M"


def kind_label(kind) -> str:
    value = getattr(kind, "value", kind)
    return str(
        {
            "summit": _l("Topic summit"),
            "conference": _l("Conference"),
            "committee_local": _l("Committee meeting in a local area"),
            "study_trip": _l("Study trip"),
            "local_debate": _l("Local debate meeting"),
            "council_theme": _l("City council theme meeting"),
            "citizens": _l("Citizens' meeting"),
        }.get(value, value)
    )


class CheckboxList(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


# The services check every choice and answer in the reader's language; WTForms' own
# "Not a valid choice" has no Danish translation, so the forms leave choices to them.
NO_CHOICE_CHECK = {"validate_choice": False}


class MeetingForm(BaseForm):
    kind = SelectField(
        _l("Kind of meeting"), validators=[InputRequired(REQUIRED)], **NO_CHOICE_CHECK
    )
    title = StringField(
        _l("Title"),
        validators=[
            InputRequired(REQUIRED),
            Length(min=3, max=200, message=_l("Use between 3 and 200 characters.")),
        ],
    )
    description = TextAreaField(
        _l("Description"),
        validators=[Optional(), Length(max=10_000, message=_l("Use at most 10,000 characters."))],
        description=_l("Markdown: **bold**, *italics*, lists and links."),
    )
    starts_at = DateTimeLocalField(
        _l("Starts"),
        format=DT,
        validators=[InputRequired(REQUIRED)],
        description=_l("Danish time."),
    )
    ends_at = DateTimeLocalField(_l("Ends"), format=DT, validators=[InputRequired(REQUIRED)])
    address = StringField(_l("Address"), validators=[Optional(), Length(max=300)])
    room = StringField(_l("Room"), validators=[Optional(), Length(max=200)])
    accessibility = TextAreaField(
        _l("Accessibility notes"), validators=[Optional(), Length(max=1000)]
    )
    step_free = BooleanField(_l("Step-free access"))
    hearing_loop = BooleanField(_l("Hearing loop"))
    child_care = BooleanField(_l("Child care"))
    interpretation = BooleanField(_l("Interpretation"))
    online_link = StringField(
        _l("Online link"),
        validators=[Optional(), Length(max=500, message=_l("Use at most 500 characters."))],
        description=_l("Optional; a web address starting with http:// or https://."),
    )
    committee_id = SelectField(
        _l("Committee"), coerce=str, validators=[Optional()], **NO_CHOICE_CHECK
    )
    area_id = SelectField(_l("Local area"), coerce=str, validators=[Optional()], **NO_CHOICE_CHECK)
    topic_id = IntegerField(
        _l("Topic (number, optional)"),
        validators=[Optional()],
        description=_l("The number in the topic's address, e.g. 12 for /emner/12."),
    )
    politician_ids = CheckboxList(
        _l("Politicians taking part"), coerce=str, validators=[Optional()], **NO_CHOICE_CHECK
    )
    registration = BooleanField(_l("People register for this meeting"))
    capacity = IntegerField(
        _l("Seats"),
        validators=[
            Optional(),
            NumberRange(min=1, max=100_000, message=_l("Give a number from 1 to 100,000.")),
        ],
        description=_l("Optional; empty means no limit. When full, people join a waiting list."),
    )
    registration_deadline = DateTimeLocalField(
        _l("Registration deadline"), format=DT, validators=[Optional()]
    )

    def set_choices(self, committees, areas, politicians) -> None:
        self.kind.choices = choices((k.value, kind_label(k)) for k in MeetingKind)
        self.committee_id.choices = choices(
            [("", _l("None"))] + [(str(c.id), c.name) for c in committees]
        )
        self.area_id.choices = choices([("", _l("None"))] + [(str(a.id), a.name) for a in areas])
        self.politician_ids.choices = choices(
            (str(p.id), f"{p.display_name} ({p.party})" if p.party else p.display_name)
            for p in politicians
        )


class RegisterForm(BaseForm):
    question = TextAreaField(
        _l("A question or a need for the organiser (optional)"),
        validators=[Optional(), Length(max=1000, message=_l("Use at most 1,000 characters."))],
        description=_l("E.g. dietary needs or child care. Only the organisers see it."),
    )


class CancelForm(BaseForm):
    reason = StringField(
        _l("Reason (shown on the meeting's page)"),
        validators=[Optional(), Length(max=500, message=_l("Use at most 500 characters."))],
    )


class EmptyForm(BaseForm):
    pass


class InvitationForm(BaseForm):
    area_id = SelectField(
        _l("Local area"), coerce=str, validators=[InputRequired(REQUIRED)], **NO_CHOICE_CHECK
    )
    subject = StringField(
        _l("Subject"),
        validators=[
            InputRequired(REQUIRED),
            Length(min=3, max=200, message=_l("Use between 3 and 200 characters.")),
        ],
    )
    committee_id = SelectField(
        _l("Invite a committee"), coerce=str, validators=[Optional()], **NO_CHOICE_CHECK
    )
    politician_ids = CheckboxList(
        _l("… or invite named politicians"), coerce=str, validators=[Optional()], **NO_CHOICE_CHECK
    )
    proposed_dates = TextAreaField(
        _l("Proposed dates"),
        validators=[Optional(), Length(max=500, message=_l("Use at most 500 characters."))],
    )
    message = TextAreaField(
        _l("Message"),
        validators=[Optional(), Length(max=5000, message=_l("Use at most 5,000 characters."))],
    )


class AcceptForm(BaseForm):
    starts_at = DateTimeLocalField(
        _l("Starts"),
        format=DT,
        validators=[InputRequired(REQUIRED)],
        description=_l("Danish time."),
    )
    ends_at = DateTimeLocalField(_l("Ends"), format=DT, validators=[InputRequired(REQUIRED)])
    address = StringField(_l("Address"), validators=[Optional(), Length(max=300)])


class DeclineForm(BaseForm):
    reason = TextAreaField(
        _l("Why you decline"),
        validators=[
            InputRequired(REQUIRED),
            Length(min=3, max=1000, message=_l("Use between 3 and 1,000 characters.")),
        ],
    )


class MinutesForm(BaseForm):
    minutes = TextAreaField(
        _l("Minutes"),
        validators=[
            InputRequired(REQUIRED),
            Length(min=10, max=50_000, message=_l("Use between 10 and 50,000 characters.")),
        ],
        description=_l("Markdown: **bold**, *italics*, lists and links."),
    )


class ContributionForm(BaseForm):
    body = TextAreaField(
        _l("What was said"),
        validators=[InputRequired(REQUIRED), Length(max=10_000)],
    )
    stance = SelectField(_l("Stance"), coerce=str, validators=[Optional()])
    speaker_name = StringField(
        _l("Speaker's name (optional)"),
        validators=[Optional(), Length(max=80)],
        description=_l("No account needed. Only with the speaker's consent."),
    )
    consent = BooleanField(_l("The speaker agreed to their name being shown"))

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.stance.choices = choices(
            [
                ("", _l("No stance")),
                ("for", _l("For")),
                ("against", _l("Against")),
                ("question", _l("Question")),
            ]
        )
