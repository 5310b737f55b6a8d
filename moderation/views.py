"""Moderation's pages: the queue and its items, post and user pages, suspensions, the audit
log (and its CSV export), watched words, debate rules, modes; and for everyone the debate
rules, the transparency page, reporting a post and appealing a decision.

Every URL under ``/moderation`` is for moderators and admins: anyone else gets a 403 and an
audit entry. Services check permissions again (scoped moderators act only in their areas).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    stream_with_context,
    url_for,
)
from flask_babel import get_locale, ngettext
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select

from forum import exports, uow
from forum.converters import parse_id
from forum.errorpages import render_error
from forum.errors import InvalidInput, PermissionDenied
from forum.exports import neutralise as _csv_safe  # the writer neutralises every cell too
from forum.extensions import db, limiter
from forum.forms import EmptyForm, choices
from forum.localtime import to_utc
from forum.models import Area, Committee, Post, Topic, User, utcnow
from forum.permissions import can_see_post
from forum.views import apply_errors, int_arg, me, safe_next

from . import labels, permissions, policy, queries, services
from .forms import (
    AppealForm,
    AuditFilterForm,
    BulkForm,
    DecideForm,
    ModeForm,
    QueueFilterForm,
    ReportForm,
    RuleForm,
    SuspendForm,
    WordForm,
)
from .models import (
    CORE_ITEM_KINDS,
    Appeal,
    AuditEntry,
    DebateRule,
    ModerationMode,
    QueueItem,
    Suspension,
    WatchedWord,
)

bp = Blueprint("moderation", __name__)
# Every refused request under /moderation writes an audit entry, so a stranger repeating
# them is limited (moderators are exempt): past the limit the answer is 429 and nothing is
# written.
PROTECTED_PREFIX = "/moderation"


def _outside_protected_urls_or_moderator() -> bool:
    # The public pages of this blueprint (the debate rules, transparency) are not refusals;
    # reporting and appealing have limits of their own.
    path = request.path
    if not (path == PROTECTED_PREFIX or path.startswith(PROTECTED_PREFIX + "/")):
        return True
    return permissions.can_use_queue(current_user)


limiter.limit(
    lambda: current_app.config["MODERATION_DENIED_RATE"],
    exempt_when=_outside_protected_urls_or_moderator,
)(bp)


@bp.before_request
def _guard_moderation_urls():
    """Everything under /moderation is for moderators; others get 403 and an audit entry.

    (Unknown paths under /moderation are plain 404s: there is nothing there to protect.)
    """
    path = request.path
    if not (path == PROTECTED_PREFIX or path.startswith(PROTECTED_PREFIX + "/")):
        return None
    if permissions.can_use_queue(current_user):
        return None
    actor = me() if current_user.is_authenticated else None
    services.record_denial(actor, f"{request.method} {path}")
    uow.commit()
    abort(403)


@bp.errorhandler(PermissionDenied)
def _denied(exc: PermissionDenied):
    uow.rollback()
    actor = me() if current_user.is_authenticated else None
    services.record_denial(actor, f"{request.method} {request.path}", exc.message)
    uow.commit()
    return render_error(403, exc.message or None)


def _rule_choices(optional_label: str | None = None) -> list:
    lang = str(get_locale() or "da")
    head = [("", optional_label or _("— choose a rule —"))]
    return choices(head + [(str(r.id), r.title(lang)) for r in queries.active_rules()])


def _optional_int(name: str) -> int | None:
    raw = request.args.get(name) or None
    if raw is None:
        return None
    try:
        return parse_id(raw)
    except ValueError:
        abort(400)


# --- the queue -----------------------------------------------------------------------------


def _queue_filter_form() -> tuple[QueueFilterForm, queries.QueueFilters]:
    form = QueueFilterForm(request.args)
    scope = permissions.moderated_area_ids(current_user)
    committees = db.session.scalars(select(Committee).order_by(Committee.name)).all()
    areas_stmt = select(Area).order_by(Area.name)
    if scope is not None:
        areas_stmt = areas_stmt.where(Area.id.in_(scope))
    form.committee.choices = choices(
        [("", _("All committees"))] + [(str(c.id), c.name) for c in committees]
    )
    form.area.choices = choices(
        [("", _("All areas"))] + [(str(a.id), a.name) for a in db.session.scalars(areas_stmt)]
    )
    form.reason.choices = choices(
        [("", _("All reasons"))]
        + [(code, policy.reason_label(code)) for code in policy.HOLD_REASONS + policy.OTHER_REASONS]
    )
    reason = request.args.get("reason") or None
    if reason is not None and reason not in policy.HOLD_REASONS + policy.OTHER_REASONS:
        abort(400)
    filters = queries.QueueFilters(
        committee_id=_optional_int("committee"),
        area_id=_optional_int("area"),
        reason=reason,
    )
    return form, filters


@bp.route("/moderation")
@login_required
def queue():
    form, filters = _queue_filter_form()
    page = int_arg("side")
    result = queries.queue_page(current_user, filters, page)
    if filters == queries.QueueFilters():
        from . import remember_waiting

        remember_waiting(result.total)
    bulk = BulkForm()
    bulk.rule_id.choices = _rule_choices()
    return render_template(
        "moderation/queue.html",
        page=result,
        page_no=page,
        filter_form=form,
        bulk=bulk,
        now=utcnow(),
        args={k: v for k, v in request.args.items() if k != "side" and v},
    )


@bp.route("/moderation/items/<int:item_id>/row")
@login_required
def item_row(item_id: int):
    """One queue item as the queue shows it (``<li>``), for live updates: 404 for an unknown
    item, 403 outside the viewer's areas (and an audit entry), 410 once it no longer waits."""
    found = queries.item_with_context(item_id)
    if found is None:
        abort(404)
    if not permissions.can_decide_item(current_user, found):
        raise PermissionDenied(_("This item is outside the areas you moderate."))
    waiting = db.session.scalar(
        queries.queue_select(QueueItem.id).where(
            QueueItem.id == item_id, queries.open_items_clause()
        )
    )
    if waiting is None:
        return render_error(410, _("This item no longer waits for a decision."))
    views = queries.source_views([found])
    authors = {found.post.author_id} if found.post is not None else set()
    if found.kind == "proposal" and found.topic is not None:
        authors.add(found.topic.author_id)
    authors |= {v.author_id for v in views.values() if v.author_id is not None}
    page = queries.QueuePage(
        items=[found],
        total=0,
        has_more=False,
        records=queries.author_records(authors),
        flags=queries.open_flags([found.post_id] if found.kind == "flag" else []),
        views=views,
    )
    return render_template(
        "moderation/_queue_item.html", item=found, page=page, L=policy.labels(), now=utcnow()
    )


