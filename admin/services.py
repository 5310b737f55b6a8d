"""Administration's write operations.

Each checks that the actor is an admin, validates, writes its rows, an event row where
others must learn of the change, and an entry in the audit log (who, what, before and
after) through ``forum.hooks.audit_log``, then flushes. The caller commits once. Refusals
are ``forum.errors`` exceptions; field errors name the form's fields.
"""

from __future__ import annotations

import re
import secrets
import unicodedata
from datetime import datetime, timedelta
from typing import Literal

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.exc import IntegrityError

from forum import eventlog, hooks, sessions
from forum import services as forum_services
from forum.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from forum.extensions import db
from forum.models import (
    Area,
    Committee,
    Role,
    SlugHistory,
    Topic,
    TopicStatus,
    User,
    enum_member,
    moderator_areas,
    utcnow,
)
from forum.rendering import render_markdown

from . import mails, permissions, tokens
from .models import Invitation

Kind = Literal["committee", "area"]
MODELS: dict[str, type] = {"committee": Committee, "area": Area}
SLUG_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
NAME_MAX = 200
SLUG_MAX = 120
DESCRIPTION_MAX = 10_000
PARTY_MAX = 80
INVITABLE_ROLES = (Role.POLITICIAN, Role.MODERATOR, Role.STAFF)


def _require_admin(actor: User) -> None:
    if not permissions.is_admin(actor):
        raise PermissionDenied(_("Only admins may do this."))


def _audit(action: str, target_type: str, target_id: int | None, actor: User | None, **kw):
    return hooks.audit_log(action, target_type, target_id, actor=actor, **kw)


# --- the first admin ------------------------------------------------------------------------


def admin_exists() -> bool:
    return db.session.scalar(select(User.id).where(User.role == Role.ADMIN).limit(1)) is not None


def setup_first_admin(email: str, display_name: str, password: str) -> User:
    """The first admin of a fresh install; ``Conflict`` when an admin exists already."""
    if admin_exists():
        raise Conflict(_("An admin exists already; log in as that admin to add people."))
    user = forum_services.register_user(email, display_name, password, role=Role.ADMIN)
    user.email_verified_at = utcnow()  # typed by the person running the site
    _audit(
        "admin_setup",
        "user",
        user.id,
        None,
        to_state=Role.ADMIN.value,
        subject_user_id=user.id,
        data={"email": user.email},
    )
    return user


# --- committees and local areas ---------------------------------------------------------


def slugify(text: str) -> str:
    text = (text or "").lower()
    for a, b in (("æ", "ae"), ("ø", "oe"), ("å", "aa")):
        text = text.replace(a, b)
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", text).strip("-")[:SLUG_MAX].strip("-")


def _kind(kind: str) -> type:
    if kind not in MODELS:
        raise NotFound(_("We could not find that page."))
    return MODELS[kind]


def get_place(kind: str, place_id: int):
    place = db.session.get(_kind(kind), place_id)
    if place is None:
        raise NotFound(_("We could not find that page."))
    return place


def list_places(kind: str) -> list:
    model = _kind(kind)
    return list(db.session.scalars(select(model).order_by(model.position, model.name)))


def _clean_place(kind: str, name: str, slug: str, description: str, place=None):
    model = _kind(kind)
    name = " ".join((name or "").split())
    slug = (slug or "").strip().lower() or slugify(name)
    description = (description or "").replace("\r\n", "\n").strip()
    errors = {}
    if not 2 <= len(name) <= NAME_MAX:
        errors["name"] = _("Use between %(lo)d and %(hi)d characters.", lo=2, hi=NAME_MAX)
    if not (2 <= len(slug) <= SLUG_MAX and SLUG_RE.match(slug)):
        errors["slug"] = _(
            "Use 2–%(n)d lower-case letters a–z, digits and single hyphens (e.g. "
            "»boern-og-skole«).",
            n=SLUG_MAX,
        )
    if len(description) > DESCRIPTION_MAX:
        errors["description"] = _("Use at most %(n)d characters.", n=DESCRIPTION_MAX)
    own = place.id if place is not None else -1
    if "name" not in errors:
        taken = db.session.scalar(
            select(model.id).where(func.lower(model.name) == name.lower(), model.id != own)
        )
        if taken is not None:
            errors["name"] = _("Another one already has this name.")
    if "slug" not in errors:
        taken = db.session.scalar(select(model.id).where(model.slug == slug, model.id != own))
        if taken is not None:
            errors["slug"] = _("Another one already has this address.")
    if errors:
        raise InvalidInput(**errors)
    return name, slug, description


