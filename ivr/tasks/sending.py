"""Sending the outbox: claim a row, send it, record the provider's SID; never lose, never double.

Each row is claimed in its own short transaction (status "sending", attempts + 1, and a lease in
next_attempt_at), then sent, then the MessageSid is recorded in another transaction.

Why no double send after a crash: Twilio's Messages API has no idempotency key, so a worker that
dies between the POST and recording the SID leaves a row in "sending" whose message may or may not
exist. Once the lease has run out (HAUSRUF_SMS_LEASE_SECONDS, longer than any HTTP timeout, so the
dead worker's request has finished one way or the other), the next worker *looks the message up*
before sending: it lists the newest messages from our number to that recipient (GET Messages.json
with To and From) and takes one whose body is the row's body, created after the row, whose SID no
other row holds. Found: the row becomes "sent" with that SID. Not found: it is sent now. Network
errors and 5xx answers on the POST are treated the same way, since Twilio may have accepted the
message before the answer was lost; 429 and other 4xx were refused and are not looked up.
The body is a good marker because each row's text carries the task number and its kind.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from ivr.db.models import SmsMessage
from ivr.directory.phones import mask
from ivr.tasks import escalation
from ivr.tasks.config import TaskConfig
from ivr.telephony.twilio.client import TwilioError, TwilioRestClient

log = logging.getLogger("hausruf.sms")

MAX_BACKOFF = timedelta(hours=1)
CLOCK_SKEW = timedelta(minutes=5)  # between our clock and Twilio's date_created
# Twilio message statuses ("Message resource", Status values) in the order they can follow each other.
RANK = {"queued": 0, "sending": 0, "sent": 1, "delivered": 2, "undelivered": 2, "failed": 2}
PROVIDER_STATUS = {"accepted": "sending", "scheduled": "sending", "queued": "sending", "sending": "sending",
                   "sent": "sent", "delivered": "delivered", "read": "delivered", "undelivered": "undelivered",
                   "failed": "failed", "canceled": "failed"}


@dataclass
class SendReport:
    """What one pass over the outbox did."""

    sent: int = 0
    recovered: int = 0  # found at the provider after a crash, not sent again
    retried: int = 0
    failed: int = 0


def status_url(public_url: str | None, message: SmsMessage) -> str | None:
    """Where Twilio posts delivery reports; the row id lets a report that beats our commit find its row."""
    return f"{public_url.rstrip('/')}/twilio/sms-status?outbox={message.id}" if public_url else None


def send_due(session: Session, client: TwilioRestClient, now: datetime, config: TaskConfig,
             public_url: str | None = None, limit: int = 100) -> SendReport:
    """Send every due row (queued, or left in "sending" past its lease); commits per row."""
    report = SendReport()
    due = session.scalars(select(SmsMessage.id).where(
        SmsMessage.direction == "outbound",
        SmsMessage.status.in_(("queued", "sending")),
        or_(SmsMessage.next_attempt_at.is_(None), SmsMessage.next_attempt_at <= now),
    ).order_by(SmsMessage.id).limit(limit)).all()
    session.commit()
    for message_id in due:
        previous = _claim(session, message_id, client.from_number, now, config)
        if previous is None:
            continue  # another worker got it first
        message = session.get(SmsMessage, message_id)
        if previous == "sending" and _recover(session, client, message, now, config, report):
            continue
        _send(session, client, message, now, config, public_url, report)
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


def _recover(session: Session, client: TwilioRestClient, message: SmsMessage, now: datetime,
             config: TaskConfig, report: SendReport) -> bool:
    """A row left in "sending": True if the provider has it already (recorded) or we must wait."""
    try:
        listed = client.recent_messages(message.to_number)
    except TwilioError as exc:
        _retry_later(session, message, now, config, exc, report, keep_sending=True)
        return True
    since = message.created_at - CLOCK_SKEW
    known = set(session.scalars(select(SmsMessage.provider_message_id).where(
        SmsMessage.to_number == message.to_number, SmsMessage.provider_message_id.is_not(None))))
    for candidate in listed:
        if (candidate.sid not in known and message.body in candidate.body
                and (candidate.created_at is None or candidate.created_at >= since)):
            log.info("SMS %s to %s was sent before a crash as %s; not sending again",
                     message.id, mask(message.to_number), candidate.sid)
            _record_sent(session, message, candidate.sid, now)
            report.recovered += 1
            return True
    return False


def _send(session: Session, client: TwilioRestClient, message: SmsMessage, now: datetime, config: TaskConfig,
          public_url: str | None, report: SendReport) -> None:
    try:
        sid = client.send_sms(message.to_number, message.body, status_url(public_url, message))
    except TwilioError as exc:
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


def _retry_later(session: Session, message: SmsMessage, now: datetime, config: TaskConfig, exc: TwilioError,
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


def record_status(session: Session, sid: str, outbox_id: str | None, status: str, error_code: str | None,
                  now: datetime, config: TaskConfig) -> bool:
    """A delivery report (POST /twilio/sms-status); False if no row matches. The caller commits."""
    message = session.scalar(select(SmsMessage).where(SmsMessage.provider_message_id == sid)) if sid else None
    if message is None and outbox_id and outbox_id.isdigit():
        message = session.get(SmsMessage, int(outbox_id))
    if message is None or message.direction != "outbound":
        return False
    if sid and not message.provider_message_id:
        message.provider_message_id = sid[:128]
    new = PROVIDER_STATUS.get(status.lower())
    # Reports can arrive out of order (Twilio docs, "Outbound Message Status in Status Callbacks").
    if new is None or RANK.get(new, 0) <= RANK.get(message.status, 0):
        return True
    message.status = new
    message.next_attempt_at = None
    message.sent_at = message.sent_at or now
    if new in ("failed", "undelivered"):
        message.last_error_code = int(error_code) if (error_code or "").isdigit() else None
        message.last_error_text = f"delivery report: {status} (error {error_code or '-'})"
        escalation.on_sms_failed(session, message, now, config)
    return True

