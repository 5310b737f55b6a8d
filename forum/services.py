"""The forum's write operations. Each checks permission, validates, writes rows and an
event row, and flushes; the caller (view, socket handler, CLI) commits once.

Services never read ``request`` and never commit.
"""

from __future__ import annotations

import re
from datetime import datetime

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError
from werkzeug.security import check_password_hash, generate_password_hash

from . import eventlog, hooks, permissions, signals
from .errors import Conflict, InvalidInput, NotFound, PermissionDenied
from .extensions import db
from .models import (
    Area,
    Committee,
    Follow,
    Notification,
    Post,
    PostRevision,
    PostState,
    Role,
    Stance,
    Support,
    Topic,
    TopicStatus,
    User,
    enum_member,
    utcnow,
)
from .rendering import render_markdown
from .states import transition

EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
PASSWORD_MIN = 10
# Checked against when the e-mail is unknown, so a login takes the same time either way.
_DUMMY_HASH = generate_password_hash("not-a-real-password", method="scrypt")


# --- accounts -------------------------------------------------------------------------


def check_restriction(user: User, action: str) -> None:
    """Raise ``PermissionDenied`` with the reason when a registered hook restricts ``user``
    (e.g. moderation's suspensions; see ``hooks.user_restriction``)."""
    reason = hooks.user_restriction(user, action)
    if reason:
        raise PermissionDenied(reason)


def check_topic_guard(user: User, topic: Topic, action: str) -> None:
    """Raise ``PermissionDenied`` when a package guards ``topic`` (see ``hooks.topic_guard``)."""
    reason = hooks.topic_guard(user, topic, action)
    if reason:
        raise PermissionDenied(reason)


def _hash(password: str) -> str:
    # werkzeug's scrypt; tests lower its cost through PASSWORD_HASH_METHOD.
    return generate_password_hash(password, method=current_app.config["PASSWORD_HASH_METHOD"])


def normalise_email(email: str) -> str:
    return (email or "").strip().lower()


def get_user_by_email(email: str) -> User | None:
    return db.session.scalar(select(User).where(User.email == normalise_email(email)))


def _check_password_strength(password: str, field: str = "password") -> None:
    if len(password or "") < PASSWORD_MIN:
        raise InvalidInput(**{field: _("Use at least %(n)d characters.", n=PASSWORD_MIN)})
    if len(password) > 200:
        raise InvalidInput(**{field: _("Use at most %(n)d characters.", n=200)})


def _check_registration(email: str, display_name: str, password: str) -> tuple[str, str]:
    """The normalised address and name, or ``InvalidInput`` for the form."""
    email = normalise_email(email)
    display_name = " ".join((display_name or "").split())
    if not EMAIL_RE.match(email) or len(email) > 254:
        raise InvalidInput(email=_("Enter a valid e-mail address."))
    if not 2 <= len(display_name) <= 80:
        raise InvalidInput(display_name=_("Use between 2 and 80 characters."))
    _check_password_strength(password)
    return email, display_name


def _insert_user(user: User) -> bool:
    """Add the new account; False when the address was taken meanwhile (a race)."""
    try:
        # Added inside the savepoint: begin_nested() flushes what is pending first, so a
        # row added before it would hit the unique index outside the savepoint.
        with db.session.begin_nested():
            db.session.add(user)
            db.session.flush()
    except IntegrityError:
        return False
    return True


def register_user(
    email: str,
    display_name: str,
    password: str,
    role: Role = Role.CITIZEN,
    party: str | None = None,
    locale: str | None = None,
) -> User:
    """Create an account. The e-mail is unique case-insensitively (stored lower-case).

    For the admin CLI and the demo data; the public form uses ``sign_up``."""
    email, display_name = _check_registration(email, display_name, password)
    if get_user_by_email(email) is not None:
        raise InvalidInput(email=_("An account with this e-mail address already exists."))
    user = User(
        email=email,
        display_name=display_name,
        password_hash=_hash(password),
        role=role,
        party=party if role == Role.POLITICIAN else None,
        locale=locale,
    )
    if not _insert_user(user):
        raise InvalidInput(email=_("An account with this e-mail address already exists."))
    return user


