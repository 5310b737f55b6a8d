"""Deleting an account removes the .eml files the file mail backend wrote for the person."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from forum.extensions import db
from forum.models import utcnow
from mail import sender
from mail import services as mail_services
from mail.models import MailMessage
from privacy import services
from privacy.models import DeletionRequest


@pytest.fixture
def app_config(extra_config, tmp_path) -> dict:
    return {
        "BABEL_DEFAULT_LOCALE": "en",
        "MAIL_OUTBOX_DIR": str(tmp_path / "outbox"),
        **extra_config,
    }


def test_the_persons_eml_files_go_with_the_account(app, make_user):
    gone, stays = make_user(email="gone@example.dk"), make_user(email="stays@example.dk")
    for user in (gone, stays):
        mail_services.queue_message(
            user, mail_services.MessageKind.PASSWORD_RESET, to_addr=user.email
        )
    # A mail to the address with no account on it (as an invitation is) goes too.
    mail_services.queue_other("test_kind", "gone@example.dk", {})
    db.session.commit()
    folder = Path(app.config["MAIL_OUTBOX_DIR"])
    sender.run_once(transport=sender.FileTransport(str(folder)))
    assert len(list(folder.glob("*.eml"))) == 2  # the other kind has no composer: skipped
    texts = {p: p.read_text() for p in folder.glob("*.eml")}
    assert any("gone@example.dk" in t for t in texts.values())

    db.session.add(
        DeletionRequest(user_id=gone.id, mode="anonymise", due_at=utcnow() - timedelta(minutes=1))
    )
    db.session.commit()
    services.purge()
    db.session.commit()
    left = [p.read_text() for p in folder.glob("*.eml")]
    assert len(left) == 1 and "stays@example.dk" in left[0]
    assert "gone@example.dk" not in " ".join(left)
    addresses = set(db.session.scalars(select(MailMessage.to_addr)))
    assert addresses == {"stays@example.dk"}
