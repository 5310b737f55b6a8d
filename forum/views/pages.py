from __future__ import annotations

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select

from .. import permissions, queries, services, uow
from ..converters import parse_id
from ..extensions import db
from ..forms import EmptyForm
from ..models import Area, Committee, SlugHistory, User
from . import bp, int_arg


@bp.route("/")
def home():
    return render_template(
        "forum/home.html",
        topics=queries.active_topics(current_user, limit=10),
        featured=queries.featured_topics(limit=5),
        answers=queries.politician_answers(limit=5),
        deadlines=queries.upcoming_deadlines(limit=5),
    )


@bp.route("/udvalg")
def committees():
    return render_template("forum/committees.html", items=queries.committees_with_counts())


def _renamed(kind: str, slug: str, endpoint: str):
    """A 301 to the place's current address when ``slug`` is one it had before, else 404."""
    model = Committee if kind == "committee" else Area
    target_id = db.session.scalar(
        select(SlugHistory.target_id).where(SlugHistory.kind == kind, SlugHistory.old_slug == slug)
    )
    place = db.session.get(model, target_id) if target_id is not None else None
    if place is None:
        abort(404)
    return redirect(url_for(endpoint, slug=place.slug), 301)


@bp.route("/udvalg/<slug>")
def committee(slug: str):
    item = db.session.scalar(select(Committee).where(Committee.slug == slug))
    if item is None:
        return _renamed("committee", slug, "forum.committee")
    return render_template(
        "forum/place.html",
        place=item,
        kind="committee",
        topics=queries.topics_for(current_user, committee=item),
        politicians=queries.politicians_of_committee(item),
        can_open=item.archived_at is None
        and permissions.can_open_topic(current_user, item.id, None),
    )


@bp.route("/omraader")
def areas():
    return render_template("forum/areas.html", items=queries.areas_with_counts())


@bp.route("/omraader/<slug>")
def area(slug: str):
    item = db.session.scalar(select(Area).where(Area.slug == slug))
    if item is None:
        return _renamed("area", slug, "forum.area")
    return render_template(
        "forum/place.html",
        place=item,
        kind="area",
        topics=queries.topics_for(current_user, area=item),
        politicians=queries.politicians_of_area(item),
        can_open=item.archived_at is None and permissions.can_write(current_user),
    )


@bp.route("/profil/<int:user_id>")
def profile(user_id: int):
    owner = queries.user_with_memberships(user_id)
    if owner is None or owner.deleted_at is not None:  # a deleted account has no profile
        abort(404)
    page = int_arg("side")
    posts, more = queries.profile_posts(
        owner, current_user, page, current_app.config["PROFILE_POSTS_PER_PAGE"]
    )
    return render_template(
        "forum/profile.html",
        owner=owner,
        posts=posts,
        page=page,
        more=more,
        counts=queries.profile_counts(owner),
    )


@bp.route("/notifikationer", methods=["GET"])
@login_required
def notifications():
    page = int_arg("side")
    items, more = queries.notifications_for(
        current_user, page, current_app.config["NOTIFICATIONS_PER_PAGE"]
    )
    # A notification whose post has since been hidden keeps its row but loses its text.
    visible = {
        n.id: n.post is None or permissions.can_see_post(current_user, n.post, n.topic)
        for n in items
    }
    return render_template(
        "forum/notifications.html",
        items=items,
        visible=visible,
        page=page,
        more=more,
        form=EmptyForm(),
    )


@bp.route("/notifikationer/laest", methods=["POST"])
@login_required
def notifications_read():
    form = EmptyForm()
    if not form.validate_on_submit():
        abort(400)
    ids = None
    if request.form.get("id"):
        try:
            ids = [parse_id(request.form["id"])]
        except ValueError:
            abort(400)
    services.mark_notifications_read(current_user, ids)
    uow.commit()
    if ids is None:
        flash(_("All notifications are marked as read."), "success")
    return redirect(url_for("forum.notifications"))


@bp.route("/brugere/<int:user_id>")
def user_redirect(user_id: int):
    db.session.get(User, user_id) or abort(404)
    return redirect(url_for("forum.profile", user_id=user_id), 301)