def _place_data(place) -> dict:
    return {
        "name": place.name,
        "slug": place.slug,
        "description": place.description,
        "position": place.position,
        "archived": place.archived_at is not None,
    }


def _scope(kind: str, place_id: int) -> dict:
    return {"area_id": place_id} if kind == "area" else {"committee_id": place_id}


def create_place(actor: User, kind: str, name: str, slug: str, description: str):
    _require_admin(actor)
    model = _kind(kind)
    name, slug, description = _clean_place(kind, name, slug, description)
    last = db.session.scalar(select(func.max(model.position))) or 0
    place = model(
        name=name,
        slug=slug,
        description=description,
        description_html=str(render_markdown(description)) if description else "",
        position=last + 1,
    )
    try:
        with db.session.begin_nested():
            db.session.add(place)
            db.session.flush()
    except IntegrityError:
        raise InvalidInput(slug=_("Another one already has this address.")) from None
    # A new place takes its address back from any place that had it before.
    db.session.execute(
        delete(SlugHistory).where(SlugHistory.kind == kind, SlugHistory.old_slug == slug)
    )
    _audit(
        "place_create",
        kind,
        place.id,
        actor,
        data={"after": _place_data(place)},
        **_scope(kind, place.id),
    )
    return place


def update_place(actor: User, kind: str, place, name: str, slug: str, description: str) -> bool:
    """Rename, re-address and describe a place; an old address redirects to the new one.
    Returns whether anything changed."""
    _require_admin(actor)
    name, slug, description = _clean_place(kind, name, slug, description, place)
    before = _place_data(place)
    if (name, slug, description) == (place.name, place.slug, place.description):
        return False
    if slug != place.slug:
        old = place.slug
        db.session.execute(
            delete(SlugHistory).where(
                SlugHistory.kind == kind, SlugHistory.old_slug.in_([old, slug])
            )
        )
        db.session.add(SlugHistory(kind=kind, old_slug=old, target_id=place.id))
    place.name = name
    place.slug = slug
    place.description = description
    place.description_html = str(render_markdown(description)) if description else ""
    db.session.flush()
    _audit(
        "place_edit",
        kind,
        place.id,
        actor,
        data={"before": before, "after": _place_data(place)},
        **_scope(kind, place.id),
    )
    return True


def move_place(actor: User, kind: str, place, direction: str) -> bool:
    """Swap a place with its neighbour above ("up") or below ("down"); False at an end."""
    _require_admin(actor)
    if direction not in ("up", "down"):
        raise InvalidInput(direction=_("Choose up or down."))
    ordered = list_places(kind)
    for i, p in enumerate(ordered):  # positions 1..n, whatever they were
        p.position = i + 1
    i = next(i for i, p in enumerate(ordered) if p.id == place.id)
    j = i - 1 if direction == "up" else i + 1
    if not 0 <= j < len(ordered):
        db.session.flush()
        return False
    before = place.position
    ordered[i].position, ordered[j].position = ordered[j].position, ordered[i].position
    db.session.flush()
    _audit(
        "place_move",
        kind,
        place.id,
        actor,
        from_state=str(before),
        to_state=str(place.position),
        **_scope(kind, place.id),
    )
    return True


def set_place_archived(actor: User, kind: str, place, archived: bool) -> bool:
    _require_admin(actor)
    if (place.archived_at is not None) == archived:
        return False
    place.archived_at = utcnow() if archived else None
    db.session.flush()
    _audit(
        "place_archive" if archived else "place_restore",
        kind,
        place.id,
        actor,
        from_state="active" if archived else "archived",
        to_state="archived" if archived else "active",
        **_scope(kind, place.id),
    )
    return True


def _area_references() -> list:
    """Every (table, column) that points at ``areas.id``, whichever package owns it."""
    out = []
    for table in db.metadata.sorted_tables:
        for column in table.columns:
            if any(fk.column.table.name == "areas" for fk in column.foreign_keys):
                out.append((table, column))
    return out


