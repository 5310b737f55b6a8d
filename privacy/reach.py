"""Who takes part: optional facts people consent to give, and the reach figures built on them.

A person may give any of ``FACTS`` on /privatliv/om-dig, each with its own purpose text and
its own consent (a ``privacy_consents`` row of kind ``fact:<name>``); withdrawing deletes the
fact and marks the consent withdrawn. Staff enter the population's shares per group (e.g.
from Danmarks Statistik), and ``figures`` compares participants and contributions with them.

This is the public module other packages call (the synthesis page, the council report)::

    from privacy import reach
    table = reach.figures(viewer, "children", months=12)

Figures count people and published posts in public topics only. Every count of fewer than
``K_ANONYMITY`` people (but more than none) is suppressed, and so is the next smallest group
of a fact when exactly one is, so that no suppressed count follows from the total.
Services never commit.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from flask_babel import gettext as _
from sqlalchemy import delete, func, select

from forum import anonymity, hooks, permissions
from forum.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from forum.extensions import db
from forum.i18n import lazy_gettext as _l
from forum.i18n import quote
from forum.models import Area, Post, Topic, User, utcnow

from .models import ConsentRecord, PersonalFact, PopulationShare
from .services import current_settings

K_ANONYMITY = anonymity.DEFAULT_K  # groups of fewer people than this are not shown
OVER, UNDER = 1.25, 0.8  # a share this many times the population's is over/under-represented

# fact -> (label, purpose, the values with their labels); "area" takes its values from areas.
FACTS: dict[str, tuple] = {
    "age_band": (
        _l("Age"),
        _l("To see whether young and old people take part as much as others."),
        (
            ("under-18", _l("Under 18")),
            ("18-29", _l("18–29")),
            ("30-49", _l("30–49")),
            ("50-64", _l("50–64")),
            ("65-plus", _l("65 or older")),
        ),
    ),
    "children": (
        _l("Children living at home"),
        _l(
            "To see whether families with children take part: they rarely come to evening meetings."
        ),
        (("yes", _l("Yes, children live at home")), ("no", _l("No children at home"))),
    ),
    "business": (
        _l("Runs a business"),
        _l("To see whether business owners take part in the debates that concern them."),
        (("yes", _l("Yes, I run a business")), ("no", _l("No"))),
    ),
    "background": (
        _l("Background"),
        _l(
            "To see whether citizens of another background than Danish take part. The groups "
            "are those of Danmarks Statistik."
        ),
        (
            ("danish", _l("Danish origin (dansk oprindelse)")),
            ("immigrant", _l("Immigrant (indvandrer)")),
            ("descendant", _l("Descendant of immigrants (efterkommer)")),
        ),
    ),
    "area": (
        _l("Area where you live"),
        _l("To see whether every local area of the municipality is heard."),
        (),
    ),
}


def fact_label(fact: str) -> str:
    return str(FACTS[fact][0])


def fact_purpose(fact: str) -> str:
    return str(FACTS[fact][1])


def fact_values(fact: str) -> list[tuple[str, str]]:
    """The values of ``fact`` as (key, label); an area's key is its id as text."""
    if fact == "area":
        areas = db.session.scalars(
            select(Area).where(Area.archived_at.is_(None)).order_by(Area.position, Area.name)
        )
        return [(str(a.id), a.name) for a in areas]
    return [(key, str(label)) for key, label in FACTS[fact][2]]


def _check_fact(fact: str) -> None:
    if fact not in FACTS:
        raise NotFound(_("There is no such fact."))


# --- a person's own facts -----------------------------------------------------------------


def my_facts(user: User) -> dict[str, PersonalFact]:
    rows = db.session.scalars(select(PersonalFact).where(PersonalFact.user_id == user.id))
    return {row.fact: row for row in rows}


def _active_consent(user: User, fact: str) -> ConsentRecord | None:
    return db.session.scalar(
        select(ConsentRecord)
        .where(
            ConsentRecord.user_id == user.id,
            ConsentRecord.kind == f"fact:{fact}",
            ConsentRecord.withdrawn_at.is_(None),
        )
        .order_by(ConsentRecord.id.desc())
        .limit(1)
    )


def give_fact(user: User, fact: str, value: str, consent: bool) -> PersonalFact:
    """Keep one fact about ``user`` (their own, with their consent); replaces an earlier value
    of the same fact under the same consent."""
    if user is None or not getattr(user, "is_authenticated", False) or user.deleted_at:
        raise PermissionDenied(_("Log in to give facts about yourself."))
    _check_fact(fact)
    if not consent:
        raise InvalidInput(consent=_("Tick the box to agree that we keep this fact."))
    if value not in {key for key, _label in fact_values(fact)}:
        raise InvalidInput(value=_("Choose one of the answers."))
    row = my_facts(user).get(fact)
    if row is None:
        row = PersonalFact(user_id=user.id, fact=fact)
        db.session.add(row)
    if fact == "area":
        row.value, row.area_id = "", int(value)
    else:
        row.value, row.area_id = value, None
    row.updated_at = utcnow()
    if _active_consent(user, fact) is None:
        db.session.add(
            ConsentRecord(
                user_id=user.id,
                kind=f"fact:{fact}",
                notice_version=current_settings().notice_version,
            )
        )
    db.session.flush()
    return row