@bp.route("/moderation/bulk", methods=["POST"])
@login_required
def bulk():
    form = BulkForm()
    form.rule_id.choices = _rule_choices()
    if not form.validate_on_submit():
        abort(400)
    try:
        ids = [parse_id(x) for x in request.form.getlist("ids")]
    except ValueError:
        abort(400)
    try:
        result = services.bulk_decide(
            me(),
            ids,
            request.form.get("bulk_action", ""),
            form.rule_id.data or None,
            form.text.data or "",
        )
    except InvalidInput as exc:
        uow.rollback()
        for message in exc.fields.values() or [exc.message]:
            flash(message, "error")
        return redirect(url_for("moderation.queue"))
    uow.commit()
    if result.done:
        flash(
            ngettext("%(num)d item decided.", "%(num)d items decided.", len(result.done)), "success"
        )
    for item_id, message in result.failed:
        flash(_("Item %(id)d: %(message)s", id=item_id, message=message), "error")
    return redirect(safe_next(request.form.get("next"), url_for("moderation.queue")))


def _render_item(item_id: int, form: DecideForm | None = None, status: int = 200):
    item = queries.item_with_context(item_id)
    if item is None:
        abort(404)
    if not permissions.can_decide_item(current_user, item):
        raise PermissionDenied(_("This item is outside the areas you moderate."))
    if form is None:
        form = DecideForm()
    form.rule_id.choices = _rule_choices()
    view = queries.source_views([item]).get(item.id)
    author_id = item.post.author_id if item.post else (item.topic.author_id if item.topic else None)
    if author_id is None and view is not None:
        author_id = view.author_id
    records = queries.author_records([author_id] if author_id else [])
    mode = policy.effective_mode(item.topic) if item.topic else None
    return render_template(
        "moderation/item.html",
        item=item,
        form=form,
        now=utcnow(),
        record=records.get(author_id),
        flags=queries.open_flags([item.post_id]).get(item.post_id, []) if item.post_id else [],
        history=queries.post_history(item.post_id) if item.post_id else [],
        mode=mode,
        button_form=EmptyForm(),
        view=view,
        author_id=author_id,
        item_actions=services.item_actions(item.kind),
    ), status


