"""The open-data dump: a zip of all public content as CSV and JSON, with a data dictionary.

Made by a periodic job (``forum/periodic.py``; ``flask api dump`` from cron in production)
into ``API_DUMP_DIR`` and served at the stable address ``/aabne-data/borgerdialog.zip``.
Rows are read in batches (``yield_per``) and written into the zip entry by entry, so memory
stays bounded however large the debate is. The new file replaces the old one only when
complete (a rename).

People: politicians and staff act in office and are named; citizens appear as a pseudonym
(``citizen-`` and 12 hex digits of an HMAC of their id under the app's secret: stable from
dump to dump, so a researcher can follow one voice, and not reversible). Borgerdialog
records no consent to publish a citizen's name in open data, so every citizen is
pseudonymous.
"""

from __future__ import annotations

import hashlib
import hmac
import io
import json
import os
import zipfile
from datetime import UTC, datetime
from pathlib import Path

import click
from flask import Blueprint, Flask, Response, abort, current_app, request
from flask_babel import force_locale
from sqlalchemy import select
from sqlalchemy.orm import aliased

from forum import exports, permissions
from forum.extensions import db
from forum.i18n import lazy_gettext as _l
from forum.models import Area, Committee, Post, Role, Topic, User, utcnow
from forum.periodic import PeriodicThread, start_periodic

bp = Blueprint("api_dump", __name__)
FILENAME = "borgerdialog.zip"
BATCH = 2000

# file -> [(column, meaning)]: the data dictionary, written into the zip (in English) and
# shown on the open-data page (in the reader's language).
COLUMNS: dict[str, list[tuple[str, object]]] = {
    "committees": [
        ("id", _l("Committee id (stable).")),
        ("slug", _l("The committee's address name.")),
        ("name", _l("Name.")),
        ("archived", _l("1 when the committee is archived.")),
    ],
    "areas": [
        ("id", _l("Local area id (stable).")),
        ("slug", _l("The area's address name.")),
        ("name", _l("Name.")),
        ("archived", _l("1 when the area is archived.")),
    ],
    "topics": [
        ("id", _l("Topic id (stable).")),
        ("title", _l("Title.")),
        ("status", _l("open, closed or archived.")),
        ("committee_id", _l("Committee id, or empty.")),
        ("area_id", _l("Local area id, or empty.")),
        ("author", _l("Who opened it: a name (politicians, staff) or a citizen pseudonym.")),
        ("author_role", _l("citizen, politician, staff or former.")),
        ("created_at", _l("When it was opened (ISO 8601, UTC).")),
        ("deadline", _l("Consultation deadline (ISO 8601, UTC), or empty.")),
        ("post_count", _l("Published posts.")),
        ("intro_html", _l("The introduction (sanitised HTML).")),
    ],
    "posts": [
        ("id", _l("Post id (stable).")),
        ("topic_id", _l("The topic's id.")),
        ("parent_id", _l("The post it replies to, when that post is public; else empty.")),
        ("author", _l("A name (politicians, staff) or a citizen pseudonym.")),
        ("author_role", _l("citizen, politician, staff or former.")),
        ("party", _l("A politician's party, or empty.")),
        ("stance", _l("for, against, question, or empty.")),
        ("supports", _l("How many agreed with it.")),
        ("created_at", _l("When it was written (ISO 8601, UTC).")),
        ("edited_at", _l("When it was last edited (ISO 8601, UTC), or empty.")),
        ("body_html", _l("The text (sanitised HTML).")),
    ],
}


def dump_dir(app: Flask | None = None) -> Path:
    app = app or current_app
    return Path(app.config.get("API_DUMP_DIR") or Path(app.instance_path) / "open-data")


def _iso(value: datetime | None) -> str:
    return value.replace(tzinfo=UTC).isoformat(timespec="seconds") if value else ""


