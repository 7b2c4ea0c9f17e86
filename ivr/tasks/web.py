"""Web side of tasks: the booker for call steps and the worker kick after a commit that queued messages.

The channels' own webhooks (e.g. POST /twilio/sms) live with their adapter and call ivr.tasks.inbound
and ivr.tasks.sending.record_status.
"""

from __future__ import annotations

import functools
import logging

from flask import Flask
from sqlalchemy import event

from ivr.config import Settings
from ivr.tasks.booking import book_callback
from ivr.tasks.outbox import QUEUED_FLAG

log = logging.getLogger("hausruf.sms")


class OutboxKick:
    """Wakes the worker after a commit that queued SMS; builds the queue on first use."""

    def __init__(self, settings: Settings, jobs=None):
        self.settings = settings
        self.jobs = jobs  # builds the worker's jobs, wired with adapters (ivr.app.worker_jobs)
        self._queue = None

    def __call__(self) -> None:
        self.queue.send_outbox()

    @property
    def queue(self):
        from ivr.tasks.worker import build_queue

        if self._queue is None:
            self._queue = build_queue(self.settings, self.jobs() if self.jobs else None)
        return self._queue

    def house_messages(self) -> None:
        """A step wrote a draft, a confirmation or a discard of a message to the neighbours: the worker acts now."""
        self.queue.house_messages()

    def transcribe(self, recording: str, location: str | None = None) -> None:
        """A recording is ready at the provider: the worker fetches it (from location, if given) and transcribes it."""
        self.queue.transcribe(recording, location)


def init_app(app: Flask, jobs=None) -> None:
    """Set the booker and the after-commit kick of the app's wiring; jobs builds the worker's jobs."""
    from ivr.wiring import hausruf

    wiring = hausruf(app)
    wiring.book_callback = functools.partial(book_callback, config=wiring.tasks)  # settings read once
    kick = OutboxKick(wiring.settings, jobs)
    wiring.outbox_kick = kick
    wiring.recording_ready = kick.transcribe

    def after_commit(session) -> None:
        if session.info.pop(QUEUED_FLAG, False):
            try:
                wiring.outbox_kick()
            except Exception:  # noqa: BLE001 - the minutely sweep sends it anyway; the row is the truth
                log.exception("could not wake the worker; the SMS goes out with the next sweep")

    def after_rollback(session) -> None:
        session.info.pop(QUEUED_FLAG, None)

    event.listen(wiring.sessions, "after_commit", after_commit)
    event.listen(wiring.sessions, "after_rollback", after_rollback)


def init_house_messages(app: Flask) -> None:
    """Steps write the drafts of messages to the neighbours (ivr.tasks.housemessages) and wake the worker.

    Call after every other booker is set: it hands every other action on to the booker before it.
    """
    from ivr.engine.actions import HOUSE_MESSAGE_EFFECTS
    from ivr.tasks import housemessages
    from ivr.wiring import hausruf

    wiring = hausruf(app)
    before = wiring.book_callback

    def book(session, call, action, context, now):
        if isinstance(action, HOUSE_MESSAGE_EFFECTS):
            return housemessages.perform(session, call, action, context, now)
        return before(session, call, action, context, now)

    wiring.book_callback = book

    def after_commit(session) -> None:
        for words, language in session.info.pop(housemessages.READ_BACKS_GONE, ()):
            if wiring.prompt_renderer is not None:  # the cache the worker rendered the read-back into
                wiring.prompt_renderer.path_for(words, language).unlink(missing_ok=True)
        if session.info.pop(housemessages.WAKE_FLAG, False) and isinstance(wiring.outbox_kick, OutboxKick):
            try:
                wiring.outbox_kick.house_messages()
            except Exception:  # noqa: BLE001 - the minutely sweep does it anyway; the row is the truth
                log.exception("could not wake the worker for a message to the neighbours")

    def after_rollback(session) -> None:
        session.info.pop(housemessages.WAKE_FLAG, None)
        session.info.pop(housemessages.READ_BACKS_GONE, None)

    event.listen(wiring.sessions, "after_commit", after_commit)
    event.listen(wiring.sessions, "after_rollback", after_rollback)
