"""Ideas: proposing, editing and withdrawing, moderating (like posts), supporting, reviewing
and merging.

A citizen's idea waits for a moderator in moderation's queue, like a held post: budgets
registers the ideas as a review source (``budgets.review``) and asks for the review through
``forum.hooks.request_review``; moderation decides (with a debate rule for a rejection),
audits it, tells nothing itself but lets the author appeal. Without a queue (moderation
absent or switched off) ideas are published at once, and a legacy held idea is decided on
its own page.
"""

from __future__ import annotations

from datetime import datetime

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError

from forum import eventlog, hooks
from forum import permissions as forum_permissions
from forum import services as forum_services
from forum.converters import parse_id
from forum.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from forum.extensions import db
from forum.models import Area, Follow, TopicStatus, User, utcnow
from forum.rendering import render_markdown

from .. import permissions
from ..labels import money
from ..models import (
    BudgetProcess,
    Idea,
    IdeaReview,
    IdeaState,
    IdeaSupport,
    Phase,
    Review,
)
from ._common import (
    IDEA_PATH,
    REASON_MAX,
    _amount,
    _idea_budget,
    _idea_event,
    _require_manager,
    _text,
    _title,
    notify,
)


def _idea_area(process: BudgetProcess, area_id) -> int | None:
    try:
        area_id = parse_id(area_id) if area_id not in (None, "") else None
    except (TypeError, ValueError):
        raise InvalidInput(area_id=_("Unknown local area.")) from None
    if process.area_id:
        return process.area_id
    if process.has_area_budgets:
        allowed = {a.area_id for a in process.area_amounts}
        if area_id not in allowed:
            raise InvalidInput(
                area_id=_("Choose one of the local areas this budget is split between.")
            )
        return area_id
    if area_id:
        if db.session.get(Area, area_id) is None:
            raise InvalidInput(area_id=_("Unknown local area."))
        return area_id
    if process.committee_id is None:
        raise InvalidInput(area_id=_("Choose the local area where the idea would be carried out."))
    return None


KIND = "idea"  # the review source's kind (moderation's queue items and audit entries)


def _request_review(idea: Idea, edited: bool = False) -> bool:
    """Hold ``idea`` for a moderator (staff's own ideas are published at once); False when no
    queue takes it."""
    if idea.author is None or permissions.is_staff(idea.author):
        return False
    return hooks.request_review(
        hooks.ReviewRequest(
            kind=KIND,
            target_id=idea.id,
            author_id=idea.author_id,
            area_id=idea.area_id or idea.process.area_id,
            committee_id=idea.process.committee_id,
            reason="edited_content" if edited else "new_content",
            detail="edited" if edited else "",
        )
    )


def propose_idea(
    author: User,
    process: BudgetProcess,
    title: str,
    description: str,
    estimated_cost,
    area_id: int | None = None,
    nonce: str | None = None,
    now: datetime | None = None,
) -> Idea:
    """Propose an idea during idea collection. It is held for a moderator (``_request_review``);
    once published it gets its own debate thread. A repeated ``nonce`` returns the first idea."""
    if not permissions.can_see_process(author, process):
        raise NotFound(_("No such citizen budget."))
    forum_services.check_restriction(author, "post")  # a suspension: 403 with its reason
    if not permissions.can_propose(author, process, now):
        raise Conflict(_("This citizen budget is not collecting ideas now."))
    if nonce:
        existing = db.session.scalar(
            select(Idea).where(Idea.author_id == author.id, Idea.client_nonce == nonce)
        )
        if existing is not None:
            return existing
    title = _title(title)
    description = _text(description, "description")
    area = _idea_area(process, area_id)
    cost = _amount(estimated_cost, "estimated_cost")
    limit = _idea_budget(process, area)
    if cost > limit:
        raise InvalidInput(
            estimated_cost=_(
                "The idea costs more than the whole budget it competes in (%(budget)s).",
                budget=money(limit, process.currency),
            )
        )
    at = now or utcnow()
    idea = Idea(
        process=process,
        author=author,
        area_id=area,
        title=title,
        description_source=description,
        description_html=str(render_markdown(description)),
        estimated_cost=cost,
        state=IdeaState.PENDING,
        support_count=0,
        created_at=at,
        updated_at=at,
        client_nonce=nonce or None,
    )
    try:
        with db.session.begin_nested():
            db.session.add(idea)
            db.session.flush()
    except IntegrityError:
        # The same form was sent twice at once; the first one won.
        existing = db.session.scalar(
            select(Idea).where(Idea.author_id == author.id, Idea.client_nonce == nonce)
        )
        if existing is None:
            raise
        return existing
    if _request_review(idea):
        _idea_event("budget_idea_held", idea, author.id, room="moderators")
    else:
        idea.state = IdeaState.PUBLISHED
        _open_or_update_thread(idea, author)
        _idea_event("budget_idea_published", idea, author.id)
    return idea


