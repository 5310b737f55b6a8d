"""Administration's pages under ``/admin`` (admins only), and the invitation link.

Anonymous visitors of ``/admin`` are sent to log in; signed-in people who are not admins get
403. Each form calls one service, then the view commits (or rolls back and shows the form
again with what was typed and the errors).
"""

from __future__ import annotations

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_user
from sqlalchemy import func, select
from wtforms import SelectMultipleField
from wtforms.validators import Optional

from forum import hooks, uow
from forum.converters import parse_id
from forum.errorpages import render_error
from forum.errors import DomainError, InvalidInput
from forum.extensions import db, limiter, login_manager
from forum.forms import EmptyForm, choices
from forum.localtime import to_local, to_utc
from forum.models import Area, Committee, Role, Topic, TopicStatus, User
from forum.views import apply_errors, int_arg, me

from . import permissions, services, site, tokens
from .forms import (
    AcceptInvitationForm,
    ActiveForm,
    ArchiveForm,
    FeatureForm,
    InviteForm,
    MergeForm,
    MoveForm,
    PlaceForm,
    RoleForm,
    SiteSettingsForm,
    TopicEditForm,
    TopicFilterForm,
    TopicMoveForm,
    TopicStatusForm,
    UserSearchForm,
)
from .models import Invitation

bp = Blueprint("admin", __name__)
PREFIX = "/admin"


@bp.before_request
def _admins_only():
    """Everything under /admin: log in first, then admins only."""
    path = request.path
    if not (path == PREFIX or path.startswith(PREFIX + "/")):
        return None
    if not current_user.is_authenticated:
        return login_manager.unauthorized()
    if not permissions.is_admin(current_user):
        abort(403)
    return None


def _form_failed(form, exc: DomainError) -> None:
    """Roll back and put the service's refusal on the form (a field, or the first one)."""
    db.session.rollback()
    if not apply_errors(form, exc):
        first = next(iter(form._fields.values()))
        first.errors = [*list(first.errors or []), exc.message]


def _ids(values) -> list[int]:
    out = []
    for v in values or []:
        try:
            out.append(parse_id(v))
        except ValueError:
            raise InvalidInput(_("Choose from the list.")) from None
    return out


def _optional_id(value: str | None, field: str) -> int | None:
    if not value:
        return None
    try:
        return parse_id(value)
    except ValueError:
        raise InvalidInput(**{field: _("Choose from the list.")}) from None


def _committee_choices(include_archived: bool = True, empty: str | None = None) -> list:
    stmt = select(Committee).order_by(Committee.position, Committee.name)
    if not include_archived:
        stmt = stmt.where(Committee.archived_at.is_(None))
    head = [("", empty)] if empty is not None else []
    return choices(head + [(str(c.id), c.name) for c in db.session.scalars(stmt)])


def _area_choices(include_archived: bool = True, empty: str | None = None) -> list:
    stmt = select(Area).order_by(Area.position, Area.name)
    if not include_archived:
        stmt = stmt.where(Area.archived_at.is_(None))
    head = [("", empty)] if empty is not None else []
    return choices(head + [(str(a.id), a.name) for a in db.session.scalars(stmt)])


def role_labels() -> dict[str, str]:
    return {
        "citizen": _("Citizen"),
        "politician": _("Politician"),
        "moderator": _("Moderator"),
        "staff": _("Municipal staff"),
        "admin": _("Admin"),
    }


def status_labels() -> dict[str, str]:
    return {
        "proposed": _("Proposed"),
        "declined": _("Declined"),
        "open": _("Open"),
        "closed": _("Closed"),
        "archived": _("Archived"),
    }


@bp.app_context_processor
def _inject():
    return {"admin_is_admin": permissions.is_admin}


# --- overview ---------------------------------------------------------------------------


@bp.route("/admin/")
def index():
    counts = {
        "committees": db.session.scalar(select(func.count(Committee.id))) or 0,
        "areas": db.session.scalar(select(func.count(Area.id))) or 0,
        "users": db.session.scalar(select(func.count(User.id))) or 0,
        "topics": db.session.scalar(select(func.count(Topic.id))) or 0,
    }
    return render_template("admin/index.html", counts=counts)


