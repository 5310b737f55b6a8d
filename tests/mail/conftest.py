"""A real SMTP server (aiosmtpd) on 127.0.0.1 for the mail tests, and helpers around it.

The app here requires verified addresses (the forum's tests turn that off) and sends at once
(no immediate-mail delay, no back-off) so a test can run the sender and look at what arrived.
"""

from __future__ import annotations

import asyncio
import email
import re
import socket
import threading
from collections.abc import Callable
from email.message import EmailMessage
from email.policy import default as default_policy

import pytest
from aiosmtpd.controller import Controller

from forum.extensions import db
from forum.models import User
from tests.conftest import builds_app


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Recorder:
    """aiosmtpd handler: keeps what it accepts; ``refuse`` makes it answer DATA with
    ``refuse_reply`` that many times first (a busy or greylisting server)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.received: list[tuple[str, list[str], bytes]] = []
        self.refuse = 0
        self.refuse_reply = "451 4.3.0 Try again later"
        self.rcpt_reply: str | None = None
        self.delay = 0.0  # seconds before answering DATA (a slow server)
        self.drop = 0  # drop the connection during DATA that many times, mail not taken

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802
        if self.rcpt_reply:
            return self.rcpt_reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        if self.delay:
            await asyncio.sleep(self.delay)
        if self.drop > 0:
            self.drop -= 1
            server.transport.close()
            return "421 4.3.0 Closing"
        with self.lock:
            if self.refuse > 0:
                self.refuse -= 1
                return self.refuse_reply
            self.received.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.content))
        return "250 Message accepted for delivery"

    def reset(self) -> None:
        with self.lock:
            self.received.clear()
            self.refuse = 0
            self.rcpt_reply = None
            self.delay = 0.0
            self.drop = 0


class SMTPServer:
    def __init__(self) -> None:
        self.handler = Recorder()
        self.port = free_port()
        self.controller: Controller | None = None

    def start(self) -> None:
        self.controller = Controller(self.handler, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    def messages(self) -> list[EmailMessage]:
        with self.handler.lock:
            raw = [content for _f, _t, content in self.handler.received]
        return [email.message_from_bytes(r, policy=default_policy) for r in raw]

    def envelopes(self) -> list[tuple[str, list[str]]]:
        with self.handler.lock:
            return [(f, t) for f, t, _c in self.handler.received]


@pytest.fixture(scope="session")
def _smtp_session():
    server = SMTPServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def smtp(_smtp_session) -> SMTPServer:
    if _smtp_session.controller is None:  # a test stopped it
        _smtp_session.start()
    _smtp_session.handler.reset()
    yield _smtp_session
    if _smtp_session.controller is None:
        _smtp_session.start()
    _smtp_session.handler.reset()


BASE_URL = "http://borgerdialog.test"


@pytest.fixture
def mail_config(smtp) -> dict:
    return {
        "MAIL_REQUIRE_VERIFICATION": True,
        "MAIL_SERVER": "127.0.0.1",
        "MAIL_PORT": smtp.port,
        "MAIL_SECURITY": "none",
        "MAIL_TIMEOUT": 5,
        "MAIL_SENDER": "Borgerdialog Holbæk <noreply@borgerdialog.test>",
        "MAIL_BASE_URL": BASE_URL,
        "MAIL_IMMEDIATE_DELAY_SECONDS": 0,
        "MAIL_RETRY_BASE_SECONDS": 0,
    }


@pytest.fixture
def app_config(mail_config) -> dict:
    return mail_config


@pytest.fixture
def send(app, smtp) -> Callable[..., list[EmailMessage]]:
    """Run the sender once; the messages the SMTP server received during it."""
    from mail.sender import run_once

    def run(**kwargs) -> list[EmailMessage]:
        before = len(smtp.messages())
        run_once(**kwargs)
        return smtp.messages()[before:]

    return run


@pytest.fixture
def make_user(make_user) -> Callable[..., User]:
    """The forum's ``make_user``, verified (pass ``verified=False`` for a new account) and
    English-speaking unless told otherwise."""

    def make(*args, verified: bool = True, locale: str | None = "en", **kwargs) -> User:
        from mail.services import mark_verified

        user = make_user(*args, **kwargs)
        user.locale = locale
        if verified:
            mark_verified(user)
        db.session.commit()
        return user

    return make


@pytest.fixture
def verified_user(make_user) -> Callable[..., User]:
    return make_user


def text_part(msg: EmailMessage) -> str:
    return msg.get_body(preferencelist=("plain",)).get_content()


def html_part(msg: EmailMessage) -> str:
    return msg.get_body(preferencelist=("html",)).get_content()


def link(msg: EmailMessage, path_prefix: str) -> str:
    """The first link in the mail's text part whose path starts with ``path_prefix``
    (returned as a path, for the test client)."""
    found = re.findall(
        re.escape(BASE_URL) + r"(" + re.escape(path_prefix) + r"\S*)", text_part(msg)
    )
    assert found, f"no link to {path_prefix} in:\n{text_part(msg)}"
    return found[0]


@pytest.fixture(autouse=True)
def _english_pages(request):
    """These tests read English page text; the site defaults to Danish."""
    if builds_app(request):
        request.getfixturevalue("client").set_cookie("lang", "en")
