"""Pages of live Q&A. Every action is an ordinary form POST (works without JavaScript);
qa.js sends the same forms with fetch and gets JSON back instead of a redirect."""

from __future__ import annotations

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select

from forum import hooks, uow
from forum import live as forum_live
from forum.errorpages import render_error
from forum.errors import DomainError
from forum.extensions import db
from forum.forms import EmptyForm, choices
from forum.localtime import to_local, to_utc
from forum.models import Area, Committee, PostState, Role, User
from forum.views import apply_errors, me

from . import ics, permissions, queries, services
from .forms import AnswerForm, AskForm, RejectForm, SessionForm, StatementForm
from .models import QAEntry, QASession, QuestionStatus, SessionState

bp = Blueprint("qa", __name__, url_prefix="/spoergetid")
S = SessionState


# --- helpers ---------------------------------------------------------------------------------


def _wants_json() -> bool:
    return request.headers.get("X-Requested-With") == "fetch"


def _session_or_404(session_id: int) -> QASession:
    session = db.session.get(QASession, session_id)
    if session is None:
        abort(404)
    return session


def _lazy_end(session: QASession) -> None:
    """End an overdue session on page view (cron's ``flask qa tick`` does it otherwise)."""
    try:
        if services.end_if_overdue(session):
            uow.commit()
    except DomainError:
        uow.rollback()


def _rules():
    desk = hooks.moderator_desk()
    return desk.rule_choices(str(get_locale() or "da")) if desk is not None else []


def _reject_form() -> RejectForm:
    form = RejectForm()
    form.rule_id.choices = choices([("", _("Choose a rule"))] + _rules())
    return form


def _forms(**given) -> dict:
    forms = {
        "ask_form": AskForm(formdata=None),
        "answer_form": AnswerForm(formdata=None),
        "statement_form": StatementForm(formdata=None),
        "button_form": EmptyForm(),
    }
    reject = _reject_form()
    forms["reject_form"] = reject
    forms.update(given)
    return forms


def _render_session(
    session: QASession,
    status: int = 200,
    error: str | None = None,
    answer_to: int | None = None,
    typed: str | None = None,
    **forms,
):
    cursor = forum_live.cursor()  # before the data: the page never claims an unseen event
    sort = request.args.get("sort", "votes")
    sort = sort if sort in ("votes", "newest") else "votes"
    view = queries.load(session, current_user, sort=sort)
    watchers, present = forum_live_presence(session)
    return render_template(
        "qa/session.html",
        session=session,
        view=view,
        sort=sort,
        error=error,
        qa_cursor=cursor,
        watchers=watchers,
        present=set(present),
        countdown=queries.countdown(session),
        signed_up=queries.is_signed_up(current_user, session),
        can_manage=permissions.can_manage(current_user, session),
        held_at=services.meeting_of(session.id),
        answer_to=answer_to,
        typed=typed,
        **_forms(**forms),
    ), status


def forum_live_presence(session: QASession):
    from .live import presence_now

    return presence_now(session.id)


def _done(session: QASession, message: str | None = None, anchor: str = "", **data):
    """After a successful action: JSON for qa.js, otherwise a flash and the page again."""
    if _wants_json():
        return jsonify({"ok": True, "message": message, **data})
    if message:
        flash(message, "success")
    return redirect(url_for("qa.session", session_id=session.id) + anchor)


def _failed(
    session: QASession,
    exc: DomainError,
    form_name: str | None = None,
    form=None,
    answer_to: int | None = None,
):
    """A refused action: nothing was written; the page again with the message and the typed
    text (or JSON with the same for qa.js)."""
    uow.rollback()
    message = exc.message or next(iter(exc.fields.values()), "") or _("That is not possible.")
    if _wants_json():
        return jsonify({"ok": False, "message": message, "fields": exc.fields}), exc.status
    extra = {}
    if form is not None and form_name:
        apply_errors(form, exc)
        extra[form_name] = form
        if form_name in ("answer_form", "statement_form") and not permissions.can_answer(
            current_user, session
        ):
            extra["typed"] = form.body.data  # no answer form on their page: keep it here
    return _render_session(session, exc.status, error=message, answer_to=answer_to, **extra)


def _csrf_ok() -> bool:
    return EmptyForm().validate_on_submit()


def _check_form(session: QASession):
    if not _csrf_ok():
        if _wants_json():
            message = _("The form was too old. Reload the page.")
            return jsonify({"ok": False, "message": message}), 400
        abort(400)
    return None


# --- lists -------------------------------------------------------------------------------------


@bp.route("/")
def index():
    return render_template(
        "qa/index.html",
        lists=queries.index_lists(),
        can_schedule=permissions.can_schedule(current_user),
    )


# --- scheduling --------------------------------------------------------------------------------


