"""Ballots: validating them against the ballot style and casting them (one per voter)."""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime

from flask_babel import format_datetime, ngettext
from flask_babel import gettext as _
from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError

from forum import services as forum_services
from forum.converters import parse_id
from forum.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from forum.extensions import db
from forum.models import Area, User, utcnow

from .. import permissions
from ..labels import money
from ..models import (
    Ballot,
    BallotChoice,
    BallotStyle,
    BudgetProcess,
    Idea,
    IdeaState,
    Phase,
    Review,
)
from ._common import ORDER, _event, _idea_budget


def ballot_ideas(process: BudgetProcess, area_id: int | None = None) -> list[Idea]:
    """The projects on the ballot (feasible ideas), in one area's budget when it is split."""
    stmt = select(Idea).where(
        Idea.process_id == process.id,
        Idea.state == IdeaState.PUBLISHED,
        Idea.review == Review.FEASIBLE,
    )
    if process.has_area_budgets:
        stmt = stmt.where(Idea.area_id == area_id)
    return list(db.session.scalars(stmt.order_by(Idea.title, Idea.id)))


def ballot_budget(process: BudgetProcess, area_id: int | None) -> int:
    """The money a voter's choices must fit in: their area's amount, or the total."""
    return _idea_budget(process, area_id) if process.has_area_budgets else process.total_amount


def _voting_closed_message(process: BudgetProcess) -> str:
    start, end = process.starts(Phase.VOTING), process.starts(Phase.RESULT)
    if ORDER[process.phase] < ORDER[Phase.VOTING]:
        if start:
            return _(
                "Voting has not started yet. It starts %(when)s.",
                when=format_datetime(start.replace(tzinfo=UTC), "short"),
            )
        return _("Voting has not started yet.")
    if end:
        return _(
            "Voting closed %(when)s. Your ballot was not changed.",
            when=format_datetime(end.replace(tzinfo=UTC), "short"),
        )
    return _("Voting has closed. Your ballot was not changed.")


def _normalise_choices(process: BudgetProcess, choices) -> dict[int, int]:
    """{idea id: points} from a list of ids (approval) or a mapping id → points (points)."""
    out: dict[int, int] = {}
    if process.ballot_style == BallotStyle.POINTS:
        if not isinstance(choices, Mapping):
            raise InvalidInput(choices=_("Give points to the projects you want."))
        for key, value in choices.items():
            try:
                idea_id = parse_id(key)
            except (TypeError, ValueError):
                raise InvalidInput(
                    choices=_("The ballot names a project that does not exist.")
                ) from None
            try:
                points = int(value) if value not in (None, "") else 0
            except (TypeError, ValueError):
                raise InvalidInput(choices=_("Points must be whole numbers.")) from None
            if points < 0:
                raise InvalidInput(choices=_("Points cannot be negative."))
            if points:
                out[idea_id] = points
        return out
    values = choices.keys() if isinstance(choices, Mapping) else choices
    for key in values:
        try:
            out[parse_id(key)] = 1
        except (TypeError, ValueError):
            raise InvalidInput(
                choices=_("The ballot names a project that does not exist.")
            ) from None
    return out


def _ballot_area(process: BudgetProcess, existing: Ballot | None, area_id) -> int | None:
    try:
        area_id = parse_id(area_id) if area_id not in (None, "") else None
    except (TypeError, ValueError):
        raise InvalidInput(area_id=_("Unknown local area.")) from None
    if process.has_area_budgets:
        allowed = {a.area_id: a for a in process.area_amounts}
        if existing is not None and existing.area_id is not None:
            if area_id is not None and area_id != existing.area_id:
                raise InvalidInput(
                    area_id=_(
                        "You chose %(area)s with your first ballot; the area cannot be changed.",
                        area=existing.area.name if existing.area else "",
                    )
                )
            return existing.area_id
        if area_id not in allowed:
            raise InvalidInput(area_id=_("Choose the local area whose budget you vote in."))
        return area_id
    if area_id is not None and db.session.get(Area, area_id) is None:
        raise InvalidInput(area_id=_("Unknown local area."))
    return area_id


def validate_ballot(
    process: BudgetProcess, area_id: int | None, chosen: Mapping[int, int]
) -> list[Idea]:
    """Check a ballot against the process's ballot style; returns the chosen ideas. Raises
    ``InvalidInput`` (field ``choices``) saying what is wrong and by how much."""
    ideas: dict[int, Idea] = {}
    if chosen:
        query = select(Idea).where(Idea.id.in_(list(chosen)), Idea.process_id == process.id)
        ideas = {i.id: i for i in db.session.scalars(query)}
    if any(i not in ideas for i in chosen):
        raise InvalidInput(choices=_("The ballot names a project that is not on it."))
    for idea in ideas.values():
        if not idea.on_ballot:
            raise InvalidInput(
                choices=_(
                    "“%(title)s” is not on the ballot: it was not found feasible.", title=idea.title
                )
            )
        if process.has_area_budgets and idea.area_id != area_id:
            raise InvalidInput(
                choices=_("“%(title)s” belongs to another area's budget.", title=idea.title)
            )
    if process.ballot_style == BallotStyle.APPROVAL_BUDGET:
        _check_budget(process, area_id, list(ideas.values()))
    elif process.ballot_style == BallotStyle.APPROVAL_RANGE:
        _check_range(process, len(chosen))
    else:
        _check_points(process, sum(chosen.values()))
    return list(ideas.values())


