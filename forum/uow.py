"""The unit of work: the one place where a change is saved (docs/ARCHITECTURE.md, "Write path").

Services change the session and never commit. The edge — a view, a Socket.IO handler, a CLI
command, a periodic job — ends the unit of work with ``commit()`` (or ``saving(form)`` in a
view with a form), so what happens when a change is saved is found here and in the handlers
registered with this module, not in scattered session listeners.

    with uow.saving(form) as saved:
        topic = services.create_topic(...)
    if saved.ok:
        return redirect(...)

``saving`` commits when the block ends without a ``DomainError``; on one it rolls back, puts
the error's field messages on the form (in the user's language, as the service wrote them)
and keeps it in ``saved.error`` so the view can answer with the right status.

What a commit does is declared in ``ORDER`` below, in three phases; each package registers
its handlers by name in its ``init_app`` (``register``), and ``flask --app app seams``
prints them per event kind. ``UnitOfWorkSession`` is the session class of ``db`` (forum/
extensions.py), so any ``db.session.commit()`` — a view, a test, a CLI command — goes
through the same seam:

``flush``         in the transaction, before each flush, with the ``Event`` rows about to be
                  written: what they add (mail items, search's user-change events, fan-out
                  jobs) is written in the same flush and commits or rolls back with them,
                  savepoints included.
``before_commit`` in the transaction, once, before the outermost commit, with the
                  transaction's events (as dicts): read what after-commit handlers need.
``after_commit``  after the outermost commit, with the same events: live pushes, ending
                  sessions, waking the indexer, the mail sender and the fan-out worker
                  (forum/fanout.py: followers' notifications). They never raise (the
                  commit is done; a failure is logged).

A savepoint (``begin_nested``) is released without ``Session.commit``: nothing after-commit
runs then. Events written inside a savepoint that rolled back are not handed on. A rollback
(or closing the session) forgets the unit's events and state.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import click
from flask import Flask, current_app
from flask_sqlalchemy.session import Session as _FlaskSession
from sqlalchemy import inspect as sa_inspect

from .errors import DomainError

log = logging.getLogger(__name__)

FLUSH, BEFORE_COMMIT, AFTER_COMMIT = "flush", "before_commit", "after_commit"
PHASES = (FLUSH, BEFORE_COMMIT, AFTER_COMMIT)

# The one list of what saving does, in the order it runs within each phase. A handler not
# named here cannot be registered (so this list is complete).
ORDER: tuple[tuple[str, str], ...] = (
    # in the flush (forum/live.py, search/indexer.py, forum/fanout.py, mail/feed.py)
    (FLUSH, "live.ended_sessions"),  # a new password, logout, lost moderation: note rooms
    (FLUSH, "search.user_changes"),  # a display name, role or party changed: a user_changed
    (FLUSH, "forum.fanout"),  # a post made public: one fan-out job (forum/fanout.py)
    (FLUSH, "mail.watch"),  # new mail messages (wake the sender), moderation notifications
    (FLUSH, "mail.queue"),  # notification and Q&A events: mail items in the same flush
    # before the outermost commit
    (BEFORE_COMMIT, "live.read_facts"),  # topics' areas and counts, users' unread counts
    # after the outermost commit
    (AFTER_COMMIT, "live.push"),  # messages to Socket.IO rooms
    (AFTER_COMMIT, "live.end_sessions"),  # close the rooms noted in the flush
    (AFTER_COMMIT, "search.wake"),  # the indexer thread reads the log now
    (AFTER_COMMIT, "mail.wake"),  # the sender thread looks at its queue now
    (AFTER_COMMIT, "forum.fanout_wake"),  # the fan-out worker writes notifications now
)

_KEY = "borgerdialog.seams"

Handler = Callable[["Unit", list], None]


@dataclass
class Registered:
    name: str
    phase: str
    fn: Handler
    kinds: frozenset[str] | None  # None: every unit of work (the handler looks itself)


@dataclass
class Unit:
    """One outermost transaction of a session: its new events and its handlers' state."""

    session: object
    events: list = field(default_factory=list)  # Event rows flushed in it (objects)
    state: dict = field(default_factory=dict)  # per handler, e.g. rooms to close


