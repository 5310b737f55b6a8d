"""The unit of work (forum/uow.py): the edge's one way to save or forget a change."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from wtforms import StringField

from forum import uow
from forum.errors import InvalidInput
from forum.extensions import db
from forum.forms import BaseForm
from forum.models import Committee


class _Form(BaseForm):
    name = StringField()


def _names() -> list[str]:
    db.session.rollback()
    return list(db.session.scalars(select(Committee.name)))


def test_saving_commits_the_block(app):
    with app.test_request_context("/", method="POST"):
        with uow.saving() as saved:
            db.session.add(Committee(name="Udvalget for Test", slug="test"))
        assert saved.ok and saved.status == 200
        assert _names() == ["Udvalget for Test"]


def test_domain_error_rolls_back_and_lands_on_the_form(app):
    with app.test_request_context("/", method="POST"):
        form = _Form(meta={"csrf": False})
        with uow.saving(form) as saved:
            db.session.add(Committee(name="Halv", slug="halv"))
            db.session.flush()
            raise InvalidInput("nej", name="Navnet findes allerede.")
        assert not saved.ok
        assert saved.placed and saved.status == 400
        assert form.name.errors == ["Navnet findes allerede."]
        assert _names() == []  # nothing half-written


def test_an_error_no_field_fits_is_kept_for_the_view(app):
    with app.test_request_context("/", method="POST"):
        with uow.saving(_Form(meta={"csrf": False})) as saved:
            raise InvalidInput("Emnet er lukket.")
        assert not saved.placed and saved.error.message == "Emnet er lukket."


def test_a_bug_rolls_back_and_propagates(app):
    with app.test_request_context("/", method="POST"):
        with pytest.raises(ZeroDivisionError):
            with uow.saving():
                db.session.add(Committee(name="Fejl", slug="fejl"))
                db.session.flush()
                1 / 0  # noqa: B018
        assert _names() == []


# --- the seam: what a commit runs ------------------------------------------------------------


def _watch(app, phase: str, name: str, calls: list, kinds=None):
    """An extra handler (unlisted names go last in their phase) that notes its calls."""
    return uow.seams(app).add(
        phase,
        name,
        lambda _unit, events: calls.append((name, [uow.kind_of(e) for e in events])),
        kinds,
    )


def _record(kind: str = "test_event") -> None:
    from forum import eventlog

    eventlog.record(kind, "test", 1, "nowhere")


def test_after_commit_runs_once_per_outermost_commit_never_on_savepoint_or_rollback(app):
    calls: list = []
    entry = _watch(app, uow.AFTER_COMMIT, "test.after", calls)
    try:
        db.session.commit()  # nothing pending: a commit all the same
        calls.clear()
        _record("rolled_back")
        db.session.rollback()
        assert calls == []

        with db.session.begin_nested():  # released: not a commit
            _record("in_savepoint")
        nested = db.session.begin_nested()
        _record("savepoint_rolled_back")
        nested.rollback()
        _record("outer")
        assert calls == []
        uow.commit()
        # once, with the transaction's events; the rolled-back savepoint's event is not there
        assert calls == [("test.after", ["in_savepoint", "outer"])]
        uow.commit()
        assert calls[-1] == ("test.after", [])  # the next unit starts empty
        assert len(calls) == 2
    finally:
        uow.seams(app).remove(entry)


def test_a_failing_after_commit_handler_does_not_undo_the_commit(app):
    def boom(_unit, _events):
        raise RuntimeError("after the commit")

    entry = uow.seams(app).add(uow.AFTER_COMMIT, "test.boom", boom)
    try:
        db.session.add(Committee(name="Gemt", slug="gemt"))
        uow.commit()
    finally:
        uow.seams(app).remove(entry)
    assert _names() == ["Gemt"]


def test_handlers_keyed_by_kind_get_only_their_events(app):
    calls: list = []
    entries = [
        _watch(app, uow.FLUSH, "test.flush", calls, kinds={"wanted"}),
        _watch(app, uow.AFTER_COMMIT, "test.keyed", calls, kinds={"wanted"}),
    ]
    try:
        db.session.commit()
        calls.clear()
        _record("other")
        uow.commit()
        assert calls == []  # no event of its kinds: not called
        _record("other")
        _record("wanted")
        uow.commit()
        assert calls == [("test.flush", ["wanted"]), ("test.keyed", ["wanted"])]
    finally:
        for entry in entries:
            uow.seams(app).remove(entry)


def test_handler_order_follows_the_declared_list():
    order = [
        (uow.FLUSH, "b.flush"),
        (uow.AFTER_COMMIT, "c.after"),
        (uow.AFTER_COMMIT, "a.after"),
        (uow.AFTER_COMMIT, "b.after"),
    ]
    seams = uow.Seams(order)
    for name in ("b.after", "a.after", "b.flush", "c.after"):  # registered in another order
        seams.register(name, lambda _unit, _events: None)
    assert [h.name for h in seams.handlers[uow.AFTER_COMMIT]] == ["c.after", "a.after", "b.after"]
    with pytest.raises(ValueError, match="declared order"):
        seams.register("z.unknown", lambda _unit, _events: None)


def test_the_app_runs_its_handlers_in_the_declared_order(app):
    declared = [name for _, name in uow.ORDER]
    for phase in uow.PHASES:
        names = [h.name for h in uow.seams(app).handlers[phase]]
        assert names == [n for n in declared if n in names]
        assert names, phase  # every phase has a handler in the assembled app


def test_seams_command_prints_the_handlers_per_phase_and_kind(app):
    result = app.test_cli_runner().invoke(args=["seams"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].startswith("In the transaction, at each flush")
    flush = lines[: lines.index("In the transaction, before the outermost commit:")]
    assert any(line.split()[:2] == ["notification", "mail.queue"] for line in flush)
    assert any(line.split()[:2] == ["post_published", "forum.fanout"] for line in flush)
    after = lines[lines.index("After the outermost commit:") + 1 :]
    assert after[0].split(None, 2)[2] == (
        "live.push, live.end_sessions, search.wake, mail.wake, forum.fanout_wake"
    )