def sign_up(
    email: str, display_name: str, password: str, locale: str | None = None
) -> tuple[User, bool]:
    """The public registration form: ``(new account, True)``, or ``(the account that already
    has this address, False)``.

    No account discovery: the form answers the same either way (the caller tells the owner
    of an existing account by mail, not the person at the form), so the same checks and the
    same password hashing happen for a taken address. Raises ``InvalidInput`` only for what
    the form shows whoever types it (a bad address, name or password).
    """
    email, display_name = _check_registration(email, display_name, password)
    password_hash = _hash(password)
    existing = get_user_by_email(email)
    if existing is None:
        user = User(
            email=email,
            display_name=display_name,
            password_hash=password_hash,
            role=Role.CITIZEN,
            locale=locale,
        )
        if _insert_user(user):
            return user, True
        existing = get_user_by_email(email)  # registered at the same moment by another request
        if existing is None:  # the other request rolled back: nothing to tell
            raise InvalidInput(email=_("Please try again."))
    return existing, False


def authenticate(email: str, password: str) -> User | None:
    """The user for these credentials, or None (same work done for unknown addresses)."""
    user = get_user_by_email(email)
    if user is None:
        check_password_hash(_DUMMY_HASH, password or "")
        return None
    return user if check_password_hash(user.password_hash, password or "") else None


def change_password(user: User, current: str, new: str) -> None:
    """Change the password and end the user's other sessions (session version bump)."""
    if not check_password_hash(user.password_hash, current or ""):
        raise InvalidInput(current_password=_("The current password is not right."))
    _check_password_strength(new, "new_password")
    user.password_hash = _hash(new)
    user.session_version = (user.session_version or 1) + 1
    db.session.flush()


def set_password(user: User, new: str, field: str = "password") -> None:
    """Set a password without the current one (the caller checked a reset link) and end
    the user's other sessions."""
    _check_password_strength(new, field)
    user.password_hash = _hash(new)
    user.session_version = (user.session_version or 1) + 1
    db.session.flush()


def set_role(
    user: User,
    role: Role,
    party: str | None = None,
    committees: list[Committee] | None = None,
    areas: list[Area] | None = None,
) -> None:
    user.role = role
    user.party = party if role == Role.POLITICIAN else None
    user.committees = list(committees or []) if role == Role.POLITICIAN else []
    user.moderated_areas = list(areas or []) if role == Role.MODERATOR else []
    db.session.flush()


# --- topics ---------------------------------------------------------------------------


def _validate_title(title: str) -> str:
    title = " ".join((title or "").split())
    lo, hi = current_app.config["TITLE_MIN"], current_app.config["TITLE_MAX"]
    if not lo <= len(title) <= hi:
        raise InvalidInput(title=_("The title must be %(lo)d–%(hi)d characters.", lo=lo, hi=hi))
    return title


def _validate_body(body: str, field: str = "body") -> str:
    body = (body or "").replace("\r\n", "\n").strip()
    lo, hi = current_app.config["BODY_MIN"], current_app.config["BODY_MAX"]
    if not lo <= len(body) <= hi:
        raise InvalidInput(**{field: _("The text must be %(lo)d–%(hi)d characters.", lo=lo, hi=hi)})
    return body


def _place(committee_id: int | None, area_id: int | None) -> tuple[Committee | None, Area | None]:
    committee = db.session.get(Committee, committee_id) if committee_id else None
    area = db.session.get(Area, area_id) if area_id else None
    if committee_id and committee is None:
        raise InvalidInput(committee_id=_("Unknown committee."))
    if area_id and area is None:
        raise InvalidInput(area_id=_("Unknown local area."))
    if committee is None and area is None:
        raise InvalidInput(
            committee_id=_("Choose a committee, a local area or both."),
        )
    return committee, area


def _open_place(
    committee_id: int | None, area_id: int | None
) -> tuple[Committee | None, Area | None]:
    """``_place`` for a new topic: an archived committee or area takes no new topics."""
    committee, area = _place(committee_id, area_id)
    if committee is not None and committee.archived_at is not None:
        raise InvalidInput(committee_id=_("This committee is archived and takes no new topics."))
    if area is not None and area.archived_at is not None:
        raise InvalidInput(area_id=_("This local area is archived and takes no new topics."))
    return committee, area


def topic_payload(topic: Topic) -> dict:
    return {
        "topic_id": topic.id,
        "title": topic.title,
        "status": topic.status.value,
        "committee_id": topic.committee_id,
        "area_id": topic.area_id,
        "post_count": topic.post_count,
    }