def merge_areas(actor: User, source: Area, target: Area) -> dict[str, int]:
    """Move everything of ``source`` (topics, moderator scopes, budgets, Q&A sessions, queue
    items, ...) to ``target``, then remove ``source``; its address redirects to ``target``.
    Returns the number of rows moved per table."""
    _require_admin(actor)
    if source.id == target.id:
        raise InvalidInput(target_id=_("An area cannot be merged into itself."))
    moved: dict[str, int] = {}
    topic_ids = list(db.session.scalars(select(Topic.id).where(Topic.area_id == source.id)))
    for table, column in _area_references():
        others = [c for c in table.primary_key.columns if c is not column]
        if column.primary_key or column.unique:
            # A row the target has already (a moderator scoped to both, a budget's amount
            # for both, a moderation mode of each): the target's row stays, the source's goes
            # (a budget amount is added to the target's).
            if column.unique:
                clash = db.session.execute(
                    select(func.count()).select_from(table).where(column == target.id)
                ).scalar()
                if clash:
                    db.session.execute(delete(table).where(column == source.id))
                    continue
            elif others:
                src_rows = db.session.execute(select(table).where(column == source.id)).all()
                for row in src_rows:
                    key = {c.name: getattr(row, c.name) for c in others}
                    cond = [table.c[k] == v for k, v in key.items()]
                    existing = db.session.execute(
                        select(table).where(column == target.id, *cond)
                    ).first()
                    if existing is None:
                        continue
                    if "amount" in table.c:
                        db.session.execute(
                            update(table)
                            .where(column == target.id, *cond)
                            .values(amount=table.c.amount + row.amount)
                        )
                    db.session.execute(delete(table).where(column == source.id, *cond))
        result = db.session.execute(
            update(table).where(column == source.id).values({column.name: target.id})
        )
        if result.rowcount:
            moved[table.name] = result.rowcount
    db.session.execute(
        update(SlugHistory)
        .where(SlugHistory.kind == "area", SlugHistory.target_id == source.id)
        .values(target_id=target.id)
    )
    db.session.execute(
        delete(SlugHistory).where(SlugHistory.kind == "area", SlugHistory.old_slug == source.slug)
    )
    db.session.add(SlugHistory(kind="area", old_slug=source.slug, target_id=target.id))
    gone = _place_data(source) | {"id": source.id}
    db.session.expire_all()
    db.session.delete(db.session.get(Area, gone["id"]))
    db.session.flush()
    for topic_id in topic_ids:  # live pages and the search index hear of the new place
        topic = db.session.get(Topic, topic_id)
        eventlog.record(
            "topic_changed",
            "topic",
            topic.id,
            f"topic:{topic.id}",
            forum_services.topic_payload(topic),
            actor.id,
        )
    _audit(
        "area_merge",
        "area",
        target.id,
        actor,
        text=gone["name"],
        data={"merged": gone, "into": _place_data(target), "moved": moved},
        area_id=target.id,
    )
    return moved


# --- people -----------------------------------------------------------------------------


def search_users(
    q: str = "",
    role: str | None = None,
    area_id: int | None = None,
    page: int = 1,
    per_page: int = 50,
) -> tuple[list[User], int]:
    """Users whose name or address contains ``q``, of ``role``, scoped to (moderators) or
    having written in (anyone) ``area_id``; a page of them and how many match."""
    stmt = select(User)
    q = (q or "").strip().lower()
    if q:
        like = "%" + q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        stmt = stmt.where(
            or_(
                func.lower(User.display_name).like(like, escape="\\"),
                User.email.like(like, escape="\\"),
            )
        )
    if role:
        stmt = stmt.where(User.role == Role(role))
    if area_id is not None:
        scoped = select(moderator_areas.c.user_id).where(moderator_areas.c.area_id == area_id)
        authored = select(Topic.author_id).where(Topic.area_id == area_id)
        stmt = stmt.where(or_(User.id.in_(scoped), User.id.in_(authored)))
    total = db.session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    rows = db.session.scalars(
        stmt.order_by(func.lower(User.display_name), User.id)
        .limit(per_page)
        .offset((page - 1) * per_page)
    ).all()
    return list(rows), total


