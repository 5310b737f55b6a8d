"""Helpers the service modules share: validation, events, notifications."""

from __future__ import annotations

from collections.abc import Iterable

from flask import current_app
from flask_babel import gettext as _

from forum import eventlog
from forum.errors import InvalidInput, PermissionDenied
from forum.extensions import db
from forum.models import Notification, utcnow

from .. import permissions
from ..models import (
    PHASES,
    BudgetProcess,
    Idea,
    Notice,
)

# Where an idea's page lives; written into its debate thread's introduction (services have no
# request to build URLs with; tests/budgets check it against the view's route).
IDEA_PATH = "/borgerbudget/ideer/{id}"
AMOUNT_MAX = 10**12  # a sanity bound on any amount typed into a form
REASON_MAX = 2000
ORDER = {phase: i for i, phase in enumerate(PHASES)}


def _require_manager(user, process: BudgetProcess, message: str | None = None) -> None:
    """Only who administers ``process`` (``permissions.can_manage_process``): staff for every
    budget, a scoped moderator for the budgets of their own areas."""
    if not permissions.can_manage_process(user, process):
        if permissions.is_staff(user):
            raise PermissionDenied(
                _("You moderate other local areas: this citizen budget is not yours to run.")
            )
        raise PermissionDenied(message or _("Only the municipality's staff may do this."))


def _title(title: str, field: str = "title") -> str:
    title = " ".join((title or "").split())
    lo, hi = current_app.config["TITLE_MIN"], current_app.config["TITLE_MAX"]
    if not lo <= len(title) <= hi:
        raise InvalidInput(
            **{field: _("The title must be %(lo)d–%(hi)d characters.", lo=lo, hi=hi)}
        )
    return title


def _text(text: str, field: str, required: bool = True, limit: int | None = None) -> str:
    text = (text or "").replace("\r\n", "\n").strip()
    hi = limit or current_app.config["BODY_MAX"]
    if required and not text:
        raise InvalidInput(**{field: _("This field is required.")})
    if len(text) > hi:
        raise InvalidInput(**{field: _("Use at most %(n)d characters.", n=hi)})
    return text


def _amount(value, field: str, allow_zero: bool = False) -> int:
    """A whole, positive amount (or zero when allowed) from a form or a caller."""
    if value is None or value == "":
        raise InvalidInput(**{field: _("Enter an amount in whole kroner.")})
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise InvalidInput(**{field: _("Enter an amount in whole kroner.")}) from None
    if number < 0 or (number == 0 and not allow_zero):
        raise InvalidInput(**{field: _("The amount must be more than zero.")})
    if number > AMOUNT_MAX:
        raise InvalidInput(**{field: _("That amount is too large.")})
    return number


def _event(kind: str, process: BudgetProcess, actor_id: int | None, **payload) -> None:
    eventlog.record(
        kind,
        "budget_process",
        process.id,
        f"budget:{process.id}",
        {"process_id": process.id, "phase": process.phase.value, **payload},
        actor_id,
    )


def _idea_event(kind: str, idea: Idea, actor_id: int | None, room: str | None = None) -> None:
    eventlog.record(
        kind,
        "budget_idea",
        idea.id,
        room or f"budget:{idea.process_id}",
        {
            "idea_id": idea.id,
            "process_id": idea.process_id,
            "state": idea.state.value,
            "review": idea.review.value if idea.review else None,
            "area_id": idea.area_id,
            "topic_id": idea.topic_id,
        },
        actor_id,
    )


def notify(
    user_ids: Iterable[int],
    kind: str,
    process: BudgetProcess,
    idea: Idea | None = None,
    text: str = "",
    actor_id: int | None = None,
) -> list[int]:
    """In-app notifications (the forum's table) with a ``Notice`` naming the idea; returns
    the new notifications' ids. ``kind`` starts with ``budget_``."""
    recipients = [uid for uid in dict.fromkeys(user_ids) if uid is not None]
    if not recipients:
        return []
    now = utcnow()
    topic_id = idea.topic_id if idea is not None else None
    rows = [
        Notification(user_id=uid, kind=kind, topic_id=topic_id, actor_id=actor_id, created_at=now)
        for uid in recipients
    ]
    db.session.add_all(rows)
    db.session.flush()  # one flush for all: a status update may tell thousands of voters
    db.session.add_all(
        Notice(
            notification_id=n.id,
            idea_id=idea.id if idea is not None else None,
            process_id=process.id,
            text=text,
        )
        for n in rows
    )
    eventlog.record_many(
        [
            {
                "kind": "notification",
                "subject_type": "user",
                "subject_id": n.user_id,
                "room": f"user:{n.user_id}",
                "payload": {
                    "kind": kind,
                    "topic_id": topic_id,
                    "idea_id": idea.id if idea else None,
                },
            }
            for n in rows
        ]
    )
    return [n.id for n in rows]


def _idea_budget(process: BudgetProcess, area_id: int | None) -> int:
    """The most money any project in this area can get."""
    for row in process.area_amounts:
        if row.area_id == area_id:
            return row.amount
    return process.total_amount