def _session_form(session: QASession | None = None) -> SessionForm:
    if request.method == "GET" and session is not None:
        form = SessionForm(
            formdata=None,
            title=session.title,
            description=session.description_source,
            committee_id=str(session.committee_id or ""),
            area_id=str(session.area_id or ""),
            topic_id=str(session.topic_id or ""),
            starts_at=to_local(session.starts_at),
            ends_at=to_local(session.ends_at),
            politician_ids=[str(p.id) for p in session.politicians],
            premoderated=session.premoderated,
            advance_questions=session.advance_questions,
            meeting_id=str(held.id) if (held := services.meeting_of(session.id)) else "",
        )
    else:
        form = SessionForm()
    if request.method == "GET" and session is None:
        _prefill_from_meeting(form)
    form.committee_id.choices = choices(
        [("", _("None"))]
        + [
            (str(c.id), c.name)
            for c in db.session.scalars(select(Committee).order_by(Committee.name))
        ]
    )
    form.area_id.choices = choices(
        [("", _("None"))]
        + [(str(a.id), a.name) for a in db.session.scalars(select(Area).order_by(Area.name))]
    )
    form.politician_ids.choices = choices(
        [
            (str(u.id), f"{u.display_name} ({u.party})" if u.party else u.display_name)
            for u in db.session.scalars(
                select(User).where(User.role == Role.POLITICIAN).order_by(User.display_name)
            )
        ]
    )
    meetings = services.meeting_choices(current_user, session.id if session else None)
    form.meeting_id.choices = choices(
        [("", _("None"))] + [(str(i), label) for i, label in meetings]
    )
    return form


def _prefill_from_meeting(form: SessionForm) -> None:
    """``/spoergetid/ny?moede=ID`` (the meeting page's link): the meeting's title, time,
    places and politicians to start from."""
    raw = request.args.get("moede", "")
    facts = services.meeting_facts(int(raw)) if raw.isdigit() and len(raw) < 10 else None
    if facts is None:
        return
    form.meeting_id.data = str(facts.id)
    form.title.data = facts.title
    form.starts_at.data = to_local(facts.starts_at)
    form.ends_at.data = to_local(facts.ends_at)
    form.committee_id.data = str(facts.committee_id or "")
    form.area_id.data = str(facts.area_id or "")
    form.topic_id.data = str(facts.topic_id or "")
    form.politician_ids.data = [str(i) for i in facts.politician_ids]


def _meeting_id(form: SessionForm) -> int | None:
    raw = str(form.meeting_id.data or "")
    return int(raw) if raw.isdigit() and len(raw) < 10 else None


@bp.route("/ny", methods=["GET", "POST"])
@login_required
def new():
    if not permissions.can_schedule(current_user, None) and not current_user.is_moderator:
        abort(403)
    form = _session_form()
    status = 200
    if request.method == "POST":
        status = 400
        if form.validate_on_submit():
            try:
                session = services.schedule_session(
                    me(),
                    form.title.data,
                    form.description.data,
                    to_utc(form.starts_at.data),
                    to_utc(form.ends_at.data),
                    form.politician_ids.data,
                    committee_id=form.committee_id.data or None,
                    area_id=form.area_id.data or None,
                    topic_id=form.topic_id.data or None,
                    premoderated=form.premoderated.data,
                    advance_questions=form.advance_questions.data,
                )
                services.hold_at_meeting(me(), session, _meeting_id(form))
            except DomainError as exc:
                uow.rollback()
                if not apply_errors(form, exc):
                    return render_error(exc.status, exc.message)
                status = exc.status
            else:
                uow.commit()
                flash(_("The session is scheduled."), "success")
                return redirect(url_for("qa.session", session_id=session.id))
    return render_template("qa/form.html", form=form, session=None), status


@bp.route("/<int:session_id>/rediger", methods=["GET", "POST"])
@login_required
def edit(session_id: int):
    session = _session_or_404(session_id)
    if not permissions.can_manage(current_user, session):
        abort(403)
    form = _session_form(session)
    status = 200
    if request.method == "POST":
        status = 400
        if form.validate_on_submit():
            try:
                services.edit_session(
                    me(),
                    session,
                    form.title.data,
                    form.description.data,
                    to_utc(form.starts_at.data),
                    to_utc(form.ends_at.data),
                    form.politician_ids.data,
                    form.premoderated.data,
                    form.advance_questions.data,
                )
                services.hold_at_meeting(me(), session, _meeting_id(form))
            except DomainError as exc:
                uow.rollback()
                if not apply_errors(form, exc):
                    return render_error(exc.status, exc.message)
                status = exc.status
            else:
                uow.commit()
                flash(_("The session is saved."), "success")
                return redirect(url_for("qa.session", session_id=session.id))
    return render_template("qa/form.html", form=form, session=session), status


