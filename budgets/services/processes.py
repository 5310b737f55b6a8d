"""Processes: creating and changing them, and moving them through their phases."""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from datetime import datetime

from flask_babel import gettext as _
from sqlalchemy import func, select

from forum.errors import Conflict, InvalidInput, PermissionDenied
from forum.extensions import db
from forum.models import Area, Committee, User, enum_member, utcnow
from forum.rendering import render_markdown

from .. import counting, permissions
from ..labels import CHOOSABLE_RULES, PHASE_LABELS, money
from ..models import (
    DATED_PHASES,
    PHASES,
    AreaAmount,
    BallotStyle,
    BudgetProcess,
    Idea,
    IdeaState,
    Phase,
    PhaseDate,
    Review,
)
from ._common import ORDER, _amount, _event, _require_manager, _text, _title
from .results import count_process


def _scope(committee_id: int | None, area_id: int | None) -> tuple[int | None, int | None]:
    if committee_id and area_id:
        raise InvalidInput(
            scope=_("Choose a committee, a local area, or the whole municipality; not two.")
        )
    if committee_id and db.session.get(Committee, committee_id) is None:
        raise InvalidInput(committee_id=_("Unknown committee."))
    if area_id and db.session.get(Area, area_id) is None:
        raise InvalidInput(area_id=_("Unknown local area."))
    return committee_id or None, area_id or None


def _ballot_settings(
    rule: str,
    style: BallotStyle | str,
    min_choices,
    max_choices,
    points_total,
) -> tuple[str, BallotStyle, int | None, int | None, int | None]:
    if rule not in counting.RULES:
        raise InvalidInput(rule=_("Choose one of the counting rules."))
    style = enum_member(BallotStyle, style, ballot_style=_("Choose one of the ballot styles."))
    lo = hi = points = None
    if style == BallotStyle.APPROVAL_RANGE:
        try:
            lo, hi = int(min_choices or 1), int(max_choices or 0)
        except (TypeError, ValueError):
            raise InvalidInput(max_choices=_("Enter whole numbers.")) from None
        if lo < 1 or hi < lo or hi > 1000:
            raise InvalidInput(
                max_choices=_("The maximum must be at least the minimum, which is at least 1.")
            )
    elif style == BallotStyle.POINTS:
        try:
            points = int(points_total or 0)
        except (TypeError, ValueError):
            raise InvalidInput(points_total=_("Enter a whole number of points.")) from None
        if not 1 <= points <= 1000:
            raise InvalidInput(points_total=_("Give each voter between 1 and 1000 points."))
    return rule, style, lo, hi, points


def _area_amounts(
    amounts: Mapping[int, int] | None, total: int, scope_area: int | None
) -> dict[int, int]:
    amounts = {int(a): v for a, v in (amounts or {}).items() if v not in (None, "", 0, "0")}
    if not amounts:
        return {}
    if scope_area:
        raise InvalidInput(
            area_amounts=_("A process for one local area cannot split its money by area.")
        )
    cleaned: dict[int, int] = {}
    for area_id, value in amounts.items():
        if db.session.get(Area, area_id) is None:
            raise InvalidInput(area_amounts=_("Unknown local area."))
        cleaned[area_id] = _amount(value, "area_amounts")
    if len(cleaned) == 1:
        raise InvalidInput(
            area_amounts=_("Split the money between at least two areas, or leave all empty.")
        )
    if sum(cleaned.values()) != total:
        raise InvalidInput(
            area_amounts=_(
                "The amounts per area add up to %(sum)s; they must add up to the total "
                "(%(total)s).",
                sum=money(sum(cleaned.values())),
                total=money(total),
            )
        )
    return cleaned


def _phase_dates(dates: Mapping[Phase | str, datetime | None] | None) -> dict[Phase, datetime]:
    cleaned = {Phase(k): v for k, v in (dates or {}).items() if v is not None}
    if Phase.DRAFT in cleaned:
        raise InvalidInput(phase_dates=_("A draft has no start date."))
    previous: tuple[Phase, datetime] | None = None
    for phase in DATED_PHASES:
        when = cleaned.get(phase)
        if when is None:
            continue
        if previous is not None and when <= previous[1]:
            raise InvalidInput(
                **{
                    f"starts_{phase.value}": _(
                        "“%(phase)s” must start after “%(before)s”.",
                        phase=PHASE_LABELS[phase],
                        before=PHASE_LABELS[previous[0]],
                    )
                }
            )
        previous = (phase, when)
    return cleaned


def _tie_break(value: str) -> str:
    if value not in counting.TIE_BREAKS:
        raise InvalidInput(tie_break=_("Choose how ties are settled."))
    return value


def draw_seed() -> int:
    """The number a lot is drawn from: drawn once and shown with the process (and written in
    its Pabulib export), so that anyone can redo the count."""
    return secrets.randbelow(10**9)