@bp.route("/moderation/items/<int:item_id>")
@login_required
def item(item_id: int):
    return _render_item(item_id)


@bp.route("/moderation/items/<int:item_id>/claim", methods=["POST"])
@login_required
def claim(item_id: int):
    if not EmptyForm().validate_on_submit():
        abort(400)
    services.claim_item(me(), services.get_item(item_id))
    uow.commit()
    return redirect(url_for("moderation.item", item_id=item_id))


@bp.route("/moderation/items/<int:item_id>/release", methods=["POST"])
@login_required
def release(item_id: int):
    if not EmptyForm().validate_on_submit():
        abort(400)
    services.release_item(me(), services.get_item(item_id))
    uow.commit()
    flash(_("You no longer handle this item."), "success")
    return redirect(url_for("moderation.queue"))


DECIDED_MESSAGES = {
    "approve": lambda: _("The post is approved and published."),
    "reject": lambda: _("The post is rejected; its author is told why."),
    "hide": lambda: _("The post is hidden; its author is told why."),
    "remove": lambda: _("The post is removed; its author is told why."),
    "restore": lambda: _("The reports are dismissed and the post is public."),
    "accept": lambda: _("The proposal is accepted."),
    "decline": lambda: _("The proposal is declined."),
    "grant": lambda: _("The appeal is granted and the post is public again."),
    "deny": lambda: _("The appeal is denied; the author is told."),
}
# The same for other packages' content (an idea, say), and appeals about it.
SOURCE_DECIDED_MESSAGES = {
    "approve": lambda: _("Approved and published; the author is told."),
    "reject": lambda: _("Rejected; the author is told why."),
    "grant": lambda: _("The appeal is granted: it is published again and the author is told."),
}


@bp.route("/moderation/items/<int:item_id>/decide", methods=["POST"])
@login_required
def decide(item_id: int):
    item_obj = services.get_item(item_id)
    form = DecideForm()
    form.rule_id.choices = _rule_choices()
    if not form.validate_on_submit():
        return _render_item(item_id, form, 400)
    action = request.form.get("action", "")
    try:
        services.decide_item(
            me(), item_obj, action, form.rule_id.data or None, form.text.data or ""
        )
    except InvalidInput as exc:
        uow.rollback()
        if not apply_errors(form, exc):
            form.text.errors = [*form.text.errors, exc.message]
        return _render_item(item_id, form, 400)
    uow.commit()
    messages = DECIDED_MESSAGES
    if item_obj.kind not in CORE_ITEM_KINDS or (
        item_obj.kind == "appeal" and item_obj.post_id is None
    ):
        messages = {**DECIDED_MESSAGES, **SOURCE_DECIDED_MESSAGES}
    flash(messages.get(action, lambda: _("Decided."))(), "success")
    return redirect(safe_next(request.form.get("next"), url_for("moderation.queue")))


# --- posts and people -------------------------------------------------------------------------


def _post_for_moderator(post_id: int) -> Post:
    post = db.session.get(Post, post_id)
    if post is None:
        abort(404)
    if not permissions.can_moderate_topic(current_user, post.topic):
        raise PermissionDenied(_("This post is outside the areas you moderate."))
    return post


def _render_post(post: Post, form: DecideForm | None = None, status: int = 200):
    form = form or DecideForm()
    form.rule_id.choices = _rule_choices()
    return render_template(
        "moderation/post.html",
        post=post,
        form=form,
        history=queries.post_history(post.id),
        items=queries.open_items_for_post(post.id),
        flags=queries.open_flags([post.id]).get(post.id, []),
        record=queries.author_records([post.author_id])[post.author_id],
        mode=policy.effective_mode(post.topic),
        now=utcnow(),
    ), status


@bp.route("/moderation/posts/<int:post_id>")
@login_required
def post(post_id: int):
    return _render_post(_post_for_moderator(post_id))


@bp.route("/moderation/posts/<int:post_id>/decide", methods=["POST"])
@login_required
def decide_post(post_id: int):
    p = _post_for_moderator(post_id)
    form = DecideForm()
    form.rule_id.choices = _rule_choices()
    if not form.validate_on_submit():
        return _render_post(p, form, 400)
    action = request.form.get("action", "")
    try:
        services.moderate_post(me(), p, action, form.rule_id.data or None, form.text.data or "")
    except InvalidInput as exc:
        uow.rollback()
        if not apply_errors(form, exc):
            form.text.errors = [*form.text.errors, exc.message]
        return _render_post(db.session.get(Post, post_id), form, 400)
    uow.commit()
    flash(DECIDED_MESSAGES.get(action, lambda: _("Decided."))(), "success")
    return redirect(url_for("moderation.post", post_id=post_id))


