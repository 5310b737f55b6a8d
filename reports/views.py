"""Report pages: the synthesis of a topic ("Hvad mener borgerne?") and the council report
(HTML, PDF, CSV appendix). Every page works without JavaScript; the charts are SVG with a
data table beside each."""

from __future__ import annotations

from flask import (
    Blueprint,
    abort,
    current_app,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select

from forum import exports, hooks, uow
from forum import permissions as fp
from forum import queries as forum_queries
from forum.cache import TTLCache
from forum.errorpages import render_error
from forum.errors import PermissionDenied
from forum.extensions import db
from forum.models import Committee, Topic

from . import appendix, charts, labels, permissions, services
from . import pdf as report_pdf
from . import report as report_mod
from .forms import ReportForm
from .synthesis import STANCES, UNKNOWN_AREA, Synthesis, synthesise

bp = Blueprint("reports", __name__)


def _cache() -> TTLCache:
    return current_app.extensions.setdefault(
        "borgerdialog.topic_syntheses", TTLCache(maxsize=128, ttl=60)
    )


def topic_synthesis(topic_id: int) -> Synthesis:
    """The topic's synthesis, cached per process on the newest event of its room (as the
    topic page is: any change to the thread makes a new key) for at most 60 s."""
    key = (topic_id, forum_queries.last_event_id(f"topic:{topic_id}"))
    cache = _cache()
    s = cache.get(key)
    if s is None:
        s = synthesise([topic_id])
        cache.set(key, s)
    return s


def chart_set(s: Synthesis, prefix: str) -> dict:
    """The three charts of a synthesis (stances, weeks, areas) in the reader's language."""
    names = labels.stance_names()
    stances = charts.stacked_bars(
        f"{prefix}-stances",
        _("People by stance"),
        [
            (labels.stance_name(k), [s.stance_people[k] if i == j else 0 for j in range(4)])
            for i, k in enumerate(STANCES)
        ],
        names,
    )
    weeks = charts.stacked_bars(
        f"{prefix}-weeks",
        _("Posts by week and stance"),
        [(labels.week_label(w), [c[k] for k in STANCES]) for w, c in s.weeks],
        names,
    )
    areas = charts.stacked_bars(
        f"{prefix}-areas",
        _("People by local area and stance"),
        [(area_name(g.area_id, g.name), [g.stances[k] for k in STANCES]) for g in s.areas],
        names,
    )
    return {"stances": stances, "weeks": weeks, "areas": areas}


def area_name(area_id: int, name: str) -> str:
    return name if area_id != UNKNOWN_AREA and name else _("Area not known")


@bp.route("/emner/<int:topic_id>/hvad-mener-borgerne")
@login_required
def topic_page(topic_id: int):
    """What citizens think of a topic, in figures, for politicians and staff."""
    topic = forum_queries.topic_with_place(topic_id)
    if topic is None or not topic.is_public:
        abort(404)
    if not permissions.can_see_synthesis(current_user, topic):
        raise PermissionDenied(_("The synthesis is for politicians and the municipality's staff."))
    s = topic_synthesis(topic.id)
    return render_template(
        "reports/synthesis.html",
        topic=topic,
        s=s,
        charts=chart_set(s, "syn"),
        stances=STANCES,
        labels=labels,
        area_name=area_name,
        request=request,
        # What other packages know of the topic (the opinion map), through the forum's hook.
        sections=hooks.synthesis_sections(topic.id, 2),
    )


# --- the council report ------------------------------------------------------------------------


def _choices():
    committees = db.session.scalars(select(Committee).order_by(Committee.name)).all()
    topics = db.session.scalars(
        select(Topic)
        .where(Topic.status.in_(fp.PUBLIC_TOPIC_STATES))
        .order_by(Topic.created_at.desc())
        .limit(500)
    ).all()
    return committees, topics


def _int_or_none(raw) -> int | None:
    try:
        return int(raw) if raw else None
    except (TypeError, ValueError):
        return None


@bp.route("/rapporter", methods=["GET", "POST"])
@login_required
def index():
    """The reports made so far, and the form for a new one (staff)."""
    if not permissions.can_make_report(current_user):
        raise PermissionDenied(_("Only the municipality's staff make reports."))
    committees, topics = _choices()
    form = ReportForm(committees=committees, topics=topics)
    status = 200
    if form.validate_on_submit():
        with uow.saving(form) as saved:
            d = services.create_definition(
                current_user._get_current_object(),
                title=form.title.data,
                scope=form.scope.data,
                topic_id=_int_or_none(form.topic.data),
                committee_id=_int_or_none(form.committee.data),
                period_start=form.period_start.data,
                period_end=form.period_end.data,
                locale=form.locale.data,
            )
        if saved.ok:
            return redirect(url_for("reports.show", definition_id=d.id))
        if not saved.placed:
            return render_error(saved.status, saved.error.message)
        status = saved.status
    elif request.method == "POST":
        status = 400
    return render_template(
        "reports/index.html",
        form=form,
        rows=services.definitions(current_user),
        place_name=report_mod.place_name,
        labels=labels,
    ), status


def _language() -> str | None:
    raw = request.args.get("sprog")
    return raw if raw in services.LOCALES else None


def _render_report(d, lang: str, pdf: bool = False) -> str:
    with force_locale(lang):
        r = report_mod.build(d)
        return render_template(
            "reports/report_pdf.html" if pdf else "reports/report.html",
            r=r,
            d=d,
            lang=lang,
            overall_charts=chart_set(r.overall, "all"),
            stances=STANCES,
            labels=labels,
            area_name=area_name,
            pdf_available=report_pdf.available(),
            install_hint=report_pdf.INSTALL_HINT,
        )


@bp.route("/rapporter/<int:definition_id>")
@login_required
def show(definition_id: int):
    """The report as a web page with print CSS (always available)."""
    d = services.definition(current_user, definition_id)
    return _render_report(d, _language() or d.locale)


@bp.route("/rapporter/<int:definition_id>/pdf")
@login_required
def pdf(definition_id: int):
    """The same report as PDF; without WeasyPrint's system libraries a 503 page that says
    what to install and links the HTML version."""
    d = services.definition(current_user, definition_id)
    lang = _language() or d.locale
    if not report_pdf.available():
        return render_error(
            503,
            _(
                "PDF needs system libraries this server lacks: %(hint)s. The HTML version works.",
                hint=report_pdf.INSTALL_HINT,
            ),
        )
    data = report_pdf.render(_render_report(d, lang, pdf=True))
    resp = make_response(data)
    resp.headers["Content-Type"] = "application/pdf"
    resp.headers["Content-Disposition"] = f'attachment; filename="rapport-{d.id}-{lang}.pdf"'
    return resp


@bp.route("/rapporter/<int:definition_id>/csv")
@login_required
def csv_appendix(definition_id: int):
    """The report's figures as a CSV appendix (through forum/exports.py)."""
    d = services.definition(current_user, definition_id)
    lang = _language() or d.locale
    with force_locale(lang):
        r = report_mod.build(d)
        rows = list(appendix.rows(r))
        header = appendix.header()
    return exports.response(exports.stream(header, rows), f"rapport-{d.id}-{lang}.csv")
