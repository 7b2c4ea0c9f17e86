"""Web side of tasks: the booker for voice webhooks, POST /twilio/sms and /twilio/sms-status, the worker kick."""

from __future__ import annotations

import logging

from flask import Blueprint, Flask, Response, current_app, request
from sqlalchemy import event
from sqlalchemy.orm.exc import StaleDataError

from ivr.config import Settings
from ivr.tasks.booking import book_callback
from ivr.tasks.config import TaskConfig
from ivr.tasks.inbound import handle_sms
from ivr.tasks.outbox import QUEUED_FLAG
from ivr.tasks.sending import record_status
from ivr.telephony.twilio.signature import twilio_signed

log = logging.getLogger("hausruf.sms")
bp = Blueprint("twilio_sms", __name__, url_prefix="/twilio")

EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response/>'
ATTEMPTS = 3  # optimistic locking: a reply racing the worker is simply done again


class OutboxKick:
    """Wakes the worker after a commit that queued SMS; builds the queue on first use."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self._queue = None

    def __call__(self) -> None:
        self.queue.send_outbox()

    @property
    def queue(self):
        from ivr.tasks.worker import build_queue

        if self._queue is None:
            self._queue = build_queue(self.settings)
        return self._queue

    def transcribe(self, call_sid: str, recording_sid: str, recording_url: str) -> None:
        """A recording is ready at Twilio: the worker fetches it from the RecordingUrl given, and transcribes it."""
        self.queue.transcribe(recording_sid, recording_url)


def init_app(app: Flask) -> None:
    """Register the booker, the SMS webhooks and the after-commit kick."""
    settings: Settings = app.config["HAUSRUF"]
    app.extensions["hausruf.book_callback"] = book_callback
    app.extensions.setdefault("hausruf.sms_kick", OutboxKick(settings))
    app.extensions.setdefault("hausruf.recording_jobs", app.extensions["hausruf.sms_kick"].transcribe)
    app.register_blueprint(bp)
    sessions = app.extensions["hausruf.db"]

    def after_commit(session) -> None:
        if session.info.pop(QUEUED_FLAG, False):
            try:
                app.extensions["hausruf.sms_kick"]()
            except Exception:  # noqa: BLE001 - the minutely sweep sends it anyway; the row is the truth
                log.exception("could not wake the worker; the SMS goes out with the next sweep")

    def after_rollback(session) -> None:
        session.info.pop(QUEUED_FLAG, None)

    event.listen(sessions, "after_commit", after_commit)
    event.listen(sessions, "after_rollback", after_rollback)


def _config() -> TaskConfig:
    return TaskConfig.for_settings(current_app.config["HAUSRUF"])


def _now():
    return current_app.extensions["hausruf.clock"]()


@bp.post("/sms")
@twilio_signed
def incoming_sms():
    """A volunteer's (or anyone's) SMS; replies go through the outbox, so the TwiML stays empty."""
    from ivr.db import get_session

    form = request.form
    for attempt in range(1, ATTEMPTS + 1):
        session = get_session()
        try:
            handle_sms(session, form.get("MessageSid", ""), form.get("From", ""), form.get("To", ""),
                       form.get("Body", ""), _now(), _config())
            session.commit()
            break
        except StaleDataError:
            session.rollback()
            log.info("SMS %s raced another change; attempt %d", form.get("MessageSid", ""), attempt)
        except Exception:  # noqa: BLE001 - answer Twilio anyway; the log keeps the reason
            session.rollback()
            log.exception("incoming SMS %s could not be handled", form.get("MessageSid", ""))
            break
    return Response(EMPTY_TWIML, status=200, mimetype="text/xml")


@bp.post("/sms-status")
@twilio_signed
def sms_status():
    """Twilio's delivery report for one of our SMS (sent, delivered, failed, undelivered + ErrorCode)."""
    from ivr.db import get_session

    form = request.form
    session = get_session()
    try:
        if record_status(session, form.get("MessageSid", ""), request.args.get("outbox"),
                         form.get("MessageStatus") or form.get("SmsStatus") or "", form.get("ErrorCode"),
                         _now(), _config()):
            session.commit()
        else:
            log.warning("delivery report for unknown SMS %s", form.get("MessageSid", ""))
    except Exception:  # noqa: BLE001 - Twilio does not retry reports usefully; log and answer
        session.rollback()
        log.exception("delivery report %s could not be stored", form.get("MessageSid", ""))
    return Response(status=204)