def create_topic(
    author: User,
    title: str,
    intro: str,
    committee_id: int | None = None,
    area_id: int | None = None,
    deadline: datetime | None = None,
) -> Topic:
    """Open a topic, or, for a citizen, propose one in a local area (hidden until accepted)."""
    check_restriction(author, "open_topic")
    title = _validate_title(title)
    intro = _validate_body(intro, "intro")
    committee, area = _open_place(committee_id, area_id)
    if permissions.can_open_topic(author, committee_id, area_id):
        status = TopicStatus.OPEN
    elif permissions.can_propose_topic(author, area_id):
        status = TopicStatus.PROPOSED
    else:
        raise PermissionDenied(_("You may not open a topic here."))
    if deadline is not None and deadline <= utcnow():
        raise InvalidInput(deadline=_("The deadline must be in the future."))
    now = utcnow()
    topic = Topic(
        title=title,
        intro_source=intro,
        intro_html=str(render_markdown(intro)),
        committee=committee,
        area=area,
        author=author,
        status=status,
        deadline=deadline,
        created_at=now,
        updated_at=now,
        last_activity_at=now,
        post_count=0,
    )
    db.session.add(topic)
    db.session.flush()
    db.session.add(Follow(user_id=author.id, topic_id=topic.id))
    kind = "topic_opened" if status == TopicStatus.OPEN else "topic_proposed"
    room = f"topic:{topic.id}" if status == TopicStatus.OPEN else "moderators"
    eventlog.record(kind, "topic", topic.id, room, topic_payload(topic), author.id)
    signals.topic_created.send(topic)
    return topic


def decide_topic_proposal(moderator: User, topic: Topic, accept: bool) -> None:
    """Accept (open) or decline a citizen's proposed topic."""
    if not permissions.can_moderate_topic(moderator, topic):
        raise PermissionDenied(_("Only moderators of this area may decide proposals."))
    if topic.status != TopicStatus.PROPOSED:
        raise Conflict(_("This proposal has already been decided."))
    topic.status = TopicStatus.OPEN if accept else TopicStatus.DECLINED
    topic.updated_at = topic.last_activity_at = utcnow()
    db.session.add(
        Notification(
            user_id=topic.author_id,
            kind="topic_accepted" if accept else "topic_declined",
            topic_id=topic.id,
            actor_id=moderator.id,
        )
    )
    kind = "topic_opened" if accept else "topic_declined"
    room = f"topic:{topic.id}" if accept else "moderators"
    eventlog.record(kind, "topic", topic.id, room, topic_payload(topic), moderator.id)
    # The proposer's bell (live) and mail hear of it like any other notification.
    eventlog.record(
        "notification",
        "user",
        topic.author_id,
        f"user:{topic.author_id}",
        {
            "kind": "topic_accepted" if accept else "topic_declined",
            "post_id": None,
            "topic_id": topic.id,
        },
        moderator.id,
    )
    db.session.flush()
    signals.topic_proposal_decided.send(topic, moderator=moderator)


def set_topic_status(actor: User, topic: Topic, status: TopicStatus) -> None:
    """Close, reopen or archive a public topic."""
    if not permissions.can_manage_topic(actor, topic):
        raise PermissionDenied(_("You may not change this topic."))
    if status not in permissions.PUBLIC_TOPIC_STATES or not topic.is_public:
        raise InvalidInput(status=_("This status cannot be set here."))
    if topic.status == status:
        return
    topic.status = status
    topic.updated_at = utcnow()
    eventlog.record(
        "topic_changed", "topic", topic.id, f"topic:{topic.id}", topic_payload(topic), actor.id
    )
    db.session.flush()


def move_topic(actor: User, topic: Topic, committee_id: int | None, area_id: int | None) -> bool:
    """Move a topic to another committee and/or local area (not an archived one); False
    when it is there already."""
    if not permissions.can_manage_topic(actor, topic) or not permissions.can_open_topic(
        actor, committee_id, area_id
    ):
        raise PermissionDenied(_("You may not change this topic."))
    if (committee_id, area_id) == (topic.committee_id, topic.area_id):
        return False
    committee, area = _place(committee_id, area_id)
    for place, field, old in (
        (committee, "committee_id", topic.committee_id),
        (area, "area_id", topic.area_id),
    ):
        if place is not None and place.archived_at is not None and place.id != old:
            raise InvalidInput(**{field: _("This place is archived and takes no new topics.")})
    topic.committee = committee
    topic.area = area
    topic.updated_at = utcnow()
    eventlog.record(
        "topic_changed", "topic", topic.id, f"topic:{topic.id}", topic_payload(topic), actor.id
    )
    db.session.flush()
    signals.topic_moved.send(topic)
    return True