# --- committees and local areas -----------------------------------------------------------

KINDS = {
    "committee": {
        "list": "admin.committees",
        "edit": "admin.committee",
        "move": "admin.move_committee",
        "archive": "admin.archive_committee",
        "public": "forum.committee",
        "arg": "committee_id",
    },
    "area": {
        "list": "admin.areas",
        "edit": "admin.area",
        "move": "admin.move_area",
        "archive": "admin.archive_area",
        "public": "forum.area",
        "arg": "area_id",
    },
}


def _edit_url(kind: str, place_id: int) -> str:
    return url_for(KINDS[kind]["edit"], **{KINDS[kind]["arg"]: place_id})


def _places_page(kind: str):
    form = PlaceForm()
    status = 200
    if request.method == "POST":
        if form.validate_on_submit():
            try:
                place = services.create_place(
                    me(), kind, form.name.data, form.slug.data, form.description.data
                )
            except DomainError as exc:
                _form_failed(form, exc)
            else:
                db.session.commit()
                flash(_("»%(name)s« is created.", name=place.name), "success")
                return redirect(url_for(KINDS[kind]["list"]))
        status = 400
    return render_template(
        "admin/places.html",
        kind=kind,
        urls=KINDS[kind],
        places=services.list_places(kind),
        form=form,
        move_form=MoveForm(),
    ), status


@bp.route("/admin/udvalg", methods=["GET", "POST"])
def committees():
    return _places_page("committee")


@bp.route("/admin/omraader", methods=["GET", "POST"])
def areas():
    return _places_page("area")


def _place_page(kind: str, place_id: int):
    place = services.get_place(kind, place_id)
    form = PlaceForm(obj=place) if request.method == "GET" else PlaceForm()
    merge_form = MergeForm()
    merge_form.target_id.choices = choices(
        [("", _("— choose an area —"))]
        + [(str(a.id), a.name) for a in services.list_places("area") if a.id != place.id]
    )
    status = 200
    if request.method == "POST":
        if form.validate_on_submit():
            try:
                changed = services.update_place(
                    me(), kind, place, form.name.data, form.slug.data, form.description.data
                )
            except DomainError as exc:
                _form_failed(form, exc)
            else:
                db.session.commit()
                flash(_("Saved.") if changed else _("Nothing was changed."), "success")
                return redirect(_edit_url(kind, place.id))
        status = 400
    return _render_place(kind, place, form, merge_form, status)


def _render_place(kind, place, form, merge_form, status):
    topic_count = db.session.scalar(
        select(func.count(Topic.id)).where(
            (Topic.area_id if kind == "area" else Topic.committee_id) == place.id
        )
    )
    return render_template(
        "admin/place.html",
        kind=kind,
        urls=KINDS[kind],
        place=place,
        form=form,
        merge_form=merge_form,
        archive_form=ArchiveForm(),
        topic_count=topic_count or 0,
    ), status


@bp.route("/admin/udvalg/<int:committee_id>", methods=["GET", "POST"])
def committee(committee_id: int):
    return _place_page("committee", committee_id)


@bp.route("/admin/omraader/<int:area_id>", methods=["GET", "POST"])
def area(area_id: int):
    return _place_page("area", area_id)


def _move(kind: str, place_id: int):
    place = services.get_place(kind, place_id)
    form = MoveForm()
    if not form.validate_on_submit() or form.direction.data not in ("up", "down"):
        return render_error(400, _("Choose up or down."))
    services.move_place(me(), kind, place, form.direction.data)
    db.session.commit()
    flash(_("»%(name)s« is moved.", name=place.name), "success")
    return redirect(url_for(KINDS[kind]["list"]) + f"#place-{place.id}")


@bp.route("/admin/udvalg/<int:committee_id>/flyt", methods=["POST"])
def move_committee(committee_id: int):
    return _move("committee", committee_id)


