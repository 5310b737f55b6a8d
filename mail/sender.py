"""The sender: takes due mails from the outbox, renders them and hands them over, once.

Each mail moves ``queued → sending → handed_over → sent`` with a commit at every arrow:

* ``sending`` is a lease (``claimed_by`` a random id until ``claimed_until``): two senders
  (the embedded thread and a cron job, say) never take the same mail. A lease that runs out
  in ``sending`` means the sender died before the SMTP DATA command, so the mail never left:
  it is queued again.
* ``handed_over`` is committed after the server accepted the recipient and just before DATA.
  A sender killed between DATA and marking the mail ``sent`` leaves it there; when the lease
  runs out it is marked sent ("uncertain"), never sent again, so nobody gets it twice.
  The window is the DATA exchange only (milliseconds); the mail is lost only if the server
  did not accept it in that window.
* A refusal (4xx, connection refused, timeout) puts the mail back with exponential back-off
  (``MAIL_RETRY_BASE_SECONDS`` · 2^(attempts−1), at most ``MAIL_RETRY_MAX_SECONDS``);
  a permanent refusal (5xx) or ``MAIL_MAX_ATTEMPTS`` attempts mark it ``failed``.

With no ``MAIL_SERVER`` (the embedded default) mails are written as ``.eml`` files into
``instance/outbox/`` (the name is derived from the idempotency key, so a repeat overwrites);
the log says where.
"""

from __future__ import annotations

import hashlib
import logging
import os
import secrets
import smtplib
import ssl
import threading
import time
import weakref
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from pathlib import Path

from flask import Flask, current_app
from sqlalchemy import select, update

from forum.extensions import db
from forum.models import utcnow

from . import compose
from .models import ItemStatus, MailMessage, MessageStatus

log = logging.getLogger("borgerdialog.mail")


class TransientError(Exception):
    """Try again later (the server is away, busy, or said 4xx)."""


class PermanentError(Exception):
    """Do not try again (the server said 5xx for this mail)."""


class Uncertain(Exception):  # noqa: N818
    """The connection broke during DATA: the server may or may not have taken the mail."""


class LostClaim(Exception):  # noqa: N818
    """Another sender took this mail over (our lease ran out)."""


@dataclass
class Report:
    sent: int = 0
    retried: int = 0
    failed: int = 0
    skipped: int = 0
    requeued: int = 0  # leases that ran out before DATA
    uncertain: int = 0  # leases that ran out after DATA began (counted as sent)

    def __str__(self) -> str:
        return (
            f"{self.sent} sent, {self.skipped} skipped, {self.retried} to retry, "
            f"{self.failed} failed, {self.requeued} requeued, {self.uncertain} uncertain"
        )


# --- transports --------------------------------------------------------------------------------


class FileTransport:
    """Writes each mail as ``<outbox>/<time>-<hash of key>.eml`` (no SMTP server configured)."""

    def __init__(self, directory: str) -> None:
        self.directory = Path(directory)

    def open(self) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)

    def close(self) -> None:
        pass

    def deliver(
        self, envelope_from: str, to: str, email: EmailMessage, key: str, before_data
    ) -> str:
        before_data()
        name = hashlib.sha256(key.encode()).hexdigest()[:20] + ".eml"
        path = self.directory / name
        tmp = path.with_suffix(".tmp")
        tmp.write_bytes(email.as_bytes())
        os.replace(tmp, path)
        return str(path)


