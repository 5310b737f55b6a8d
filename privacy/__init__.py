"""Privacy (GDPR / databeskyttelsesforordningen): the privacy notice and its settings,
consent records, export of one's data, deletion of one's account, retention.

* ``SiteSettings`` (one row; the Holbæk demo's values until an admin saves them at
  /privatliv/indstillinger) feeds the notice at /privatliv.
* Registration requires ticking the debate rules and the notice (``forum.forms``); on
  ``forum.signals.user_registered`` a ``ConsentRecord`` keeps the notice's version and time.
* Optional facts (/privatliv/om-dig), each with its own consent, and the reach figures for
  staff (/deltagelse): ``reach.py``, the public module other packages call.
* Export (/privatliv/mine-data): a zip with JSON and HTML, built in the request.
* Deletion: a request with a grace period (logging in cancels it, through Flask-Login's
  ``user_logged_in``); the purge completes it: anonymise (the row stays as a former
  participant) or erase (texts replaced by the author-deletion placeholder too).
* The purge (``services.purge``): a thread every ``PRIVACY_PURGE_INTERVAL_SECONDS`` in the
  embedded default, ``flask privacy purge`` from cron in production (``PRIVACY_WORKER``).

The package reads other packages' tables through the shared metadata by name
(``services.OWNED``) and imports none of their modules.
"""

from __future__ import annotations

from flask import Flask, flash
from flask_babel import gettext as _
from flask_login import user_logged_in

from forum import hooks, signals
from forum.config import Settings, defaults, number, rate_limit, worker
from forum.periodic import PeriodicThread, start_periodic

from . import models  # noqa: F401  (tables at import time)

DEFAULTS: dict[str, object] = {
    "PRIVACY_EXPORT_RATE": "3 per hour;10 per day",
    "PRIVACY_DELETE_RATE": "5 per hour",
    "PRIVACY_SETTINGS_RATE": "30 per hour",
    "PRIVACY_FACTS_RATE": "30 per hour",  # giving/withdrawing facts; population shares
    "PRIVACY_PURGE_INTERVAL_SECONDS": 3600,
}
# Privacy's settings under the one rule of forum/config.py (handed to load_config by the
# factory).
SETTINGS = Settings(
    "privacy",
    (
        worker("PRIVACY_WORKER", "completing deletions and retention (flask privacy purge)"),
        *defaults(
            DEFAULTS,
            PRIVACY_EXPORT_RATE=rate_limit,
            PRIVACY_DELETE_RATE=rate_limit,
            PRIVACY_SETTINGS_RATE=rate_limit,
            PRIVACY_FACTS_RATE=rate_limit,
            PRIVACY_PURGE_INTERVAL_SECONDS=number(1),
        ),
    ),
)


def _purge() -> int:
    from .services import purge

    return sum(purge().values())


def _cancel_deletion(_app, user, **_extra) -> None:
    """Logging in during the grace period cancels the account's deletion (and says so)."""
    from forum.extensions import db

    from .services import cancel_on_login

    if cancel_on_login(user):
        db.session.commit()
        flash(_("You logged in, so your account will not be deleted after all."), "success")


def init_app(app: Flask) -> None:
    from . import cli, demo, reach, services, views

    signals.user_registered.connect(services.on_user_registered, weak=False)
    user_logged_in.connect(_cancel_deletion, weak=False)
    app.register_blueprint(views.bp)
    cli.register(app)
    hooks.register_demo_step(app, demo.seed)
    # Reports group people by the area of residence they gave (consented facts).
    hooks.register_participant_areas(app, reach.areas_of_residence)
    # ... and by the target groups people gave with consent (age band, children, …).
    hooks.register_participant_facts(app, reach.target_groups)
    start_periodic(
        app,
        "PRIVACY_WORKER",
        PeriodicThread(app, "privacy-purge", _purge, "PRIVACY_PURGE_INTERVAL_SECONDS"),
    )
