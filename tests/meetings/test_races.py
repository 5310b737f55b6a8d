"""Concurrent last-seat requests and double submissions: never more seats than capacity,
never two rows for one person. Real parallel transactions need PostgreSQL (its row lock is
what the service relies on); SQLite serialises writers anyway and is skipped."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import func, select

from forum.errors import DomainError
from forum.extensions import db
from meetings import services
from meetings.models import MeetingRegistration, RegistrationStatus


def _parallel(app, calls) -> list:
    barrier = threading.Barrier(len(calls))
    results: list = [None] * len(calls)

    def run(i, user_id, meeting_id):
        with app.app_context():
            from forum.models import User

            user = db.session.get(User, user_id)
            barrier.wait()
            try:
                row = services.register(user, meeting_id)
                db.session.commit()
                results[i] = row.status
            except DomainError as exc:
                db.session.rollback()
                results[i] = exc
            finally:
                db.session.remove()

    threads = [threading.Thread(target=run, args=(i, *c)) for i, c in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    return results


@pytest.fixture
def pg(app):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("needs PostgreSQL (TEST_DATABASE_URL): SQLite serialises writers anyway")


def _rows(meeting_id, status=None):
    stmt = select(func.count()).select_from(MeetingRegistration)
    stmt = stmt.where(MeetingRegistration.meeting_id == meeting_id)
    if status is not None:
        stmt = stmt.where(MeetingRegistration.status == status)
    return db.session.scalar(stmt)


def test_concurrent_last_seat_requests_never_overbook(pg, app, make_meeting, make_user):
    m = make_meeting(capacity=3)
    people = [make_user() for _ in range(8)]
    results = _parallel(app, [(p.id, m.id) for p in people])
    db.session.expire_all()
    assert _rows(m.id, RegistrationStatus.CONFIRMED) == 3
    assert _rows(m.id, RegistrationStatus.WAITING) == 5
    assert results.count(RegistrationStatus.CONFIRMED) == 3
    positions = sorted(
        db.session.scalars(
            select(MeetingRegistration.position).where(
                MeetingRegistration.meeting_id == m.id,
                MeetingRegistration.status == RegistrationStatus.WAITING,
            )
        )
    )
    assert positions == [1, 2, 3, 4, 5]


def test_a_double_submission_at_once_gives_one_place(pg, app, make_meeting, world):
    m = make_meeting(capacity=10)
    results = _parallel(app, [(world.citizen.id, m.id)] * 4)
    db.session.expire_all()
    assert _rows(m.id) == 1
    assert results.count(RegistrationStatus.CONFIRMED) == 1
    assert all(isinstance(r, DomainError) for r in results if r != RegistrationStatus.CONFIRMED)