class SMTPTransport:
    """One connection per batch; MAIL and RCPT first, so a refusal happens before DATA."""

    def __init__(self, config) -> None:
        self.host = config["MAIL_SERVER"]
        self.security = config["MAIL_SECURITY"]
        self.port = int(config["MAIL_PORT"])
        self.username = config.get("MAIL_USERNAME")
        self.password = config.get("MAIL_PASSWORD")
        self.timeout = float(config["MAIL_TIMEOUT"])
        self.smtp: smtplib.SMTP | None = None

    def open(self) -> None:
        try:
            if self.security == "ssl":
                smtp = smtplib.SMTP_SSL(
                    self.host, self.port, timeout=self.timeout, context=ssl.create_default_context()
                )
            else:
                smtp = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
                if self.security == "starttls":
                    smtp.starttls(context=ssl.create_default_context())
            if self.username:
                smtp.login(self.username, self.password or "")
        except smtplib.SMTPResponseException as exc:
            raise _classify(exc) from exc
        except (OSError, smtplib.SMTPException) as exc:
            raise TransientError(f"cannot connect to {self.host}:{self.port}: {exc}") from exc
        self.smtp = smtp

    def close(self) -> None:
        if self.smtp is not None:
            try:
                self.smtp.quit()
            except (OSError, smtplib.SMTPException):
                self.smtp.close()
            self.smtp = None

    def deliver(
        self, envelope_from: str, to: str, email: EmailMessage, key: str, before_data
    ) -> str:
        smtp = self.smtp
        if smtp is None:
            raise TransientError("not connected")
        try:
            smtp.ehlo_or_helo_if_needed()
            code, resp = smtp.mail(envelope_from)
            if code != 250:
                raise smtplib.SMTPSenderRefused(code, resp, envelope_from)
            code, resp = smtp.rcpt(to)
            if code not in (250, 251):
                raise smtplib.SMTPRecipientsRefused({to: (code, resp)})
        except smtplib.SMTPRecipientsRefused as exc:
            self._reset()
            code, resp = next(iter(exc.recipients.values()))
            raise _classify(smtplib.SMTPResponseException(code, resp)) from exc
        except smtplib.SMTPResponseException as exc:
            self._reset()
            raise _classify(exc) from exc
        except (OSError, smtplib.SMTPException) as exc:
            self.close()
            raise TransientError(str(exc)) from exc
        before_data()
        try:
            code, resp = smtp.data(email.as_bytes())
            if code != 250:  # smtplib returns the final reply instead of raising
                raise smtplib.SMTPDataError(code, resp)
        except smtplib.SMTPResponseException as exc:
            self._reset()
            raise _classify(exc) from exc  # the server said no: it did not take the mail
        except (OSError, smtplib.SMTPException) as exc:
            # A dropped connection may come after the server took the mail.
            self.close()
            raise Uncertain(str(exc)) from exc
        return f"{self.host}:{self.port}"

    def _reset(self) -> None:
        try:
            if self.smtp is not None:
                self.smtp.rset()
        except (OSError, smtplib.SMTPException):
            self.close()


def _classify(exc: smtplib.SMTPResponseException) -> Exception:
    text = (
        exc.smtp_error.decode(errors="replace")
        if isinstance(exc.smtp_error, bytes)
        else (str(exc.smtp_error))
    )
    message = f"{exc.smtp_code} {text}"[:400]
    if 500 <= exc.smtp_code < 600:
        return PermanentError(message)
    return TransientError(message)


def transport_for(app: Flask):
    if app.config.get("MAIL_SERVER"):
        return SMTPTransport(app.config)
    return FileTransport(app.config["MAIL_OUTBOX_DIR"])


# --- one run --------------------------------------------------------------------------------


def _recover(now: datetime, report: Report) -> None:
    """Leases that ran out: before DATA → queue again; after DATA began → count as sent."""
    stale = MailMessage.claimed_until < now
    r = db.session.execute(
        update(MailMessage)
        .where(MailMessage.status == MessageStatus.SENDING, stale)
        .values(status=MessageStatus.QUEUED, claimed_by=None, claimed_until=None)
        .execution_options(synchronize_session=False)
    )
    report.requeued += r.rowcount or 0
    r = db.session.execute(
        update(MailMessage)
        .where(MailMessage.status == MessageStatus.HANDED_OVER, stale)
        .values(
            status=MessageStatus.SENT,
            sent_at=now,
            claimed_by=None,
            last_error="uncertain: the sender stopped after handing the mail over; not resent",
        )
        .execution_options(synchronize_session=False)
    )
    if r.rowcount:
        log.warning(
            "%d mail(s) were handed over by a sender that stopped before marking them "
            "sent; counted as sent, not resent",
            r.rowcount,
        )
    report.uncertain += r.rowcount or 0
    db.session.commit()


