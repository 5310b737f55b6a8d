"""The demo's ready report (a ``flask seed-demo`` step): a report definition for the culture
and leisure committee over the last year, made by the demo's staff member. The report is
made from it on demand (HTML, PDF, CSV) at /rapporter."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select

from forum.extensions import db
from forum.models import Committee, User

from . import services

COMMITTEE = "kultur-og-fritid"


def seed() -> int:
    # The municipal employee of the demo (Role.STAFF; forum/demo_content.py's STAFF).
    staff = db.session.scalar(select(User).where(User.email == "medarbejder@holbaek.example"))
    committee = db.session.scalar(select(Committee).where(Committee.slug == COMMITTEE))
    if staff is None or committee is None:
        return 0
    today = date.today()
    services.create_definition(
        staff,
        title=f"Erfaringsrapport: {committee.name} {today.year}",
        scope="committee",
        committee_id=committee.id,
        period_start=today - timedelta(days=365),
        period_end=today,
        locale="da",
    )
    return 1
