"""Benchmark the mail sender against a real SMTP server (aiosmtpd on 127.0.0.1).

In-process on a fresh SQLite file: N citizens each write a post and get a reply (an
immediate "reply" mail each, rendered at send time with the visibility check, in Danish or
English), and follow a second topic where one post lands (a daily-digest item each). Then:
``run_once`` sends the immediate mails (each with its own sending → handed_over → sent
commits), ``build_digests`` builds the digests, and ``run_once`` sends those.

Prints mails/s for both next to the target (>= 50 mails/s: a 5,000-person morning digest in
under two minutes), and the same to the file outbox (no SMTP server).

Run from the repository root: ``.venv/bin/python bench/mail_send.py [--users N]``.
"""

from __future__ import annotations

import argparse
import json
import logging
import socket
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from aiosmtpd.controller import Controller  # noqa: E402

from app import create_app  # noqa: E402
from forum import services  # noqa: E402
from forum.extensions import db  # noqa: E402
from forum.models import Committee, Role, utcnow  # noqa: E402
from mail.digests import build_digests  # noqa: E402
from mail.sender import run_once  # noqa: E402

TARGET_MAILS_PER_S = 50.0


class Sink:
    def __init__(self) -> None:
        self.count = 0

    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        self.count += 1
        return "250 OK"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def populate(users: int) -> None:
    committee = Committee(slug="bench", name="Bench")
    db.session.add(committee)
    admin = services.register_user("admin@bench.dk", "Admin", "bench-password-1", role=Role.ADMIN)
    admin.email_verified_at = utcnow()
    main = services.create_topic(admin, "Cykelstier i Holbæk", "Intro", committee_id=1)
    other = services.create_topic(admin, "Skolevej i Tølløse", "Intro", committee_id=1)
    db.session.commit()
    people = []
    for i in range(users):
        u = services.register_user(
            f"borger{i}@bench.dk", f"Borger {i}", "bench-password-1", locale="da" if i % 2 else "en"
        )
        u.email_verified_at = utcnow()
        people.append(u)
    db.session.commit()
    for u in people:
        services.set_follow(u, other, True)
    db.session.commit()
    for i, u in enumerate(people):
        own = services.create_post(u, main, f"Mit indlæg nummer {i} om **cykelstier**.")
        services.create_post(admin, main, f"Svar til {i}: tak for input.", parent_id=own.id)
        services.set_follow(u, main, False)  # else every later post tells everyone before
        db.session.commit()
    services.create_post(admin, other, "Nyt om skolevejen til alle, der følger emnet.")
    db.session.commit()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--users", type=int, default=300)
    args = parser.parse_args()
    # One "written to instance/outbox" line per mail would drown the figures.
    logging.getLogger("borgerdialog.mail").setLevel(logging.ERROR)
    sink = Sink()
    port = free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    results = {}
    try:
        for name, server in (("smtp", "127.0.0.1"), ("outbox", None)):
            with tempfile.TemporaryDirectory() as tmp:
                app = create_app(
                    {
                        "SECRET_KEY": "bench",
                        "TESTING": True,
                        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp}/bench.sqlite3",
                        "SEARCH_INDEX_DIR": f"{tmp}/ix",
                        "MODERATION_ENABLED": False,
                        "PASSWORD_HASH_METHOD": "scrypt:1024:8:1",
                        "MAIL_SERVER": server,
                        "MAIL_PORT": port,
                        "MAIL_SECURITY": "none",
                        "MAIL_OUTBOX_DIR": f"{tmp}/out",
                        "MAIL_IMMEDIATE_DELAY_SECONDS": 0,
                    }
                )
                with app.app_context():
                    db.create_all()
                    populate(args.users)
                    t = time.perf_counter()
                    immediate = run_once()
                    t_immediate = time.perf_counter() - t
                    later = utcnow() + timedelta(days=1, hours=1)
                    t = time.perf_counter()
                    made = build_digests(later)
                    t_build = time.perf_counter() - t
                    t = time.perf_counter()
                    digests = run_once(now=later)
                    t_digests = time.perf_counter() - t
                    db.session.remove()
                    db.engine.dispose()
            results[name] = {
                "immediate_sent": immediate.sent,
                "immediate_mails_per_s": round(immediate.sent / t_immediate, 1),
                "digests_built": made,
                "digest_build_per_s": round(made / t_build, 1),
                "digests_sent": digests.sent,
                "digest_mails_per_s": round(digests.sent / t_digests, 1),
            }
    finally:
        controller.stop()
    for name, r in results.items():
        print(
            f"{name:>7}: {r['immediate_sent']} immediate mails at "
            f"{r['immediate_mails_per_s']} mails/s; {r['digests_built']} digests built at "
            f"{r['digest_build_per_s']}/s, sent at {r['digest_mails_per_s']} mails/s "
            f"(target >= {TARGET_MAILS_PER_S} mails/s)"
        )
    print(f"SMTP server received {sink.count} mails")
    met = {
        f"{name}_{phase}": results[name][f"{phase}_mails_per_s"] >= TARGET_MAILS_PER_S
        for name in results
        for phase in ("immediate", "digest")
    }
    met["every_mail_once"] = sink.count == sum(
        r["immediate_sent"] + r["digests_sent"] for n, r in results.items() if n == "smtp"
    )
    print(
        json.dumps(
            {
                "bench": "mail_send",
                "users": args.users,
                **results,
                "target_mails_per_s": TARGET_MAILS_PER_S,
                "met": met,
                "all_met": all(met.values()),
            }
        )
    )


if __name__ == "__main__":
    main()
