"""Twilio SMS webhooks: POST /twilio/sms (replies) and /twilio/sms-status (delivery reports)."""

from __future__ import annotations

import logging

from flask import Blueprint, Response, current_app, request
from sqlalchemy.orm.exc import StaleDataError

from ivr.tasks.inbound import handle_sms
from ivr.tasks.sending import record_status
from ivr.telephony.twilio.signature import twilio_signed
from ivr.telephony.twilio.sms import delivery_report, inbound_message
from ivr.wiring import hausruf

log = logging.getLogger("hausruf.sms")
bp = Blueprint("twilio_sms", __name__, url_prefix="/twilio")

EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response/>'
ATTEMPTS = 3  # optimistic locking: a reply racing the worker is simply done again


@bp.post("/sms")
@twilio_signed
def incoming_sms():
    """A volunteer's (or anyone's) SMS; replies go through the outbox, so the TwiML stays empty."""
    wiring, message = hausruf(current_app), inbound_message(request.form)
    now = wiring.clock()

    def handle(session) -> None:
        for attempt in range(1, ATTEMPTS + 1):
            try:
                handle_sms(session, message.message_id, message.sender, message.recipient, message.body, now,
                           wiring.tasks)
                session.commit()
                return
            except StaleDataError:
                session.rollback()
                log.info("SMS %s raced another change; attempt %d", message.message_id, attempt)

    try:
        wiring.database.run(handle)
    except Exception:  # noqa: BLE001 - answer Twilio anyway; the log keeps the reason
        log.exception("incoming SMS %s could not be handled", message.message_id)
    return Response(EMPTY_TWIML, status=200, mimetype="text/xml")


@bp.post("/sms-status")
@twilio_signed
def sms_status():
    """Twilio's delivery report for one of our SMS (sent, delivered, failed, undelivered + ErrorCode)."""
    wiring, report = hausruf(current_app), delivery_report(request.form, request.args)
    now = wiring.clock()

    def store(session) -> None:
        if record_status(session, report, now, wiring.tasks):
            session.commit()
        else:
            log.warning("delivery report for unknown SMS %s", report.message_id)

    try:
        wiring.database.run(store)
    except Exception:  # noqa: BLE001 - Twilio does not retry reports usefully; log and answer
        log.exception("delivery report %s could not be stored", report.message_id)
    return Response(status=204)
