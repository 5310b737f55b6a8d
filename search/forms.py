"""Forms: the search form (GET, no CSRF: it changes nothing) and saving a search."""

from __future__ import annotations

from wtforms import BooleanField, DateField, Form, SearchField, SelectField, StringField
from wtforms.validators import DataRequired, Length

from forum.forms import BaseForm, choices
from forum.i18n import lazy_gettext as _l


class SearchForm(Form):
    """Rendered from the accepted parameters; the service reads and checks the raw ones."""

    q = SearchField(
        _l("Search for"),
        description=_l(
            'All words must match. "Quotes" find a phrase, skole* finds words '
            "that begin with skole, OR gives alternatives and -word leaves a word "
            "out."
        ),
    )
    udvalg = SelectField(_l("Committee"), validate_choice=False)
    omraade = SelectField(_l("Local area"), validate_choice=False)
    rolle = SelectField(
        _l("Written by"),
        validate_choice=False,
        choices=choices(
            [
                ("", _l("Everyone")),
                ("politician", _l("Politicians only")),
                ("citizen", _l("Citizens only")),
            ]
        ),
    )
    parti = SelectField(_l("Party"), validate_choice=False)
    holdning = SelectField(
        _l("Stance"),
        validate_choice=False,
        choices=choices(
            [
                ("", _l("Any stance")),
                ("for", _l("For")),
                ("against", _l("Against")),
                ("question", _l("Question")),
            ]
        ),
    )
    slags = SelectField(_l("Kind"), validate_choice=False)
    kilde = SelectField(_l("Source"), validate_choice=False)
    fra = DateField(_l("From date"), description=_l("For example 2025-01-31."))
    til = DateField(_l("To date"), description=_l("For example 2026-12-31."))
    sort = SelectField(
        _l("Order"),
        validate_choice=False,
        choices=choices([("relevance", _l("Best match first")), ("newest", _l("Newest first"))]),
    )
    skjulte = BooleanField(_l("Include held, rejected and hidden contributions"))


class SaveSearchForm(BaseForm):
    name = StringField(
        _l("Name for this search"),
        validators=[
            DataRequired(_l("This field is required.")),
            Length(max=100, message=_l("Use at most 100 characters.")),
        ],
    )
    notify = BooleanField(_l("Tell me when new contributions match"), default=True)