def _check_budget(process: BudgetProcess, area_id: int | None, ideas: list[Idea]) -> None:
    budget = ballot_budget(process, area_id)
    spent = sum(i.cost for i in ideas)
    if not ideas:
        raise InvalidInput(choices=_("Choose at least one project."))
    if spent > budget:
        raise InvalidInput(
            choices=_(
                "Your choices cost %(spent)s: %(over)s more than the budget "
                "(%(budget)s). Remove a project and send again.",
                spent=money(spent, process.currency),
                over=money(spent - budget, process.currency),
                budget=money(budget, process.currency),
            )
        )


def _check_range(process: BudgetProcess, n: int) -> None:
    lo, hi = process.min_choices or 1, process.max_choices or n
    if n < lo:
        raise InvalidInput(
            choices=ngettext(
                "You chose %(n)d; choose at least %(num)d project.",
                "You chose %(n)d; choose at least %(num)d projects.",
                lo,
                n=n,
            )
        )
    if n > hi:
        raise InvalidInput(
            choices=ngettext(
                "You chose %(n)d; choose at most %(num)d project.",
                "You chose %(n)d; choose at most %(num)d projects.",
                hi,
                n=n,
            )
        )


def _check_points(process: BudgetProcess, total: int) -> None:
    limit = process.points_total or 0
    if total == 0:
        raise InvalidInput(choices=_("Give at least one point."))
    if total > limit:
        raise InvalidInput(
            choices=_(
                "You gave %(total)d points; you have %(limit)d. Take away %(over)d.",
                total=total,
                limit=limit,
                over=total - limit,
            )
        )


def _ballot_row(user: User, process: BudgetProcess, area_id: int | None) -> Ballot:
    """The user's ballot row, created if needed, and locked until commit: a second tab's
    submission waits here, then replaces these choices (the last one wins, nothing doubled)."""
    ballot = db.session.scalar(
        select(Ballot).where(Ballot.process_id == process.id, Ballot.user_id == user.id)
    )
    if ballot is None:
        ballot = Ballot(
            process_id=process.id,
            user_id=user.id,
            area_id=area_id,
            version=0,
            receipt="",
            created_at=utcnow(),
            updated_at=utcnow(),
        )
        try:
            # Added inside the savepoint: begin_nested() flushes pending objects first, and a
            # clash must roll back only the savepoint.
            with db.session.begin_nested():
                db.session.add(ballot)
                db.session.flush()
        except IntegrityError:
            # The other tab created it a moment ago: use that row.
            if ballot in db.session:
                db.session.expunge(ballot)
            ballot = db.session.scalar(
                select(Ballot).where(Ballot.process_id == process.id, Ballot.user_id == user.id)
            )
            if ballot is None:
                raise
    db.session.execute(
        update(Ballot)
        .where(Ballot.id == ballot.id)
        .values(version=Ballot.version + 1)
        .execution_options(synchronize_session=False)
    )
    db.session.refresh(ballot)
    return ballot


def cast_ballot(
    user: User,
    process: BudgetProcess,
    choices: Iterable[int] | Mapping[int, int],
    area_id: int | None = None,
    now: datetime | None = None,
) -> Ballot:
    """Cast or replace ``user``'s ballot: ids (approval) or {id: points} (points ballots).

    Refused outside voting, for accounts a restriction hook stops (unconfirmed e-mail,
    suspension) or a voter check refuses (see ``permissions.voter_check``), and for ballots the
    style does not allow. Validation happens before anything is written.
    """
    if user is None or not getattr(user, "is_authenticated", False):
        raise PermissionDenied(_("Log in to vote."))
    if not permissions.can_see_process(user, process):
        raise NotFound(_("No such citizen budget."))
    if process.is_imported:
        raise Conflict(_("This is an imported election; it takes no new ballots."))
    if not permissions.voting_open(process, now):
        raise Conflict(_voting_closed_message(process))
    forum_services.check_restriction(user, "vote")
    reason = permissions.voter_check(user, process)
    if reason:
        raise PermissionDenied(reason)
    existing = db.session.scalar(
        select(Ballot).where(Ballot.process_id == process.id, Ballot.user_id == user.id)
    )
    area = _ballot_area(process, existing, area_id)
    chosen = _normalise_choices(process, choices)
    validate_ballot(process, area, chosen)

    ballot = _ballot_row(user, process, area)
    db.session.execute(delete(BallotChoice).where(BallotChoice.ballot_id == ballot.id))
    db.session.add_all(
        BallotChoice(ballot_id=ballot.id, idea_id=idea_id, points=points)
        for idea_id, points in sorted(chosen.items())
    )
    ballot.area_id = area
    ballot.receipt = secrets.token_hex(4).upper()
    ballot.updated_at = now or utcnow()
    db.session.flush()
    db.session.expire(ballot, ["choices"])
    _event("budget_ballot_cast", process, None, ballot_id=ballot.id, version=ballot.version)
    return ballot