class Seams:
    """The handlers of one app, per phase, in ``order``'s order."""

    def __init__(self, order: Iterable[tuple[str, str]] = ORDER) -> None:
        self.order = tuple(order)
        self._rank = {name: i for i, (_, name) in enumerate(self.order)}
        self._phase = {name: phase for phase, name in self.order}
        self.handlers: dict[str, list[Registered]] = {p: [] for p in PHASES}
        # Tables whose rows are never updated or deleted -> the error to raise (append_only).
        self._append_only_classes: dict[type, type[Exception]] = {}

    def register(self, name: str, fn: Handler, kinds: Iterable[str] | None = None) -> None:
        if name not in self._phase:
            raise ValueError(f"{name!r} is not in the declared order of handlers (forum/uow.py)")
        self.add(self._phase[name], name, fn, kinds)

    def add(
        self, phase: str, name: str, fn: Handler, kinds: Iterable[str] | None = None
    ) -> Registered:
        """Add a handler (unlisted names go last in their phase; for tests)."""
        entry = Registered(name, phase, fn, frozenset(kinds) if kinds is not None else None)
        handlers = [h for h in self.handlers[phase] if h.name != name] + [entry]
        handlers.sort(key=lambda h: self._rank.get(h.name, len(self._rank)))
        self.handlers[phase] = handlers
        return entry

    def remove(self, entry: Registered) -> None:
        self.handlers[entry.phase] = [h for h in self.handlers[entry.phase] if h is not entry]

    def run(self, phase: str, unit: Unit, events: list, kind_of) -> None:
        for h in self.handlers[phase]:
            if h.kinds is None:
                h.fn(unit, events)
                continue
            mine = [ev for ev in events if kind_of(ev) in h.kinds]
            if mine:
                h.fn(unit, mine)

    def describe(self) -> list[str]:
        """Per phase, per event kind, the handlers in the order they run."""
        titles = {
            FLUSH: "In the transaction, at each flush (with the Event rows being written):",
            BEFORE_COMMIT: "In the transaction, before the outermost commit:",
            AFTER_COMMIT: "After the outermost commit:",
        }
        lines: list[str] = []
        for phase in PHASES:
            lines.append(titles[phase])
            handlers = self.handlers[phase]
            kinds = sorted({k for h in handlers if h.kinds for k in h.kinds})
            every = "every flush" if phase == FLUSH else "every commit"
            rows = [(every, [h.name for h in handlers if h.kinds is None])]
            rows += [(k, [h.name for h in handlers if h.kinds and k in h.kinds]) for k in kinds]
            for kind, names in rows:
                if names:
                    lines.append(f"  {kind:<20} {', '.join(names)}")
            if not handlers:
                lines.append("  (none)")
        return lines


def append_only(app: Flask, model: type, error: type[Exception]) -> None:
    """Refuse, with ``error``, any update or delete of ``model``'s rows through the session:
    of an object at flush, or a bulk ``update()``/``delete()`` statement."""
    seams(app)._append_only_classes[model] = error


def seams(app: Flask) -> Seams:
    """This app's handlers (created on first use)."""
    found = app.extensions.get(_KEY)
    if found is None:
        found = app.extensions[_KEY] = Seams()
    return found


def register(app: Flask, name: str, fn: Handler, kinds: Iterable[str] | None = None) -> None:
    """Register ``fn`` under ``name`` (one of ``ORDER``'s) for this app.

    ``kinds``: the event kinds it is for (it gets only those, and runs only when there are
    some); None: it runs at every flush or commit of its phase with all events.
    """
    seams(app).register(name, fn, kinds)


_event_class = None


def _event_cls():
    global _event_class
    if _event_class is None:
        from .models import Event  # models import extensions, which imports this module

        _event_class = Event
    return _event_class


def kind_of(ev) -> str:
    """An event's kind, from its row (flush phase) or its dict (commit phases)."""
    return ev["kind"] if isinstance(ev, dict) else ev.kind


def as_dict(ev) -> dict:
    """A plain copy of an event, safe to use after its session has committed."""
    return {
        "id": ev.id,
        "kind": ev.kind,
        "subject_type": ev.subject_type,
        "subject_id": ev.subject_id,
        "room": ev.room,
        "actor_id": ev.actor_id,
        "payload": dict(ev.payload or {}),
    }


