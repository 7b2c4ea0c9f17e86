"""Twilio SMS as a MessagingChannel (ivr.telephony.ports): send, look up after a crash, delivery reports, replies."""

from __future__ import annotations

from datetime import datetime
from typing import Mapping

from ivr.config import Settings
from ivr.telephony.ports import DeliveryReport, InboundMessage, SentMessage
from ivr.telephony.twilio.client import TwilioRestClient

# Twilio message statuses ("Message resource", Status values) -> ivr.db.models.SMS_STATUSES.
STATUS = {"accepted": "sending", "scheduled": "sending", "queued": "sending", "sending": "sending",
          "sent": "sent", "delivered": "delivered", "read": "delivered", "undelivered": "undelivered",
          "failed": "failed", "canceled": "failed"}


class TwilioSms:
    """SMS through Twilio's Messages API. It takes no idempotency key, so a crash is resolved by a look-up."""

    name = "sms"
    idempotent = False

    def __init__(self, settings: Settings):
        self.client = TwilioRestClient(settings)  # ValueError without credentials
        self.sender = settings.phone_number or ""
        self.public_url = settings.public_url

    def send(self, to: str, body: str, key: str, outbox_id: int | None = None) -> str:
        """One SMS; its MessageSid. Delivery reports come to /twilio/sms-status?outbox=<our row>."""
        callback = (f"{self.public_url.rstrip('/')}/twilio/sms-status?outbox={outbox_id}"
                    if self.public_url and outbox_id is not None else None)
        return self.client.send_sms(to, body, callback)

    def recent(self, to: str, since: datetime | None = None) -> list[SentMessage]:
        """Every message from our number to `to` since `since` (all pages), newest first."""
        return self.client.recent_messages(to, since=since)


def delivery_report(form: Mapping[str, str], query: Mapping[str, str]) -> DeliveryReport:
    """A status callback (POST /twilio/sms-status) in the port's words; unknown statuses become ""."""
    word = (form.get("MessageStatus") or form.get("SmsStatus") or "").lower()
    code = form.get("ErrorCode") or ""
    outbox = query.get("outbox") or ""
    return DeliveryReport(form.get("MessageSid", ""), STATUS.get(word, ""), int(code) if _small_number(code) else None,
                          int(outbox) if _small_number(outbox) else None)


def _small_number(text: str) -> bool:
    """Plain ASCII digits that fit a bigint column (a forged callback must not overflow the query)."""
    return text.isascii() and text.isdigit() and len(text) <= 18


def inbound_message(form: Mapping[str, str]) -> InboundMessage:
    """An incoming SMS (POST /twilio/sms)."""
    return InboundMessage(form.get("MessageSid", ""), form.get("From", ""), form.get("To", ""), form.get("Body", ""))