@bp.route("/<int:session_id>/start", methods=["POST"])
@login_required
def start(session_id: int):
    session = _session_or_404(session_id)
    if (bad := _check_form(session)) is not None:
        return bad
    try:
        services.start_session(me(), session)
    except DomainError as exc:
        return _failed(session, exc)
    uow.commit()
    return _done(session, _("The session is live."))


@bp.route("/<int:session_id>/afslut", methods=["POST"])
@login_required
def end(session_id: int):
    session = _session_or_404(session_id)
    if (bad := _check_form(session)) is not None:
        return bad
    try:
        services.end_session(me(), session)
    except DomainError as exc:
        return _failed(session, exc)
    uow.commit()
    return _done(session, _("The session has ended."))


# --- the session --------------------------------------------------------------------------------


@bp.route("/<int:session_id>")
def session(session_id: int):
    session = _session_or_404(session_id)
    _lazy_end(session)
    return _render_session(session)


@bp.route("/<int:session_id>/spoerg", methods=["POST"])
@login_required
def ask(session_id: int):
    session = _session_or_404(session_id)
    form = AskForm()
    if not form.validate_on_submit():
        if _wants_json():
            return jsonify(
                {
                    "ok": False,
                    "message": _("Write your question first."),
                    "fields": {k: v[0] for k, v in form.errors.items()},
                }
            ), 400
        return _render_session(session, 400, ask_form=form)
    try:
        post = services.ask(me(), session, form.body.data, form.nonce.data or None)
    except DomainError as exc:
        return _failed(session, exc, "ask_form", form)
    uow.commit()
    if post.state == PostState.PENDING:
        message = _("Your question waits for a moderator. You can see it; others cannot yet.")
    else:
        message = _("Your question is published.")
    return _done(session, message, f"#q{post.id}", post_id=post.id, state=post.state.value)


@bp.route("/<int:session_id>/spoergsmaal/<int:post_id>/stem", methods=["POST"])
@login_required
def vote(session_id: int, post_id: int):
    session = _session_or_404(session_id)
    if (bad := _check_form(session)) is not None:
        return bad
    want = request.form.get("vote")
    if want not in ("1", "0"):
        return _failed(
            session,
            services.InvalidInput(vote=_("Say whether you vote (true) or withdraw (false).")),
        )
    try:
        votes = services.set_vote(me(), session, post_id, want == "1")
    except DomainError as exc:
        return _failed(session, exc)
    uow.commit()
    message = _("Your vote is counted.") if want == "1" else _("Your vote is withdrawn.")
    return _done(session, message, f"#q{post_id}", votes=votes, voted=want == "1")


@bp.route("/<int:session_id>/spoergsmaal/<int:post_id>/moderer", methods=["POST"])
@login_required
def moderate(session_id: int, post_id: int):
    session = _session_or_404(session_id)
    form = _reject_form()
    if not form.validate_on_submit():
        abort(400)
    action = request.form.get("action", "")
    try:
        services.moderate_question(
            me(), session, post_id, action, form.rule_id.data or None, form.text.data or ""
        )
    except DomainError as exc:
        return _failed(session, exc, "reject_form", form)
    uow.commit()
    message = (
        _("The question is published.")
        if action == "approve"
        else _("The question is rejected; its author is told why.")
    )
    return _done(session, message, f"#q{post_id}")


@bp.route("/<int:session_id>/spoergsmaal/<int:post_id>/flet", methods=["POST"])
@login_required
def merge(session_id: int, post_id: int):
    session = _session_or_404(session_id)
    if (bad := _check_form(session)) is not None:
        return bad
    try:
        target = services.merge(me(), session, post_id, request.form.get("into_id", ""))
    except DomainError as exc:
        return _failed(session, exc)
    uow.commit()
    return _done(
        session, _("The questions are merged."), f"#q{target.post_id}", into=target.post_id
    )


@bp.route("/<int:session_id>/fastgoer", methods=["POST"])
@login_required
def pin(session_id: int):
    session = _session_or_404(session_id)
    if (bad := _check_form(session)) is not None:
        return bad
    try:
        services.pin(me(), session, request.form.get("post_id") or None)
    except DomainError as exc:
        return _failed(session, exc)
    uow.commit()
    message = (
        _("The question is shown as being answered now.")
        if session.pinned_post_id
        else _("No question is shown as being answered now.")
    )
    return _done(session, message)


@bp.route("/<int:session_id>/spoergsmaal/<int:post_id>/status", methods=["POST"])
@login_required
def status(session_id: int, post_id: int):
    session = _session_or_404(session_id)
    if (bad := _check_form(session)) is not None:
        return bad
    try:
        services.set_status(me(), session, post_id, request.form.get("status", ""))
    except DomainError as exc:
        return _failed(session, exc)
    uow.commit()
    return _done(session, _("The question's status is changed."), f"#q{post_id}")


