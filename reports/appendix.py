"""The report's CSV appendix: every figure of the report, one a row (section, topic, measure,
group, value), in the report's language. Written through ``forum.exports``."""

from __future__ import annotations

from collections.abc import Iterator

from flask_babel import gettext as _

from . import labels
from .report import Report
from .synthesis import STANCES, UNKNOWN_AREA, Synthesis


def header() -> list[str]:
    return [_("Section"), _("Topic"), _("Measure"), _("Group"), _("Value")]


def _synthesis_rows(section: str, topic: str, s: Synthesis) -> Iterator[list]:
    yield [section, topic, _("Participants"), "", s.participants]
    yield [section, topic, _("Posts"), "", s.posts]
    for k in STANCES:
        yield [section, topic, _("People by stance"), labels.stance_name(k), s.stance_people[k]]
        yield [section, topic, _("Posts by stance"), labels.stance_name(k), s.stance_posts[k]]
    for week, counts in s.weeks:
        for k in STANCES:
            yield [
                section,
                topic,
                _("Posts by week"),
                f"{labels.week_label(week)}: {labels.stance_name(k)}",
                counts[k],
            ]
    for g in s.areas:
        name = g.name if g.area_id != UNKNOWN_AREA and g.name else _("Area not known")
        yield [section, topic, _("People by local area"), name, g.people]
        yield [section, topic, _("Posts by local area"), name, g.posts]
    yield [
        section,
        topic,
        _("Groups left out (fewer than %(k)d people)", k=s.k),
        "",
        s.suppressed_groups,
    ]
    for t in s.target_groups:
        if not t.given:
            continue
        for row in t.rows:
            name = row.label or _("Not given")
            value = row.people if row.people is not None else _("not shown")
            yield [section, topic, _("People by %(fact)s", fact=t.label.lower()), name, value]


def rows(r: Report) -> Iterator[list]:
    yield from _synthesis_rows(_("Participation"), _("All topics"), r.overall)
    for sec in r.topics:
        yield from _synthesis_rows(_("Topics"), sec.title, sec.s)
        for x in sec.sections:
            for part, label, value in x.rows:
                yield [part, sec.title, label, "", value]
        if sec.outcome is not None:
            yield [_("Outcomes"), sec.title, _("Status"), sec.outcome.body, sec.outcome.status]
    for q in r.qa:
        yield [_("Q&A sessions"), q.title, _("Questions"), "", q.questions]
        yield [_("Q&A sessions"), q.title, _("Answered"), "", q.answered]
        if q.share is not None:
            yield [_("Q&A sessions"), q.title, _("Share answered (%)"), "", q.share]
    for b in r.budgets:
        yield [_("Citizen budgets"), b.title, _("Ideas"), "", b.ideas]
        yield [_("Citizen budgets"), b.title, _("Ballots"), "", b.ballots or 0]
        for title, cost in b.funded:
            yield [_("Citizen budgets"), b.title, _("Funded project"), title, cost]
    for k, v in (r.moderation or {}).items():
        yield [_("Moderation"), "", labels.moderation_name(k), "", v]
