"""Search's pages: results (the same page with or without JavaScript), CSV export, saved
searches."""

from __future__ import annotations

from datetime import date

from flask import (
    Blueprint,
    Response,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    stream_with_context,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required
from werkzeug.datastructures import MultiDict

from forum import hooks, uow
from forum.errors import DomainError
from forum.extensions import limiter
from forum.forms import EmptyForm, choices

from . import services
from .forms import SaveSearchForm, SearchForm

bp = Blueprint("search", __name__, url_prefix="/soeg")


def _search_limit() -> str:
    return current_app.config["RATELIMIT_SEARCH"]


def _export_limit() -> str:
    return current_app.config["RATELIMIT_SEARCH_EXPORT"]


def _url_maker(params: dict[str, str], endpoint: str = "search.results"):
    """``url(udvalg="x", side=2)``: this search with some parameters changed (None removes)."""

    def url(**changes) -> str:
        merged = {**params, **changes}
        if merged.get("side") in (1, "1"):
            merged.pop("side")
        return url_for(endpoint, **{k: v for k, v in merged.items() if v not in (None, "")})

    return url


def _search_form(req: services.SearchRequest, places: services.Places) -> SearchForm:
    c = req.criteria
    data = {k: v for k, v in req.params.items() if k not in ("fra", "til")}
    form = SearchForm(
        formdata=None,
        data={**data, "fra": c.date_from, "til": c.date_to, "skjulte": c.include_restricted},
    )
    form.udvalg.choices = choices(
        [("", _("All committees"))] + [(x.slug, x.name) for x in places.committees]
    )
    form.omraade.choices = choices(
        [("", _("All local areas"))] + [(x.slug, x.name) for x in places.areas]
    )
    form.parti.choices = choices([("", _("All parties"))] + [(p, p) for p in places.parties])
    form.slags.choices = choices([("", _("All kinds"))] + services.kind_choices())
    form.kilde.choices = choices(
        [("", _("Everything"))] + [(key, str(o.label)) for key, o in hooks.post_origins().items()]
    )
    return form


@bp.route("", methods=["GET"])
@limiter.limit(_search_limit)
def results():
    """The results page. Bad input never errors: it becomes a message on the page."""
    places = services.load_places()
    req = services.read_request(request.args, current_user, places)
    page = services.run_search(current_user, req, places)
    params = dict(req.params)
    if req.criteria.include_restricted:
        params["skjulte"] = "1"
    html = render_template(
        "search/results.html",
        result=page,
        req=req,
        params=params,
        form=_search_form(req, places),
        save_form=SaveSearchForm(),
        url=_url_maker(params),
        export_url=url_for("search.export", **params),
    )
    if page.unavailable:
        # Search is being rebuilt: a temporary state, and the page says so.
        return html, 503, {"Retry-After": "60"}
    return html


@bp.route("/eksport.csv", methods=["GET"])
@login_required
@limiter.limit(_export_limit)
def export():
    """The whole result set as CSV (UTF-8 with a BOM, so Excel shows æ, ø and å)."""
    req = services.read_request(request.args, current_user)
    if services.index_unavailable():
        return redirect(url_for("search.results", **req.params))
    pieces, truncated = services.export_csv(current_user, req)
    name = f"borgerdialog-soegning-{date.today().isoformat()}.csv"
    response = Response(stream_with_context(pieces), mimetype="text/csv")
    response.headers["Content-Type"] = "text/csv; charset=utf-8"
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    if truncated:
        response.headers["X-Export-Truncated"] = str(current_app.config["SEARCH_EXPORT_MAX"])
    return response


@bp.route("/gemte", methods=["GET"])
@login_required
def saved():
    places = services.load_places()
    return render_template(
        "search/saved.html",
        items=services.list_saved(current_user),
        params_of=services.saved_params,
        describe=lambda saved: services.describe_filters(saved, places),
        form=EmptyForm(),
    )


@bp.route("/gemte", methods=["POST"])
@login_required
@limiter.limit(_search_limit)
def save():
    form = SaveSearchForm()
    params = MultiDict({k: request.form[k] for k in services.PARAMS if request.form.get(k)})
    if form.validate_on_submit():
        try:
            services.save_search(
                current_user._get_current_object(), form.name.data, params, notify=form.notify.data
            )
        except DomainError as exc:
            uow.rollback()
            for message in exc.fields.values() or [exc.message]:
                flash(message, "error")
        else:
            uow.commit()
            flash(_("The search is saved."), "success")
            return redirect(url_for("search.saved"))
    else:
        for errors in form.errors.values():
            for message in errors:
                flash(message, "error")
    return redirect(url_for("search.results", **params.to_dict()))


@bp.route("/gemte/<int:saved_id>/slet", methods=["POST"])
@login_required
def delete(saved_id: int):
    if not EmptyForm().validate_on_submit():
        return redirect(url_for("search.saved"))
    services.delete_saved(current_user._get_current_object(), saved_id)
    uow.commit()
    flash(_("The saved search is deleted."), "success")
    return redirect(url_for("search.saved"))
