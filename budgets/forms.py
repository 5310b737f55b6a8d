"""Forms for citizen budgets. The services validate everything again; forms give early errors
that keep what the user typed. Ballot choices are read from the request by the view (their
fields depend on the projects on the ballot)."""

from __future__ import annotations

import secrets

from wtforms import (
    DateField,
    DateTimeLocalField,
    HiddenField,
    IntegerField,
    RadioField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from forum.forms import REQUIRED, BaseForm, choices
from forum.i18n import lazy_gettext as _l

from .labels import CHOOSABLE_RULES, RULE_LABELS, STATUS_LABELS, STYLE_LABELS, TIE_BREAK_LABELS
from .models import DATED_PHASES, BallotStyle, ProjectStatus

AMOUNT = [Optional(), NumberRange(min=1, max=10**12, message=_l("Enter a positive amount."))]


class ProcessForm(BaseForm):
    title = StringField(_l("Title"), validators=[DataRequired(REQUIRED), Length(min=5, max=200)])
    description = TextAreaField(
        _l("Description"),
        validators=[Length(max=10_000)],
        description=_l("What the money is for and how the process works. Markdown is allowed."),
    )
    total_amount = IntegerField(
        _l("Total amount (DKK)"),
        validators=[InputRequired(REQUIRED), *AMOUNT[1:]],
        description=_l("Whole kroner, without dots or spaces."),
    )
    scope = RadioField(
        _l("Whose money is it?"),
        choices=choices(
            [
                ("municipality", _l("The whole municipality")),
                ("committee", _l("A committee's field")),
                ("area", _l("One local area")),
            ]
        ),
        default="municipality",
    )
    committee_id = SelectField(_l("Committee"), choices=[], validate_choice=False)
    area_id = SelectField(_l("Local area"), choices=[], validate_choice=False)
    rule = SelectField(
        _l("Counting rule"),
        choices=choices([(r, RULE_LABELS[r]) for r in CHOOSABLE_RULES]),
        default="equalshares/add1",
    )
    tie_break = SelectField(
        _l("When two projects are tied"),
        choices=choices(list(TIE_BREAK_LABELS.items())),
        default="cost",
        description=_l(
            "Which project goes first when they have the same votes (or the same price per "
            "vote). By lot: the number that decides the order is shown with the process."
        ),
    )
    ballot_style = SelectField(
        _l("Ballot"),
        choices=choices([(s.value, STYLE_LABELS[s]) for s in BallotStyle]),
        default=BallotStyle.APPROVAL_BUDGET.value,
    )
    min_choices = IntegerField(
        _l("Fewest projects a voter must choose"),
        validators=[Optional()],
        description=_l("Only for the ballot with a minimum and a maximum."),
    )
    max_choices = IntegerField(
        _l("Most projects a voter may choose"),
        validators=[Optional()],
        description=_l("Only for the ballot with a minimum and a maximum."),
    )
    points_total = IntegerField(
        _l("Points each voter spreads"),
        validators=[Optional()],
        description=_l("Only for the points ballot."),
    )
    starts_ideas = DateTimeLocalField(
        _l("Idea collection starts"), format="%Y-%m-%dT%H:%M", validators=[Optional()]
    )
    starts_review = DateTimeLocalField(
        _l("Review starts"), format="%Y-%m-%dT%H:%M", validators=[Optional()]
    )
    starts_voting = DateTimeLocalField(
        _l("Voting starts"), format="%Y-%m-%dT%H:%M", validators=[Optional()]
    )
    starts_result = DateTimeLocalField(
        _l("Voting closes and the result is counted"),
        format="%Y-%m-%dT%H:%M",
        validators=[Optional()],
    )
    starts_follow_up = DateTimeLocalField(
        _l("Follow-up starts"), format="%Y-%m-%dT%H:%M", validators=[Optional()]
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.committee_id.choices = choices([("", _l("— none —"))])
        self.area_id.choices = choices([("", _l("— none —"))])

    @staticmethod
    def date_field_names() -> list[str]:
        return [f"starts_{p.value}" for p in DATED_PHASES]


class IdeaForm(BaseForm):
    title = StringField(
        _l("Title of your idea"), validators=[DataRequired(REQUIRED), Length(min=5, max=200)]
    )
    description = TextAreaField(
        _l("Describe the idea"),
        validators=[DataRequired(REQUIRED), Length(max=10_000)],
        description=_l("What should be done, where, and who benefits? Markdown is allowed."),
    )
    estimated_cost = IntegerField(
        _l("Estimated cost (DKK)"),
        validators=[InputRequired(REQUIRED), *AMOUNT[1:]],
        description=_l("Your best guess in whole kroner; the municipality checks it."),
    )
    area_id = SelectField(_l("Local area"), choices=[], validate_choice=False)
    nonce = HiddenField(default=lambda: secrets.token_hex(16))


class ModerateIdeaForm(BaseForm):
    action = RadioField(
        _l("Decision"),
        choices=choices([("approve", _l("Approve and publish")), ("reject", _l("Reject"))]),
        validators=[InputRequired(REQUIRED)],
    )
    reason = TextAreaField(
        _l("Reason (shown to the author; required when rejecting)"),
        validators=[Length(max=2000)],
    )


class ReviewForm(BaseForm):
    outcome = RadioField(
        _l("Review"),
        choices=choices(
            [("feasible", _l("Feasible: goes on the ballot")), ("infeasible", _l("Not feasible"))]
        ),
        validators=[InputRequired(REQUIRED)],
    )
    final_cost = IntegerField(
        _l("Final cost (DKK)"),
        validators=AMOUNT,
        description=_l("The cost the project goes on the ballot with. Empty: the estimate."),
    )
    reason = TextAreaField(
        _l("Public reason"),
        validators=[DataRequired(REQUIRED), Length(max=2000)],
        description=_l("Shown on the idea's page and sent to its author."),
    )


class MergeForm(BaseForm):
    target_id = SelectField(
        _l("Merge into"), choices=[], validate_choice=False, validators=[DataRequired(REQUIRED)]
    )
    merge_reason = TextAreaField(
        _l("Public reason"),
        validators=[DataRequired(REQUIRED), Length(max=2000)],
        description=_l("Sent to the idea's author and supporters."),
    )


class StatusForm(BaseForm):
    status = SelectField(
        _l("Status"), choices=choices([(s.value, STATUS_LABELS[s]) for s in ProjectStatus])
    )
    happened_on = DateField(_l("Date"), validators=[InputRequired(REQUIRED)])
    text = TextAreaField(
        _l("What happened"),
        validators=[DataRequired(REQUIRED), Length(max=10_000)],
        description=_l("Markdown is allowed. Followers and voters of the project are told."),
    )


class BallotForm(BaseForm):
    """The CSRF token and the area; the choices are ``idea`` checkboxes or ``points-<id>``
    number fields, read by the view."""

    area_id = SelectField(_l("Your local area"), choices=[], validate_choice=False)


__all__ = [
    "BallotForm",
    "IdeaForm",
    "MergeForm",
    "ModerateIdeaForm",
    "ProcessForm",
    "ReviewForm",
    "StatusForm",
]
