"""Timing and addressing of callback tasks, read from the environment.

Copy for the README (section Configuration, "Callback tasks and SMS"):

    HAUSRUF_OFFER_MINUTES=30       minutes a volunteer has to answer an offer before the next one gets it
    HAUSRUF_REMINDER_HOURS=24      hours after acceptance until a reminder SMS; after as many hours again
                                   without "erledigt", staff are told (the task is escalated)
    HAUSRUF_EXPIRE_HOURS=48        hours after booking until a task nobody accepted is marked expired
                                   and staff are told
    HAUSRUF_FAIRNESS_DAYS=30       offers in this many days count when choosing who gets the next one
    HAUSRUF_SMS_MAX_ATTEMPTS=6     sending attempts for one SMS on temporary errors (429, 5xx, network)
    HAUSRUF_SMS_BACKOFF_SECONDS=30 first retry delay; doubled per attempt, at most one hour
    HAUSRUF_SMS_LEASE_SECONDS=120  how long a worker may hold an SMS in "sending" before another worker
                                   checks with the provider whether it went out (see ivr.tasks.outbox)

HAUSRUF_STAFF_NUMBER, HAUSRUF_PHONE_NUMBER (the SMS sender) and HAUSRUF_TIMEZONE (quiet hours are
local times) come from ivr.config.Settings.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from datetime import timedelta

from ivr.config import Settings


def _number(name: str, default: float) -> float:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ValueError(f"{name}={raw!r} is not a number; e.g. {name}={default:g}") from None
    if value < 0:
        raise ValueError(f"{name}={raw!r} must not be negative")
    return value


@dataclass(frozen=True)
class TaskConfig:
    """The knobs of offers, escalation and SMS sending; times as timedeltas."""

    staff_number: str | None = None
    timezone: str = "Europe/Berlin"
    offer_after: timedelta = timedelta(minutes=30)
    reminder_after: timedelta = timedelta(hours=24)
    expire_after: timedelta = timedelta(hours=48)
    fairness_window: timedelta = timedelta(days=30)
    sms_max_attempts: int = 6
    sms_backoff: timedelta = timedelta(seconds=30)
    sms_lease: timedelta = timedelta(seconds=120)

    @classmethod
    def from_env(cls, staff_number: str | None = None, timezone: str = "Europe/Berlin") -> "TaskConfig":
        """The HAUSRUF_* variables above, with the staff number and time zone given by the caller."""
        return cls(
            staff_number=staff_number,
            timezone=timezone,
            offer_after=timedelta(minutes=_number("HAUSRUF_OFFER_MINUTES", 30)),
            reminder_after=timedelta(hours=_number("HAUSRUF_REMINDER_HOURS", 24)),
            expire_after=timedelta(hours=_number("HAUSRUF_EXPIRE_HOURS", 48)),
            fairness_window=timedelta(days=_number("HAUSRUF_FAIRNESS_DAYS", 30)),
            sms_max_attempts=max(1, int(_number("HAUSRUF_SMS_MAX_ATTEMPTS", 6))),
            sms_backoff=timedelta(seconds=_number("HAUSRUF_SMS_BACKOFF_SECONDS", 30)),
            sms_lease=timedelta(seconds=_number("HAUSRUF_SMS_LEASE_SECONDS", 120)),
        )

    @classmethod
    def for_settings(cls, settings: Settings) -> "TaskConfig":
        """The environment's timing with the staff number and time zone of settings."""
        return cls.from_env(settings.staff_number, settings.timezone)

    def but(self, **changes) -> "TaskConfig":
        """A copy with some fields changed (tests shorten times this way)."""
        return replace(self, **changes)
