"""Invitations are mailed through the outbox (the link is also shown once to the admin)."""

from __future__ import annotations

import email
import re
from datetime import timedelta
from email.policy import default as default_policy

import pytest
from sqlalchemy import select

from admin.models import Invitation
from forum.extensions import db
from forum.models import Role, utcnow
from mail import sender
from mail.models import MailMessage, MessageKind, MessageStatus
from tests.admin.conftest import text_of
from tests.conftest import PASSWORD


@pytest.fixture
def app_config(tmp_path) -> dict:
    return {"MAIL_OUTBOX_DIR": str(tmp_path / "outbox"), "MAIL_BASE_URL": "https://debat.test"}


def _send(app) -> list[email.message.EmailMessage]:
    outbox = app.config["MAIL_OUTBOX_DIR"]
    before = set()
    from pathlib import Path

    folder = Path(outbox)
    if folder.exists():
        before = set(folder.iterdir())
    sender.run_once(transport=sender.FileTransport(outbox))
    new = sorted(set(folder.iterdir()) - before) if folder.exists() else []
    return [email.message_from_bytes(p.read_bytes(), policy=default_policy) for p in new]


def _body(mail) -> str:
    return mail.get_body(("plain",)).get_content()


def test_an_invitation_is_mailed_and_the_mailed_link_works_once(app, as_admin, new_client):
    r = as_admin.post(
        "/admin/invitationer", data={"email": "Ny.Medarbejder@Example.dk", "role": "staff"}
    )
    assert r.status_code == 200
    assert "We have mailed this link to ny.medarbejder@example.dk" in text_of(r)
    msg = db.session.scalar(select(MailMessage))
    assert (msg.kind, msg.to_addr, msg.user_id) == (
        MessageKind.OTHER,
        "ny.medarbejder@example.dk",
        None,
    )
    [mail] = _send(app)
    assert mail["To"] == "ny.medarbejder@example.dk"
    # In the site's language (Danish): the address has no account, so no language of its own.
    assert mail["Subject"] == "Du er inviteret til Borgerdialog som kommunal medarbejder"
    link = re.search(r"https://debat\.test(/invitation/\S+)", _body(mail)).group(1)
    assert "Vælg dit navn og din adgangskode" in _body(mail)
    assert "Anne Admin har inviteret dig" in _body(mail)
    guest = new_client()
    r = guest.post(link, data={"display_name": "Nora", "password": PASSWORD, "confirm": PASSWORD})
    assert r.status_code == 302
    again = new_client().get(link)
    assert again.status_code == 410 and "has been used already" in text_of(again)


def test_an_existing_account_is_mailed_the_role_offer(app, as_admin, make_user, new_client):
    user = make_user(email="kirsten@kommune.example")
    user.locale = "en"
    db.session.commit()
    as_admin.post("/admin/invitationer", data={"email": "kirsten@kommune.example", "role": "staff"})
    msg = db.session.scalar(select(MailMessage))
    assert msg.user_id == user.id  # deleting the account drops it with the others
    [mail] = _send(app)
    # In the account's language (English), not the site's (Danish).
    assert "You already have an account with this address" in _body(mail)
    assert db.session.scalar(select(Invitation)).email == "kirsten@kommune.example"
    assert user.role == Role.CITIZEN  # nothing changes until the owner accepts


def test_a_used_or_expired_invitation_is_not_mailed(app, as_admin):
    for address in ("a@example.dk", "b@example.dk"):
        as_admin.post("/admin/invitationer", data={"email": address, "role": "politician"})
    first, second = db.session.scalars(select(Invitation).order_by(Invitation.id)).all()
    first.expires_at = utcnow() - timedelta(minutes=1)
    second.used_at = utcnow()
    db.session.commit()
    assert _send(app) == []
    db.session.expire_all()
    statuses = {m.status for m in db.session.scalars(select(MailMessage))}
    assert statuses == {MessageStatus.SKIPPED}
