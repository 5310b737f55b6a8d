"""The sender: takes due mails from the outbox, renders them and hands them over.

Each mail moves ``queued → sending → handed_over → sent`` with a commit at every arrow, and
the message is rendered and serialised *before* any state change, so a crash while building
it only leaves a lease behind.

* ``sending`` is a lease (``claimed_by`` the sender's id until ``claimed_until``): two senders
  (the embedded thread and a cron job, say) never take the same mail. A sender renews the
  leases it holds while it works (every third of ``MAIL_CLAIM_SECONDS``), so the lease can be
  short (60 s by default) and a sender that died is replaced within about a minute.
* ``handed_over`` is committed just before the one call that delivers the mail (SMTP: after
  the server accepted MAIL and RCPT, just before DATA; the outbox folder: just before the
  file is written). ``sent`` is committed right after it.

Recovery (at the start of every run) takes back the mails of senders that stopped: leases
that ran out, and — in the embedded sender (``MAIL_WORKER=thread``) — the leases held by a
sender process on this machine that no longer runs (found by the process id in
``claimed_by``), at once. What recovery does with them:

* ``sending``: never handed over, so it is queued again.
* The outbox folder: the file's name comes from the mail's key, so recovery looks for it:
  present → ``sent`` (written before the sender stopped), missing → queued again. Every mail
  is written exactly once; a repeat would overwrite the same file.
* SMTP, ``handed_over``: the sender stopped during the DATA exchange or before it could
  record the server's answer. The mail is sent again: nothing is lost, and the one
  duplicate this can make (when the server had accepted it) carries the same Message-ID,
  which many mail programs use to show it once. ``last_error`` says it was resent. A
  connection that breaks during DATA (the sender still running) is treated the same way.

A refusal (4xx, connection refused, timeout) puts the mail back with exponential back-off
(``MAIL_RETRY_BASE_SECONDS`` · 2^(attempts−1), at most ``MAIL_RETRY_MAX_SECONDS``); a
permanent refusal (5xx) or ``MAIL_MAX_ATTEMPTS`` attempts mark it ``failed``.

With no ``MAIL_SERVER`` (the embedded default) mails are written as ``.eml`` files into
``instance/outbox/``; the log says where.
"""

from __future__ import annotations

import hashlib
import logging
import os
import secrets
import smtplib
import socket
import ssl
import threading
import time
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from flask import Flask, current_app
from sqlalchemy import select, update

from forum.extensions import db
from forum.models import utcnow

from . import compose
from .models import ItemStatus, MailMessage, MessageStatus

log = logging.getLogger("borgerdialog.mail")

# Called with the name of each step a mail passes ("claimed", "built", "rcpt_accepted",
# "handed_over", "delivered", "marked_sent"): the crash tests (tests/mail/test_crashes.py)
# set it to kill the process at one of them. None in normal running.
checkpoint_hook: Callable[[str], None] | None = None


def checkpoint(step: str) -> None:
    if checkpoint_hook is not None:
        checkpoint_hook(step)


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
    requeued: int = 0  # stopped senders' mails queued again (never handed over, or resent)
    recovered: int = 0  # stopped senders' mails found delivered (the outbox file exists)

    def __str__(self) -> str:
        return (
            f"{self.sent} sent, {self.skipped} skipped, {self.retried} to retry, "
            f"{self.failed} failed, {self.requeued} requeued, {self.recovered} recovered"
        )


# --- who holds a lease -------------------------------------------------------------------------

# ``claimed_by`` is "<host>.<pid>.<random>": the host (a hash of its name) and the process
# let the embedded sender tell a lease of a process on this machine that stopped.
_HOST = hashlib.sha256(socket.gethostname().encode()).hexdigest()[:8]


def new_token() -> str:
    return f"{_HOST}.{os.getpid()}.{secrets.token_hex(4)}"


def _local_pid(token: str | None) -> int | None:
    """The process id in a lease taken on this machine, else None."""
    host, _, rest = (token or "").partition(".")
    pid, _, _rand = rest.partition(".")
    if host != _HOST or not pid.isdigit():
        return None
    return int(pid)


