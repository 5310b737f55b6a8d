"""Demo outcomes for ``flask seed-demo`` (a forum demo step): three Holbæk debates get an
outcome, written through the services by the demo's staff member: one decided (citing two
contributions), one under consideration, one sent on to the city council."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select

from forum import hooks
from forum.extensions import db
from forum.models import Post, PostState, Topic, User

from . import services
from .models import DecidingBody, OutcomeStatus

LIBRARY = "Forslag om at lukke biblioteksfilialen i Jyderup"
WIND = "Høring om tre vindmøller ved Mørkøv"
HARBOUR = "Havnefronten i Holbæk: Hvad skal den bruges til?"


def _topic(title: str) -> Topic | None:
    return db.session.scalar(select(Topic).where(Topic.title == title))


def seed() -> int:
    """Write the demo outcomes (no commit); returns the rows written (0 without the forum
    demo's topics)."""
    # The municipal employee of the demo (Role.STAFF; forum/demo_content.py's STAFF).
    staff = db.session.scalar(select(User).where(User.email == "medarbejder@holbaek.example"))
    library, wind, harbour = _topic(LIBRARY), _topic(WIND), _topic(HARBOUR)
    if None in (staff, library, wind, harbour):
        return 0
    today = date.today()
    cited = db.session.scalars(
        select(Post.id)
        .where(Post.topic_id == library.id, Post.state == PostState.PUBLISHED)
        .order_by(Post.support_count.desc(), Post.id)
        .limit(2)
    ).all()
    notes = [
        "Mange pegede på biblioteket som det eneste sted i Jyderup, hvor man kan mødes "
        "uden at købe noget.",
        "Forslaget om at dele huset med borgerservice er med i beslutningen.",
    ]
    services.add_update(
        staff,
        library,
        status=OutcomeStatus.IN_PROGRESS,
        body=DecidingBody.ADMINISTRATION,
        text="Forvaltningen samler debatten og høringssvarene til udvalgets møde.",
        decided_on=today - timedelta(days=21),
    )
    services.add_update(
        staff,
        library,
        status=OutcomeStatus.DECIDED,
        body=DecidingBody.COMMITTEE,
        text=(
            "Kultur- og Fritidsudvalget har besluttet **ikke** at lukke filialen i Jyderup. "
            "Åbningstiden udvides med selvbetjening om aftenen, og huset deles fremover med "
            "borgerservice."
        ),
        decided_on=today - timedelta(days=4),
        link="https://www.holbaek.dk/politik/dagsordener-og-referater/",
        citations=list(zip(cited, notes, strict=False)),
    )
    services.add_update(
        staff,
        wind,
        status=OutcomeStatus.IN_PROGRESS,
        body=DecidingBody.ADMINISTRATION,
        text=(
            "Høringsfristen er overstået. Forvaltningen gennemgår høringssvarene og debatten "
            "og forelægger sagen for Klima- og Miljøudvalget."
        ),
        decided_on=today - timedelta(days=2),
    )
    services.add_update(
        staff,
        harbour,
        status=OutcomeStatus.REFERRED,
        body=DecidingBody.COMMITTEE,
        text=(
            "Udvalget har drøftet havnefronten og sender sagen videre til byrådet med "
            "anbefaling om en helhedsplan med plads til både ophold, idræt og boliger."
        ),
        decided_on=today - timedelta(days=7),
        link="https://www.holbaek.dk/politik/byraadet/",
        citations=_elsewhere(staff),
    )
    return 4 + len(cited)


def _elsewhere(staff: User) -> list[tuple[str, int, str]]:
    """A citizen-budget idea and a live Q&A answer of the other packages' demo data, when
    they are there and citable (read by table name, as reports does; checked through the
    forum's citable sources)."""
    wanted: list[tuple[str, int, str]] = []
    for kind, table, where, note in (
        ("idea", "budget_ideas", "state", "Idéen fra borgerbudgettet indgår i helhedsplanen."),
        ("answer", "qa_entries", "kind", "Svaret i spørgetiden er fulgt op."),
    ):
        t = db.metadata.tables.get(table)
        source = hooks.citable_sources().get(kind)
        if t is None or source is None:
            continue
        key = t.c.id if "id" in t.c else t.c.post_id
        value = "published" if where == "state" else "answer"
        ids = list(db.session.scalars(select(key).where(t.c[where] == value).order_by(key)))
        found = source.citable(staff, ids)
        if found:
            wanted.append((kind, min(found), note))
    return wanted