class People:
    """Authors as the dump names them, looked up once per person."""

    def __init__(self) -> None:
        self._secret = current_app.config["SECRET_KEY"].encode()
        self._memo: dict[int, tuple[str, str, str]] = {}

    def __call__(self, user: User) -> tuple[str, str, str]:
        """(name or pseudonym, role, party)."""
        hit = self._memo.get(user.id)
        if hit is None:
            hit = self._memo[user.id] = self._describe(user)
        return hit

    def _describe(self, user: User) -> tuple[str, str, str]:
        if user.deleted_at is not None:
            return ("", "former", "")
        if user.role == Role.POLITICIAN:
            return (user.display_name, "politician", user.party or "")
        if user.role == Role.CITIZEN:
            digest = hmac.new(self._secret, f"citizen:{user.id}".encode(), hashlib.sha256)
            return ("citizen-" + digest.hexdigest()[:12], "citizen", "")
        return (user.display_name, "staff", "")


def _places(model) -> list[list]:
    return [
        [p.id, p.slug, p.name, int(p.archived_at is not None)]
        for p in db.session.scalars(select(model).order_by(model.id))
    ]


def _topic_rows(people: People):
    stmt = (
        select(Topic, User)
        .join(User, User.id == Topic.author_id)
        .where(permissions.visible_topics_clause(None))
        .order_by(Topic.id)
        .execution_options(yield_per=BATCH)
    )
    for t, author in db.session.execute(stmt):
        name, role, _party = people(author)
        yield [
            t.id,
            t.title,
            t.status.value,
            t.committee_id or "",
            t.area_id or "",
            name,
            role,
            _iso(t.created_at),
            _iso(t.deadline),
            t.post_count,
            t.intro_html,
        ]


def _post_rows(people: People):
    parent = aliased(Post)
    public = permissions.PUBLIC_POST_STATES
    stmt = (
        select(
            Post.id,
            Post.topic_id,
            Post.parent_id,
            parent.state,
            Post.author_id,
            Post.stance,
            Post.support_count,
            Post.created_at,
            Post.edited_at,
            Post.body_html,
        )
        .join(Topic, Topic.id == Post.topic_id)
        .outerjoin(parent, parent.id == Post.parent_id)
        .where(permissions.visible_topics_clause(None), Post.state.in_(public))
        .order_by(Post.id)
        .execution_options(yield_per=BATCH)
    )
    # Every author once, before the posts stream (people are far fewer than posts).
    users = {u.id: people(u) for u in db.session.scalars(select(User))}
    for row in db.session.execute(stmt):
        who = users[row.author_id]
        yield [
            row.id,
            row.topic_id,
            row.parent_id if row.state in public else "",
            who[0],
            who[1],
            who[2],
            row.stance.value if row.stance else "",
            row.support_count,
            _iso(row.created_at),
            _iso(row.edited_at),
            row.body_html,
        ]


def _write_csv(zf: zipfile.ZipFile, name: str, rows) -> int:
    count = 0
    header = [c for c, _m in COLUMNS[name]]
    with zf.open(f"{name}.csv", "w") as raw:
        out = io.TextIOWrapper(raw, encoding="utf-8", newline="")
        writer = exports.CsvWriter(delimiter=",", bom=True)
        writer.writerow(header)
        for row in rows:
            writer.writerow(row)
            count += 1
            if writer.pending() >= exports.CHUNK_CHARS:
                out.write(writer.take())
        out.write(writer.take())
        out.flush()
        out.detach()
    return count


def _write_json(zf: zipfile.ZipFile, name: str, rows) -> None:
    """A JSON array of objects, one row at a time (the same columns as the CSV)."""
    header = [c for c, _m in COLUMNS[name]]
    with zf.open(f"{name}.json", "w") as raw:
        out = io.TextIOWrapper(raw, encoding="utf-8")
        out.write("[")
        for n, row in enumerate(rows):
            out.write(",\n" if n else "\n")
            out.write(json.dumps(dict(zip(header, row, strict=True)), ensure_ascii=False))
        out.write("\n]\n")
        out.flush()
        out.detach()


def _sources(people: People) -> dict:
    return {
        "committees": lambda: _places(Committee),
        "areas": lambda: _places(Area),
        "topics": lambda: _topic_rows(people),
        "posts": lambda: _post_rows(people),
    }


