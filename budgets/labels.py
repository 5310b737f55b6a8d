"""Words and amounts as citizens read them: phase, rule, ballot and status names, and money.

Labels are lazy (``lazy_gettext``) so one table serves every language; ``money`` formats in the
current locale through Flask-Babel.
"""

from __future__ import annotations

from decimal import Decimal

from flask_babel import format_currency

from forum.i18n import lazy_gettext as _l

from .models import BallotStyle, Phase, ProjectStatus

PHASE_LABELS = {
    Phase.DRAFT: _l("Draft (only staff can see it)"),
    Phase.IDEAS: _l("Idea collection"),
    Phase.REVIEW: _l("Review of the ideas"),
    Phase.VOTING: _l("Voting"),
    Phase.RESULT: _l("Result"),
    Phase.FOLLOW_UP: _l("Follow-up"),
}

RULE_LABELS = {
    "greedy": _l("Most votes first (projects that no longer fit are skipped)"),
    "greedy-no-skip": _l(
        "Most votes first (counting stops at the first project that does not fit)"
    ),
    "equalshares/add1": _l("Method of Equal Shares (every group of voters gets its fair share)"),
    "equalshares": _l("Method of Equal Shares, without completion"),
    "equalshares/add1-comparison": _l(
        "Method of Equal Shares, compared with most votes first: the outcome more voters prefer"
    ),
    "equalshares-comparison": _l(
        "Method of Equal Shares without completion, compared with most votes first"
    ),
    "greedy-threshold": _l(
        "Most votes first, among the projects with at least the least number of votes"
    ),
}
# The rules a new process can choose (plain Equal Shares only arrives with imported elections).
CHOOSABLE_RULES = ("greedy", "greedy-no-skip", "equalshares/add1", "equalshares/add1-comparison")

# How ties are settled (budgets.counting.TIE_BREAKS).
TIE_BREAK_LABELS = {
    "order": _l("The project listed first"),
    "cost": _l("The cheaper project first"),
    "random": _l("By lot: a random order drawn from a published number"),
}

STYLE_LABELS = {
    BallotStyle.APPROVAL_BUDGET: _l("Choose projects within the budget"),
    BallotStyle.APPROVAL_RANGE: _l("Choose between a minimum and a maximum number of projects"),
    BallotStyle.POINTS: _l("Spread points over the projects"),
}

# The result CSV's column headers, in the reader's language (the columns stay in this order).
RESULT_CSV_HEADERS = (
    _l("Local area"),
    _l("Project id"),
    _l("Title"),
    _l("Cost"),
    _l("Currency"),
    _l("Votes or points"),
    _l("Ballots choosing it"),
    _l("Funded (1 = yes)"),
    _l("Position"),
    _l("Share per supporter"),
    _l("Supporters paying their full share"),
    _l("Supporters paying what they had left"),
    _l("Supporters with nothing left"),
)

STATUS_LABELS = {
    ProjectStatus.PLANNED: _l("Planned"),
    ProjectStatus.IN_PROGRESS: _l("In progress"),
    ProjectStatus.DONE: _l("Done"),
}


def amount_text(amount: Decimal | int) -> str:
    """An amount for a data file: "60" for a whole amount (not the column's "60.00"), else
    "60.25"."""
    value = Decimal(amount)
    return str(int(value)) if value == value.to_integral_value() else f"{value:.2f}"


def money(
    amount: Decimal | int | float | None, currency: str = "DKK", decimals: bool = False
) -> str:
    """``amount`` in the current locale, whole units unless ``decimals`` or the amount has
    øre/cents (an imported election's "12.345,50 zł")."""
    if amount is None:
        return ""
    if not decimals and isinstance(amount, Decimal):
        decimals = amount != amount.to_integral_value()
    pattern = "#,##0.00\u00a0¤" if decimals else "#,##0\u00a0¤"
    return format_currency(amount, currency, format=pattern, currency_digits=False)