def withdraw_fact(user: User, fact: str) -> None:
    """Withdraw the consent to ``fact``: the fact is deleted (not hidden) and the consent
    record says when it was withdrawn. A second withdrawal is a ``Conflict``."""
    if user is None or not getattr(user, "is_authenticated", False):
        raise PermissionDenied(_("Log in to change the facts about yourself."))
    _check_fact(fact)
    consent = _active_consent(user, fact)
    row = my_facts(user).get(fact)
    if consent is None and row is None:
        given = db.session.scalar(
            select(func.count(ConsentRecord.id)).where(
                ConsentRecord.user_id == user.id, ConsentRecord.kind == f"fact:{fact}"
            )
        )
        if given:
            raise Conflict(
                _(
                    "You have already withdrawn your consent to %(fact)s; "
                    "we keep nothing about it.",
                    fact=quote(fact_label(fact)),
                )
            )
        raise Conflict(
            _(
                "You have not given %(fact)s; we keep nothing about it.",
                fact=quote(fact_label(fact)),
            )
        )
    db.session.execute(
        delete(PersonalFact).where(PersonalFact.user_id == user.id, PersonalFact.fact == fact)
    )
    now = utcnow()
    for record in db.session.scalars(
        select(ConsentRecord).where(
            ConsentRecord.user_id == user.id,
            ConsentRecord.kind == f"fact:{fact}",
            ConsentRecord.withdrawn_at.is_(None),
        )
    ):
        record.withdrawn_at = now
    db.session.flush()


# --- population shares (staff) ------------------------------------------------------------


def areas_of_residence(user_ids: list[int]) -> dict[int, int]:
    """{user id: area id} for those who gave their area of residence (with its consent; a
    withdrawn fact is deleted, so it is not here). Registered as the forum's
    ``participant_areas`` reader, which the synthesis page and council report group by."""
    if not user_ids:
        return {}
    rows = db.session.execute(
        select(PersonalFact.user_id, PersonalFact.area_id).where(
            PersonalFact.fact == "area",
            PersonalFact.user_id.in_(user_ids),
            PersonalFact.area_id.is_not(None),
        )
    )
    return {user_id: area_id for user_id, area_id in rows}


TARGET_GROUP_FACTS = ("age_band", "children", "business", "background")


def target_groups(user_ids: list[int]) -> list[hooks.TargetGroups]:
    """The consented target-group facts of ``user_ids`` (one query), every fact listed.
    Registered as the forum's ``participant_facts`` reader (reports, the opinion map)."""
    people: dict[str, dict[int, str]] = {f: {} for f in TARGET_GROUP_FACTS}
    if user_ids:
        for user_id, fact, value in db.session.execute(
            select(PersonalFact.user_id, PersonalFact.fact, PersonalFact.value).where(
                PersonalFact.fact.in_(TARGET_GROUP_FACTS), PersonalFact.user_id.in_(user_ids)
            )
        ):
            people[fact][user_id] = value
    return [
        hooks.TargetGroups(f, fact_label(f), fact_values(f), people[f]) for f in TARGET_GROUP_FACTS
    ]


def can_see_reach(user) -> bool:
    """Staff and admins see the reach figures and enter the population's shares."""
    return permissions.is_staff(user)


def _require_staff(user) -> None:
    if not can_see_reach(user):
        raise PermissionDenied(_("Only staff may see and change the reach figures."))


def population_shares() -> dict[str, dict[str, float]]:
    """fact -> value key -> percent (an area's key is its id as text; merged areas add up)."""
    out: dict[str, dict[str, float]] = {}
    for row in db.session.scalars(select(PopulationShare)):
        key = str(row.area_id) if row.fact == "area" else row.value
        group = out.setdefault(row.fact, {})
        group[key] = group.get(key, 0.0) + row.percent
    return out


def set_population_shares(actor: User, fact: str, shares: dict[str, float | None]) -> dict:
    """Replace the population's shares of ``fact``'s groups (percent, 0-100, adding up to at
    most 100). An empty value removes the group's share. Returns before/after."""
    _require_staff(actor)
    _check_fact(fact)
    known = {key for key, _label in fact_values(fact)}
    errors: dict[str, str] = {}
    clean: dict[str, float] = {}
    for key, value in shares.items():
        if key not in known:
            continue
        if value is None:
            continue
        if not 0 <= value <= 100:
            errors[key] = _("Give a percentage from 0 to 100.")
        clean[key] = round(float(value), 2)
    if not errors and sum(clean.values()) > 100.5:
        first = next(iter(clean))
        errors[first] = _(
            "The shares add up to %(total)s %%, more than 100 %%.",
            total=f"{sum(clean.values()):.1f}".replace(".", ","),
        )
    if errors:
        raise InvalidInput(_("Please correct the marked fields."), **errors)
    before = population_shares().get(fact, {})
    db.session.execute(delete(PopulationShare).where(PopulationShare.fact == fact))
    now = utcnow()
    for key, percent in clean.items():
        db.session.add(
            PopulationShare(
                fact=fact,
                value="" if fact == "area" else key,
                area_id=int(key) if fact == "area" else None,
                percent=percent,
                updated_at=now,
                updated_by_id=actor.id,
            )
        )
    db.session.flush()
    return {"before": before, "after": clean}


