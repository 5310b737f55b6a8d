"""Meetings and local dialogue (issue 16): topic summits, committee meetings out in the
local areas, study trips, local debate meetings, theme meetings of the council, citizens'
meetings — with registration, waiting lists and calendars.

- Organisers: staff, politicians, and local forum contacts (``meeting_contacts``: an
  area-scoped capacity set by admins with ``flask meetings contacts add EMAIL AREA``) for
  their own areas (``permissions``).
- Registration: capacity, a waiting list that moves up on its own when someone cancels (the
  one who moves up gets an in-app notification of kind ``meeting_seat`` and so a mail of the
  mail package's ``meeting`` kind), a deadline, a question to the organiser only organisers
  see, an attendee CSV (``forum.exports``). Race-safe: the meeting's row is locked
  (``SELECT … FOR UPDATE``) while seats are counted (``services.register``).
- Calendars (``ics``, the ``icalendar`` library): one .ics per meeting, feeds per committee,
  area and topic, and a personal feed at a secret, resettable address; VTIMEZONE, a stable
  UID, SEQUENCE bumped on each change, STATUS:CANCELLED.
- Events: ``meeting_created``/``meeting_changed``/``meeting_cancelled`` in the topic's room
  (open topic pages get a live notice); followers of the topic are notified of a new meeting,
  everybody registered of a move or a cancellation.

The forum imports nothing of this package; its templates include ``meetings/_box.html``
with "ignore missing".
"""

from __future__ import annotations

from flask import Flask

from forum.config import Setting, Settings, number, whole, worker

from . import models  # noqa: F401  (tables at import time)

# Meetings' settings under the one rule of forum/config.py (handed to load_config by the
# factory).
SETTINGS = Settings(
    "meetings",
    (
        worker(
            "MEETINGS_REMINDER_WORKER",
            "reminders of unanswered invitations (flask meetings remind)",
        ),
        Setting("MEETINGS_INVITATION_REMINDER_DAYS", 7, whole(1), env=True),
        Setting("MEETINGS_REMINDER_INTERVAL", 3600.0, number(1)),
    ),
)


def _meetings_for(kind: str, place) -> list:
    from . import queries

    if kind == "topic":
        return queries.upcoming(topic_id=place.id)
    if kind == "committee":
        return queries.upcoming(committee_id=place.id)
    if kind == "area":
        return queries.upcoming(area_id=place.id)
    return queries.upcoming(limit=3)


def _upcoming_for_feed() -> list:
    """Meetings to come that are not cancelled, as ``forum.hooks.Upcoming`` items."""
    from flask import url_for

    from forum import hooks

    from . import queries

    return [
        hooks.Upcoming(
            title=m.title,
            url=url_for("meetings.meeting", meeting_id=m.id, _external=True),
            starts_at=m.starts_at,
            updated_at=m.updated_at,
            summary=m.title,
        )
        for m in queries.upcoming(limit=20)
        if m.cancelled_at is None
    ]


def init_app(app: Flask) -> None:
    """Register the pages, the command, the live notices, template helpers and the demo."""
    from forum import hooks
    from forum import live as forum_live
    from forum.i18n import lazy_gettext as _l
    from forum.periodic import PeriodicThread, start_periodic

    from . import cli, demo, hybrid, invitations, minutes, notices, searching, services, views
    from .forms import kind_label

    app.register_blueprint(views.bp)
    app.cli.add_command(cli.meetings_cli)
    hooks.register_demo_step(app, demo.seed)
    notices.register(app)  # how its notifications read, on the page and in mails
    # Offline contributions show their provenance in the thread ("fra borgermødet i …").
    hooks.register_post_citations(app, minutes.provenance_notes)
    from .citations import OfflineSource

    hooks.register_citable_source(app, OfflineSource())  # outcomes cite what was said
    for kind in ("meeting_created", "meeting_changed", "meeting_cancelled"):
        forum_live.register_topic_notice(kind)
    # The "upcoming events" Atom feed (api/feeds.py) lists meetings beside Q&A sessions.
    hooks.register_upcoming(app, _upcoming_for_feed)
    # Meetings and what was said at them in search (the filter »Fra møder«).
    searching.register(app)
    # A live Q&A session held at a meeting (hybrid): live Q&A links and reads it.
    hooks.register_meeting_links(app, hybrid.Links())
    # Local forum contacts are named on admin's person page, beside the moderated areas.
    hooks.register_area_capacity(
        app,
        hooks.AreaCapacity(
            "meeting_contact",
            _l("Local forum contact for these local areas (organises meetings, invites)"),
            services.contact_areas,
            services.set_contact_areas,
        ),
    )

    @app.context_processor
    def _meeting_helpers() -> dict:
        return {
            "meetings_for": _meetings_for,
            "meeting_kind_label": kind_label,
            "meeting_invitations_for": lambda area: invitations.for_area(area.id),
        }

    start_periodic(
        app,
        "MEETINGS_REMINDER_WORKER",
        PeriodicThread(app, "meetings-reminders", invitations.remind, "MEETINGS_REMINDER_INTERVAL"),
    )