def _render_user(user: User, form: SuspendForm | None = None, status: int = 200):
    form = form or SuspendForm()
    form.rule_id.choices = _rule_choices(_("— no particular rule —"))
    posts = [p for p in queries.recent_posts_of(user.id) if can_see_post(current_user, p)]
    return render_template(
        "moderation/user.html",
        user=user,
        form=form,
        record=queries.author_records([user.id])[user.id],
        suspensions=queries.suspensions_of(user.id),
        posts=posts,
        now=utcnow(),
        button_form=EmptyForm(),
    ), status


@bp.route("/moderation/users/<int:user_id>")
@login_required
def user(user_id: int):
    u = db.session.get(User, user_id) or abort(404)
    services.require_user_in_scope(me(), u)  # a scoped moderator: their areas' writers only
    return _render_user(u)


@bp.route("/moderation/users/<int:user_id>/suspend", methods=["POST"])
@login_required
def suspend(user_id: int):
    u = db.session.get(User, user_id) or abort(404)
    services.require_user_in_scope(me(), u)  # before the form is shown back with the record
    form = SuspendForm()
    form.rule_id.choices = _rule_choices(_("— no particular rule —"))
    if not form.validate_on_submit():
        return _render_user(u, form, 400)
    days = int(form.duration.data or 0)
    until = utcnow() + timedelta(days=days) if days else None
    try:
        services.suspend_user(me(), u, form.reason.data, until, form.rule_id.data or None)
    except InvalidInput as exc:
        uow.rollback()
        if not apply_errors(form, exc):
            form.reason.errors = [*form.reason.errors, exc.message]
        return _render_user(u, form, 400)
    uow.commit()
    flash(_("%(name)s is suspended.", name=u.display_name), "success")
    return redirect(url_for("moderation.user", user_id=u.id))


@bp.route("/moderation/suspensions")
@login_required
def suspensions():
    return render_template(
        "moderation/suspensions.html",
        items=queries.active_suspensions(current_user),
        button_form=EmptyForm(),
        now=utcnow(),
    )


@bp.route("/moderation/suspensions/<int:suspension_id>/lift", methods=["POST"])
@login_required
def lift(suspension_id: int):
    s = db.session.get(Suspension, suspension_id) or abort(404)
    if not EmptyForm().validate_on_submit():
        abort(400)
    services.lift_suspension(me(), s)
    uow.commit()
    flash(_("The suspension is lifted."), "success")
    return redirect(safe_next(request.form.get("next"), url_for("moderation.suspensions")))


# --- the audit log -------------------------------------------------------------------------------


def _audit_filters() -> tuple[AuditFilterForm, queries.AuditFilters]:
    form = AuditFilterForm(request.args)
    form.action.choices = choices(
        [("", _("All actions"))] + [(a, labels.action_label(a)) for a in queries.AUDIT_ACTIONS]
    )
    if request.args and not form.validate():
        abort(400)
    date_to = form.date_to.data
    return form, queries.AuditFilters(
        action=form.action.data or None,
        actor_id=form.actor.data or None,
        subject_user_id=form.subject.data or None,
        post_id=form.post.data or None,
        date_from=to_utc(datetime.combine(form.date_from.data, datetime.min.time()))
        if form.date_from.data
        else None,
        date_to=to_utc(datetime.combine(date_to + timedelta(days=1), datetime.min.time()))
        if date_to
        else None,
    )


@bp.route("/moderation/audit")
@login_required
def audit():
    form, filters = _audit_filters()
    page = int_arg("side")
    rows, more = queries.audit_page(current_user, filters, page)
    return render_template(
        "moderation/audit.html",
        form=form,
        rows=rows,
        page=page,
        more=more,
        args={k: v for k, v in request.args.items() if k != "side"},
        rules=queries.rules_by_id(),
        targets=labels.target_links(current_user, rows),
    )


CSV_FIELDS = (
    "id",
    "created_at_utc",
    "actor_id",
    "actor",
    "action",
    "target_type",
    "target_id",
    "from_state",
    "to_state",
    "rule",
    "text",
    "post_id",
    "topic_id",
    "subject_user_id",
    "area_id",
    "committee_id",
)