def active_admin_count() -> int:
    return (
        db.session.scalar(
            select(func.count(User.id)).where(
                User.role == Role.ADMIN, User.deactivated_at.is_(None)
            )
        )
        or 0
    )


def _user_data(user: User) -> dict:
    data = {
        "role": user.role.value,
        "party": user.party,
        "committees": sorted(c.slug for c in user.committees),
        "areas": sorted(a.slug for a in user.moderated_areas),
        "chair_of": sorted(
            db.session.scalars(select(Committee.slug).where(Committee.chair_id == user.id))
        ),
    }
    # Area-scoped capacities of other packages (forum.hooks.register_area_capacity).
    for cap in hooks.area_capacities():
        ids = sorted(cap.read(user))
        slugs = db.session.scalars(select(Area.slug).where(Area.id.in_(ids))) if ids else []
        data[cap.name] = sorted(slugs)
    return data


def _load(model, ids, field: str) -> list:
    ids = sorted(set(ids or []))
    found = list(db.session.scalars(select(model).where(model.id.in_(ids)))) if ids else []
    if len(found) != len(ids):
        raise InvalidInput(**{field: _("Choose from the list.")})
    return found


def _set_capacities(actor: User, user: User, capacities: dict[str, list[int]]) -> None:
    """Set the area-scoped capacities given (``forum.hooks.register_area_capacity``)."""
    registered = {cap.name: cap for cap in hooks.area_capacities()}
    for name, ids in capacities.items():
        cap = registered.get(name)
        if cap is None:
            raise InvalidInput(_("Choose from the list."))
        areas_of = _load(Area, ids, f"cap_{name}")
        cap.write(actor, user, {a.id for a in areas_of})


def change_role(
    actor: User,
    user: User,
    role: str,
    party: str | None = None,
    committee_ids: list[int] | None = None,
    area_ids: list[int] | None = None,
    chair_ids: list[int] | None = None,
    capacities: dict[str, list[int]] | None = None,
) -> bool:
    """Give ``user`` a role with its party, committees (and chairs) or moderated areas, by
    the rules of ``flask users set-role`` (forum.services.set_role). An admin keeps their own
    role, and the last admin stays one.

    ``capacities``: for each area-scoped capacity another package registered
    (``forum.hooks.register_area_capacity``; meetings' local forum contacts) given here, the
    areas ``user`` holds it in from now on; one left out is not changed. Audited in the same
    ``role_change`` entry."""
    _require_admin(actor)
    new_role = enum_member(Role, role, role=_("Choose from the list."))
    if user.role == Role.ADMIN and new_role != Role.ADMIN:
        if user.deactivated_at is None and active_admin_count() <= 1:
            raise Conflict(_("This is the last admin: make someone else admin first."))
        if user.id == actor.id:
            raise Conflict(_("You cannot remove your own admin role; ask another admin to."))
    party = " ".join((party or "").split()) or None
    if party is not None and len(party) > PARTY_MAX:
        raise InvalidInput(party=_("Use at most %(n)d characters.", n=PARTY_MAX))
    committees = _load(Committee, committee_ids, "committees")
    areas = _load(Area, area_ids, "areas")
    chairs = _load(Committee, chair_ids, "chairs")
    if new_role != Role.POLITICIAN and chairs:
        raise InvalidInput(chairs=_("Only a politician can chair a committee."))
    if any(c not in committees for c in chairs):
        raise InvalidInput(chairs=_("A chair must be a member of the committee."))
    before = _user_data(user)
    forum_services.set_role(user, new_role, party, committees, areas)
    chosen = {c.id for c in chairs}
    for c in db.session.scalars(select(Committee).where(Committee.chair_id == user.id)):
        if c.id not in chosen:
            c.chair_id = None
    for c in chairs:
        c.chair_id = user.id
    _set_capacities(actor, user, capacities or {})
    db.session.flush()
    after = _user_data(user)
    if after == before:
        return False
    _audit(
        "role_change",
        "user",
        user.id,
        actor,
        from_state=before["role"],
        to_state=after["role"],
        subject_user_id=user.id,
        data={"before": before, "after": after},
    )
    return True


