"""Whether the background worker runs, from its heartbeats (ivr.tasks.jobs.Jobs.heartbeat, once a minute).

Each worker process writes its own row (host:pid), so a restart leaves the old process's row behind:
what counts is the newest heartbeat of each machine.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from sqlalchemy import select

from ivr.db.models import WorkerHeartbeat

FORGET_AFTER = timedelta(days=1)  # a machine silent this long while others run was taken out of service


@dataclass(frozen=True)
class WorkerMachine:
    """The newest heartbeat of the workers on one machine."""

    host: str
    last_ran_at: datetime
    running: bool


def worker_machines(session, now: datetime, stale: timedelta) -> list[WorkerMachine]:
    """Each machine's newest heartbeat and whether it is within stale of now, newest first."""
    newest: dict[str, datetime] = {}
    for name, ran_at in session.execute(select(WorkerHeartbeat.name, WorkerHeartbeat.ran_at)):
        host = name.rsplit(":", 1)[0]
        ran_at = _aware(ran_at)
        if host not in newest or ran_at > newest[host]:
            newest[host] = ran_at
    machines = [WorkerMachine(host, ran_at, now - ran_at <= stale) for host, ran_at in newest.items()]
    return sorted(machines, key=lambda m: m.last_ran_at, reverse=True)


def _aware(value: datetime | str) -> datetime:
    if isinstance(value, str):  # SQLite may hand back text
        value = datetime.fromisoformat(value)
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)