def write_dump(target: Path | None = None) -> dict[str, int]:
    """Write the zip (atomically replacing the last one); returns rows per file."""
    from . import licence

    terms = licence(fresh=True)
    folder = dump_dir()
    folder.mkdir(parents=True, exist_ok=True)
    target = target or folder / FILENAME
    partial = target.with_suffix(".partial")
    people = People()
    counts: dict[str, int] = {}
    with force_locale("en"), zipfile.ZipFile(partial, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name, rows in _sources(people).items():
            counts[name] = _write_csv(zf, name, rows())
            _write_json(zf, name, rows())
        zf.writestr(
            "datapackage.json",
            json.dumps(_dictionary(counts, terms), ensure_ascii=False, indent=2),
        )
        zf.writestr("README.txt", _readme(terms))
    os.replace(partial, target)
    db.session.rollback()  # read-only: end the snapshot
    return counts


def _dictionary(counts: dict[str, int], terms: tuple[str, str]) -> dict:
    return {
        "name": "borgerdialog-open-data",
        "created": _iso(utcnow()),
        "licenses": [{"name": terms[0], "path": terms[1], "title": terms[0]}],
        "resources": [
            {
                "name": name,
                "path": f"{name}.csv",
                "json": f"{name}.json",
                "rows": counts.get(name, 0),
                "format": "csv",
                "encoding": "utf-8-sig",
                "schema": {"fields": [{"name": c, "description": str(m)} for c, m in columns]},
            }
            for name, columns in COLUMNS.items()
        ],
    }


def _readme(terms: tuple[str, str]) -> str:
    lines = [
        "Borgerdialog: open data",
        "",
        f"Licence: {terms[0]} ({terms[1]})",
        "",
        "Only public content: published posts in public topics. Citizens appear as stable",
        "pseudonyms; politicians and staff by name. CSV files are UTF-8 with a byte-order",
        "mark, comma-separated; the JSON files hold the same rows. Columns:",
    ]
    for name, columns in COLUMNS.items():
        lines += ["", f"{name}.csv"] + [f"  {c}: {m}" for c, m in columns]
    return "\n".join(lines) + "\n"


@bp.route("/aabne-data/borgerdialog.zip")
def latest():
    path = dump_dir() / FILENAME
    if not path.exists():
        abort(404)
    stat = path.stat()

    def pieces():
        # Opened only when the body is sent: a HEAD or a 304 opens nothing.
        with open(path, "rb") as f:
            while chunk := f.read(256 * 1024):
                yield chunk

    resp = Response(pieces(), mimetype="application/zip")
    resp.headers["Content-Disposition"] = f'attachment; filename="{FILENAME}"'
    resp.headers["Content-Length"] = str(stat.st_size)
    resp.headers["Access-Control-Allow-Origin"] = "*"
    resp.headers["Cache-Control"] = "public, max-age=3600"
    resp.set_etag(f"{stat.st_mtime_ns:x}-{stat.st_size:x}")
    resp.last_modified = datetime.fromtimestamp(stat.st_mtime, UTC)
    return resp.make_conditional(request)


def due() -> bool:
    path = dump_dir() / FILENAME
    if not path.exists():
        return True
    age = datetime.now().timestamp() - path.stat().st_mtime
    return age >= float(current_app.config["API_DUMP_INTERVAL"])


def job() -> int:
    """The periodic round: a new dump when the last is older than API_DUMP_INTERVAL."""
    if not due():
        return 0
    return sum(write_dump().values())


def init_app(app: Flask) -> None:
    @app.cli.group("api")
    def api_cli() -> None:
        """Open data: the dump."""

    @api_cli.command("dump")
    @click.option(
        "--if-due",
        is_flag=True,
        help="Only when the last zip is older than API_DUMP_INTERVAL (deploy/run-periodic.sh).",
    )
    def dump_command(if_due: bool) -> None:
        """Write the open-data zip now (systemd timer / cron: nightly)."""
        if if_due and not due():
            click.echo("The open-data zip is recent; nothing to do.")
            return
        counts = write_dump()
        click.echo(", ".join(f"{k}: {v}" for k, v in counts.items()))

    start_periodic(
        app,
        "API_DUMP_WORKER",
        PeriodicThread(app, "open-data-dump", job, "API_DUMP_CHECK_INTERVAL"),
    )
