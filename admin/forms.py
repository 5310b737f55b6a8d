"""Administration's forms (Flask-WTF, CSRF-protected). Choices are filled per request."""

from __future__ import annotations

from flask_wtf.file import FileField
from wtforms import (
    BooleanField,
    DateTimeLocalField,
    EmailField,
    HiddenField,
    PasswordField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, EqualTo, Length, Optional

from forum.forms import BaseForm
from forum.i18n import lazy_gettext as _l

REQUIRED = _l("This field is required.")
MARKDOWN = _l("Markdown: *italic*, **bold**, lists, > quotes, links.")


class PlaceForm(BaseForm):
    name = StringField(
        _l("Name"),
        validators=[
            DataRequired(REQUIRED),
            Length(min=2, max=200, message=_l("Use between 2 and 200 characters.")),
        ],
    )
    slug = StringField(
        _l("Address (slug)"),
        validators=[Optional(), Length(max=120, message=_l("Use at most 120 characters."))],
        description=_l(
            "The last part of the page's address, e.g. »boern-og-skole«. Leave it empty to "
            "make one from the name. An old address keeps working: it leads to the new one."
        ),
    )
    description = TextAreaField(
        _l("Description"),
        validators=[Optional(), Length(max=10_000, message=_l("Use at most 10000 characters."))],
        description=MARKDOWN,
    )


class MoveForm(BaseForm):
    direction = HiddenField(validators=[DataRequired(REQUIRED)])


class ArchiveForm(BaseForm):
    archived = HiddenField(validators=[DataRequired(REQUIRED)])  # "1" archive, "0" restore


class MergeForm(BaseForm):
    target_id = SelectField(_l("Merge into"), coerce=str, validators=[DataRequired(REQUIRED)])


class UserSearchForm(BaseForm):
    class Meta:
        csrf = False  # a GET search: nothing is changed

    q = StringField(_l("Name or e-mail contains"), validators=[Optional(), Length(max=254)])
    role = SelectField(_l("Role"), coerce=str, validators=[Optional()])
    area_id = SelectField(_l("Local area"), coerce=str, validators=[Optional()])


class RoleForm(BaseForm):
    role = SelectField(_l("Role"), coerce=str, validators=[DataRequired(REQUIRED)])
    party = StringField(
        _l("Party (politicians)"),
        validators=[Optional(), Length(max=80, message=_l("Use at most 80 characters."))],
    )
    committees = SelectMultipleField(_l("Committees (politicians)"), coerce=str)
    chairs = SelectMultipleField(_l("Chair of (politicians; a committee they are in)"), coerce=str)
    areas = SelectMultipleField(
        _l("Moderates only these local areas (moderators; none: everywhere)"), coerce=str
    )


class ActiveForm(BaseForm):
    active = HiddenField(validators=[DataRequired(REQUIRED)])  # "1" reactivate, "0" deactivate


class InviteForm(BaseForm):
    email = EmailField(
        _l("E-mail"),
        validators=[
            DataRequired(REQUIRED),
            Length(max=254, message=_l("Use at most 254 characters.")),
        ],
    )
    role = SelectField(_l("Role"), coerce=str, validators=[DataRequired(REQUIRED)])
    party = StringField(
        _l("Party (politicians)"),
        validators=[Optional(), Length(max=80, message=_l("Use at most 80 characters."))],
    )
    committees = SelectMultipleField(_l("Committees (politicians)"), coerce=str)
    areas = SelectMultipleField(
        _l("Moderates only these local areas (staff; none: everywhere)"), coerce=str
    )


class AcceptInvitationForm(BaseForm):
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


class TopicEditForm(BaseForm):
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
        description=MARKDOWN,
    )
    deadline = DateTimeLocalField(
        _l("Consultation deadline (høringsfrist, optional)"),
        format="%Y-%m-%dT%H:%M",
        validators=[Optional()],
    )


class TopicMoveForm(BaseForm):
    committee_id = SelectField(_l("Committee"), coerce=str, validators=[Optional()])
    area_id = SelectField(_l("Local area"), coerce=str, validators=[Optional()])


class TopicStatusForm(BaseForm):
    status = SelectField(_l("Status"), coerce=str, validators=[DataRequired(REQUIRED)])


class FeatureForm(BaseForm):
    featured = HiddenField(validators=[DataRequired(REQUIRED)])  # "1" feature, "0" stop


class TopicFilterForm(BaseForm):
    class Meta:
        csrf = False

    q = StringField(_l("Title contains"), validators=[Optional(), Length(max=200)])
    status = SelectField(_l("Status"), coerce=str, validators=[Optional()])


class SiteSettingsForm(BaseForm):
    """The logo, colours, the home page's introduction and the footer's contact."""

    intro = TextAreaField(
        _l("Introduction on the home page"),
        validators=[Optional(), Length(max=4000, message=_l("Use at most 4000 characters."))],
        description=MARKDOWN,
    )
    contact = TextAreaField(
        _l("Contact (shown at the foot of every page)"),
        validators=[Optional(), Length(max=500, message=_l("Use at most 500 characters."))],
    )
    brand_colour = StringField(
        _l("Main colour"),
        validators=[Optional(), Length(max=7)],
        description=_l(
            "For the header, buttons and links, e.g. #00507a. It must contrast at least 4.5:1 "
            "with white. Leave it empty for the built-in colour."
        ),
    )
    brand_dark_colour = StringField(
        _l("Dark colour"),
        validators=[Optional(), Length(max=7)],
        description=_l("For links and buttons under the pointer, e.g. #003a59."),
    )
    logo = FileField(
        _l("Logo"),
        description=_l("PNG or JPEG, at most 200 KB. SVG files are not accepted."),
    )
    remove_logo = BooleanField(_l("Remove the logo"))
    licence = SelectField(
        _l("Licence of the open data"),
        validators=[Optional()],
        description=_l(
            "Under which terms others may reuse the open-data file, the API and the feeds. "
            "It is stated on the open-data page, in the file and in the API's description."
        ),
    )