def _thread_opener(idea: Idea, actor: User) -> User | None:
    """Who opens the idea's debate: the deciding moderator (or staff author), else the staff
    member who created the process; someone allowed to open a topic in that place."""
    process = idea.process
    area_id = idea.area_id or process.area_id
    for user in (actor, process.created_by):
        if user is not None and forum_permissions.can_open_topic(
            user, process.committee_id, area_id
        ):
            return user
    return None


def _thread_intro(idea: Idea) -> str:
    process = idea.process
    link = IDEA_PATH.format(id=idea.id)
    intro = "\n\n".join(
        [
            idea.description_source,
            "---",
            _(
                "This is the debate about an idea for the citizen budget “%(process)s”. "
                "[Read the idea, its cost and its review](%(link)s).",
                process=process.title,
                link=link,
            ),
        ]
    )
    return intro[: current_app.config["BODY_MAX"]]


def _open_or_update_thread(idea: Idea, actor: User) -> None:
    """The idea's debate thread: a forum topic in the process's committee and the idea's area,
    opened by staff (see ``_thread_opener``) and followed by the idea's author. Without anyone
    allowed to open it (an area moderator's process, an idea elsewhere) the idea has none. An
    idea that has one (published again after an edit or an appeal) gets its current title
    and text there."""
    process = idea.process
    opener = _thread_opener(idea, actor)
    if idea.topic is not None:
        topic = idea.topic
        if opener is not None and forum_permissions.can_manage_topic(opener, topic):
            forum_services.edit_topic(
                opener, topic, idea.title, _thread_intro(idea), topic.deadline
            )
        if (
            opener is not None
            and topic.status == TopicStatus.CLOSED
            and forum_permissions.can_manage_topic(opener, topic)
        ):
            forum_services.set_topic_status(opener, topic, TopicStatus.OPEN)
        return
    if opener is None:
        return
    topic = forum_services.create_topic(
        opener,
        idea.title,
        _thread_intro(idea),
        committee_id=process.committee_id,
        area_id=idea.area_id or process.area_id,
    )
    idea.topic = topic
    if idea.author is not None and idea.author_id != opener.id:
        db.session.add(Follow(user_id=idea.author_id, topic_id=topic.id))
    db.session.flush()


def decide_held_idea(moderator: User, idea: Idea, approve: bool, reason: str = "") -> int | None:
    """Approve (publish, with its debate thread) or reject a held idea and tell its author;
    returns the notification's id. The moderation queue calls this (``budgets.review``) and
    audits the decision itself.

    Two moderators deciding at once: the state is re-checked with a guarded UPDATE, and the
    second gets ``Conflict`` with nothing written.
    """
    if not permissions.can_moderate_idea(moderator, idea):
        raise PermissionDenied(_("Only moderators of this area may decide on this idea."))
    reason = _text(reason, "reason", required=not approve, limit=REASON_MAX)
    new = IdeaState.PUBLISHED if approve else IdeaState.REJECTED
    _compare_and_set(
        idea,
        IdeaState.PENDING,
        _("This idea has already been decided. Nothing was done."),
        state=new,
    )
    idea.moderation_reason = reason
    if approve:
        _open_or_update_thread(idea, moderator)
    told: list[int] = []
    if idea.author_id and idea.author_id != moderator.id:
        kind = "budget_idea_approved" if approve else "budget_idea_rejected"
        told = notify([idea.author_id], kind, idea.process, idea, text=reason)
    _idea_event("budget_idea_published" if approve else "budget_idea_rejected", idea, moderator.id)
    db.session.flush()
    return told[0] if told else None


