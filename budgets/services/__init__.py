"""Citizen budgets' write operations: processes and their phases, ideas (moderation, support,
review, merging), ballots, the count, and status updates of funded projects.

Each function checks permission, validates, writes its rows and an event row, and flushes; the
caller (view or CLI) commits once. Nothing here reads ``request`` or commits. Errors are the
forum's domain exceptions, with field names matching the forms. One module per subject;
everything public is importable from here (``from budgets import services``).
"""

from ._common import IDEA_PATH, notify
from .ballots import ballot_budget, ballot_ideas, cast_ballot, validate_ballot
from .ideas import (
    decide_held_idea,
    edit_idea,
    merge_idea,
    moderate_idea,
    propose_idea,
    reinstate_idea,
    review_idea,
    toggle_support,
    withdraw_idea,
)
from .processes import advance_due, advance_phase, create_process, update_process
from .results import add_status_update, ballot_ideas_all, count_process, is_funded

__all__ = [
    "IDEA_PATH",
    "add_status_update",
    "advance_due",
    "advance_phase",
    "ballot_budget",
    "ballot_ideas",
    "ballot_ideas_all",
    "cast_ballot",
    "count_process",
    "create_process",
    "decide_held_idea",
    "edit_idea",
    "is_funded",
    "merge_idea",
    "moderate_idea",
    "notify",
    "propose_idea",
    "reinstate_idea",
    "review_idea",
    "toggle_support",
    "update_process",
    "validate_ballot",
    "withdraw_idea",
]