def _process_runs(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # another user's process
    try:  # a zombie (dead, not yet reaped by its parent) does not run
        with open(f"/proc/{pid}/stat", "rb") as f:
            return f.read().rpartition(b")")[2].split()[0] != b"Z"
    except (OSError, IndexError):
        return True


# --- transports --------------------------------------------------------------------------------


class FileTransport:
    """Writes each mail as ``<outbox>/<hash of key>.eml`` (no SMTP server configured)."""

    def __init__(self, directory: str) -> None:
        self.directory = Path(directory)

    def open(self) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)

    def close(self) -> None:
        pass

    def path_for(self, key: str) -> Path:
        return self.directory / (hashlib.sha256(key.encode()).hexdigest()[:20] + ".eml")

    def delivered(self, key: str) -> bool:
        """Whether the mail with this key was written (recovery asks)."""
        return self.path_for(key).is_file()

    def deliver(self, envelope_from: str, to: str, data: bytes, key: str, before_data) -> str:
        path = self.path_for(key)
        tmp = path.with_suffix(".tmp")
        before_data()
        # Written whole, then renamed: a killed process leaves the whole file or none. No
        # fsync (4 ms a mail here): a crash of the process keeps what it wrote, and a power
        # cut may lose the last commits of the embedded SQLite database too (WAL with
        # synchronous=NORMAL, forum/__init__.py).
        tmp.write_bytes(data)
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

    def delivered(self, key: str) -> bool:
        return False  # an SMTP server cannot be asked

    def deliver(self, envelope_from: str, to: str, data: bytes, key: str, before_data) -> str:
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
        checkpoint("rcpt_accepted")
        before_data()
        try:
            code, resp = smtp.data(data)
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

_HELD = (MessageStatus.SENDING, MessageStatus.HANDED_OVER)


def _recover(now: datetime, report: Report, transport, stopped_here: bool, own: bool) -> None:
    """Take back the mails of senders that stopped: leases that ran out, and (``stopped_here``)
    leases of processes on this machine that no longer run (``own``: this process's id too,
    for a sender that starts before it has claimed anything)."""
    rows = db.session.execute(
        select(
            MailMessage.id,
            MailMessage.key,
            MailMessage.status,
            MailMessage.claimed_by,
            MailMessage.claimed_until,
        ).where(MailMessage.status.in_(_HELD))
    ).all()
    alive: dict[int, bool] = {}
    for mid, key, status, claimed_by, claimed_until in rows:
        if claimed_until is None or claimed_until >= now:
            pid = _local_pid(claimed_by) if stopped_here else None
            if pid is None:
                continue
            if pid == os.getpid():
                if not own:
                    continue
            elif alive.setdefault(pid, _process_runs(pid)):
                continue
        if transport.delivered(key):
            values = dict(
                status=MessageStatus.SENT,
                sent_at=now,
                last_error="recovered: written before its sender stopped",
            )
        elif status == MessageStatus.HANDED_OVER:
            values = dict(
                status=MessageStatus.QUEUED,
                last_error=(
                    "resent: its sender stopped while handing it over "
                    "(the server may have it twice, with the same Message-ID)"
                    if isinstance(transport, SMTPTransport)
                    else "resent: its sender stopped before the mail was written"
                ),
            )
        else:
            values = dict(status=MessageStatus.QUEUED)
        r = db.session.execute(
            update(MailMessage)
            .where(
                MailMessage.id == mid,
                MailMessage.status == status,
                MailMessage.claimed_by == claimed_by,
            )
            .values(claimed_by=None, claimed_until=None, **values)
            .execution_options(synchronize_session=False)
        )
        if r.rowcount != 1:
            continue  # another sender recovered it first
        if values["status"] == MessageStatus.SENT:
            report.recovered += 1
        else:
            report.requeued += 1
            if status == MessageStatus.HANDED_OVER:
                log.warning("Mail %s: its sender stopped while handing it over; resending", mid)
    db.session.commit()