@bp.route("/<int:session_id>/spoergsmaal/<int:post_id>/svar", methods=["POST"])
@login_required
def answer(session_id: int, post_id: int):
    session = _session_or_404(session_id)
    form = AnswerForm()
    if not form.validate_on_submit():
        if _wants_json():
            return jsonify({"ok": False, "message": _("Write your answer first.")}), 400
        return _render_session(session, 400, answer_form=form, answer_to=post_id)
    try:
        post = services.answer(me(), session, post_id, form.body.data, form.nonce.data or None)
    except DomainError as exc:
        return _failed(session, exc, "answer_form", form, answer_to=post_id)
    uow.commit()
    return _done(
        session,
        _("Your answer is published.")
        if post.state == PostState.PUBLISHED
        else _("Your answer waits for a moderator."),
        f"#q{post_id}",
        post_id=post.id,
    )


@bp.route("/<int:session_id>/udtalelse", methods=["POST"])
@login_required
def statement(session_id: int):
    session = _session_or_404(session_id)
    form = StatementForm()
    if not form.validate_on_submit():
        if _wants_json():
            return jsonify({"ok": False, "message": _("Write your statement first.")}), 400
        return _render_session(session, 400, statement_form=form)
    try:
        post = services.statement(me(), session, form.body.data, form.nonce.data or None)
    except DomainError as exc:
        return _failed(session, exc, "statement_form", form)
    uow.commit()
    return _done(session, _("Your statement is published."), post_id=post.id)


@bp.route("/<int:session_id>/paamind", methods=["POST"])
@login_required
def signup(session_id: int):
    session = _session_or_404(session_id)
    if (bad := _check_form(session)) is not None:
        return bad
    on = request.form.get("on") == "1"
    try:
        services.set_signup(me(), session, on)
    except DomainError as exc:
        return _failed(session, exc)
    uow.commit()
    return _done(
        session,
        _("We will remind you by e-mail before the session starts.")
        if on
        else _("You will not be reminded."),
    )


# --- fragments, projector, calendar ------------------------------------------------------------


@bp.route("/<int:session_id>/indslag/<int:post_id>")
def item(session_id: int, post_id: int):
    """One question (with its answers), answer or statement as the session page shows it,
    for live updates; 404 unless the viewer may see it."""
    session = _session_or_404(session_id)
    entry = db.session.get(QAEntry, post_id)
    if entry is None or entry.session_id != session.id:
        abort(404)
    view = queries.load(session, current_user, post_ids=[post_id])
    it = view.by_id.get(post_id)
    if it is None or (it.entry.status == QuestionStatus.MERGED):
        abort(404)
    template = {
        "question": "qa/_question.html",
        "answer": "qa/_answer.html",
        "statement": "qa/_statement.html",
    }[it.entry.kind.value]
    html = render_template(
        template,
        session=session,
        view=view,
        q=it,
        a=it,
        s=it,
        can_manage=permissions.can_manage(current_user, session),
        answer_to=None,
        **_forms(),
    )
    return html, 200, {"Cache-Control": "private, no-store"}


@bp.route("/<int:session_id>/banner")
def banner(session_id: int):
    session = _session_or_404(session_id)
    view = queries.load(session, None, post_ids=[session.pinned_post_id or 0])
    html = render_template("qa/_banner.html", session=session, view=view)
    return html, 200, {"Cache-Control": "no-store"}


def _projector_view(session: QASession):
    view = queries.load(session, None)  # what everyone may see: no login, nothing held
    return view, queries.waiting(view, int(current_app.config["QA_PROJECTOR_WAITING"]))


@bp.route("/<int:session_id>/projektor")
def projector(session_id: int):
    session = _session_or_404(session_id)
    _lazy_end(session)
    cursor = forum_live.cursor()
    view, waiting = _projector_view(session)
    return render_template(
        "qa/projector.html", session=session, view=view, waiting=waiting, qa_cursor=cursor
    )


@bp.route("/<int:session_id>/projektor/indhold")
def projector_content(session_id: int):
    session = _session_or_404(session_id)
    view, waiting = _projector_view(session)
    html = render_template(
        "qa/_projector_content.html", session=session, view=view, waiting=waiting
    )
    return html, 200, {"Cache-Control": "no-store"}


@bp.route("/<int:session_id>.ics")
def calendar(session_id: int):
    session = _session_or_404(session_id)
    body = ics.session_calendar(
        session, url_for("qa.session", session_id=session.id, _external=True)
    )
    return (
        body,
        200,
        {
            "Content-Type": "text/calendar; charset=utf-8",
            "Content-Disposition": f'attachment; filename="spoergetid-{session.id}.ics"',
        },
    )
