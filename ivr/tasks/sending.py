"""Sending the outbox through a messaging channel: claim a row, send it, record the channel's id; never lose, never double.

Each row is claimed in its own short transaction (status "sending", attempts + 1, and a lease in
next_attempt_at), then sent, then the channel's message id is recorded in another transaction.

Why no double send after a crash: a channel with an idempotency key (MessagingChannel.idempotent)
refuses a second message with the row's key, so the row is simply sent again. Twilio SMS has no
such key, so a worker that dies between sending and recording the id leaves a row in "sending"
whose message may or may not exist. Once the lease has run out (HAUSRUF_SMS_LEASE_SECONDS, longer
than any HTTP timeout, so the dead worker's request has finished one way or the other), the next
worker *looks the message up* before sending: it lists the messages to that recipient, page after
page until they are older than the row (never only the newest page: after a burst of more than 50
SMS to one number the lost one could be missed and sent twice), and takes one whose body is the row's body, created after the row, whose id no other row holds.
Found: the row becomes "sent" with that id. Not found: it is sent now. Errors that may have gone
through (ChannelError.maybe_done: network errors, 5xx) are treated the same way; refusals are not
looked up. The body is a good marker because each row's text carries the task number and its kind.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from ivr.db.models import SmsMessage
from ivr.directory.phones import mask
from ivr.tasks import escalation
from ivr.tasks.config import TaskConfig
from ivr.telephony.ports import ChannelError, DeliveryReport, MessagingChannel

log = logging.getLogger("hausruf.sms")

MAX_BACKOFF = timedelta(hours=1)
CLOCK_SKEW = timedelta(minutes=5)  # between our clock and the channel's
# Message statuses (ivr.db.models.SMS_STATUSES) in the order they can follow each other.
RANK = {"queued": 0, "sending": 0, "sent": 1, "delivered": 2, "undelivered": 2, "failed": 2}


@dataclass
class SendReport:
    """What one pass over the outbox did."""

    sent: int = 0
    recovered: int = 0  # found at the provider after a crash, not sent again
    retried: int = 0
    failed: int = 0
    held: bool = False  # no Twilio credentials: nothing was tried (ivr.tasks.jobs)


def send_due(session: Session, channel: MessagingChannel, now: datetime, config: TaskConfig,
             limit: int = 100) -> SendReport:
    """Send every due row (queued, or left in "sending" past its lease); commits per row."""
    report = SendReport()
    # A channel that sends only some kinds of rows names them (the router: Matrix without Twilio
    # sends no SMS); the others are held in the outbox, untouched, until it can.
    kinds = getattr(channel, "channels", None)
    due = session.scalars(select(SmsMessage.id).where(
        SmsMessage.direction == "outbound",
        SmsMessage.status.in_(("queued", "sending")),
        or_(SmsMessage.next_attempt_at.is_(None), SmsMessage.next_attempt_at <= now),
        *([SmsMessage.channel.in_(kinds)] if kinds is not None else []),
    ).order_by(SmsMessage.id).limit(limit)).all()
    session.commit()
    for message_id in due:
        previous = _claim(session, message_id, channel.sender, now, config)
        if previous is None:
            continue  # another worker got it first
        message = session.get(SmsMessage, message_id)
        if previous == "sending" and not channel.idempotent and _recover(session, channel, message, now, config,
                                                                         report):
            continue
        _send(session, channel, message, now, config, report)
    return report


def _claim(session: Session, message_id: int, from_number: str, now: datetime, config: TaskConfig) -> str | None:
    """Compare-and-set the row to "sending" with a fresh lease; the state it had, or None if lost."""
    for previous in ("queued", "sending"):
        claimed = session.execute(
            update(SmsMessage)
            .where(SmsMessage.id == message_id, SmsMessage.status == previous,
                   or_(SmsMessage.next_attempt_at.is_(None), SmsMessage.next_attempt_at <= now))
            .values(status="sending", attempts=SmsMessage.attempts + 1, next_attempt_at=now + config.sms_lease,
                    from_number=from_number)
            .execution_options(synchronize_session=False)
        ).rowcount
        if claimed:
            session.commit()
            session.expire_all()
            return previous
    session.rollback()
    return None


def _recover(session: Session, channel: MessagingChannel, message: SmsMessage, now: datetime,
             config: TaskConfig, report: SendReport) -> bool:
    """A row left in "sending": True if the channel has it already (recorded) or we must wait."""
    since = message.created_at - CLOCK_SKEW
    try:
        listed = channel.recent(message.to_number, since=since)
    except ChannelError as exc:
        _retry_later(session, message, now, config, exc, report, keep_sending=True)
        return True
    known = set(session.scalars(select(SmsMessage.provider_message_id).where(
        SmsMessage.to_number == message.to_number, SmsMessage.provider_message_id.is_not(None))))
    for candidate in listed:
        if (candidate.message_id not in known and message.body in candidate.body
                and (candidate.created_at is None or candidate.created_at >= since)):
            log.info("SMS %s to %s was sent before a crash as %s; not sending again",
                     message.id, mask(message.to_number), candidate.message_id)
            _record_sent(session, message, candidate.message_id, now)
            report.recovered += 1
            return True
    return False


def _send(session: Session, channel: MessagingChannel, message: SmsMessage, now: datetime, config: TaskConfig,
          report: SendReport) -> None:
    try:
        sid = channel.send(message.to_number, message.body, message.idempotency_key or f"outbox:{message.id}",
                           message.id)
    except ChannelError as exc:
        if exc.permanent or message.attempts >= config.sms_max_attempts:
            _fail(session, message, now, config, exc.code, str(exc))
            report.failed += 1
        else:
            _retry_later(session, message, now, config, exc, report, keep_sending=exc.maybe_done)
        return
    _record_sent(session, message, sid, now)
    report.sent += 1


def _record_sent(session: Session, message: SmsMessage, sid: str, now: datetime) -> None:
    # A delivery report may have arrived first (it finds the row by ?outbox=id): never step back.
    session.refresh(message)
    if RANK.get(message.status, 0) < RANK["sent"]:
        message.status = "sent"
    message.provider_message_id = message.provider_message_id or sid
    message.sent_at = message.sent_at or now
    message.next_attempt_at = None
    session.commit()


def _retry_later(session: Session, message: SmsMessage, now: datetime, config: TaskConfig, exc: ChannelError,
                 report: SendReport, keep_sending: bool) -> None:
    """Back off exponentially; a maybe-sent row stays "sending" so the retry looks it up first."""
    delay = min(config.sms_backoff * (2 ** max(0, message.attempts - 1)), MAX_BACKOFF)
    message.status = "sending" if keep_sending else "queued"
    message.next_attempt_at = now + delay
    message.last_error_code = exc.code
    message.last_error_text = str(exc)[:1000]
    session.commit()
    report.retried += 1
    log.warning("SMS %s to %s: temporary failure (%s); retry at %s", message.id, mask(message.to_number), exc,
                message.next_attempt_at.isoformat())


def _fail(session: Session, message: SmsMessage, now: datetime, config: TaskConfig, code: int | None,
          text: str) -> None:
    message.status = "failed"
    message.next_attempt_at = None
    message.last_error_code = code
    message.last_error_text = text[:1000]
    log.error("SMS %s to %s failed for good: %s", message.id, mask(message.to_number), text)
    escalation.on_sms_failed(session, message, now, config)
    session.commit()


def record_status(session: Session, report: DeliveryReport, now: datetime, config: TaskConfig) -> bool:
    """A delivery report from the channel; False if no row matches. The caller commits."""
    sid = report.message_id
    message = session.scalar(select(SmsMessage).where(SmsMessage.provider_message_id == sid)) if sid else None
    if message is None and report.outbox_id is not None:
        message = session.get(SmsMessage, report.outbox_id)
    if message is None or message.direction != "outbound":
        return False
    if sid and not message.provider_message_id:
        message.provider_message_id = sid[:128]
    new = report.status or None
    # Reports can arrive out of order (Twilio docs, "Outbound Message Status in Status Callbacks").
    if new is None or RANK.get(new, 0) <= RANK.get(message.status, 0):
        return True
    message.status = new
    message.next_attempt_at = None
    message.sent_at = message.sent_at or now
    if new in ("failed", "undelivered"):
        message.last_error_code = report.error_code
        message.last_error_text = f"delivery report: {new} (error {report.error_code or '-'})"
        escalation.on_sms_failed(session, message, now, config)
    return True
