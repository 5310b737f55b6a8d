"""The demo's ready report: a committee report the demo's staff member opens at once."""

from __future__ import annotations

from sqlalchemy import select

from forum.demo import seed_demo
from forum.extensions import db
from outcomes import demo as outcomes_demo
from reports import demo
from reports.models import ReportDefinition


def test_demo_report(app):
    app.config["MODERATION_ENABLED"] = False  # seed-demo pauses the policies the same way
    seed_demo(big_posts=5)
    outcomes_demo.seed()
    assert demo.seed() == 1
    db.session.commit()
    d = db.session.scalar(select(ReportDefinition))
    assert d.created_by.email == "medarbejder@holbaek.example"  # the demo's Role.STAFF
    assert d.committee.slug == "kultur-og-fritid" and d.locale == "da"
    c = app.test_client()
    login = {"email": "medarbejder@holbaek.example", "password": "demo-holbaek-2026"}
    r = c.post("/login", data=login)
    assert r.status_code == 302
    page = c.get(f"/rapporter/{d.id}").text
    assert "Udvalget for Kultur og Fritid" in page
    assert "Forslag om at lukke biblioteksfilialen i Jyderup" in page
    assert "Kultur- og Fritidsudvalget har besluttet" in page  # the demo's outcome
    assert "en borger fra" in page
    assert c.get("/rapporter").status_code == 200