def set_active(actor: User, user: User, active: bool) -> bool:
    """Deactivate (every login ends, none can start) or reactivate an account."""
    _require_admin(actor)
    if (user.deactivated_at is None) == active:
        return False
    if not active:
        if user.role == Role.ADMIN and active_admin_count() <= 1:
            raise Conflict(_("This is the last admin: make someone else admin first."))
        if user.id == actor.id:
            raise Conflict(_("You cannot deactivate your own account."))
        user.deactivated_at = utcnow()
        sessions.end_all_logins(user)  # live connections of the old version close too
    else:
        user.deactivated_at = None
    db.session.flush()
    _audit(
        "user_reactivate" if active else "user_deactivate",
        "user",
        user.id,
        actor,
        from_state="deactivated" if active else "active",
        to_state="active" if active else "deactivated",
        subject_user_id=user.id,
    )
    return True


# --- invitations ------------------------------------------------------------------------


def create_invitation(
    actor: User,
    email: str,
    role: str,
    party: str | None = None,
    committee_ids: list[int] | None = None,
    area_ids: list[int] | None = None,
) -> tuple[Invitation, str]:
    """An invitation to become a politician or staff (a moderator, everywhere or in
    ``area_ids``); returns it and the token of its single-use, expiring link."""
    _require_admin(actor)
    email = forum_services.normalise_email(email)
    if not forum_services.EMAIL_RE.match(email) or len(email) > 254:
        raise InvalidInput(email=_("Enter a valid e-mail address."))
    new_role = enum_member(Role, role, role=_("Choose from the list."))
    if new_role not in INVITABLE_ROLES:
        raise InvalidInput(role=_("Invite politicians or staff."))
    party = " ".join((party or "").split()) or None
    if party is not None and len(party) > PARTY_MAX:
        raise InvalidInput(party=_("Use at most %(n)d characters.", n=PARTY_MAX))
    committees = _load(Committee, committee_ids, "committees")
    areas = _load(Area, area_ids, "areas")
    existing = forum_services.get_user_by_email(email)
    if existing is not None and existing.role == Role.ADMIN:
        raise InvalidInput(email=_("This address belongs to an admin; change roles on their page."))
    invitation = Invitation(
        email=email,
        role=new_role.value,
        party=party if new_role == Role.POLITICIAN else None,
        committee_ids=[c.id for c in committees] if new_role == Role.POLITICIAN else [],
        area_ids=[a.id for a in areas] if new_role == Role.MODERATOR else [],
        nonce=secrets.token_urlsafe(24),
        created_at=utcnow(),
        created_by_id=actor.id,
        expires_at=utcnow() + timedelta(days=current_app.config["ADMIN_INVITATION_DAYS"]),
    )
    db.session.add(invitation)
    db.session.flush()
    _audit(
        "invite_create",
        "invitation",
        invitation.id,
        actor,
        to_state=invitation.role,
        text=email,
        subject_user_id=existing.id if existing is not None else None,
        data={
            "email": email,
            "role": invitation.role,
            "party": invitation.party,
            "committees": invitation.committee_ids,
            "areas": invitation.area_ids,
            "existing_account": existing is not None,
            "expires_at": invitation.expires_at.isoformat(timespec="minutes"),
        },
    )
    # Mailed through the outbox (an existing account gets the role offer at its address).
    mails.queue(invitation, existing)
    return invitation, tokens.make_token(invitation)


def _apply_invitation(invitation: Invitation, user: User) -> None:
    before = _user_data(user)
    committees = list(
        db.session.scalars(select(Committee).where(Committee.id.in_(invitation.committee_ids)))
    )
    areas = list(db.session.scalars(select(Area).where(Area.id.in_(invitation.area_ids))))
    forum_services.set_role(user, Role(invitation.role), invitation.party, committees, areas)
    if not user.email_verified_at:
        user.email_verified_at = utcnow()  # the link reached this address
    invitation.used_at = utcnow()
    invitation.used_by_id = user.id
    db.session.flush()
    _audit(
        "invite_accept",
        "invitation",
        invitation.id,
        user,
        from_state=before["role"],
        to_state=invitation.role,
        text=invitation.email,
        subject_user_id=user.id,
        data={"before": before, "after": _user_data(user)},
    )