class UnitOfWorkSession(_FlaskSession):
    """Flask-SQLAlchemy's session, whose flush and commit run the app's seams."""

    def __init__(self, db, **kwargs) -> None:
        super().__init__(db, **kwargs)
        # Sessions of db.session are made per app context (Flask-SQLAlchemy's scope).
        self.app = current_app._get_current_object()
        self.unit = Unit(self)
        self._in_handlers = False

    def _seams(self) -> Seams:
        return seams(self.app)

    def _check_append_only(self, seams_: Seams) -> None:
        guarded = seams_._append_only_classes
        for obj in (*self.dirty, *self.deleted):
            error = guarded.get(type(obj))
            if error is not None:
                raise error(f"{type(obj).__name__} rows are append-only.")

    def execute(self, statement, *args, **kwargs):
        guarded = self._seams()._append_only_classes
        if guarded and getattr(statement, "is_dml", False):
            # An ORM statement (update(Model)); a Core one on the table (tests emptying
            # tables) is not the application's write path.
            try:
                entity = statement.entity_description.get("entity")
            except (AttributeError, KeyError):  # a Core statement on a plain table
                entity = None
            error = guarded.get(entity)
            if error is not None and (statement.is_update or statement.is_delete):
                raise error("These rows are append-only.")
        return super().execute(statement, *args, **kwargs)

    def flush(self, objects=None) -> None:
        if self._in_handlers or self._flushing:
            return super().flush(objects)
        seams_ = self._seams()
        if seams_._append_only_classes and (self.dirty or self.deleted):
            self._check_append_only(seams_)
        handlers = seams_.handlers[FLUSH]
        event_cls = _event_cls()
        added = list(self.new)
        new = [o for o in added if isinstance(o, event_cls)]
        if handlers and (added or self.dirty or self.deleted):
            self._in_handlers = True
            try:
                with self.no_autoflush:
                    seams_.run(FLUSH, self.unit, new, kind_of)
            finally:
                self._in_handlers = False
            if len(self.new) != len(added):  # the handlers added rows (user_changed events)
                new = [o for o in self.new if isinstance(o, event_cls)]
        super().flush(objects)
        if new:
            self.unit.events.extend(new)

    def _written_events(self) -> list[dict]:
        """The unit's events still in the transaction (a rolled-back savepoint drops its)."""
        out = []
        for ev in self.unit.events:
            st = sa_inspect(ev)
            if st.persistent and st.session_id == self.hash_key:
                out.append(as_dict(ev))
        out.sort(key=lambda e: e["id"])
        return out

    def commit(self) -> None:
        if self._transaction is not None:
            self.flush()  # the last flush's handlers and events belong to this unit
        seams_ = self._seams()
        unit = self.unit
        events = self._written_events()
        seams_.run(BEFORE_COMMIT, unit, events, kind_of)
        super().commit()
        self.unit = Unit(self)
        for h in seams_.handlers[AFTER_COMMIT]:
            mine = events if h.kinds is None else [e for e in events if e["kind"] in h.kinds]
            if h.kinds is not None and not mine:
                continue
            try:
                h.fn(unit, mine)
            except Exception:  # the commit is done: a failure here must not undo the request
                log.exception("after-commit handler %s failed", h.name)

    def rollback(self) -> None:
        try:
            super().rollback()
        finally:
            self.unit = Unit(self)

    def close(self) -> None:
        try:
            super().close()
        finally:
            self.unit = Unit(self)


def state(session) -> dict:
    """The state handlers keep for the session's current unit of work."""
    return session.unit.state


def commit() -> None:
    """Save the current transaction (the edge's one call; services never commit)."""
    from .extensions import db

    db.session.commit()


def rollback() -> None:
    """Forget the current transaction."""
    from .extensions import db

    db.session.rollback()


@click.command("seams")
def seams_command() -> None:
    """Print what saving does: the handlers per phase and event kind, in order; then the
    notification kinds and the package that describes each (forum/hooks.py)."""
    from . import hooks

    for line in seams(current_app).describe():
        click.echo(line)
    kinds = hooks.notification_kinds(current_app)
    click.echo("notification kinds (described on the notifications page and in mails):")
    for kind in sorted(kinds):
        click.echo(f"  {kind}: {kinds[kind].package}")


@dataclass
class Saved:
    ok: bool = False
    error: DomainError | None = None
    placed: bool = False  # the error's messages were put on the form's fields

    @property
    def status(self) -> int:
        """The status to answer with: 200 when saved, else the error's (400 for a form error)."""
        if self.ok or self.error is None:
            return 200
        return self.error.status


def place_errors(form, exc: DomainError) -> bool:
    """Copy a service's field errors onto the form; False if none of them fit a field."""
    placed = False
    for name, message in exc.fields.items():
        field = getattr(form, name, None) if form is not None else None
        if field is not None:
            field.errors = [*list(field.errors or []), message]
            placed = True
    return placed


@contextmanager
def saving(form=None) -> Iterator[Saved]:
    """Run the block as one unit of work: commit it, or roll it back on a ``DomainError``.

    Other exceptions roll back and propagate (a bug is a 500, never a partial write).
    """
    saved = Saved()
    try:
        yield saved
    except DomainError as exc:
        rollback()
        saved.error = exc
        saved.placed = place_errors(form, exc)
        return
    except BaseException:
        rollback()
        raise
    commit()
    saved.ok = True
