"""Who may see and do what in citizen budgets. Services check these; views and templates ask
them too, so a button is shown exactly when the action would be allowed.

Who administers a budget (edits it, moves its phase, counts it, reviews its ideas and sets
their final cost, posts status updates, sees it as a draft): admins and the moderators who act
everywhere ("staff") for every budget; a moderator scoped to local areas only for the budgets
of one of their areas. A budget without an area (the whole municipality, a committee's field,
or split by area) is municipality-wide, so not a scoped moderator's.

Whether a phase is open also depends on the clock: a phase ends when the next one's start
date has passed, even before ``flask budgets advance`` has moved the process on.

Stronger identity (MitID): today a voter is a signed-in account that the registered
restrictions let vote (``forum.services.check_restriction(user, "vote")``: the mail package
refuses unconfirmed addresses, moderation refuses suspended accounts). A MitID login (through
NemLog-in's OpenID Connect broker) would plug in at :func:`voter_check`: register a check with
:func:`register_voter_check` that refuses accounts without a MitID-verified identity, and
store the broker's pseudonymous person id on the account so that one person with two accounts
still gets one ballot (a unique constraint on (process, person id) beside the one on
(process, user)).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from flask import current_app

from forum import permissions as forum_permissions
from forum.models import User, utcnow

from .models import BudgetProcess, Idea, IdeaState, Phase

VoterCheck = Callable[[User, BudgetProcess], "str | None"]
_VOTER_CHECK_KEY = "borgerdialog.budget_voter_checks"


def _user(user) -> User | None:
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    return user


def is_staff(user) -> bool:
    """Moderators (scoped or not) and admins: they may administer some citizen budget."""
    return forum_permissions.is_moderator(user)


def is_municipality_staff(user) -> bool:
    """Admins and moderators acting everywhere: they administer every citizen budget."""
    return is_staff(user) and forum_permissions.moderated_area_ids(user) is None


def can_manage_area(user, area_id: int | None) -> bool:
    """May ``user`` administer a budget whose area is ``area_id`` (None: municipality-wide)?"""
    if is_municipality_staff(user):
        return True
    return (
        is_staff(user)
        and area_id is not None
        and forum_permissions.can_moderate_area(user, area_id)
    )


def phase_open(process: BudgetProcess, phase: Phase, now: datetime | None = None) -> bool:
    """Is ``process`` in ``phase`` now? False once the next phase's start date has passed."""
    if process.phase != phase:
        return False
    index = list(Phase).index(phase)
    if index + 1 < len(Phase):
        nxt = process.starts(list(Phase)[index + 1])
        if nxt is not None and (now or utcnow()) >= nxt:
            return False
    return True


def can_see_process(user, process: BudgetProcess) -> bool:
    return process.phase != Phase.DRAFT or can_manage_process(user, process)


def can_create_process(user) -> bool:
    """Staff, and scoped moderators (for one of their areas: ``services.create_process``)."""
    return is_staff(user)


def can_manage_process(user, process: BudgetProcess) -> bool:
    """Edit it, move its phase, count it, review its ideas, post status updates."""
    return can_manage_area(user, process.area_id)


def can_moderate_idea(user, idea: Idea) -> bool:
    """Moderators of the idea's area (or of the process's area) approve or reject it."""
    area_id = idea.area_id or idea.process.area_id
    return forum_permissions.can_moderate_area(user, area_id)


def can_see_idea(user, idea: Idea) -> bool:
    if not can_see_process(user, idea.process):
        return False
    if idea.state == IdeaState.PUBLISHED:
        return True
    u = _user(user)
    return u is not None and (u.id == idea.author_id or can_moderate_idea(u, idea))


def can_propose(user, process: BudgetProcess, now: datetime | None = None) -> bool:
    """Anyone signed in (and not suspended) during idea collection; who administers the
    budget also while reviewing."""
    if not forum_permissions.can_write(user):
        return False
    if phase_open(process, Phase.IDEAS, now):
        return True
    return can_manage_process(user, process) and process.phase == Phase.REVIEW


def can_edit_idea(user, idea: Idea, now: datetime | None = None) -> bool:
    """Its author, during idea collection, before the review (``services.edit_idea``)."""
    u = _user(user)
    return (
        u is not None
        and u.id == idea.author_id
        and idea.state in (IdeaState.PENDING, IdeaState.PUBLISHED)
        and idea.review is None
        and phase_open(idea.process, Phase.IDEAS, now)
    )


def can_withdraw_idea(user, idea: Idea) -> bool:
    """Its author, before voting starts (``services.withdraw_idea``)."""
    u = _user(user)
    return (
        u is not None
        and u.id == idea.author_id
        and idea.state != IdeaState.WITHDRAWN
        and idea.merged_into_id is None
        and idea.process.phase in (Phase.IDEAS, Phase.REVIEW)
        and not idea.process.is_imported
    )


def can_support(user, idea: Idea, now: datetime | None = None) -> bool:
    u = _user(user)
    return (
        u is not None
        and forum_permissions.can_write(u)
        and u.id != idea.author_id
        and idea.state == IdeaState.PUBLISHED
        and idea.merged_into_id is None
        and idea.process.phase in (Phase.IDEAS, Phase.REVIEW)
    )


def can_review(user, idea: Idea) -> bool:
    """Review (feasible or not, the final cost) and merge: who administers the budget."""
    return (
        can_manage_process(user, idea.process)
        and idea.state == IdeaState.PUBLISHED
        and idea.process.phase in (Phase.IDEAS, Phase.REVIEW)
        and not idea.process.is_imported
    )


def voting_open(process: BudgetProcess, now: datetime | None = None) -> bool:
    return phase_open(process, Phase.VOTING, now)


def can_vote(user, process: BudgetProcess, now: datetime | None = None) -> bool:
    """Shown-a-ballot check; ``services.cast_ballot`` also asks the restriction hooks."""
    return (
        forum_permissions.can_write(user) and voting_open(process, now) and not process.is_imported
    )


def results_public(process: BudgetProcess) -> bool:
    return process.phase in (Phase.RESULT, Phase.FOLLOW_UP)


def can_see_results(user, process: BudgetProcess) -> bool:
    """Everyone once counted and published; its administrators also see a count made
    during voting."""
    return results_public(process) or can_manage_process(user, process)


def can_post_status(user, process: BudgetProcess) -> bool:
    return can_manage_process(user, process) and results_public(process)


def register_voter_check(app, check: VoterCheck) -> None:
    """Add a check asked before every ballot (see the module docstring: MitID plugs in here)."""
    checks = app.extensions.setdefault(_VOTER_CHECK_KEY, [])
    if check not in checks:
        checks.append(check)


def voter_check(user: User, process: BudgetProcess) -> str | None:
    """Why ``user`` may not vote in ``process`` (the first registered reason), or None."""
    for check in current_app.extensions.get(_VOTER_CHECK_KEY, ()):
        reason = check(user, process)
        if reason:
            return reason
    return None
