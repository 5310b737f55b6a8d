"""Meeting pages: the list, a meeting with its registration form, create/edit/cancel for
organisers, the attendee CSV, and the calendars (.ics per meeting, feeds per committee,
area and topic, and a personal feed at a secret address). Every page works without
JavaScript; every POST has a rate limit of its own."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select

from forum import exports, uow
from forum import permissions as fp
from forum.errors import PermissionDenied
from forum.extensions import db, limiter
from forum.forms import choices
from forum.localtime import to_local, to_utc
from forum.models import Area, Committee, Role, Topic, User, utcnow
from forum.views import me

from . import hybrid, ics, invitations, minutes, permissions, queries, services
from .forms import (
    AcceptForm,
    CancelForm,
    ContributionForm,
    DeclineForm,
    EmptyForm,
    InvitationForm,
    MeetingForm,
    MinutesForm,
    RegisterForm,
    kind_label,
)
from .models import Meeting, MeetingRegistration, RegistrationStatus

bp = Blueprint("meetings", __name__, url_prefix="/moeder")


def _write_limit() -> str:
    return current_app.config["RATELIMIT_WRITE"]


def _staff_limit() -> str:
    return current_app.config["RATELIMIT_STAFF"]


def _id(value) -> int | None:
    """A row id typed into a form, or None (not digits, or longer than any id: a forged
    value never reaches the database as an out-of-range integer)."""
    text = str(value or "")
    return int(text) if text.isdigit() and len(text) < 10 else None


def _meeting_or_404(meeting_id: int) -> Meeting:
    meeting = db.session.get(Meeting, meeting_id)
    if meeting is None:
        abort(404)
    return meeting


def _host() -> str:
    return urlsplit(request.host_url).hostname or "borgerdialog"


# --- pages ------------------------------------------------------------------------------------


@bp.route("")
def index():
    coming, past = queries.listing()
    return render_template(
        "meetings/index.html",
        coming=coming,
        past=past,
        kind_label=kind_label,
        can_organise=permissions.can_organise(current_user),
    )


@bp.route("/<int:meeting_id>")
def meeting(meeting_id: int, form: RegisterForm | None = None, status: int = 200, **forms):
    m = _meeting_or_404(meeting_id)
    manage = permissions.can_manage(current_user, m)
    seats, waiting = queries.counts(m.id)
    return render_template(
        "meetings/meeting.html",
        meeting=m,
        kind_label=kind_label,
        manage=manage,
        attendees=queries.attendees(m.id) if manage else [],
        seats=seats,
        waiting=waiting,
        mine=services.registration_of(current_user, m.id),
        closed=services.registration_closed(m),
        form=form or RegisterForm(formdata=None),
        button=EmptyForm(),
        cancel_form=CancelForm(formdata=None),
        topic_visible=permissions.can_see_topic_link(current_user, m),
        started=m.starts_at <= utcnow(),
        contributions=minutes.contributions(current_user, m),
        live_session=hybrid.live_session_of(m),
        # Live Q&A sessions are scheduled by moderators of the area (qa/permissions.py).
        may_schedule_qa="qa" in current_app.blueprints
        and fp.can_moderate_area(current_user, m.area_id),
        minutes_form=forms.get("minutes_form")
        or MinutesForm(formdata=None, data={"minutes": m.minutes_source}),
        contribution_form=forms.get("contribution_form") or ContributionForm(formdata=None),
    ), status


def _form_lists():
    committees = db.session.scalars(
        select(Committee).where(Committee.archived_at.is_(None)).order_by(Committee.name)
    ).all()
    areas = db.session.scalars(
        select(Area).where(Area.archived_at.is_(None)).order_by(Area.name)
    ).all()
    politicians = db.session.scalars(
        select(User)
        .where(User.role == Role.POLITICIAN, User.deleted_at.is_(None))
        .order_by(User.display_name)
    ).all()
    return committees, areas, politicians


def _data(form: MeetingForm) -> dict:
    def opt_int(value):
        return _id(value)

    return {
        "kind": form.kind.data,
        "title": form.title.data,
        "description": form.description.data,
        "starts_at": to_utc(form.starts_at.data),
        "ends_at": to_utc(form.ends_at.data),
        "address": form.address.data,
        "room": form.room.data,
        "accessibility": form.accessibility.data,
        "step_free": form.step_free.data,
        "hearing_loop": form.hearing_loop.data,
        "child_care": form.child_care.data,
        "interpretation": form.interpretation.data,
        "online_link": form.online_link.data,
        "committee_id": opt_int(form.committee_id.data),
        "area_id": opt_int(form.area_id.data),
        "topic_id": form.topic_id.data,
        "politician_ids": [_id(i) for i in form.politician_ids.data or () if _id(i) is not None],
        "registration": form.registration.data,
        "capacity": form.capacity.data,
        "registration_deadline": to_utc(form.registration_deadline.data),
    }


@bp.route("/ny", methods=["GET", "POST"])
@login_required
@limiter.limit(_staff_limit, methods=["POST"])
def new():
    if not permissions.can_organise(current_user):
        raise PermissionDenied(
            _("Only staff, politicians and local forum contacts organise meetings.")
        )
    form = MeetingForm()
    form.set_choices(*_form_lists())
    if request.method == "GET":
        for key, arg in (("committee_id", "udvalg"), ("area_id", "omraade")):
            if request.args.get(arg, "").isdigit():
                getattr(form, key).data = request.args[arg]
        if request.args.get("emne", "").isdigit():
            form.topic_id.data = int(request.args["emne"])
    status = 200
    if form.validate_on_submit():
        with uow.saving(form) as saved:
            created = services.create_meeting(me(), _data(form))
        if saved.ok:
            flash(_("The meeting is published."), "success")
            return redirect(url_for("meetings.meeting", meeting_id=created.id))
        if not saved.placed:
            raise saved.error
        status = saved.status
    elif request.method == "POST":
        status = 400
    return render_template("meetings/form.html", form=form, meeting=None), status


@bp.route("/<int:meeting_id>/rediger", methods=["GET", "POST"])
@login_required
@limiter.limit(_staff_limit, methods=["POST"])
def edit(meeting_id: int):
    m = _meeting_or_404(meeting_id)
    if not permissions.can_manage(current_user, m):
        raise PermissionDenied(_("Only the meeting's organisers change it."))
    form = MeetingForm(obj=None if request.method == "POST" else _as_form(m))
    form.set_choices(*_form_lists())
    status = 200
    if form.validate_on_submit():
        with uow.saving(form) as saved:
            changed = services.edit_meeting(me(), m, _data(form))
        if saved.ok:
            flash(_("The meeting is saved.") if changed else _("Nothing was changed."), "success")
            return redirect(url_for("meetings.meeting", meeting_id=m.id))
        if not saved.placed:
            raise saved.error
        status = saved.status
    elif request.method == "POST":
        status = 400
    return render_template("meetings/form.html", form=form, meeting=m), status


class _FormData:
    def __init__(self, **kw) -> None:
        self.__dict__.update(kw)


def _as_form(m: Meeting) -> _FormData:
    return _FormData(
        kind=m.kind.value,
        title=m.title,
        description=m.description_source,
        starts_at=to_local(m.starts_at),
        ends_at=to_local(m.ends_at),
        address=m.address,
        room=m.room,
        accessibility=m.accessibility,
        step_free=m.step_free,
        hearing_loop=m.hearing_loop,
        child_care=m.child_care,
        interpretation=m.interpretation,
        online_link=m.online_link or "",
        committee_id=str(m.committee_id or ""),
        area_id=str(m.area_id or ""),
        topic_id=m.topic_id,
        politician_ids=[str(p.id) for p in m.politicians],
        registration=m.registration,
        capacity=m.capacity,
        registration_deadline=to_local(m.registration_deadline),
    )


@bp.route("/<int:meeting_id>/aflys", methods=["POST"])
@login_required
@limiter.limit(_staff_limit, methods=["POST"])
def cancel(meeting_id: int):
    m = _meeting_or_404(meeting_id)
    form = CancelForm()
    if not form.validate_on_submit():
        abort(400)
    with uow.saving(form) as saved:
        services.cancel_meeting(me(), m, form.reason.data)
    if not saved.ok:
        raise saved.error
    flash(_("The meeting is cancelled; everybody registered is told."), "success")
    return redirect(url_for("meetings.meeting", meeting_id=m.id))


@bp.route("/<int:meeting_id>/tilmeld", methods=["POST"])
@login_required
@limiter.limit(_write_limit, methods=["POST"])
def register(meeting_id: int):
    m = _meeting_or_404(meeting_id)
    form = RegisterForm()
    if not form.validate_on_submit():
        return meeting(m.id, form=form, status=400)
    with uow.saving(form) as saved:
        row = services.register(me(), m.id, form.question.data)
    if not saved.ok:
        if saved.placed:
            return meeting(m.id, form=form, status=saved.status)
        flash(saved.error.message, "error")
        return redirect(url_for("meetings.meeting", meeting_id=m.id)), 303
    if row.status == RegistrationStatus.CONFIRMED:
        flash(_("You are registered. See you there!"), "success")
    else:
        flash(
            _(
                "The meeting is full: you are number %(n)d on the waiting list. We write to "
                "you when a seat is free.",
                n=row.position,
            ),
            "success",
        )
    return redirect(url_for("meetings.meeting", meeting_id=m.id))


@bp.route("/tilmeldinger/<int:registration_id>/afmeld", methods=["POST"])
@login_required
@limiter.limit(_write_limit, methods=["POST"])
def unregister(registration_id: int):
    form = EmptyForm()
    if not form.validate_on_submit():
        abort(400)
    row = db.session.get(MeetingRegistration, registration_id)
    meeting_id = row.meeting_id if row is not None else None
    with uow.saving(form) as saved:
        services.cancel_registration(me(), registration_id)
    if not saved.ok:
        raise saved.error
    flash(_("Your registration is cancelled."), "success")
    return redirect(url_for("meetings.meeting", meeting_id=meeting_id))


@bp.route("/<int:meeting_id>/deltagere.csv")
@login_required
def attendees_csv(meeting_id: int):
    m = _meeting_or_404(meeting_id)
    if not permissions.can_manage(current_user, m):
        abort(404)
    rows = queries.attendees(m.id)
    header = [_("Name"), _("E-mail"), _("Status"), _("Waiting list number"), _("Question")]
    labels = {
        RegistrationStatus.CONFIRMED: _("Seat"),
        RegistrationStatus.WAITING: _("Waiting list"),
    }
    body = (
        [r.user.display_name, r.user.email, labels[r.status], r.position or "", r.question]
        for r in rows
    )
    # Built whole (a meeting's list is small), not streamed: nothing is left open.
    text = "".join(exports.stream(header, body))
    resp = Response(text, mimetype="text/csv")
    resp.headers["Content-Type"] = "text/csv; charset=utf-8"
    resp.headers["Content-Disposition"] = f'attachment; filename="deltagere-mode-{m.id}.csv"'
    return resp


# --- calendars --------------------------------------------------------------------------------


def _ics(body: bytes, filename: str, attachment: bool = True) -> Response:
    resp = Response(body, mimetype="text/calendar")
    resp.headers["Content-Type"] = "text/calendar; charset=utf-8"
    if attachment:
        resp.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return resp


def _url(m: Meeting) -> str:
    return url_for("meetings.meeting", meeting_id=m.id, _external=True)


@bp.route("/<int:meeting_id>.ics")
def meeting_ics(meeting_id: int):
    m = _meeting_or_404(meeting_id)
    return _ics(ics.meetings_calendar([m], _url, _host()), f"moede-{m.id}.ics")


@bp.route("/kalender/udvalg/<slug>.ics")
def committee_ics(slug: str):
    item = db.session.scalar(select(Committee).where(Committee.slug == slug)) or abort(404)
    rows = queries.for_feed(committee_id=item.id)
    return _ics(ics.meetings_calendar(rows, _url, _host(), item.name), f"{slug}.ics", False)


@bp.route("/kalender/omraader/<slug>.ics")
def area_ics(slug: str):
    item = db.session.scalar(select(Area).where(Area.slug == slug)) or abort(404)
    rows = queries.for_feed(area_id=item.id)
    return _ics(ics.meetings_calendar(rows, _url, _host(), item.name), f"{slug}.ics", False)


@bp.route("/kalender/emner/<int:topic_id>.ics")
def topic_ics(topic_id: int):
    topic = db.session.get(Topic, topic_id)
    if topic is None or not fp.can_see_topic(None, topic):
        abort(404)  # a feed has no login: public topics only
    rows = queries.for_feed(topic_id=topic.id)
    return _ics(
        ics.meetings_calendar(rows, _url, _host(), topic.title), f"emne-{topic.id}.ics", False
    )


@bp.route("/kalender/mig/<token>.ics")
def personal_ics(token: str):
    user = services.user_for_token(token)
    if user is None:
        abort(404)
    rows = queries.personal(user.id)
    return _ics(
        ics.meetings_calendar(rows, _url, _host(), _("My meetings")), "mine-moeder.ics", False
    )


@bp.route("/min-kalender", methods=["GET", "POST"])
@login_required
@limiter.limit(_write_limit, methods=["POST"])
def my_calendar():
    form = EmptyForm()
    if request.method == "POST":
        if not form.validate_on_submit():
            abort(400)
        had = services.existing_calendar_token(me()) is not None
        services.calendar_token(me(), reset=True)
        uow.commit()
        if had:
            flash(_("Your calendar has a new address; the old one no longer works."), "success")
        return redirect(url_for("meetings.my_calendar"))
    token = services.existing_calendar_token(me())  # never written on a GET
    return render_template(
        "meetings/my_calendar.html",
        feed_url=url_for("meetings.personal_ics", token=token, _external=True) if token else None,
        form=form,
    )


# --- invitations from local areas -------------------------------------------------------------


@bp.route("/invitationer")
def invitation_list():
    """Every invitation (public), open ones first with how long they have waited."""
    return render_template(
        "meetings/invitations.html",
        rows=invitations.overview(),
        now=utcnow(),
        staff=fp.is_staff(current_user),
    )


@bp.route("/invitationer/ny", methods=["GET", "POST"])
@login_required
@limiter.limit(_write_limit, methods=["POST"])
def new_invitation():
    u = me()
    areas = db.session.scalars(select(Area).order_by(Area.name)).all()
    mine = [a for a in areas if invitations.can_invite(u, a.id)]
    if not mine:
        raise PermissionDenied(_("Only the area's local forum contacts and staff invite."))
    committees, _areas, politicians = _form_lists()
    form = InvitationForm()
    form.area_id.choices = choices((str(a.id), a.name) for a in mine)
    form.committee_id.choices = choices(
        [("", _("None"))] + [(str(c.id), c.name) for c in committees]
    )
    form.politician_ids.choices = choices(
        (str(p.id), f"{p.display_name} ({p.party})" if p.party else p.display_name)
        for p in politicians
    )
    status = 200
    if form.validate_on_submit():
        with uow.saving(form) as saved:
            inv = invitations.invite(
                u,
                _id(form.area_id.data),
                subject=form.subject.data,
                proposed_dates=form.proposed_dates.data,
                message=form.message.data,
                committee_id=_id(form.committee_id.data),
                politician_ids=[
                    _id(i) for i in form.politician_ids.data or () if _id(i) is not None
                ],
            )
        if saved.ok:
            flash(_("The invitation is sent."), "success")
            return redirect(url_for("meetings.invitation", invitation_id=inv.id))
        if not saved.placed:
            raise saved.error
        status = saved.status
    elif request.method == "POST":
        status = 400
    return render_template("meetings/invitation_form.html", form=form), status


def _invitation_or_404(invitation_id: int):
    from .models import MeetingInvitation

    inv = db.session.get(MeetingInvitation, invitation_id)
    if inv is None:
        abort(404)
    return inv


@bp.route("/invitationer/<int:invitation_id>")
def invitation(invitation_id: int, accept_form=None, decline_form=None, status: int = 200):
    inv = _invitation_or_404(invitation_id)
    return render_template(
        "meetings/invitation.html",
        inv=inv,
        now=utcnow(),
        may_answer=invitations.can_answer(current_user, inv),
        accept_form=accept_form or AcceptForm(formdata=None),
        decline_form=decline_form or DeclineForm(formdata=None),
    ), status


@bp.route("/invitationer/<int:invitation_id>/accepter", methods=["POST"])
@login_required
@limiter.limit(_write_limit, methods=["POST"])
def accept_invitation(invitation_id: int):
    inv = _invitation_or_404(invitation_id)
    form = AcceptForm()
    if not form.validate_on_submit():
        return invitation(inv.id, accept_form=form, status=400)
    with uow.saving(form) as saved:
        m = invitations.accept(
            me(),
            inv.id,
            to_utc(form.starts_at.data),
            to_utc(form.ends_at.data),
            form.address.data,
        )
    if saved.ok:
        flash(_("The invitation is accepted and the meeting is planned."), "success")
        return redirect(url_for("meetings.meeting", meeting_id=m.id))
    if not saved.placed:
        raise saved.error
    return invitation(inv.id, accept_form=form, status=saved.status)


@bp.route("/invitationer/<int:invitation_id>/afslaa", methods=["POST"])
@login_required
@limiter.limit(_write_limit, methods=["POST"])
def decline_invitation(invitation_id: int):
    inv = _invitation_or_404(invitation_id)
    form = DeclineForm()
    if not form.validate_on_submit():
        return invitation(inv.id, decline_form=form, status=400)
    with uow.saving(form) as saved:
        invitations.decline(me(), inv.id, form.reason.data)
    if saved.ok:
        flash(_("The invitation is declined; the local area is told."), "success")
        return redirect(url_for("meetings.invitation", invitation_id=inv.id))
    if not saved.placed:
        raise saved.error
    return invitation(inv.id, decline_form=form, status=saved.status)


# --- what was said there ----------------------------------------------------------------------


@bp.route("/<int:meeting_id>/referat", methods=["POST"])
@login_required
@limiter.limit(_staff_limit, methods=["POST"])
def publish_minutes(meeting_id: int):
    m = _meeting_or_404(meeting_id)
    form = MinutesForm()
    if not form.validate_on_submit():
        return meeting(m.id, status=400, minutes_form=form)
    with uow.saving(form) as saved:
        minutes.publish_minutes(me(), m, form.minutes.data)
    if saved.ok:
        flash(_("The minutes are published."), "success")
        return redirect(url_for("meetings.meeting", meeting_id=m.id) + "#minutes-h")
    if not saved.placed:
        raise saved.error
    return meeting(m.id, status=saved.status, minutes_form=form)


@bp.route("/<int:meeting_id>/bidrag", methods=["POST"])
@login_required
@limiter.limit(_staff_limit, methods=["POST"])
def add_contribution(meeting_id: int):
    m = _meeting_or_404(meeting_id)
    form = ContributionForm()
    if not form.validate_on_submit():
        return meeting(m.id, status=400, contribution_form=form)
    with uow.saving(form) as saved:
        post = minutes.add_contribution(
            me(),
            m,
            form.body.data,
            stance=form.stance.data or None,
            speaker_name=form.speaker_name.data,
            consent=form.consent.data,
        )
    if saved.ok:
        flash(_("The contribution is entered into the debate."), "success")
        return redirect(url_for("forum.post", post_id=post.id) + f"#p{post.id}")
    if not saved.placed:
        raise saved.error
    return meeting(m.id, status=saved.status, contribution_form=form)
