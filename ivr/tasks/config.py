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

from dataclasses import dataclass, replace
from datetime import timedelta

from ivr.config import Settings, integer, number, setting


@dataclass(frozen=True)
class TaskSettings:
    """The task settings as operators write them (registry group, see ivr.config)."""

    offer_minutes: float = setting("HAUSRUF_OFFER_MINUTES", number(minimum=1), 30,
                                   help="minutes a volunteer has to answer an offer before the next one gets it")
    reminder_hours: float = setting("HAUSRUF_REMINDER_HOURS", number(minimum=0.1), 24,
                                    help="hours after acceptance until a reminder SMS")
    expire_hours: float = setting("HAUSRUF_EXPIRE_HOURS", number(minimum=0.1), 48,
                                  help="hours until a task nobody accepted expires")
    fairness_days: float = setting("HAUSRUF_FAIRNESS_DAYS", number(minimum=0), 30,
                                   help="offers within this many days count when choosing who gets the next one")
    sms_max_attempts: int = setting("HAUSRUF_SMS_MAX_ATTEMPTS", integer(minimum=1, maximum=50), 6,
                                    help="attempts for one SMS on temporary errors")
    sms_backoff_seconds: float = setting("HAUSRUF_SMS_BACKOFF_SECONDS", number(minimum=1), 30,
                                         help="first retry delay, doubled per attempt, at most one hour")
    sms_lease_seconds: float = setting("HAUSRUF_SMS_LEASE_SECONDS", number(minimum=1), 120,
                                       help="how long a worker may hold an SMS in 'sending'")


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
    # The Matrix channel (ivr.telephony.matrix): on, offers go to helpers' Matrix IDs; the helpers'
    # group room is asked before staff.
    matrix: bool = False
    helpers_room: str | None = None

    @classmethod
    def from_env(cls, staff_number: str | None = None, timezone: str = "Europe/Berlin") -> "TaskConfig":
        """The HAUSRUF_* variables above (through the settings registry), with the staff number and time zone given."""
        import os

        from ivr.config import SettingsError, read_settings
        from ivr.telephony.matrix.settings import MatrixSettings

        group, problems = read_settings(TaskSettings, os.environ)
        matrix, matrix_problems = read_settings(MatrixSettings, os.environ)
        if problems or matrix_problems:
            raise SettingsError(problems + matrix_problems)
        return cls.from_group(group, staff_number, timezone).with_matrix(matrix)

    @classmethod
    def from_group(cls, group: TaskSettings, staff_number: str | None, timezone: str) -> "TaskConfig":
        """Timedeltas from the operator's minutes and hours."""
        return cls(
            staff_number=staff_number,
            timezone=timezone,
            offer_after=timedelta(minutes=group.offer_minutes),
            reminder_after=timedelta(hours=group.reminder_hours),
            expire_after=timedelta(hours=group.expire_hours),
            fairness_window=timedelta(days=group.fairness_days),
            sms_max_attempts=group.sms_max_attempts,
            sms_backoff=timedelta(seconds=group.sms_backoff_seconds),
            sms_lease=timedelta(seconds=group.sms_lease_seconds),
        )

    @classmethod
    def for_settings(cls, settings: Settings) -> "TaskConfig":
        """The timing of settings' task group with its staff number and time zone, and the Matrix channel."""
        from ivr.telephony.matrix.settings import MatrixSettings

        group = cls.from_group(settings.group(TaskSettings), settings.staff_number, settings.timezone)
        return group.with_matrix(settings.group(MatrixSettings))

    def with_matrix(self, matrix) -> "TaskConfig":
        """With the Matrix channel's switches (matrix: ivr.telephony.matrix.settings.MatrixSettings)."""
        return replace(self, matrix=matrix.enabled, helpers_room=matrix.helpers_room if matrix.enabled else None)

    def but(self, **changes) -> "TaskConfig":
        """A copy with some fields changed (tests shorten times this way)."""
        return replace(self, **changes)
