"""The staff's key form."""

from __future__ import annotations

from wtforms import SelectField, StringField
from wtforms.validators import DataRequired, Length

from forum.forms import BaseForm, choices
from forum.i18n import lazy_gettext as _l


class KeyForm(BaseForm):
    name = StringField(
        _l("Name"),
        validators=[DataRequired(_l("Give the key a name.")), Length(max=80)],
        description=_l("Who uses it, e.g. “The municipality's case system”."),
    )
    scope = SelectField(
        _l("What the key may do"),
        choices=choices(
            [
                ("read", _l("Read public content")),
                ("write_area", _l("Read, and open topics in one local area")),
            ]
        ),
    )
    area = SelectField(_l("Local area (for a key that writes)"), choices=[], coerce=str)