def moderate_idea(moderator: User, idea: Idea, approve: bool, reason: str = "") -> bool:
    """Decide a held idea on its own page: only without a moderation queue, which is where
    held ideas are decided, audited and appealed when there is one. With a queue, the idea is
    put there (if it waits from before ideas went to the queue) and nothing is decided:
    returns False. True when decided here."""
    if hooks.review_queue_active():
        if not permissions.can_moderate_idea(moderator, idea):
            raise PermissionDenied(_("Only moderators of this area may decide on this idea."))
        if idea.state != IdeaState.PENDING:
            raise Conflict(_("This idea has already been decided. Nothing was done."))
        _request_review(idea)  # one open item per idea, however often this is asked
        return False
    decide_held_idea(moderator, idea, approve, reason)
    return True


def _compare_and_set(idea: Idea, expected: IdeaState, conflict: str, **values) -> None:
    """Write ``values`` only if the idea is still in ``expected`` state (one of two
    concurrent decisions wins); otherwise Conflict with ``conflict`` and nothing written."""
    result = db.session.execute(
        update(Idea)
        .where(Idea.id == idea.id, Idea.state == expected)
        .values(**values, updated_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    db.session.refresh(idea)
    if result.rowcount != 1:
        raise Conflict(conflict)


def reinstate_idea(moderator: User, idea: Idea) -> None:
    """Publish a rejected idea (an appeal granted in the moderation queue); the queue tells
    the author."""
    if not permissions.can_moderate_idea(moderator, idea):
        raise PermissionDenied(_("Only moderators of this area may decide on this idea."))
    _compare_and_set(
        idea,
        IdeaState.REJECTED,
        _("This idea is no longer rejected. Nothing was done."),
        state=IdeaState.PUBLISHED,
    )
    idea.moderation_reason = ""
    _open_or_update_thread(idea, moderator)
    _idea_event("budget_idea_published", idea, moderator.id)
    db.session.flush()


def _editable(author: User, idea: Idea, now: datetime | None = None) -> None:
    if idea.author_id != author.id:
        raise PermissionDenied(_("Only the idea's author may change it."))
    if idea.state not in (IdeaState.PENDING, IdeaState.PUBLISHED):
        raise Conflict(_("This idea can no longer be changed."))
    if idea.review is not None:
        raise Conflict(
            _("The municipality has reviewed this idea, so it can no longer be changed.")
        )
    if not permissions.phase_open(idea.process, Phase.IDEAS, now):
        raise Conflict(_("Ideas can only be changed during idea collection."))


def edit_idea(
    author: User,
    idea: Idea,
    title: str,
    description: str,
    estimated_cost,
    area_id: int | None = None,
    now: datetime | None = None,
) -> Idea:
    """The author changes their idea during idea collection (before it is reviewed). Like an
    edited post, a published idea goes back to the moderators (and is hidden until approved)
    when a queue takes it; a held one simply waits with its new text."""
    _editable(author, idea, now)
    forum_services.check_restriction(author, "edit")
    process = idea.process
    title = _title(title)
    description = _text(description, "description")
    area = _idea_area(process, area_id)
    cost = _amount(estimated_cost, "estimated_cost")
    limit = _idea_budget(process, area)
    if cost > limit:
        raise InvalidInput(
            estimated_cost=_(
                "The idea costs more than the whole budget it competes in (%(budget)s).",
                budget=money(limit, process.currency),
            )
        )
    unchanged = (title, description, area, cost) == (
        idea.title,
        idea.description_source,
        idea.area_id,
        idea.estimated_cost,
    )
    if unchanged:
        return idea
    was_published = idea.state == IdeaState.PUBLISHED
    # A moderator deciding meanwhile: one of the two wins.
    _compare_and_set(
        idea,
        idea.state,
        _("This idea changed in the meantime. Nothing was done."),
        title=title,
        description_source=description,
        description_html=str(render_markdown(description)),
        area_id=area,
        estimated_cost=cost,
    )
    if was_published and _request_review(idea, edited=True):
        idea.state = IdeaState.PENDING
        db.session.flush()
        _idea_event("budget_idea_held", idea, author.id, room="moderators")
    elif was_published:
        _open_or_update_thread(idea, author)
        _idea_event("budget_idea_edited", idea, author.id)
    else:
        _idea_event("budget_idea_edited", idea, author.id, room="moderators")
    db.session.flush()
    return idea


def withdraw_idea(author: User, idea: Idea, now: datetime | None = None) -> Idea:
    """The author withdraws their idea before voting starts: it leaves the lists and the
    ballot, its debate is closed, its waiting queue item and appeals are closed, and its
    supporters are told."""
    if idea.author_id != author.id:
        raise PermissionDenied(_("Only the idea's author may withdraw it."))
    if idea.state == IdeaState.WITHDRAWN:
        raise Conflict(_("This idea is already withdrawn."))
    if idea.review == Review.MERGED:
        raise Conflict(_("This idea was merged into another one."))
    if idea.process.phase not in (Phase.IDEAS, Phase.REVIEW) or idea.process.is_imported:
        raise Conflict(_("Ideas can only be withdrawn before voting starts."))
    _compare_and_set(
        idea,
        idea.state,
        _("This idea changed in the meantime. Nothing was done."),
        state=IdeaState.WITHDRAWN,
    )
    hooks.withdraw_review(KIND, idea.id, author.id)
    topic = idea.topic
    if topic is not None and topic.status == TopicStatus.OPEN:
        # The debate closes with the idea (its author may not manage the staff-opened topic,
        # so this is written here, with its event, as the consequence of the withdrawal).
        topic.status = TopicStatus.CLOSED
        topic.updated_at = utcnow()
        eventlog.record(
            "topic_changed",
            "topic",
            topic.id,
            f"topic:{topic.id}",
            forum_services.topic_payload(topic),
            author.id,
        )
    supporters = list(
        db.session.scalars(select(IdeaSupport.user_id).where(IdeaSupport.idea_id == idea.id))
    )
    notify([u for u in supporters if u != author.id], "budget_idea_withdrawn", idea.process, idea)
    _idea_event("budget_idea_withdrawn", idea, author.id)
    db.session.flush()
    return idea


def toggle_support(user: User, idea: Idea) -> tuple[bool, int]:
    """Add or withdraw ``user``'s support; returns (supports now, new count). Supporting also
    follows the idea's debate thread, so the supporter hears of its status updates."""
    if not permissions.can_see_idea(user, idea):
        raise NotFound(_("No such idea."))
    if user.id == idea.author_id:
        raise PermissionDenied(_("You cannot support your own idea."))
    forum_services.check_restriction(user, "support")  # a suspension: 403 with its reason
    if not permissions.can_support(user, idea):
        raise Conflict(_("This idea can no longer be supported."))
    existing = db.session.get(IdeaSupport, (idea.id, user.id))
    delta = -1 if existing is not None else 1
    try:
        with db.session.begin_nested():  # a double click's second insert rolls back alone
            if existing is not None:
                db.session.delete(existing)
            else:
                db.session.add(IdeaSupport(idea_id=idea.id, user_id=user.id, created_at=utcnow()))
            db.session.flush()
    except IntegrityError:
        raise Conflict(_("Your support was already counted.")) from None
    db.session.execute(
        update(Idea).where(Idea.id == idea.id).values(support_count=Idea.support_count + delta)
    )
    db.session.refresh(idea, ["support_count"])
    if delta > 0 and idea.topic_id and not db.session.get(Follow, (user.id, idea.topic_id)):
        db.session.add(Follow(user_id=user.id, topic_id=idea.topic_id))
    _idea_event("budget_idea_supported", idea, user.id)
    db.session.flush()
    return delta > 0, idea.support_count


def _check_reviewable(staff: User, idea: Idea) -> None:
    _require_manager(staff, idea.process, _("Only staff may review ideas."))
    if idea.process.is_imported:
        raise Conflict(_("An imported election cannot be changed."))
    if idea.state != IdeaState.PUBLISHED:
        raise Conflict(_("Only published ideas can be reviewed; moderate this one first."))
    if idea.process.phase not in (Phase.IDEAS, Phase.REVIEW):
        raise Conflict(_("Ideas can only be reviewed before voting starts."))
    if idea.review == Review.MERGED:
        raise Conflict(_("This idea was merged into another one."))


def review_idea(staff: User, idea: Idea, feasible: bool, reason: str, final_cost=None) -> Idea:
    """Decide whether an idea is feasible, with a public reason and (if feasible) the cost it
    goes on the ballot with (the estimate when none is given). The author is told either way."""
    _check_reviewable(staff, idea)
    reason = _text(reason, "reason", limit=REASON_MAX)
    process = idea.process
    cost = None
    if feasible:
        cost = (
            idea.estimated_cost if final_cost in (None, "") else _amount(final_cost, "final_cost")
        )
        limit = _idea_budget(process, idea.area_id)
        if cost > limit:
            raise InvalidInput(
                final_cost=_(
                    "At this cost the project could never be funded (its budget is %(budget)s).",
                    budget=money(limit, process.currency),
                )
            )
    now = utcnow()
    idea.review = Review.FEASIBLE if feasible else Review.INFEASIBLE
    idea.review_reason = reason
    idea.final_cost = cost
    idea.reviewed_at = idea.updated_at = now
    db.session.add(
        IdeaReview(
            idea_id=idea.id,
            actor_id=staff.id,
            outcome=idea.review,
            reason=reason,
            final_cost=cost,
            created_at=now,
        )
    )
    if idea.author_id and idea.author_id != staff.id:
        kind = "budget_idea_feasible" if feasible else "budget_idea_infeasible"
        notify([idea.author_id], kind, process, idea, text=reason)
    _idea_event("budget_idea_reviewed", idea, staff.id)
    db.session.flush()
    return idea


def merge_idea(staff: User, duplicate: Idea, target: Idea, reason: str) -> Idea:
    """Merge ``duplicate`` into ``target``: the duplicate leaves the ballot, its supporters (and
    its author) support the target instead, and they are all told."""
    _check_reviewable(staff, duplicate)
    if target.id == duplicate.id or target.process_id != duplicate.process_id:
        raise InvalidInput(target_id=_("Choose another idea in the same citizen budget."))
    if target.state != IdeaState.PUBLISHED or target.review == Review.MERGED:
        raise InvalidInput(
            target_id=_("That idea cannot take others: it is not published or was merged itself.")
        )
    reason = _text(reason, "reason", limit=REASON_MAX)
    now = utcnow()
    duplicate.review = Review.MERGED
    duplicate.merged_into = target
    duplicate.review_reason = reason
    duplicate.final_cost = None
    duplicate.reviewed_at = duplicate.updated_at = now
    db.session.add(
        IdeaReview(
            idea_id=duplicate.id,
            actor_id=staff.id,
            outcome=Review.MERGED,
            reason=reason,
            merged_into_id=target.id,
            created_at=now,
        )
    )
    supporters = set(
        db.session.scalars(select(IdeaSupport.user_id).where(IdeaSupport.idea_id == duplicate.id))
    )
    already = set(
        db.session.scalars(select(IdeaSupport.user_id).where(IdeaSupport.idea_id == target.id))
    )
    moving = supporters | ({duplicate.author_id} if duplicate.author_id else set())
    for uid in sorted(moving - already - {target.author_id}):
        db.session.add(IdeaSupport(idea_id=target.id, user_id=uid, created_at=now))
    db.session.flush()
    target.support_count = db.session.scalar(
        select(func.count()).where(IdeaSupport.idea_id == target.id)
    )
    if duplicate.topic is not None and forum_permissions.can_manage_topic(staff, duplicate.topic):
        forum_services.set_topic_status(staff, duplicate.topic, TopicStatus.CLOSED)
    told = sorted(moving - {staff.id})
    notify(told, "budget_idea_merged", duplicate.process, duplicate, text=reason)
    _idea_event("budget_idea_merged", duplicate, staff.id)
    db.session.flush()
    return target