def edit_topic(
    actor: User, topic: Topic, title: str, intro: str, deadline: datetime | None
) -> None:
    if not permissions.can_manage_topic(actor, topic):
        raise PermissionDenied(_("You may not change this topic."))
    topic.title = _validate_title(title)
    topic.intro_source = _validate_body(intro, "intro")
    topic.intro_html = str(render_markdown(topic.intro_source))
    topic.deadline = deadline
    topic.updated_at = utcnow()
    eventlog.record(
        "topic_changed", "topic", topic.id, f"topic:{topic.id}", topic_payload(topic), actor.id
    )
    db.session.flush()


# --- posts ----------------------------------------------------------------------------


def post_payload(post: Post) -> dict:
    return {
        "post_id": post.id,
        "topic_id": post.topic_id,
        "parent_id": post.parent_id,
        "author_id": post.author_id,
        "state": post.state.value,
        "stance": post.stance.value if post.stance else None,
        "support_count": post.support_count,
        "depth": post.depth,
    }


def _post_event(kind: str, post: Post, actor_id: int | None, **extra) -> None:
    payload = post_payload(post) | extra
    eventlog.record(kind, "post", post.id, f"topic:{post.topic_id}", payload, actor_id)


NONCE_MAX = 64  # Post.client_nonce's length


def _post_by_nonce(author: User, nonce: str | None) -> Post | None:
    if not nonce:
        return None
    return db.session.scalar(
        select(Post).where(Post.author_id == author.id, Post.client_nonce == nonce)
    )


def _reply_parent(author: User, topic: Topic, parent_id: int | None) -> Post | None:
    """The post being answered: in the same topic and public (or the author's own, held)."""
    if parent_id is None:
        return None
    parent = db.session.get(Post, parent_id)
    if parent is None or parent.topic_id != topic.id:
        raise InvalidInput(parent_id=_("The post you reply to is not in this topic."))
    if parent.state != PostState.PUBLISHED and not (
        parent.author_id == author.id and parent.state == PostState.PENDING
    ):
        raise Conflict(_("The post you reply to can no longer be answered."))
    return parent


def _parse_stance(stance: Stance | str | None) -> Stance | None:
    if not stance:
        return None
    return enum_member(Stance, stance, stance=_("Unknown stance."))


def create_post(
    author: User,
    topic: Topic,
    body: str,
    parent_id: int | None = None,
    stance: Stance | str | None = None,
    nonce: str | None = None,
) -> Post:
    """Write a post or reply. Returns the existing post for a repeated ``nonce``.

    The moderation policy decides whether it is published now or held.
    """
    if not permissions.can_see_topic(author, topic):
        raise NotFound(_("No such topic."))
    if not permissions.topic_accepts_posts(topic):
        raise Conflict(_("This topic no longer takes posts."))
    check_restriction(author, "reply" if parent_id is not None else "post")
    check_topic_guard(author, topic, "reply" if parent_id is not None else "post")
    if nonce is not None and len(nonce) > NONCE_MAX:
        # Not one the forms hand out (a forged hidden field): the post is written once
        # without it, instead of failing on the column's length (PostgreSQL refuses it).
        nonce = None
    existing = _post_by_nonce(author, nonce)
    if existing is not None:
        return existing
    body = _validate_body(body)
    parent = _reply_parent(author, topic, parent_id)
    stance = None if parent else _parse_stance(stance)  # only top-level posts take a stance
    now = utcnow()
    post = Post(
        topic=topic,
        parent=parent,
        author=author,
        depth=(parent.depth + 1) if parent else 0,
        body_source=body,
        body_html=str(render_markdown(body)),
        stance=stance or None,
        state=PostState.PENDING,
        created_at=now,
        support_count=0,
        client_nonce=nonce or None,
    )
    decision = hooks.decide_post(post, "create")  # the policy reads; nothing is flushed yet
    post.held_reason = decision.reason
    try:
        # Added inside the savepoint (begin_nested() flushes pending rows first), so a lost
        # double-submit race rolls back only the savepoint and the winner's post is returned.
        with db.session.begin_nested():
            db.session.add(post)
            db.session.flush()
    except IntegrityError:
        # The same form was submitted twice at once; the first one won.
        if post in db.session:
            db.session.expunge(post)
        existing = _post_by_nonce(author, nonce)
        if existing is None:
            raise
        return existing
    if not db.session.get(Follow, (author.id, topic.id)):
        try:
            with db.session.begin_nested():
                db.session.add(Follow(user_id=author.id, topic_id=topic.id))
        except IntegrityError:
            pass  # the author's other post, written at the same moment, followed it first
    _post_event("post_created", post, author.id)
    if decision.state == PostState.PUBLISHED:
        publish_post(post, author.id)
    db.session.flush()
    signals.post_created.send(post)
    return post