# --- the figures --------------------------------------------------------------------------


@dataclass
class Group:
    key: str
    label: str
    participants: int | None  # None: suppressed (fewer than K_ANONYMITY people)
    contributions: int | None
    share: float | None  # percent of the participants who gave this fact
    population: float | None  # percent of the population (entered by staff)
    months: dict[str, int | None] = field(default_factory=dict)

    @property
    def ratio(self) -> float | None:
        if self.share is None or not self.population:
            return None
        return self.share / self.population

    @property
    def representation(self) -> str:
        """ "over", "under", "even", or "" when it cannot be said."""
        ratio = self.ratio
        if ratio is None:
            return ""
        return "over" if ratio >= OVER else "under" if ratio <= UNDER else "even"


@dataclass
class ReachTable:
    fact: str
    label: str
    since: datetime
    months: list[str]  # "2026-01", ...
    participants: int  # everyone who took part in the period
    stated: int  # of whom gave this fact
    groups: list[Group]
    suppressed: bool  # some group was suppressed


def _month_starts(months: int, now: datetime) -> list[datetime]:
    year, month = now.year, now.month
    out = []
    for _i in range(months):
        out.append(datetime(year, month, 1))
        month -= 1
        if month == 0:
            year, month = year - 1, 12
    return list(reversed(out))


def _suppress(counts: dict[str, int]) -> set[str]:
    """The keys whose counts are not shown: the forum's one k-anonymity rule
    (``forum.anonymity.suppressed``: 1..K-1, and the next smallest when only one is)."""
    return anonymity.suppressed(counts, K_ANONYMITY)


def _contributions(since: datetime):
    """(user id, month start, post id) of published posts in public topics since ``since``."""
    return (
        select(Post.author_id, Post.created_at, Post.id)
        .join(Topic, Topic.id == Post.topic_id)
        .join(User, User.id == Post.author_id)
        .where(
            Post.state.in_(permissions.PUBLIC_POST_STATES),
            Topic.status.in_(permissions.PUBLIC_TOPIC_STATES),
            Post.created_at >= since,
            User.deleted_at.is_(None),
        )
    )


def figures(viewer, fact: str, months: int = 12, now: datetime | None = None) -> ReachTable:
    """Participants and contributions per group of ``fact`` over the last ``months`` months
    (by month too), against the population's shares. Staff and admins only."""
    _require_staff(viewer)
    _check_fact(fact)
    if not 1 <= months <= 60:
        raise InvalidInput(months=_("Choose from 1 to 60 months."))
    starts = _month_starts(months, now or utcnow())
    since = starts[0]
    labels = [f"{s.year:04d}-{s.month:02d}" for s in starts]
    rows = db.session.execute(_contributions(since)).all()
    facts = {}
    for user_id, value, area_id in db.session.execute(
        select(PersonalFact.user_id, PersonalFact.value, PersonalFact.area_id).where(
            PersonalFact.fact == fact
        )
    ):
        facts[user_id] = str(area_id) if fact == "area" else value
    people: set[int] = set()
    per: dict[str, set[int]] = {}
    posts: dict[str, int] = {}
    monthly: dict[str, dict[str, set[int]]] = {}
    for user_id, created, _post_id in rows:
        people.add(user_id)
        key = facts.get(user_id)
        if key is None:
            continue
        per.setdefault(key, set()).add(user_id)
        posts[key] = posts.get(key, 0) + 1
        month = f"{created.year:04d}-{created.month:02d}"
        monthly.setdefault(month, {}).setdefault(key, set()).add(user_id)
    values = fact_values(fact)
    known = {k for k, _label in values}
    counts = {k: len(per.get(k, ())) for k in known}
    hidden = _suppress(counts)
    stated = sum(counts.values())
    shares = population_shares().get(fact, {})
    month_hidden = {
        m: _suppress({k: len(monthly.get(m, {}).get(k, ())) for k in known}) for m in labels
    }
    groups = []
    for key, label in values:
        secret = key in hidden
        n = counts[key]
        groups.append(
            Group(
                key=key,
                label=label,
                participants=None if secret else n,
                contributions=None if secret else posts.get(key, 0),
                share=None if secret or not stated else 100.0 * n / stated,
                population=shares.get(key),
                months={
                    m: None if key in month_hidden[m] else len(monthly.get(m, {}).get(key, ()))
                    for m in labels
                },
            )
        )
    return ReachTable(
        fact=fact,
        label=fact_label(fact),
        since=since,
        months=labels,
        participants=len(people),
        stated=stated,
        groups=groups,
        suppressed=bool(hidden) or any(month_hidden.values()),
    )


def summary(viewer, months: int = 12, now: datetime | None = None) -> list[ReachTable]:
    """``figures`` for every fact (the council report's section on who took part)."""
    return [figures(viewer, fact, months, now) for fact in FACTS]
