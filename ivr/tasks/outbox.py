"""The SMS outbox: every outgoing SMS is a row written in the transaction of the change that causes it.

The worker (ivr.tasks.sending) sends queued rows; the row, not the queue job, is the source of truth.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from ivr.db.models import CallbackTask, SmsMessage

# Set on a session that queued an SMS, so the web app can wake the worker right after the commit.
QUEUED_FLAG = "hausruf.sms_queued"


def queue_sms(session: Session, to: str, body: str, key: str, now: datetime,
              task: CallbackTask | None = None) -> SmsMessage:
    """Add an outgoing SMS to the outbox once per key; a second call with the same key returns the first row."""
    existing = _by_key(session, key)
    if existing is not None:
        return existing
    message = SmsMessage(direction="outbound", to_number=to, from_number="", body=body, status="queued",
                         attempts=0, next_attempt_at=now, idempotency_key=key[:100], created_at=now, task=task,
                         channel=channel_of(to))
    session.add(message)
    session.info[QUEUED_FLAG] = True
    return message


def channel_of(address: str) -> str:
    """The channel an address belongs to: a Matrix user, room id or alias (ivr.telephony.matrix), else SMS."""
    return "matrix" if address[:1] in ("@", "!", "#") else "sms"


def _by_key(session: Session, key: str) -> SmsMessage | None:
    # Rows added in this transaction but not flushed yet count too (autoflush is on for select).
    return session.scalar(select(SmsMessage).where(SmsMessage.idempotency_key == key[:100]))


def record_inbound(session: Session, message_id: str, from_number: str, to_number: str, body: str,
                   now: datetime) -> SmsMessage | None:
    """Store a received message; None if its id was stored before (the channel retried its webhook)."""
    if message_id and session.scalar(select(SmsMessage.id).where(SmsMessage.provider_message_id == message_id)):
        return None
    message = SmsMessage(direction="inbound", to_number=to_number[:255], from_number=from_number[:255],
                         body=body[:1600], status="received", provider_message_id=message_id[:128] or None,
                         created_at=now, sent_at=now)
    session.add(message)
    return message