@bp.route("/admin/omraader/<int:area_id>/flyt", methods=["POST"])
def move_area(area_id: int):
    return _move("area", area_id)


def _archive(kind: str, place_id: int):
    place = services.get_place(kind, place_id)
    form = ArchiveForm()
    if not form.validate_on_submit() or form.archived.data not in ("0", "1"):
        return render_error(400)
    archived = form.archived.data == "1"
    services.set_place_archived(me(), kind, place, archived)
    db.session.commit()
    if archived:
        flash(_("»%(name)s« is archived: its topics stay readable.", name=place.name), "success")
    else:
        flash(_("»%(name)s« is in use again.", name=place.name), "success")
    return redirect(_edit_url(kind, place.id))


@bp.route("/admin/udvalg/<int:committee_id>/arkiv", methods=["POST"])
def archive_committee(committee_id: int):
    return _archive("committee", committee_id)


@bp.route("/admin/omraader/<int:area_id>/arkiv", methods=["POST"])
def archive_area(area_id: int):
    return _archive("area", area_id)


@bp.route("/admin/omraader/<int:area_id>/sammenlaeg", methods=["POST"])
def merge_area(area_id: int):
    source = services.get_place("area", area_id)
    merge_form = MergeForm()
    merge_form.target_id.choices = choices(
        [("", _("— choose an area —"))]
        + [(str(a.id), a.name) for a in services.list_places("area")]
    )
    if merge_form.validate_on_submit():
        try:
            target_id = _optional_id(merge_form.target_id.data, "target_id")
            target = db.session.get(Area, target_id) if target_id else None
            if target is None:
                raise InvalidInput(target_id=_("Choose from the list."))
            name = source.name
            services.merge_areas(me(), source, target)
        except DomainError as exc:
            _form_failed(merge_form, exc)
        else:
            db.session.commit()
            flash(_("»%(a)s« is merged into »%(b)s«.", a=name, b=target.name), "success")
            return redirect(url_for("admin.area", area_id=target.id))
    return _render_place("area", source, PlaceForm(obj=source), merge_form, 400)


# --- people -----------------------------------------------------------------------------