def _lease() -> timedelta:
    return timedelta(seconds=float(current_app.config["MAIL_CLAIM_SECONDS"]))


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
    db.session.execute(
        update(MailMessage)
        .where(MailMessage.id.in_(ids), MailMessage.status == MessageStatus.QUEUED)
        .values(
            status=MessageStatus.SENDING,
            claimed_by=token,
            claimed_until=now + _lease(),
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


def _renew(token: str, now: datetime) -> None:
    """Extend the leases this sender still holds."""
    db.session.execute(
        update(MailMessage)
        .where(MailMessage.claimed_by == token, MailMessage.status.in_(_HELD))
        .values(claimed_until=now + _lease())
        .execution_options(synchronize_session=False)
    )
    db.session.commit()


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


def _mark_sent(msg_id: int, token: str, now: datetime, note: str | None = None) -> None:
    _move(
        msg_id,
        token,
        MessageStatus.HANDED_OVER,
        status=MessageStatus.SENT,
        sent_at=now,
        claimed_by=None,
        claimed_until=None,
        last_error=note,
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
    for old in _HELD:
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


def _send_one(
    msg_id: int,
    transport,
    token: str,
    now: datetime,
    report: Report,
    clock: Callable[[], datetime] | None = None,
) -> bool:
    """Returns False when the connection is gone (the rest of the batch goes back).

    ``clock``: the run's time now (``now`` moving on), for the lease of the hand-over."""
    msg = db.session.get(MailMessage, msg_id)
    if msg is None:
        return True  # the account (and its mails) was deleted meanwhile
    attempts, key, kind = msg.attempts, msg.key, msg.kind
    # Kept once sent: a resent mail may have reached its recipient twice.
    note = msg.last_error if (msg.last_error or "").startswith("resent") else None
    try:
        composed = compose.build(msg, now)
        # Serialised here, before the state changes: the window between ``handed_over``
        # and ``sent`` holds the delivery call and nothing else.
        data = compose.to_email(msg, composed, now).as_bytes()
    except compose.Skip as skip:
        _skip(msg, msg_id, token, str(skip), report)
        return True
    except Exception as exc:  # noqa: BLE001 — a template bug must not stop the other mails
        log.exception("Mail %s could not be rendered", msg_id)
        db.session.rollback()
        _give_back(msg_id, attempts, token, f"render: {exc!r}", True, now, report)
        return True
    to = composed.to
    checkpoint("built")

    def before_data() -> None:
        # A whole lease for the delivery call (at least two network timeouts).
        until = (clock or (lambda: now))() + _lease()
        if not _move(
            msg_id,
            token,
            MessageStatus.SENDING,
            status=MessageStatus.HANDED_OVER,
            claimed_until=until,
        ):
            raise LostClaim(msg_id)
        checkpoint("handed_over")

    try:
        where = transport.deliver(compose.sender_address(), to, data, key, before_data)
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
        # As after a crash during the hand-over: sent again rather than maybe lost.
        _give_back(
            msg_id,
            attempts,
            token,
            f"resent: connection lost during DATA ({exc}); the server may have it twice, "
            "with the same Message-ID",
            False,
            now,
            report,
        )
        return False
    checkpoint("delivered")
    _mark_sent(msg_id, token, now, note)
    checkpoint("marked_sent")
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


def run_once(
    now: datetime | None = None,
    limit: int | None = None,
    transport=None,
    stopped_here: bool = False,
    own: bool = False,
) -> Report:
    """Send what is due (in batches until none is left, or ``limit`` mails were tried).

    ``stopped_here`` (the embedded sender): take back at once the leases of sender processes
    on this machine that no longer run; ``own``: this process's earlier leases too (a sender
    starting up, before it has claimed anything).

    Runs in an app context (and so a database session) of its own, emptied after each mail:
    the caller's session is left alone, and a long run does not drag every object it
    loaded through each commit.
    """
    with current_app.app_context():
        try:
            return _run(now, limit, transport, stopped_here, own)
        finally:
            db.session.remove()


def _run(
    now: datetime | None, limit: int | None, transport, stopped_here: bool, own: bool
) -> Report:
    report = Report()
    start, started = now or utcnow(), time.monotonic()

    def clock() -> datetime:  # ``now`` moving on with the run (tests pass a ``now``)
        return start + timedelta(seconds=time.monotonic() - started)

    transport = transport or transport_for(current_app)
    _recover(start, report, transport, stopped_here, own)
    limit = limit or 10**9
    batch = int(current_app.config["MAIL_BATCH_SIZE"])
    renew_every = float(current_app.config["MAIL_CLAIM_SECONDS"]) / 3
    tried: set[int] = set()
    while len(tried) < limit:
        token = new_token()
        claimed = _claim(clock(), min(batch, limit - len(tried)), token, tried)
        if not claimed:
            break
        checkpoint("claimed")
        renewed = time.monotonic()
        tried.update(mid for mid, _attempts in claimed)
        try:
            transport.open()
        except (TransientError, PermanentError) as exc:
            for mid, attempts in claimed:
                _give_back(
                    mid, attempts, token, str(exc), isinstance(exc, PermanentError), start, report
                )
            break
        try:
            for i, (mid, _attempts) in enumerate(claimed):
                if time.monotonic() - renewed > renew_every:
                    _renew(token, clock())
                    renewed = time.monotonic()
                alive = _send_one(mid, transport, token, start, report, clock)
                db.session.expunge_all()
                if not alive:
                    for rest, attempts in claimed[i + 1 :]:
                        _give_back(rest, attempts, token, "connection lost", False, start, report)
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
        first = True
        while not self.stopping.is_set():
            try:
                with self.app.app_context():
                    if time.monotonic() - last_digest > 60:
                        build_digests()
                        last_digest = time.monotonic()
                    # The one sender of this process: what a stopped sender process on this
                    # machine (this one before a restart, too) held is taken back at once,
                    # not after its lease.
                    report = run_once(stopped_here=True, own=first)
                    first = False
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