def _apply(process: BudgetProcess, s: dict, ballot_locked: bool) -> None:
    """Validate ``s`` (the settings a form sends) and write them onto ``process``."""
    process.title = _title(s["title"])
    process.description_source = _text(s.get("description", ""), "description", required=False)
    process.description_html = str(render_markdown(process.description_source))
    dates = _phase_dates(s.get("phase_dates"))
    existing = {d.phase: d for d in process.phase_dates}
    for phase in DATED_PHASES:
        if phase in dates and phase in existing:
            existing[phase].starts_at = dates[phase]
        elif phase in dates:
            process.phase_dates.append(PhaseDate(phase=phase, starts_at=dates[phase]))
        elif phase in existing:
            process.phase_dates.remove(existing[phase])
    if ballot_locked:
        return
    total = _amount(s.get("total_amount"), "total_amount")
    committee_id, area_id = _scope(s.get("committee_id"), s.get("area_id"))
    rule, style, lo, hi, points = _ballot_settings(
        s.get("rule", "greedy"),
        s.get("ballot_style", BallotStyle.APPROVAL_BUDGET),
        s.get("min_choices"),
        s.get("max_choices"),
        s.get("points_total"),
    )
    if rule not in CHOOSABLE_RULES and rule != process.rule:
        raise InvalidInput(rule=_("Choose one of the counting rules."))
    tie_break = _tie_break(s.get("tie_break") or process.tie_break or "cost")
    amounts = _area_amounts(s.get("area_amounts"), total, area_id)
    process.total_amount = total
    process.committee_id, process.area_id = committee_id, area_id
    process.rule, process.ballot_style = rule, style
    process.tie_break = tie_break
    if tie_break == "random" and process.tie_seed is None:
        process.tie_seed = draw_seed()
    process.min_choices, process.max_choices, process.points_total = lo, hi, points
    current = {a.area_id: a for a in process.area_amounts}
    for area, amount in amounts.items():
        if area in current:
            current[area].amount = amount
        else:
            process.area_amounts.append(AreaAmount(area_id=area, amount=amount))
    for area, row in current.items():
        if area not in amounts:
            process.area_amounts.remove(row)


def _check_place(actor: User, settings: dict) -> None:
    """A moderator scoped to local areas runs budgets of their own areas only: one of them
    must be the budget's area (a budget without an area is municipality-wide)."""
    if permissions.is_municipality_staff(actor):
        return
    area_id = settings.get("area_id")
    if settings.get("committee_id") or not permissions.can_manage_area(actor, area_id):
        raise InvalidInput(
            area_id=_(
                "You moderate only some local areas: the citizen budget must be for one of them."
            )
        )


def create_process(actor: User, **settings) -> BudgetProcess:
    """Create a process as a draft (only staff see it until it moves to idea collection).

    ``settings``: title, description, total_amount, committee_id, area_id, rule, ballot_style,
    min_choices, max_choices, points_total, area_amounts ({area id: amount}) and phase_dates
    ({Phase: naive UTC datetime}).
    """
    if not permissions.can_create_process(actor):
        raise PermissionDenied(_("Only staff may create a citizen budget."))
    _check_place(actor, settings)
    now = utcnow()
    process = BudgetProcess(
        phase=Phase.DRAFT,
        phase_changed_at=now,
        created_by_id=actor.id,
        created_at=now,
        updated_at=now,
        meta={},
        currency="DKK",
    )
    _apply(process, settings, ballot_locked=False)
    db.session.add(process)
    db.session.flush()
    _event("budget_process_created", process, actor.id)
    return process


def update_process(actor: User, process: BudgetProcess, **settings) -> BudgetProcess:
    """Change a process. Once voting has started, the money, the rule and the ballot are fixed
    (voters chose under them); title, description and dates stay editable."""
    _require_manager(actor, process)
    _check_place(actor, settings)
    locked = ORDER[process.phase] >= ORDER[Phase.VOTING] or process.is_imported
    _apply(process, settings, ballot_locked=locked)
    process.updated_at = utcnow()
    db.session.flush()
    _event("budget_process_changed", process, actor.id)
    return process


def advance_phase(actor: User | None, process: BudgetProcess, now: datetime | None = None) -> Phase:
    """Move ``process`` to its next phase (``actor`` None: the scheduled move). Entering the
    result phase runs the count. Returns the new phase."""
    if actor is not None:
        _require_manager(actor, process)
    index = ORDER[process.phase]
    if index + 1 >= len(PHASES):
        raise Conflict(_("The process is in its last phase."))
    new = PHASES[index + 1]
    if new == Phase.VOTING:
        feasible = db.session.scalar(
            select(func.count(Idea.id)).where(
                Idea.process_id == process.id,
                Idea.state == IdeaState.PUBLISHED,
                Idea.review == Review.FEASIBLE,
            )
        )
        if not feasible:
            raise Conflict(_("Voting cannot start: no idea has been reviewed as feasible yet."))
    process.phase = new
    process.phase_changed_at = process.updated_at = now or utcnow()
    db.session.flush()
    _event("budget_phase_changed", process, actor.id if actor else None)
    if new == Phase.RESULT:
        count_process(actor, process)
    return new


def advance_due(now: datetime | None = None) -> list[tuple[BudgetProcess, Phase | str]]:
    """Move every process whose next phase's start date has passed (as often as needed).
    Returns (process, new phase) for each move, or (process, reason) where a move failed."""
    now = now or utcnow()
    moved: list[tuple[BudgetProcess, Phase | str]] = []
    candidates = db.session.scalars(
        select(BudgetProcess)
        .where(BudgetProcess.phase != Phase.FOLLOW_UP)
        .order_by(BudgetProcess.id)
    ).all()
    for process in candidates:
        while ORDER[process.phase] + 1 < len(PHASES):
            nxt = PHASES[ORDER[process.phase] + 1]
            starts = process.starts(nxt)
            if starts is None or starts > now:
                break
            try:
                with db.session.begin_nested():
                    advance_phase(None, process, now)
            except Conflict as exc:
                moved.append((process, exc.message))
                break
            moved.append((process, nxt))
    return moved
