"""The opinion map in a topic's synthesis and the council report (``forum.hooks.
register_synthesis_section``): per statements round of the topic with a map, its groups and
their sizes, each group's representative statements, the consensus and the divisive
statements. Only what an anonymous visitor may see: a public topic, published statements'
texts (``queries.map_view`` leaves out the rest), no participant."""

from __future__ import annotations

from flask import render_template
from flask_babel import gettext as _
from markupsafe import Markup
from sqlalchemy import select

from forum import hooks
from forum import permissions as fp
from forum.extensions import db
from forum.models import Topic

from .models import OpinionRound
from .queries import map_view

MAX_LISTED = 5  # statements per list in a synthesis


def sections(topic_id: int, heading_level: int = 2) -> list[hooks.SynthesisSection]:
    topic = db.session.get(Topic, topic_id)
    if topic is None or not fp.can_see_topic(None, topic):
        return []
    rounds = db.session.scalars(
        select(OpinionRound)
        .where(OpinionRound.topic_id == topic_id, OpinionRound.map_json.is_not(None))
        .order_by(OpinionRound.id)
    ).all()
    out = []
    for rnd in rounds:
        view = map_view(rnd, None)
        if not view or not view.get("ready"):
            continue
        for g in view["groups"]:
            g["repness"] = g["repness"][:MAX_LISTED]
        view["consensus"] = view["consensus"][:MAX_LISTED]
        view["divisive"] = view["divisive"][:MAX_LISTED]
        title = _("Opinion map: %(question)s", question=rnd.question)
        html = render_template(
            "opinions/_synthesis.html", rnd=rnd, view=view, hl=min(heading_level + 1, 6)
        )
        rows = [(title, _("Participants placed on the map"), view["placed"])]
        rows += [
            (title, _("Group %(letter)s: participants", letter=g["letter"]), g["size"])
            for g in view["groups"]
        ]
        rows += [
            (title, _("Consensus: %(text)s", text=it["statement"].body), f"{it['agree']} %")
            for it in view["consensus"]
        ]
        rows += [
            (title, _("Divisive: %(text)s", text=it["statement"].body), f"{it['agree']} %")
            for it in view["divisive"]
        ]
        out.append(hooks.SynthesisSection("opinions", title, Markup(html), rows))
    return out