def publish_post(post: Post, actor_id: int | None) -> None:
    """Make a pending (or hidden/rejected/removed) post public.

    Made public from pending (written now, or approved), its event gets a fan-out job in the
    same flush (forum/fanout.py): the parent's author and the topic's followers are told after
    the commit, so publishing costs the same whatever the number of followers.
    """
    old = transition(post, PostState.PUBLISHED)
    topic = post.topic
    topic.last_activity_at = utcnow()
    _post_event("post_published", post, actor_id, previous_state=old.value)
    signals.post_state_changed.send(post, old=old, new=PostState.PUBLISHED)


def edit_post(author: User, post: Post, body: str) -> Post:
    """Replace a post's text, keeping the old text as a revision."""
    if not permissions.can_edit_post(author, post):
        raise PermissionDenied(_("You may only edit your own posts in open topics."))
    check_restriction(author, "edit")
    check_topic_guard(author, post.topic, "edit")
    body = _validate_body(body)
    if body == post.body_source:
        return post
    db.session.add(
        PostRevision(
            post_id=post.id,
            body_source=post.body_source,
            body_html=post.body_html,
            created_at=post.edited_at or post.created_at,
        )
    )
    post.body_source = body
    post.body_html = str(render_markdown(body))
    post.edited_at = utcnow()
    if post.state == PostState.PUBLISHED:
        decision = hooks.decide_post(post, "edit")
        if decision.state == PostState.PENDING:
            transition(post, PostState.PENDING)
            post.held_reason = decision.reason
    _post_event("post_edited", post, author.id)
    db.session.flush()
    signals.post_edited.send(post)
    return post


def delete_post(author: User, post: Post) -> None:
    """Delete one's own post: the text goes, a placeholder keeps its replies in place."""
    if not permissions.can_delete_post(author, post):
        raise PermissionDenied(_("You may only delete your own posts."))
    old = transition(post, PostState.DELETED)
    post.body_source = ""
    post.body_html = ""
    # Earlier texts go too: "deleted" means the words are gone, history included.
    db.session.execute(delete(PostRevision).where(PostRevision.post_id == post.id))
    _post_event("post_deleted", post, author.id, previous_state=old.value)
    db.session.flush()
    signals.post_state_changed.send(post, old=old, new=PostState.DELETED)


def toggle_support(user: User, post: Post) -> tuple[bool, int]:
    """Add or withdraw the user's support; returns (supported now, new count)."""
    if not permissions.can_see_post(user, post):
        raise NotFound(_("No such post."))
    if user.id == post.author_id:
        raise PermissionDenied(_("You cannot support your own post."))
    if post.state != PostState.PUBLISHED:
        raise Conflict(_("Only published posts can be supported."))
    check_restriction(user, "support")
    check_topic_guard(user, post.topic, "support")
    existing = db.session.get(Support, (user.id, post.id))
    if existing is not None:
        db.session.delete(existing)
        delta = -1
    else:
        db.session.add(Support(user_id=user.id, post_id=post.id))
        delta = 1
    try:
        with db.session.begin_nested():
            db.session.flush()
    except IntegrityError:
        raise Conflict(_("Your support was already counted.")) from None
    # Update in SQL so concurrent toggles never lose a count.
    db.session.execute(
        update(Post).where(Post.id == post.id).values(support_count=Post.support_count + delta)
    )
    db.session.refresh(post, ["support_count"])
    _post_event("support_changed", post, user.id)
    db.session.flush()
    return delta > 0, post.support_count


# --- follows and notifications -----------------------------------------------------------


def set_follow(user: User, topic: Topic, follow: bool) -> None:
    if not permissions.can_see_topic(user, topic):
        raise NotFound(_("No such topic."))
    existing = db.session.get(Follow, (user.id, topic.id))
    if follow and existing is None:
        db.session.add(Follow(user_id=user.id, topic_id=topic.id))
    elif not follow and existing is not None:
        db.session.delete(existing)
    db.session.flush()


def unread_count(user: User) -> int:
    return (
        db.session.scalar(
            select(func.count(Notification.id)).where(
                Notification.user_id == user.id, Notification.read_at.is_(None)
            )
        )
        or 0
    )


def mark_notifications_read(user: User, ids: list[int] | None = None) -> int:
    """Mark the given (or all) of the user's notifications read; returns how many."""
    stmt = update(Notification).where(
        Notification.user_id == user.id, Notification.read_at.is_(None)
    )
    if ids is not None:
        stmt = stmt.where(Notification.id.in_(ids))
    result = db.session.execute(stmt.values(read_at=utcnow()))
    db.session.flush()
    return result.rowcount or 0