@bp.route("/moderation/audit.csv")
@login_required
def audit_csv():
    _form, filters = _audit_filters()
    viewer_id = me().id

    def generate():
        # The body is made after the request's app context has ended and removed its
        # database session (stream_with_context pushes the contexts again, with a new
        # session): objects of the request, such as the signed-in user, are detached by
        # then. Read the viewer again in the session the rows are read in.
        viewer = db.session.get(User, viewer_id)
        # machine-readable field names: commas whatever the language; with the BOM, and
        # every cell neutralised (forum/exports.py)
        writer = exports.CsvWriter(delimiter=",")
        writer.writerow(CSV_FIELDS)
        for e in queries.audit_rows(viewer, filters):
            writer.writerow(
                [
                    _csv_safe(v)
                    for v in (
                        e.id,
                        e.created_at.isoformat(timespec="seconds"),
                        e.actor_id,
                        e.actor.display_name if e.actor else "",
                        e.action,
                        e.target_type,
                        e.target_id,
                        e.from_state,
                        e.to_state,
                        e.rule.code if e.rule else "",
                        e.text,
                        e.post_id,
                        e.topic_id,
                        e.subject_user_id,
                        e.area_id,
                        e.committee_id,
                    )
                ]
            )
            if writer.pending() > 32_000:
                yield writer.take()
        yield writer.take()

    stamp = utcnow().strftime("%Y%m%d-%H%M")
    return Response(
        stream_with_context(generate()),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="moderation-audit-{stamp}.csv"'},
    )


# --- watched words, rules, modes ----------------------------------------------------------------


def _render_words(form: WordForm | None = None, status: int = 200):
    form = form or WordForm()
    form.rule_id.choices = _rule_choices()
    words = db.session.scalars(select(WatchedWord).order_by(WatchedWord.word)).all()
    return render_template(
        "moderation/words.html",
        form=form,
        words=words,
        can_edit=permissions.can_edit_words(current_user),
        button_form=EmptyForm(),
    ), status


@bp.route("/moderation/words", methods=["GET", "POST"])
@login_required
def words():
    if request.method == "GET":
        return _render_words()
    form = WordForm()
    form.rule_id.choices = _rule_choices()
    if not permissions.can_edit_words(current_user):
        raise PermissionDenied(_("Only admins may edit the watched words."))
    if form.validate_on_submit():
        try:
            services.add_watched_word(
                me(),
                form.word.data,
                form.language.data,
                form.action.data,
                form.rule_id.data or None,
            )
        except InvalidInput as exc:
            uow.rollback()
            apply_errors(form, exc)
        else:
            uow.commit()
            flash(_("The word is added."), "success")
            return redirect(url_for("moderation.words"))
    return _render_words(form, 400)


@bp.route("/moderation/words/<int:word_id>/delete", methods=["POST"])
@login_required
def delete_word(word_id: int):
    w = db.session.get(WatchedWord, word_id) or abort(404)
    if not EmptyForm().validate_on_submit():
        abort(400)
    services.remove_watched_word(me(), w)
    uow.commit()
    flash(_("The word is removed."), "success")
    return redirect(url_for("moderation.words"))


@bp.route("/moderation/rules")
@login_required
def rules_admin():
    return render_template(
        "moderation/rules_admin.html",
        rules=queries.all_rules(),
        can_edit=permissions.can_edit_rules(current_user),
    )


@bp.route("/moderation/rules/new", methods=["GET", "POST"])
@bp.route("/moderation/rules/<int:rule_id>", methods=["GET", "POST"])
@login_required
def rule_form(rule_id: int | None = None):
    rule = None
    if rule_id is not None:
        rule = db.session.get(DebateRule, rule_id) or abort(404)
    if not permissions.can_edit_rules(current_user):
        raise PermissionDenied(_("Only admins may edit the debate rules."))
    form = RuleForm(obj=rule) if request.method == "GET" else RuleForm()
    if form.validate_on_submit():
        try:
            services.save_rule(
                me(),
                rule,
                code=form.code.data or "",
                title_da=form.title_da.data,
                title_en=form.title_en.data,
                body_da=form.body_da.data or "",
                body_en=form.body_en.data or "",
                position=form.position.data or 0,
                active=bool(form.active.data),
            )
        except InvalidInput as exc:
            uow.rollback()
            apply_errors(form, exc)
        else:
            uow.commit()
            flash(_("The debate rule is saved."), "success")
            return redirect(url_for("moderation.rules_admin"))
    status = 400 if form.errors else 200
    return render_template("moderation/rule_form.html", form=form, rule=rule), status


