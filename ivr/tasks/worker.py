"""`hausruf worker`: the Huey consumer with the send, step and sweep jobs registered."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta
from typing import Callable

from huey import Huey, crontab
from huey.api import TaskWrapper

from ivr.config import Settings
from ivr.db.migrate import upgrade
from ivr.tasks.jobs import Jobs
from ivr.tasks.queue import make_huey

log = logging.getLogger("hausruf.worker")

# Retries further off than this are left to the minutely sweep instead of a scheduled job.
SCHEDULE_RETRIES_WITHIN = timedelta(seconds=60)


@dataclass
class Queue:
    """The Huey instance and the jobs registered on it."""

    huey: Huey
    jobs: Jobs
    send_outbox: TaskWrapper
    sweep: TaskWrapper
    transcribe: TaskWrapper
    purge: TaskWrapper
    house_messages: TaskWrapper


def build_queue(settings: Settings, jobs: Jobs | None = None) -> Queue:
    """Register the jobs on a Huey for settings.queue_url (the web app uses it to enqueue, the worker to run)."""
    huey = make_huey(settings.queue_url)
    jobs = jobs or Jobs(settings)

    @huey.task(name="hausruf.send_outbox")
    def send_outbox() -> None:
        if jobs.send_outbox().held:
            return  # nothing can go out until the credentials are set: no retry every second
        wait = jobs.next_retry_in()
        if wait is not None and wait <= SCHEDULE_RETRIES_WITHIN:
            send_outbox.schedule(delay=max(1.0, wait.total_seconds()))

    @huey.periodic_task(crontab(minute="*"), name="hausruf.sweep")
    def sweep() -> None:
        jobs.sweep()

    @huey.task(name="hausruf.transcribe")
    def transcribe(recording_sid: str | None = None, recording_url: str | None = None) -> None:
        urls = {recording_sid: recording_url} if recording_sid and recording_url else None
        jobs.transcribe_messages(urls=urls)
        jobs.house_messages(urls=urls)  # the recording may be a message to the neighbours

    @huey.task(name="hausruf.house_messages")
    def house_messages() -> None:
        jobs.house_messages()

    # Retention (ivr.privacy.retention): daily, at a quiet hour.
    @huey.periodic_task(crontab(minute="30", hour="3"), name="hausruf.purge")
    def purge() -> None:
        jobs.purge()

    return Queue(huey, jobs, send_outbox, sweep, transcribe, purge, house_messages)


def run_worker(settings: Settings, workers: int = 2, jobs: Jobs | None = None,
               beside: Callable[[Queue], None] | None = None) -> None:
    """Run the consumer until SIGINT/SIGTERM; a first sweep at start picks up what a crash left.

    jobs come wired with a messaging channel and telephony adapters (ivr.app.worker_jobs); beside(queue)
    starts what runs next to the consumer (a chat channel's listener, ivr.app.listen_beside_worker).
    """
    upgrade(settings.database_url)
    queue = build_queue(settings, jobs)
    queue.sweep()  # enqueue one right away: rows left in "sending" by a killed worker are resolved now
    if beside is not None:
        beside(queue)
    # A short poll interval keeps the embedded SQLite queue within a second of a webhook's kick.
    consumer = queue.huey.create_consumer(workers=workers, worker_type="thread", periodic=True,
                                          initial_delay=0.1, backoff=1.15, max_delay=1.0)
    log.info("worker started: queue %s, %d threads", settings.queue_url.split("@")[-1], workers)
    consumer.run()

