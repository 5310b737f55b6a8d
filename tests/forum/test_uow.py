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