@bp.route("/admin/personer")
def people():
    form = UserSearchForm(request.args)
    form.role.choices = choices([("", _("Any role"))] + list(role_labels().items()))
    form.area_id.choices = _area_choices(empty=_("Any area"))
    page = int_arg("side")
    if not form.validate():
        return render_template(
            "admin/people.html", form=form, users=[], total=0, page=1, pages=1
        ), 400
    per_page = current_app.config["ADMIN_USERS_PER_PAGE"]
    users, total = services.search_users(
        form.q.data or "",
        form.role.data or None,
        _optional_id(form.area_id.data, "area_id"),
        page,
        per_page,
    )
    pages = max(1, (total + per_page - 1) // per_page)
    args = {k: v for k, v in request.args.items() if k != "side" and v}
    return render_template(
        "admin/people.html",
        form=form,
        users=users,
        total=total,
        page=page,
        pages=pages,
        args=args,
        role_labels=role_labels(),
    )


def _role_form_class() -> type[RoleForm]:
    """The role form with one checkbox list per area-scoped capacity another package keeps
    (``forum.hooks.register_area_capacity``: meetings' local forum contacts)."""
    caps = hooks.area_capacities()
    if not caps:
        return RoleForm
    fields = {
        # choices checked by the service, which answers in the reader's language
        f"cap_{cap.name}": SelectMultipleField(
            cap.label, coerce=str, validators=[Optional()], validate_choice=False
        )
        for cap in caps
    }
    return type("RoleFormWithCapacities", (RoleForm,), fields)


def _role_form(user: User | None, data=None) -> RoleForm:
    cls = _role_form_class()
    if user is not None and data is None:
        form = cls(
            formdata=None,
            role=user.role.value,
            party=user.party or "",
            committees=[str(c.id) for c in user.committees],
            areas=[str(a.id) for a in user.moderated_areas],
            chairs=[
                str(i)
                for i in db.session.scalars(
                    select(Committee.id).where(Committee.chair_id == user.id)
                )
            ],
            **{
                f"cap_{cap.name}": [str(i) for i in cap.read(user)]
                for cap in hooks.area_capacities()
            },
        )
    else:
        form = cls()
    form.role.choices = choices(list(role_labels().items()))
    form.committees.choices = _committee_choices()
    form.chairs.choices = _committee_choices()
    form.areas.choices = _area_choices()
    for cap in hooks.area_capacities():
        form[f"cap_{cap.name}"].choices = _area_choices()
    return form


def _capacity_fields(form: RoleForm) -> list:
    return [form[f"cap_{cap.name}"] for cap in hooks.area_capacities()]


def _render_person(user: User, form: RoleForm, status: int = 200):
    return render_template(
        "admin/person.html",
        user=user,
        form=form,
        active_form=ActiveForm(),
        role_labels=role_labels(),
        capacity_fields=_capacity_fields(form),
    ), status


@bp.route("/admin/personer/<int:user_id>", methods=["GET", "POST"])
def person(user_id: int):
    user = db.session.get(User, user_id) or abort(404)
    if request.method == "GET":
        return _render_person(user, _role_form(user))
    form = _role_form(None, request.form)
    if form.validate_on_submit():
        try:
            changed = services.change_role(
                me(),
                user,
                form.role.data,
                form.party.data,
                _ids(form.committees.data),
                _ids(form.areas.data),
                _ids(form.chairs.data),
                {cap.name: _ids(form[f"cap_{cap.name}"].data) for cap in hooks.area_capacities()},
            )
        except DomainError as exc:
            _form_failed(form, exc)
            return _render_person(user, form, exc.status)
        db.session.commit()
        flash(_("Saved.") if changed else _("Nothing was changed."), "success")
        return redirect(url_for("admin.person", user_id=user.id))
    return _render_person(user, form, 400)


@bp.route("/admin/personer/<int:user_id>/aktiv", methods=["POST"])
def set_active(user_id: int):
    user = db.session.get(User, user_id) or abort(404)
    form = ActiveForm()
    if not form.validate_on_submit() or form.active.data not in ("0", "1"):
        return render_error(400)
    active = form.active.data == "1"
    try:
        services.set_active(me(), user, active)
    except DomainError as exc:
        db.session.rollback()
        return render_error(exc.status, exc.message)
    db.session.commit()
    if active:
        flash(_("%(name)s can log in again.", name=user.display_name), "success")
    else:
        flash(
            _("%(name)s is deactivated and logged out everywhere.", name=user.display_name),
            "success",
        )
    return redirect(url_for("admin.person", user_id=user.id))


# --- invitations --------------------------------------------------------------------------


def _invite_form() -> InviteForm:
    form = InviteForm()
    form.role.choices = choices(
        [
            ("politician", _("Politician")),
            ("moderator", _("Moderator")),
            ("staff", _("Municipal staff")),
        ]
    )
    form.committees.choices = _committee_choices(include_archived=False)
    form.areas.choices = _area_choices(include_archived=False)
    return form


@bp.route("/admin/invitationer", methods=["GET", "POST"])
def invitations():
    form = _invite_form()
    link = invited_email = None
    status = 200
    if request.method == "POST":
        if form.validate_on_submit():
            try:
                invitation, token = services.create_invitation(
                    me(),
                    form.email.data,
                    form.role.data,
                    form.party.data,
                    _ids(form.committees.data),
                    _ids(form.areas.data),
                )
            except DomainError as exc:
                _form_failed(form, exc)
                status = exc.status
            else:
                db.session.commit()
                # Shown once, on this answer only: the token is not stored.
                link = url_for("admin.invitation", token=token, _external=True)
                invited_email = invitation.email
                form = _invite_form()
                form.email.data = ""
        else:
            status = 400
    recent = db.session.scalars(select(Invitation).order_by(Invitation.id.desc()).limit(50)).all()
    return render_template(
        "admin/invitations.html",
        form=form,
        link=link,
        invited_email=invited_email,
        recent=recent,
        role_labels=role_labels(),
        now=services.utcnow(),
    ), status


@bp.route("/invitation/<token>", methods=["GET", "POST"])
def invitation(token: str):
    """The invited person's page: set a name and password (a new account), or, for an
    address with an account, log in as it and accept the offered role."""
    try:
        inv = tokens.read_token(token)
    except tokens.InvitationProblem as problem:
        return render_template("admin/invitation_problem.html", reason=problem.reason), (
            410 if problem.reason in ("expired", "used") else 404
        )
    existing = services.forum_services.get_user_by_email(inv.email)
    role = role_labels().get(inv.role, inv.role)
    if existing is not None:
        form = EmptyForm()
        mine = current_user.is_authenticated and current_user.id == existing.id
        if request.method == "POST" and mine and form.validate_on_submit():
            try:
                services.accept_invitation_existing(me(), token)
            except tokens.InvitationProblem as problem:
                db.session.rollback()
                return render_template("admin/invitation_problem.html", reason=problem.reason), 410
            except DomainError as exc:
                db.session.rollback()
                return render_error(exc.status, exc.message)
            db.session.commit()
            flash(_("Your role is now: %(role)s.", role=role), "success")
            return redirect(url_for("forum.profile", user_id=existing.id))
        status = 200 if request.method == "GET" else 400
        return render_template(
            "admin/invitation_existing.html",
            inv=inv,
            role=role,
            form=form,
            mine=mine,
            token=token,
        ), status
    form = AcceptInvitationForm()
    if form.validate_on_submit():
        try:
            user = services.accept_invitation_new(token, form.display_name.data, form.password.data)
        except tokens.InvitationProblem as problem:
            db.session.rollback()
            return render_template("admin/invitation_problem.html", reason=problem.reason), 410
        except DomainError as exc:
            _form_failed(form, exc)
        else:
            db.session.commit()
            login_user(user)
            flash(_("Welcome! Your account is ready. Your role: %(role)s.", role=role), "success")
            return redirect(url_for("forum.home"))
    status = 400 if form.errors else 200
    return render_template(
        "admin/invitation_new.html", inv=inv, role=role, form=form, token=token
    ), status


# --- topics -----------------------------------------------------------------------------


@bp.route("/admin/emner")
def topics():
    form = TopicFilterForm(request.args)
    form.status.choices = choices([("", _("Any status"))] + list(status_labels().items()))
    if not form.validate():
        return render_template(
            "admin/topics.html", form=form, topics=[], page=1, pages=1, args={}
        ), 400
    per_page = current_app.config["ADMIN_TOPICS_PER_PAGE"]
    page = int_arg("side")
    stmt = select(Topic)
    if form.q.data:
        q = form.q.data.strip().lower()
        like = "%" + q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        stmt = stmt.where(func.lower(Topic.title).like(like, escape="\\"))
    if form.status.data:
        stmt = stmt.where(Topic.status == TopicStatus(form.status.data))
    total = db.session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    rows = db.session.scalars(
        stmt.order_by(Topic.featured_at.is_(None), Topic.created_at.desc(), Topic.id.desc())
        .limit(per_page)
        .offset((page - 1) * per_page)
    ).all()
    pages = max(1, (total + per_page - 1) // per_page)
    args = {k: v for k, v in request.args.items() if k != "side" and v}
    return render_template(
        "admin/topics.html",
        form=form,
        topics=rows,
        total=total,
        page=page,
        pages=pages,
        args=args,
        status_labels=status_labels(),
    )


@bp.route("/admin/emner/nyt", methods=["GET", "POST"])
def new_topic():
    from forum.forms import TopicForm

    form = TopicForm()
    form.committee_id.choices = _committee_choices(False, _("— none —"))
    form.area_id.choices = _area_choices(False, _("— none —"))
    if form.validate_on_submit():
        try:
            topic = services.create_topic(
                me(),
                form.title.data,
                form.intro.data,
                _optional_id(form.committee_id.data, "committee_id"),
                _optional_id(form.area_id.data, "area_id"),
                to_utc(form.deadline.data),
            )
        except DomainError as exc:
            _form_failed(form, exc)
        else:
            db.session.commit()
            flash(_("The topic is open."), "success")
            return redirect(url_for("admin.topic", topic_id=topic.id))
    status = 400 if form.errors else 200
    return render_template("admin/topic_new.html", form=form), status


def _topic_forms(topic: Topic):
    move = TopicMoveForm(
        formdata=None,
        committee_id=str(topic.committee_id or ""),
        area_id=str(topic.area_id or ""),
    )
    move.committee_id.choices = _committee_choices(empty=_("— none —"))
    move.area_id.choices = _area_choices(empty=_("— none —"))
    status = TopicStatusForm(formdata=None, status=topic.status.value)
    status.status.choices = _status_choices()
    return move, status


def _status_choices() -> list:
    labels = status_labels()
    return choices([(s, labels[s]) for s in ("open", "closed", "archived")])


def _render_topic(topic: Topic, edit=None, move=None, status_form=None, status: int = 200):
    default_move, default_status = _topic_forms(topic)
    if edit is None:
        edit = TopicEditForm(
            formdata=None,
            title=topic.title,
            intro=topic.intro_source,
            deadline=to_local(topic.deadline),
        )
    return render_template(
        "admin/topic.html",
        topic=topic,
        edit=edit,
        move=move or default_move,
        status_form=status_form or default_status,
        feature_form=FeatureForm(),
        status_labels=status_labels(),
    ), status


def _topic_or_404(topic_id: int) -> Topic:
    return db.session.get(Topic, topic_id) or abort(404)


@bp.route("/admin/emner/<int:topic_id>", methods=["GET", "POST"])
def topic(topic_id: int):
    topic = _topic_or_404(topic_id)
    if request.method == "GET":
        return _render_topic(topic)
    form = TopicEditForm()
    if form.validate_on_submit():
        try:
            services.edit_topic(
                me(), topic, form.title.data, form.intro.data, to_utc(form.deadline.data)
            )
        except DomainError as exc:
            _form_failed(form, exc)
            return _render_topic(topic, edit=form, status=exc.status)
        db.session.commit()
        flash(_("Saved."), "success")
        return redirect(url_for("admin.topic", topic_id=topic.id))
    return _render_topic(topic, edit=form, status=400)


@bp.route("/admin/emner/<int:topic_id>/flyt", methods=["POST"])
def move_topic(topic_id: int):
    topic = _topic_or_404(topic_id)
    form = TopicMoveForm()
    form.committee_id.choices = _committee_choices(empty=_("— none —"))
    form.area_id.choices = _area_choices(empty=_("— none —"))
    if form.validate_on_submit():
        try:
            moved = services.move_topic(
                me(),
                topic,
                _optional_id(form.committee_id.data, "committee_id"),
                _optional_id(form.area_id.data, "area_id"),
            )
        except DomainError as exc:
            _form_failed(form, exc)
            return _render_topic(topic, move=form, status=exc.status)
        db.session.commit()
        flash(_("The topic is moved.") if moved else _("Nothing was changed."), "success")
        return redirect(url_for("admin.topic", topic_id=topic.id))
    return _render_topic(topic, move=form, status=400)


@bp.route("/admin/emner/<int:topic_id>/status", methods=["POST"])
def topic_status(topic_id: int):
    topic = _topic_or_404(topic_id)
    form = TopicStatusForm()
    form.status.choices = _status_choices()
    if form.validate_on_submit():
        try:
            changed = services.set_topic_status(me(), topic, form.status.data)
        except DomainError as exc:
            _form_failed(form, exc)
            return _render_topic(topic, status_form=form, status=exc.status)
        db.session.commit()
        flash(
            _("The topic's status is changed.") if changed else _("Nothing was changed."), "success"
        )
        return redirect(url_for("admin.topic", topic_id=topic.id))
    return _render_topic(topic, status_form=form, status=400)


@bp.route("/admin/emner/<int:topic_id>/fremhaev", methods=["POST"])
def feature_topic(topic_id: int):
    topic = _topic_or_404(topic_id)
    form = FeatureForm()
    if not form.validate_on_submit() or form.featured.data not in ("0", "1"):
        return render_error(400)
    featured = form.featured.data == "1"
    try:
        services.set_featured(me(), topic, featured)
    except DomainError as exc:
        db.session.rollback()
        return render_error(exc.status, exc.message)
    db.session.commit()
    flash(
        _("The topic is shown on the home page.")
        if featured
        else _("The topic is no longer shown on the home page."),
        "success",
    )
    return redirect(url_for("admin.topic", topic_id=topic.id))


__all__ = ["bp", "Role"]


# --- site settings ------------------------------------------------------------------------


@bp.route("/admin/indstillinger", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["RATELIMIT_WRITE"], methods=["POST"])
def site_settings():
    look = site.row()
    form = SiteSettingsForm(
        data={
            "intro": look.intro_source or "",
            "contact": look.contact or "",
            "brand_colour": look.brand_colour or "",
            "brand_dark_colour": look.brand_dark_colour or "",
            "licence": look.open_data_licence or "",
        }
    )
    default = site.default_licence()
    form.licence.choices = choices(
        [("", _("The default: %(name)s", name=default.name))]
        + [(code, lic.name) for code, lic in site.LICENCES.items()]
    )
    status = 200
    if request.method == "POST":
        if form.validate_on_submit():
            upload = form.logo.data
            logo = upload.read() if upload and getattr(upload, "filename", "") else None
            with uow.saving(form) as saved:
                changed = site.update(
                    me(),
                    form.intro.data,
                    form.contact.data,
                    form.brand_colour.data,
                    form.brand_dark_colour.data,
                    logo=logo,
                    remove_logo=bool(form.remove_logo.data),
                    licence=form.licence.data or "",
                )
            if saved.ok:
                site.forget_cached()
                flash(
                    _("The site settings are saved.") if changed else _("Nothing was changed."),
                    "success",
                )
                return redirect(url_for("admin.site_settings"))
            if not saved.placed:
                raise saved.error
            status = saved.status
        else:
            status = 400
    return render_template(
        "admin/site_settings.html",
        form=form,
        look=look,
        default_brand=site.DEFAULT_BRAND,
        default_dark=site.DEFAULT_BRAND_DARK,
        licence=site.licence(site.snapshot(look)),
    ), status


@bp.route("/udseende/tema-<int:version>.css")
def theme_css(version: int):
    """The generated stylesheet with the chosen colours (the CSP allows no inline style)."""
    snap = site.current()
    response = current_app.response_class(site.stylesheet(snap), mimetype="text/css")
    if version == snap.version:
        response.headers["Cache-Control"] = "public, max-age=31536000, immutable"
    else:  # an old or future version: serve what is current, briefly
        response.headers["Cache-Control"] = "public, max-age=60"
    return response


@bp.route("/udseende/logo-<int:version>")
def logo(version: int):
    """The uploaded logo, with the content type it was checked to have (never guessed)."""
    snap = site.current()
    if not snap.logo_type or version != snap.version:
        look = site.row()  # another process may have saved a newer one
        if not look.logo_type or version != look.version:
            abort(404)
        snap = site.snapshot(look)
    path = site.logo_path(snap.version, snap.logo_type)
    if not path.is_file():
        abort(404)
    # Small (ADMIN_LOGO_MAX_BYTES): read whole, so no file stays open with the response.
    response = current_app.response_class(path.read_bytes(), mimetype=f"image/{snap.logo_type}")
    response.headers["Content-Disposition"] = "inline"
    response.headers["Cache-Control"] = "public, max-age=31536000, immutable"
    return response


@bp.app_context_processor
def _inject_site_look():
    return {"site_look": site.current}
