"""The worker's jobs over one database, a messaging channel and the telephony adapters: outbox, due steps, spool, recordings.

The channel and the adapters come from the wiring (ivr.wiring.worker_jobs) as factories, so that
this package depends on the ports only (ivr.telephony.ports) and nothing is built before it is used.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta, timezone
from typing import Callable

from sqlalchemy import func, select

from ivr.calls.spool import finish_spooled, take_spooled
from ivr.config import Settings
from ivr.db.engine import make_engine, session_factory
from ivr.db.models import SmsMessage
from ivr.tasks.booking import book_spooled, lock_spool
from ivr.tasks.config import TaskConfig
from ivr.tasks.escalation import run_due_steps
from ivr.tasks.sending import SendReport, send_due
from ivr.telephony.ports import MessagingChannel, TelephonyAdapter

log = logging.getLogger("hausruf.worker")


def utcnow() -> datetime:
    """The worker's clock."""
    return datetime.now(timezone.utc)


class Jobs:
    """Opens its database engine, channel and adapters on first use, so importing it costs nothing."""

    def __init__(self, settings: Settings, config: TaskConfig | None = None,
                 channel: Callable[[], MessagingChannel] | None = None,
                 telephony: dict[str, Callable[[], TelephonyAdapter]] | None = None):
        self.settings = settings
        self.config = config or TaskConfig.for_settings(settings)
        self._new_channel = channel
        self._channel: MessagingChannel | None = None
        self._new_adapter = telephony or {}
        self._adapters: dict[str, TelephonyAdapter] = {}
        self._sessions = None
        self._said_held = False  # "SMS are held" is said once per worker, not on every pass

    @property
    def sessions(self):
        if self._sessions is None:
            self._sessions = session_factory(make_engine(self.settings.database_url))
        return self._sessions

    @property
    def channel(self) -> MessagingChannel:
        """The messaging channel; ValueError when none is wired or it lacks credentials."""
        if self._channel is None:
            if self._new_channel is None:
                raise ValueError("no messaging channel is wired (see ivr.wiring.worker_jobs)")
            self._channel = self._new_channel()
        return self._channel

    def telephony(self, provider: str) -> TelephonyAdapter:
        """The telephony adapter of provider (recordings of its calls)."""
        if provider not in self._adapters:
            if provider not in self._new_adapter:
                raise ValueError(f"no telephony adapter for {provider!r} is wired")
            self._adapters[provider] = self._new_adapter[provider]()
        return self._adapters[provider]

    @staticmethod
    def _recording_url(session, task_id: int, urls: dict[str, str] | None) -> str | None:
        """Where the provider said the task's recording is (urls: by recording reference), if it said so."""
        if not urls:
            return None
        from ivr.db.models import CallbackTask

        return urls.get(session.get(CallbackTask, task_id).recording_ref or "")

    @property
    def sms_held(self) -> bool:
        """Without the channel's credentials nothing can be sent: messages wait in the outbox until they are set."""
        try:
            self.channel
        except ValueError:
            return True
        return False

    def send_outbox(self, now: datetime | None = None) -> SendReport:
        """Send every due SMS (none without Twilio credentials: they are held in the outbox, said once)."""
        if self.sms_held:
            if not self._said_held:
                log.warning("SMS are held in the outbox until TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN are set "
                            "(/healthz counts them); they go out once the worker restarts with both")
                self._said_held = True
            return SendReport(held=True)
        if "sms" not in getattr(self.channel, "channels", ("sms",)) and not self._said_held:
            log.warning("SMS (helpers without a Matrix ID, staff) are held in the outbox until TWILIO_ACCOUNT_SID and "
                        "TWILIO_AUTH_TOKEN are set (/healthz counts them); Matrix messages go out")
            self._said_held = True
        with self.sessions() as session:
            report = send_due(session, self.channel, now or utcnow(), self.config)
        if report.sent or report.failed or report.retried or report.recovered:
            log.info("outbox: %s", report)
        return report

    def next_retry_in(self, now: datetime | None = None) -> timedelta | None:
        """How long until the earliest SMS waiting for a retry is due (None: nothing waits)."""
        now = now or utcnow()
        with self.sessions() as session:
            earliest = session.scalar(select(func.min(SmsMessage.next_attempt_at)).where(
                SmsMessage.direction == "outbound", SmsMessage.status.in_(("queued", "sending")),
                SmsMessage.next_attempt_at.is_not(None)))
        if earliest is None:
            return None
        if isinstance(earliest, str):  # func.min() bypasses the column type on SQLite
            earliest = datetime.fromisoformat(earliest)
        if earliest.tzinfo is None:
            earliest = earliest.replace(tzinfo=timezone.utc)
        return max(earliest - now, timedelta(0))

    def run_steps(self, now: datetime | None = None) -> int:
        """Offers, escalations, reminders and expiry that are due."""
        with self.sessions() as session:
            return run_due_steps(session, now or utcnow(), self.config)

    def import_spool(self, now: datetime | None = None) -> int:
        """Calls spooled while the database was down become staff callback tasks, one sweep at a time.

        The lock is the database's (lock_spool), so two sweeps of one worker and sweeps of several
        workers wait for each other; the check for an entry booked before runs inside the locked
        transaction that books it. The claimed file is removed under the lock too, after the commit:
        a crash in between leaves it, and the next sweep skips what was booked.
        """
        with self.sessions() as session:
            lock_spool(session)
            entries = take_spooled(self.settings.data_dir)
            if not entries:
                session.rollback()
                return 0
            booked = book_spooled(session, entries, now or utcnow(), self.config)
            session.commit()
        with self.sessions() as session:
            lock_spool(session)
            finish_spooled(self.settings.data_dir)
            session.rollback()
        log.info("booked %d staff callbacks for spooled missed calls", len(booked))
        return len(booked)

    def heartbeat(self, now: datetime | None = None) -> None:
        """Note that this worker ran: /healthz says "degraded" when no worker has run for a while."""
        import os
        import socket

        from ivr.db.models import WorkerHeartbeat

        with self.sessions.begin() as session:
            name = f"{socket.gethostname()}:{os.getpid()}"[:100]
            beat = session.get(WorkerHeartbeat, name)
            if beat is None:
                session.add(WorkerHeartbeat(name=name, ran_at=now or utcnow()))
            else:
                beat.ran_at = now or utcnow()

    def transcribe_messages(self, now: datetime | None = None, urls: dict[str, str] | None = None) -> int:
        """Recorded messages not yet transcribed: fetch, transcribe offline, attach; then purge old audio.

        urls: RecordingUrl by RecordingSid, as Twilio gave them to the recording-status webhook.
        """
        from sqlalchemy import select

        from ivr.calls.recordings import purge_recordings, transcribe_message
        from ivr.db.models import CallbackTask

        done = 0
        with self.sessions() as session:
            pending = session.scalars(select(CallbackTask.id).where(
                CallbackTask.recording_ref.is_not(None), CallbackTask.transcript.is_(None))).all()
        for task_id in pending:
            with self.sessions() as session:
                if transcribe_message(session, self.settings, self.speech_models, task_id, self.telephony,
                                      self._recording_url(session, task_id, urls)):
                    session.commit()
                    done += 1
        purge_recordings(self.settings, now)
        return done

    def house_messages(self, now: datetime | None = None, urls: dict[str, str] | None = None) -> int:
        """Messages to the neighbours: transcribe new drafts, post confirmed ones, forget the rest (ivr.tasks.housemessages).

        Posting needs the Matrix channel; without it confirmed messages wait in their table until it is
        configured (`hausruf check` notes every house-chat node while it is not).
        """
        from ivr.tasks import housemessages

        now = now or utcnow()
        prompt_path = lambda text, language: self.prompt_renderer.path_for(text, language)  # noqa: E731
        # The models and the prompt renderer load only when there is a draft (the sweep runs every minute).
        done = housemessages.transcribe_drafts(self.sessions, self.settings, lambda: self.speech_models,
                                               self.telephony, now, urls,
                                               render=lambda text, language: self.prompt_renderer.render(text, language))
        try:
            poster = getattr(self.channel, "matrix", None)
        except ValueError:
            poster = None
        if poster is not None:
            done += housemessages.post_confirmed(self.sessions, self.settings, poster, now, prompt_path=prompt_path)
        housemessages.forget_unconfirmed(self.sessions, self.settings, self.telephony, now, prompt_path=prompt_path)
        return done

    @property
    def prompt_renderer(self):
        """The prompt cache the web side plays from: the read-back of a message is rendered there ahead."""
        if getattr(self, "_prompt_renderer", None) is None:
            from speech.prompts import PromptRenderer

            self._prompt_renderer = PromptRenderer(self.settings.prompts_dir,
                                                   overrides_dir=self.settings.flows_dir / "prompts")
        return self._prompt_renderer

    def purge(self, now: datetime | None = None):
        """Apply the retention periods (HAUSRUF_RETENTION_DAYS; recordings their own); returns the counts."""
        from ivr.calls.recordings import purge_recordings
        from ivr.privacy.retention import purge, purge_personal_prompts

        now = now or utcnow()
        with self.sessions() as session:
            report = purge(session, now, self.settings.retention_days, audit_days=self.settings.audit_retention_days)
            session.commit()
        report.recordings = purge_recordings(self.settings, now)
        report.personal_prompts = purge_personal_prompts(self.settings, now, self.settings.retention_days)
        log.info("retention purge: %s", report)
        return report

    @property
    def speech_models(self):
        """Vosk models of this worker process, loaded on first use."""
        if getattr(self, "_speech_models", None) is None:
            from speech.models import ModelRegistry

            self._speech_models = ModelRegistry(self.settings.vosk_models)
        return self._speech_models

    def sweep(self, now: datetime | None = None) -> None:
        """The periodic safety net: spool, due steps, then the outbox (steps may have queued SMS)."""
        now = now or utcnow()
        for job in (self.heartbeat, self.import_spool, self.run_steps, self.send_outbox, self.transcribe_messages,
                    self.house_messages):
            try:
                job(now)
            except Exception:  # noqa: BLE001 - one failing job must not starve the others
                log.exception("worker job %s failed", job.__name__)
