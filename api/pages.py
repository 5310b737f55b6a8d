"""Pages for people: the API's documentation, the open-data page and the staff's key
management."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, jsonify, redirect, render_template, url_for
from flask_babel import format_decimal
from flask_login import current_user, login_required
from sqlalchemy import select

from forum import uow
from forum.extensions import db, limiter
from forum.forms import BaseForm, choices
from forum.models import Area

from . import keys
from .forms import KeyForm
from .openapi import build_spec, server_url

bp = Blueprint("api_pages", __name__)
# Staff-only forms: the staff bound, for scripts and mistakes (forum/ratelimits.py).
staff_limit = limiter.limit(lambda: current_app.config["RATELIMIT_STAFF"], methods=["POST"])


@bp.route("/api/v1/openapi.json")
def openapi_json():
    resp = jsonify(build_spec(server_url()))
    resp.headers["Access-Control-Allow-Origin"] = "*"
    resp.headers["Cache-Control"] = "public, max-age=300"
    return resp


@bp.route("/api")
def docs():
    """The endpoints in words, from the same document (no script, nothing from elsewhere)."""
    spec = build_spec(server_url())
    operations = [
        (method.upper(), path, op)
        for path, item in spec["paths"].items()
        for method, op in item.items()
    ]
    return render_template("api/docs.html", spec=spec, operations=operations)


@bp.route("/aabne-data")
def open_data():
    """What the open-data file holds, its licence and its columns (the data dictionary)."""
    from datetime import UTC, datetime

    from . import dump, licence

    path = dump.dump_dir() / dump.FILENAME
    made = size = None
    if path.exists():
        stat = path.stat()
        made = datetime.fromtimestamp(stat.st_mtime, UTC).replace(tzinfo=None)
        size = format_decimal(max(stat.st_size / 1_000_000, 0.1), format="#,##0.0")
    name, url = licence()
    return render_template(
        "api/open_data.html",
        made=made,
        size=size,
        licence_name=name,
        licence_url=url,
        columns=dump.COLUMNS,
    )


def _staff_only() -> None:
    if not keys.can_manage_keys(current_user):
        abort(403)


def _form() -> KeyForm:
    form = KeyForm()
    areas = db.session.scalars(select(Area).where(Area.archived_at.is_(None)).order_by(Area.name))
    form.area.choices = choices([("", "—")] + [(str(a.id), a.name) for a in areas])
    return form


@bp.route("/api/noegler", methods=["GET", "POST"])
@login_required
@staff_limit
def key_list():
    _staff_only()
    form = _form()
    secret = None
    status = 200
    if form.validate_on_submit():
        with uow.saving(form) as saved:
            area_id = int(form.area.data) if (form.area.data or "").isdigit() else None
            _key, secret = keys.create_key(current_user, form.name.data, form.scope.data, area_id)
        status = saved.status
        if saved.ok:
            form = _form()
            form.name.data = ""
    elif form.is_submitted():
        status = 400
    return (
        render_template(
            "api/keys.html", form=form, keys=keys.list_keys(current_user), secret=secret
        ),
        status,
    )


@bp.route("/api/noegler/<int:key_id>/tilbagekald", methods=["POST"])
@login_required
@staff_limit
def revoke(key_id: int):
    _staff_only()
    if not BaseForm().validate_on_submit():
        abort(400)
    with uow.saving() as saved:
        keys.revoke_key(current_user, key_id)
    if saved.error is not None:
        abort(saved.status)
    return redirect(url_for("api_pages.key_list"))