def _claim(now: datetime, limit: int, token: str, tried: set[int]) -> list[tuple[int, int]]:
    """Take up to ``limit`` due mails, none that this run tried already (a refused mail
    waits for its back-off and the next run)."""
    stmt = select(MailMessage.id).where(
        MailMessage.status == MessageStatus.QUEUED, MailMessage.due_at <= now
    )
    if tried:
        stmt = stmt.where(MailMessage.id.not_in(tried))
    ids = list(db.session.scalars(stmt.order_by(MailMessage.due_at, MailMessage.id).limit(limit)))
    if not ids:
        return []
    lease = now + timedelta(seconds=current_app.config["MAIL_CLAIM_SECONDS"])
    db.session.execute(
        update(MailMessage)
        .where(MailMessage.id.in_(ids), MailMessage.status == MessageStatus.QUEUED)
        .values(
            status=MessageStatus.SENDING,
            claimed_by=token,
            claimed_until=lease,
            attempts=MailMessage.attempts + 1,
        )
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    return [
        (mid, attempts)
        for mid, attempts in db.session.execute(
            select(MailMessage.id, MailMessage.attempts)
            .where(MailMessage.claimed_by == token, MailMessage.status == MessageStatus.SENDING)
            .order_by(MailMessage.id)
        )
    ]


def _move(msg_id: int, token: str, old: MessageStatus, **values) -> bool:
    r = db.session.execute(
        update(MailMessage)
        .where(
            MailMessage.id == msg_id,
            MailMessage.claimed_by == token,
            MailMessage.status == old,
        )
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    return r.rowcount == 1


def _mark_sent(msg_id: int, token: str, now: datetime) -> None:
    _move(
        msg_id,
        token,
        MessageStatus.HANDED_OVER,
        status=MessageStatus.SENT,
        sent_at=now,
        claimed_by=None,
        claimed_until=None,
        last_error=None,
    )


def _backoff(attempts: int) -> timedelta:
    cfg = current_app.config
    seconds = float(cfg["MAIL_RETRY_BASE_SECONDS"]) * (2 ** max(0, attempts - 1))
    return timedelta(seconds=min(seconds, float(cfg["MAIL_RETRY_MAX_SECONDS"])))


def _give_back(
    msg_id: int,
    attempts: int,
    token: str,
    error: str,
    permanent: bool,
    now: datetime,
    report: Report,
) -> None:
    """A refused mail: queue it again after the back-off, or fail it."""
    give_up = permanent or attempts >= current_app.config["MAIL_MAX_ATTEMPTS"]
    status = MessageStatus.FAILED if give_up else MessageStatus.QUEUED
    for old in (MessageStatus.SENDING, MessageStatus.HANDED_OVER):
        if _move(
            msg_id,
            token,
            old,
            status=status,
            claimed_by=None,
            claimed_until=None,
            last_error=error[:500],
            due_at=now + _backoff(attempts),
        ):
            break
    if give_up:
        report.failed += 1
        log.error("Mail %s failed for good after %d attempt(s): %s", msg_id, attempts, error)
    else:
        report.retried += 1
        log.warning("Mail %s refused (attempt %d), will retry: %s", msg_id, attempts, error)


def _skip(msg: MailMessage, msg_id: int, token: str, reason: str, report: Report) -> None:
    for item in msg.items:
        if item.status == ItemStatus.QUEUED:
            item.status = ItemStatus.DROPPED
    db.session.flush()
    _move(
        msg_id,
        token,
        MessageStatus.SENDING,
        status=MessageStatus.SKIPPED,
        claimed_by=None,
        claimed_until=None,
        last_error=reason[:500],
    )
    report.skipped += 1


def _send_one(msg_id: int, transport, token: str, now: datetime, report: Report) -> bool:
    """Returns False when the connection is gone (the rest of the batch goes back)."""
    msg = db.session.get(MailMessage, msg_id)
    if msg is None:
        return True  # the account (and its mails) was deleted meanwhile
    attempts, key, kind = msg.attempts, msg.key, msg.kind
    try:
        composed = compose.build(msg, now)
    except compose.Skip as skip:
        _skip(msg, msg_id, token, str(skip), report)
        return True
    except Exception as exc:  # noqa: BLE001 — a template bug must not stop the other mails
        log.exception("Mail %s could not be rendered", msg_id)
        db.session.rollback()
        _give_back(msg_id, attempts, token, f"render: {exc!r}", True, now, report)
        return True
    email = compose.to_email(msg, composed, now)
    to = composed.to

    def before_data() -> None:
        if not _move(msg_id, token, MessageStatus.SENDING, status=MessageStatus.HANDED_OVER):
            raise LostClaim(msg_id)

    try:
        where = transport.deliver(compose.sender_address(), to, email, key, before_data)
    except LostClaim:
        log.warning("Mail %s was taken over by another sender", msg_id)
        return True
    except PermanentError as exc:
        _give_back(msg_id, attempts, token, str(exc), True, now, report)
        return True
    except TransientError as exc:
        _give_back(msg_id, attempts, token, str(exc), False, now, report)
        return transport_alive(transport)
    except Uncertain as exc:
        _move(
            msg_id,
            token,
            MessageStatus.HANDED_OVER,
            status=MessageStatus.SENT,
            sent_at=now,
            claimed_by=None,
            last_error=f"uncertain: connection lost during DATA ({exc})"[:500],
        )
        report.uncertain += 1
        log.warning("Mail %s: connection lost during DATA; counted as sent, not resent", msg_id)
        return False
    _mark_sent(msg_id, token, now)
    report.sent += 1
    if isinstance(transport, FileTransport):
        # A warning so it shows without any logging set up: a new user looks for this line.
        log.warning(
            "Mail to %s (%s) written to %s — no SMTP server configured (MAIL_SERVER)",
            to,
            kind.value,
            where,
        )
    return True


def transport_alive(transport) -> bool:
    return not isinstance(transport, SMTPTransport) or transport.smtp is not None


def run_once(now: datetime | None = None, limit: int | None = None, transport=None) -> Report:
    """Send what is due (in batches until none is left, or ``limit`` mails were tried).

    Runs in an app context (and so a database session) of its own, emptied after each mail:
    the caller's session is left alone, and a long run does not drag every object it
    loaded through each commit.
    """
    with current_app.app_context():
        try:
            return _run(now, limit, transport)
        finally:
            db.session.remove()


def _run(now: datetime | None, limit: int | None, transport) -> Report:
    report = Report()
    now = now or utcnow()
    _recover(now, report)
    limit = limit or 10**9
    batch = int(current_app.config["MAIL_BATCH_SIZE"])
    tried: set[int] = set()
    transport = transport or transport_for(current_app)
    while len(tried) < limit:
        token = secrets.token_hex(8)
        claimed = _claim(now, min(batch, limit - len(tried)), token, tried)
        if not claimed:
            break
        tried.update(mid for mid, _attempts in claimed)
        try:
            transport.open()
        except (TransientError, PermanentError) as exc:
            for mid, attempts in claimed:
                _give_back(
                    mid, attempts, token, str(exc), isinstance(exc, PermanentError), now, report
                )
            break
        try:
            for i, (mid, _attempts) in enumerate(claimed):
                alive = _send_one(mid, transport, token, now, report)
                db.session.expunge_all()
                if not alive:
                    for rest, attempts in claimed[i + 1 :]:
                        _give_back(rest, attempts, token, "connection lost", False, now, report)
                    break
        finally:
            transport.close()
    return report


# --- the embedded thread ---------------------------------------------------------------------

_threads: weakref.WeakSet[MailThread] = weakref.WeakSet()
_threads_lock = threading.Lock()


def wake_threads() -> None:
    for t in list(_threads):
        t.wake.set()


class MailThread(threading.Thread):
    """Sends due mails and builds digests in the app process (the embedded default)."""

    def __init__(self, app: Flask) -> None:
        super().__init__(name="mail-sender", daemon=True)
        self.app = app
        self.poll = float(app.config["MAIL_POLL_INTERVAL"])
        self.wake = threading.Event()
        self.stopping = threading.Event()

    def run(self) -> None:
        from .digests import build_digests

        last_digest = 0.0
        while not self.stopping.is_set():
            try:
                with self.app.app_context():
                    if time.monotonic() - last_digest > 60:
                        build_digests()
                        last_digest = time.monotonic()
                    report = run_once()
                    if report.sent or report.failed:
                        log.info("Mail sender: %s", report)
            except Exception:  # noqa: BLE001 — keep the thread alive; the next round retries
                log.exception("Mail sender round failed")
            finally:
                with self.app.app_context():
                    db.session.remove()
            self.wake.wait(self.poll)
            self.wake.clear()

    def stop(self, timeout: float = 5.0) -> None:
        self.stopping.set()
        self.wake.set()
        self.join(timeout)


def start_thread(app: Flask) -> MailThread:
    thread = MailThread(app)
    with _threads_lock:
        _threads.add(thread)
    thread.start()
    return thread


def stop_threads() -> None:
    for t in list(_threads):
        t.stop()


__all__ = ["run_once", "start_thread", "stop_threads", "wake_threads", "Report"]