def accept_invitation_new(token: str, display_name: str, password: str) -> User:
    """Create the invited person's account with its role (the address has none yet)."""
    invitation = tokens.read_token(token, for_update=True)
    if forum_services.get_user_by_email(invitation.email) is not None:
        raise Conflict(_("This address has an account: log in to accept the role."))
    user = forum_services.register_user(invitation.email, display_name, password)
    _apply_invitation(invitation, user)
    return user


def accept_invitation_existing(user: User, token: str) -> None:
    """The signed-in owner of the invited address takes the offered role."""
    invitation = tokens.read_token(token, for_update=True)
    if user.email != invitation.email:
        raise PermissionDenied(
            _("This invitation is for another address. Log out and log in as its owner.")
        )
    if user.role == Role.ADMIN:
        raise Conflict(_("You are an admin; an admin's role changes on the people page."))
    _apply_invitation(invitation, user)


# --- topics -----------------------------------------------------------------------------


def _topic_data(topic: Topic) -> dict:
    return {
        "title": topic.title,
        "status": topic.status.value,
        "committee_id": topic.committee_id,
        "area_id": topic.area_id,
        "deadline": topic.deadline.isoformat(timespec="minutes") if topic.deadline else None,
        "featured": topic.featured_at is not None,
    }


def _topic_audit(action: str, actor: User, topic: Topic, before: dict, **kw) -> None:
    _audit(
        action,
        "topic",
        topic.id,
        actor,
        topic=topic,
        subject_user_id=topic.author_id,
        data={"before": before, "after": _topic_data(topic)},
        **kw,
    )


def create_topic(
    actor: User,
    title: str,
    intro: str,
    committee_id: int | None,
    area_id: int | None,
    deadline: datetime | None,
) -> Topic:
    """Open a topic on behalf of a committee or area (forum.services.create_topic)."""
    _require_admin(actor)
    topic = forum_services.create_topic(actor, title, intro, committee_id, area_id, deadline)
    _topic_audit("topic_create", actor, topic, {})
    return topic


def edit_topic(
    actor: User, topic: Topic, title: str, intro: str, deadline: datetime | None
) -> None:
    """Title, introduction and høringsfrist (forum.services.edit_topic)."""
    _require_admin(actor)
    if deadline is not None and deadline != topic.deadline and deadline <= utcnow():
        raise InvalidInput(deadline=_("The deadline must be in the future."))
    before = _topic_data(topic)
    old_intro = topic.intro_source
    forum_services.edit_topic(actor, topic, title, intro, deadline)
    if _topic_data(topic) != before or topic.intro_source != old_intro:
        _topic_audit("topic_edit", actor, topic, before)


def move_topic(actor: User, topic: Topic, committee_id: int | None, area_id: int | None) -> bool:
    _require_admin(actor)
    before = _topic_data(topic)
    if not forum_services.move_topic(actor, topic, committee_id, area_id):
        return False
    _topic_audit(
        "topic_move",
        actor,
        topic,
        before,
        from_state=f"{before['committee_id'] or '-'}/{before['area_id'] or '-'}",
        to_state=f"{topic.committee_id or '-'}/{topic.area_id or '-'}",
    )
    return True


def set_topic_status(actor: User, topic: Topic, status: str) -> bool:
    """Open, close or archive (forum.services.set_topic_status)."""
    _require_admin(actor)
    new = enum_member(TopicStatus, status, status=_("This status cannot be set here."))
    before = _topic_data(topic)
    forum_services.set_topic_status(actor, topic, new)
    if before["status"] == topic.status.value:
        return False
    _topic_audit(
        "topic_status", actor, topic, before, from_state=before["status"], to_state=new.value
    )
    return True


def set_featured(actor: User, topic: Topic, featured: bool) -> bool:
    """Show a public topic on the home page (or stop showing it)."""
    _require_admin(actor)
    if featured and not topic.is_public:
        raise Conflict(_("Only a public topic can be featured."))
    if (topic.featured_at is not None) == featured:
        return False
    before = _topic_data(topic)
    topic.featured_at = utcnow() if featured else None
    db.session.flush()
    _topic_audit("topic_feature" if featured else "topic_unfeature", actor, topic, before)
    return True
