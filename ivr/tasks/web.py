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
