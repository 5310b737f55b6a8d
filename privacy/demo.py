"""Demo facts for ``flask seed-demo`` (a forum demo step): most demo citizens gave some of the
optional facts, and the population's shares are entered (rounded, in the spirit of Danmarks
Statistik's figures for Holbæk Kommune; demo values, not official statistics). The reach
dashboard then shows who the debate reaches: few young people, few descendants of
immigrants, and small groups hidden."""

from __future__ import annotations

from sqlalchemy import select

from forum.extensions import db
from forum.models import Area, Role, User

from .models import ConsentRecord, PersonalFact, PopulationShare

AGE = ["30-49", "50-64", "65-plus", "50-64", "30-49", "18-29", "65-plus", "30-49"]
CHILDREN = ["yes", "no", "no", "yes", "no", "no", "yes", "no"]
BUSINESS = ["no", "no", "yes", "no", "no", "no", "no", "yes"]
BACKGROUND = ["danish", "danish", "danish", "immigrant", "danish", "danish", "descendant", "danish"]
POPULATION = {
    "age_band": {"under-18": 21.5, "18-29": 13.0, "30-49": 23.5, "50-64": 20.5, "65-plus": 21.5},
    "children": {"yes": 34.0, "no": 66.0},
    "business": {"yes": 6.5, "no": 93.5},
    "background": {"danish": 88.5, "immigrant": 8.5, "descendant": 3.0},
}
AREAS = {
    "Holbæk By": 40.0,
    "Tølløse": 5.5,
    "Jyderup": 5.5,
    "Svinninge": 4.0,
    "Tuse Næs": 3.0,
    "Mørkøv": 3.0,
    "Vipperød": 4.0,
    "Orø": 1.0,
    "Ugerløse": 1.5,
    "Store Merløse": 2.0,
    "Kvanløse": 1.0,
    "Regstrup": 3.0,
}


def seed() -> int:
    """Write the demo facts and shares (no commit); returns the rows written."""
    citizens = db.session.scalars(
        select(User)
        .where(User.role == Role.CITIZEN, User.email.like("%@example.dk"))
        .order_by(User.id)
    ).all()
    areas = db.session.scalars(select(Area).order_by(Area.position, Area.id)).all()
    by_name = {a.name: a for a in areas}
    written = 0
    for i, user in enumerate(citizens):
        if i % 6 == 5:
            continue  # some gave no facts at all
        given = {
            "age_band": AGE[i % len(AGE)],
            "children": CHILDREN[i % len(CHILDREN)],
            "business": BUSINESS[i % len(BUSINESS)],
        }
        if i % 3:
            given["background"] = BACKGROUND[i % len(BACKGROUND)]
        for fact, value in given.items():
            db.session.add(PersonalFact(user_id=user.id, fact=fact, value=value))
            db.session.add(ConsentRecord(user_id=user.id, kind=f"fact:{fact}", notice_version=1))
            written += 2
        if areas:
            # Most demo citizens live in Holbæk By, others spread over the towns.
            area = areas[0] if i % 2 else areas[i % len(areas)]
            db.session.add(PersonalFact(user_id=user.id, fact="area", value="", area_id=area.id))
            db.session.add(ConsentRecord(user_id=user.id, kind="fact:area", notice_version=1))
            written += 2
    for fact, shares in POPULATION.items():
        for value, percent in shares.items():
            db.session.add(PopulationShare(fact=fact, value=value, percent=percent))
            written += 1
    for name, percent in AREAS.items():
        if name in by_name:
            db.session.add(
                PopulationShare(fact="area", value="", area_id=by_name[name].id, percent=percent)
            )
            written += 1
    db.session.flush()
    return written