def _modes_context() -> dict:
    rows = db.session.scalars(select(ModerationMode)).all()
    by = {("committee", r.committee_id): r.mode for r in rows if r.committee_id}
    by |= {("area", r.area_id): r.mode for r in rows if r.area_id}
    topic_ids = [r.topic_id for r in rows if r.topic_id]
    topics = (
        db.session.scalars(select(Topic).where(Topic.id.in_(topic_ids))).all() if topic_ids else []
    )
    return {
        "committees": db.session.scalars(select(Committee).order_by(Committee.name)).all(),
        "areas": db.session.scalars(select(Area).order_by(Area.name)).all(),
        "topics": [(t, next(r.mode for r in rows if r.topic_id == t.id)) for t in topics],
        "modes": by,
        "default_mode": current_app.config["MODERATION_DEFAULT_MODE"],
    }


@bp.route("/moderation/modes", methods=["GET", "POST"])
@login_required
def modes():
    form = ModeForm(request.args) if request.method == "GET" else ModeForm()
    if request.method == "POST":
        if not form.validate_on_submit():
            abort(400)
        services.set_mode(me(), form.target_type.data, form.target_id.data, form.mode.data)
        uow.commit()
        flash(_("The moderation mode is saved."), "success")
        return redirect(safe_next(request.form.get("next"), url_for("moderation.modes")))
    return render_template("moderation/modes.html", form=form, **_modes_context())


# --- public pages: rules, transparency, reporting, appeals ----------------------------------


@bp.route("/debatregler")
def rules():
    return render_template("moderation/rules.html", rules=queries.active_rules())


@bp.route("/gennemsigtighed")
def transparency():
    return render_template(
        "moderation/transparency.html",
        months=queries.transparency(),
        rules=queries.rules_by_id(),
    )


def _published_post_or_404(post_id: int) -> Post:
    p = db.session.get(Post, post_id)
    if p is None or not can_see_post(current_user, p):
        abort(404)
    return p


@bp.route("/indlaeg/<int:post_id>/anmeld", methods=["GET", "POST"])
@login_required
def report(post_id: int):
    p = _published_post_or_404(post_id)
    form = ReportForm()
    lang = str(get_locale() or "da")
    form.reason.choices = choices(
        [(r.code, r.title(lang)) for r in queries.active_rules()] + [("other", _("Other"))]
    )
    status = 200
    if request.method == "POST":
        if form.validate_on_submit():
            try:
                services.report_post(me(), p, form.reason.data, form.text.data or "")
            except InvalidInput as exc:
                uow.rollback()
                if not apply_errors(form, exc):
                    form.text.errors = [*form.text.errors, exc.message]
            else:
                uow.commit()
                flash(_("Thank you. A moderator will look at the post."), "success")
                # The page of the debate showing the post (long debates have pages).
                return redirect(url_for("forum.post_in_topic", post_id=p.id))
        status = 400
    return render_template("moderation/report.html", post=p, form=form), status


@bp.route("/afgoerelser/<int:entry_id>/klage", methods=["GET", "POST"])
@login_required
def appeal(entry_id: int):
    entry = db.session.get(AuditEntry, entry_id)
    if entry is None:
        abort(404)
    if entry.subject_user_id != current_user.id:
        raise PermissionDenied(
            _("This decision was not made against you, so you cannot appeal it.")
        )
    form = AppealForm()
    status = 200
    if request.method == "POST":
        if form.validate_on_submit():
            try:
                services.appeal_decision(me(), entry, form.text.data)
            except InvalidInput as exc:
                uow.rollback()
                if not apply_errors(form, exc):
                    form.text.errors = [*form.text.errors, exc.message]
            else:
                uow.commit()
                flash(_("Your appeal is sent. You will be told the outcome here."), "success")
                if entry.post_id is None:
                    return redirect(
                        safe_next((entry.data or {}).get("url"), url_for("forum.notifications"))
                    )
                return redirect(url_for("forum.post", post_id=entry.post_id) + f"#p{entry.post_id}")
        status = 400
    post_obj = db.session.get(Post, entry.post_id) if entry.post_id else None
    existing = db.session.scalar(select(Appeal).where(Appeal.entry_id == entry.id))
    return render_template(
        "moderation/appeal.html",
        entry=entry,
        post=post_obj,
        form=form,
        existing=existing,
        appealable=services.appealable_entry(entry, post_obj),
    ), status
